//! Prints every diagnostic for the given files (development aid; `orasim check` is the tool).
fn main() {
    for a in std::env::args().skip(1) {
        let p = std::path::Path::new(&a);
        let s = a.to_ascii_lowercase();
        let diags = if s.contains("listener") {
            config::ListenerConfig::load(p)
                .map(|x| x.diagnostics)
                .unwrap_or_default()
        } else if s.contains("tnsnames") {
            config::TnsNames::load(p)
                .map(|x| x.diagnostics)
                .unwrap_or_default()
        } else {
            config::ParamFile::load(p)
                .map(|x| x.diagnostics)
                .unwrap_or_default()
        };
        for d in diags {
            println!("{d}");
        }
    }
}
