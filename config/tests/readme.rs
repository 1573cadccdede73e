//! The `listener.toml` example in `config/README.md` is real: it loads without a
//! diagnostic, and its `listener.ora` rendering loads back to the same model.

#[test]
fn readme_listener_toml_example_loads_and_converts() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("```toml\n")
        .expect("a toml block in the README")
        + "```toml\n".len();
    let len = readme[start..].find("```").expect("closing fence");
    let example = &readme[start..start + len];
    let t = config::ListenerConfig::parse_toml(example, "README.md");
    assert!(t.diagnostics.is_empty(), "{:?}", t.diagnostics);
    let l = t.value.listener("LISTENER").expect("LISTENER");
    assert_eq!(l.endpoints.len(), 1);
    assert_eq!(
        l.params.inbound_connect_timeout,
        std::time::Duration::from_secs(5)
    );
    assert_eq!(l.sid_list[0].sid_name.as_deref(), Some("ORCL"));
    let ora = t.value.to_ora();
    let back = config::ListenerConfig::parse_str(&ora, "rendered.ora");
    assert!(back.diagnostics.is_empty(), "{:?}\n{ora}", back.diagnostics);
    assert_eq!(back.value, t.value, "{ora}");
}
