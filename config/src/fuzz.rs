//! Bodies of the cargo-fuzz targets (`fuzz/`, outside the workspace). They live here so the
//! stable test suite calls exactly the same code on arbitrary bytes and it keeps compiling.
//! Each body must never panic on any input; the descriptor body also checks that a parsed
//! descriptor renders to text that parses back to the same model.

use crate::descriptor::{ConnectDescriptor, parse_descriptor};
use crate::{ListenerConfig, ParamFile, SqlNet, TnsNames, ezconnect};

/// The generic parameter-file parser on raw bytes.
pub fn paramfile(data: &[u8]) {
    let p = ParamFile::parse_bytes(data, "fuzz.ora");
    for d in &p.diagnostics {
        let _ = d.to_string();
    }
}

/// One descriptor string; a successful parse must survive render → parse unchanged, in
/// both layouts.
pub fn descriptor(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = parse_descriptor(&text) {
        check_round_trip(&d);
    }
}

/// Asserts `parse(render(d)) == d` for both renderings.
pub fn check_round_trip(d: &ConnectDescriptor) {
    for text in [d.render(), d.render_pretty()] {
        match parse_descriptor(&text) {
            Ok(again) => assert_eq!(&again, d, "round trip changed the model; rendered: {text}"),
            Err(e) => panic!("rendered descriptor does not parse: {e}; rendered: {text}"),
        }
    }
}

/// Easy Connect strings; a successful expansion must round-trip as a descriptor.
pub fn ezconnect(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = ezconnect::parse(&text) {
        check_round_trip(&d);
    }
}

/// listener.ora and listener.toml from the same bytes.
pub fn listener(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ora = ListenerConfig::parse_str(&text, "listener.ora");
    for l in &ora.value.listeners {
        for e in &l.endpoints {
            let _ = e.render();
        }
    }
    let _ = ListenerConfig::parse_toml(&text, "listener.toml");
}

/// sqlnet.ora.
pub fn sqlnet(data: &[u8]) {
    let _ = SqlNet::parse_str(&String::from_utf8_lossy(data), "sqlnet.ora");
}

/// tnsnames.ora; every alias found must round-trip.
pub fn tnsnames(data: &[u8]) {
    let t = TnsNames::parse_str(&String::from_utf8_lossy(data), "tnsnames.ora");
    for e in &t.value.entries {
        check_round_trip(&e.descriptor);
    }
}
