//! Every real-world `listener.ora` of the shared corpus (read in place) gives every listener
//! it defines a usable configuration: no panic, at least one endpoint, one static service per
//! SID_DESC that names a SID, and Oracle's defaults where the file says nothing.

use listener::home::OracleHome;
use listener::settings::{ListenerSettings, load_file};
use tests::corpus::{Kind, files};

#[test]
fn every_corpus_listener_loads() {
    let home = OracleHome::with_admin("/u01/app/oracle/product/19c/dbhome_1".into(), None);
    let mut listeners = 0;
    for f in files().into_iter().filter(|f| f.kind == Kind::Listener) {
        let parsed = config::ListenerConfig::load(&f.path).expect("readable");
        for l in &parsed.value.listeners {
            let defaults = ListenerSettings::defaults(&l.name, &home);
            let loaded = load_file(defaults, Vec::new(), &f.path, &l.name)
                .unwrap_or_else(|e| panic!("{}: listener {}: {e}", f.rel, l.name));
            let s = loaded.settings;
            assert_eq!(s.name, l.name.to_ascii_uppercase());
            assert_eq!(s.parameter_file.as_deref(), Some(f.path.as_path()));
            let with_sid = l
                .sid_list
                .iter()
                .filter(|d| d.sid_name.as_deref().is_some_and(|n| !n.is_empty()))
                .count();
            assert_eq!(s.sids.len(), with_sid, "{}: {}", f.rel, l.name);
            let tcp = l
                .endpoints
                .iter()
                .filter(|e| e.protocol == config::listener::Protocol::Tcp)
                .count();
            if tcp > 0 {
                assert_eq!(s.endpoints.len(), tcp, "{}: {}", f.rel, l.name);
                assert!(s.endpoints.iter().all(|e| e.queuesize > 0));
            }
            assert!(
                !s.endpoints.is_empty() || !l.endpoints.is_empty(),
                "{}: {}",
                f.rel,
                l.name
            );
            listeners += 1;
        }
    }
    assert!(listeners >= 20, "only {listeners} listeners in the corpus");
}
