//! Property tests: rendering a descriptor model and parsing it back gives the same model;
//! no parser panics on arbitrary bytes (these run the cargo-fuzz bodies of
//! `config::fuzz`, so the fuzz targets and the stable suite exercise the same code).

use std::time::Duration;

use config::descriptor::{
    Address, AddressEntry, AddressList, Cid, ConnectData, ConnectDescriptor, Description,
    ListOptions, RawParam, RawValue, Security, Timeout,
};
use config::fuzz;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

/// Printable text (including spaces, quotes, parens, '#', '=' and ',') that Oracle syntax
/// can carry: a value cannot hold both quote characters.
fn text() -> impl Strategy<Value = String> {
    "[ -~\u{e9}\u{a0}]{0,12}".prop_filter("both quote kinds", |s| {
        !(s.contains('"') && s.contains('\''))
    })
}

fn word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,10}"
}

/// Keys for unmodelled parameters: never one of the typed keywords.
fn extra_key() -> impl Strategy<Value = String> {
    "X_[A-Z0-9_]{0,8}"
}

fn raw_value() -> impl Strategy<Value = RawValue> {
    let leaf = prop_oneof![
        text().prop_map(RawValue::Text),
        vec(text(), 0..4).prop_map(RawValue::List)
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        vec(
            (extra_key(), inner).prop_map(|(key, value)| RawParam { key, value }),
            1..3,
        )
        .prop_map(RawValue::Nodes)
    })
}

fn extras() -> impl Strategy<Value = Vec<RawParam>> {
    vec(
        (extra_key(), raw_value()).prop_map(|(key, value)| RawParam { key, value }),
        0..2,
    )
}

fn timeout() -> impl Strategy<Value = Timeout> {
    (0u64..10_000_000).prop_map(|ms| Timeout(Duration::from_millis(ms)))
}

fn address() -> impl Strategy<Value = Address> {
    (
        of(prop_oneof![
            Just("tcp".to_string()),
            Just("TCPS".to_string()),
            Just("ipc".to_string()),
            word()
        ]),
        of(text()),
        of(any::<u16>()),
        of(word()),
        of(any::<u32>()),
        of(prop_oneof![
            Just("yes".to_string()),
            (2u32..100).prop_map(|n| n.to_string())
        ]),
        extras(),
    )
        .prop_map(
            |(protocol, host, port, key, queuesize, rate_limit, extra)| Address {
                protocol,
                host,
                port,
                key,
                queuesize,
                rate_limit,
                extra,
                ..Address::default()
            },
        )
}

fn entries() -> impl Strategy<Value = Vec<AddressEntry>> {
    let leaf = address().prop_map(AddressEntry::Address);
    let entry = leaf.prop_recursive(2, 8, 3, |inner| {
        (
            of(any::<bool>()),
            of(any::<bool>()),
            vec(inner, 0..3),
            extras(),
        )
            .prop_map(|(failover, load_balance, entries, extra)| {
                AddressEntry::List(AddressList {
                    failover,
                    load_balance,
                    source_route: None,
                    entries,
                    extra,
                })
            })
    });
    vec(entry, 0..4)
}

fn connect_data() -> impl Strategy<Value = ConnectData> {
    (
        of(text()),
        of(text()),
        of(text()),
        of(prop_oneof![
            Just("dedicated".to_string()),
            Just("SHARED".to_string()),
            Just("pooled".to_string()),
            word()
        ]),
        of(word()),
        of(
            (of(text()), of(text()), of(text())).prop_map(|(program, host, user)| Cid {
                program,
                host,
                user,
                extra: Vec::new(),
            }),
        ),
        extras(),
    )
        .prop_map(
            |(service_name, sid, instance_name, server, command, cid, extra)| ConnectData {
                service_name,
                sid,
                instance_name,
                server,
                command,
                cid,
                extra,
            },
        )
}

fn description() -> impl Strategy<Value = Description> {
    (
        (
            of(any::<bool>()),
            of(any::<bool>()),
            of(any::<bool>()),
            of(word()),
            of(any::<u32>()),
            of(any::<u32>()),
        ),
        (
            of(timeout()),
            of(timeout()),
            of(any::<u32>()),
            of(any::<u32>()),
        ),
        entries(),
        of(connect_data()),
        of((of(any::<bool>()), of(text())).prop_map(
            |(ssl_server_dn_match, ssl_server_cert_dn)| Security {
                ssl_server_dn_match,
                ssl_server_cert_dn,
                extra: Vec::new(),
            },
        )),
        extras(),
    )
        .prop_map(
            |(
                (failover, load_balance, source_route, enable, sdu, expire_time),
                t,
                addresses,
                cd,
                security,
                extra,
            )| {
                Description {
                    failover,
                    load_balance,
                    source_route,
                    enable,
                    sdu,
                    expire_time,
                    connect_timeout: t.0,
                    transport_connect_timeout: t.1,
                    retry_count: t.2,
                    retry_delay: t.3,
                    addresses,
                    connect_data: cd,
                    security,
                    extra,
                    ..Description::default()
                }
            },
        )
}

fn descriptor() -> impl Strategy<Value = ConnectDescriptor> {
    (
        vec(description(), 1..4),
        any::<bool>(),
        of(any::<bool>()),
        of(any::<bool>()),
    )
        .prop_map(|(descriptions, as_list, failover, load_balance)| {
            // Several descriptions are always a DESCRIPTION_LIST (that is how they parse).
            let list = (as_list || descriptions.len() > 1).then(|| ListOptions {
                failover,
                load_balance,
                source_route: None,
                extra: Vec::new(),
            });
            ConnectDescriptor { list, descriptions }
        })
}

proptest! {
    // 512 cases by default; PROPTEST_CASES raises it for a longer local run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn render_then_parse_gives_the_same_model(d in descriptor()) {
        fuzz::check_round_trip(&d);
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(data in vec(any::<u8>(), 0..512)) {
        fuzz::paramfile(&data);
        fuzz::descriptor(&data);
        fuzz::ezconnect(&data);
        fuzz::listener(&data);
        fuzz::sqlnet(&data);
        fuzz::tnsnames(&data);
    }

    /// Arbitrary bytes are mostly rejected early; text built from the syntax's own
    /// characters reaches deep into the parsers.
    #[test]
    fn parsers_never_panic_on_syntax_soup(s in "[()=,#\"' \t\r\na-zA-Z0-9_.:/?&;\\[\\]\u{a0}-]{0,300}") {
        let data = s.as_bytes();
        fuzz::paramfile(data);
        fuzz::descriptor(data);
        fuzz::ezconnect(data);
        fuzz::listener(data);
        fuzz::sqlnet(data);
        fuzz::tnsnames(data);
    }
}

#[test]
fn fuzz_bodies_accept_real_corpus_files() {
    // The seed corpus of the fuzz targets is the shared real-world corpus, read in place.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/real");
    let mut n = 0;
    for sub in ["tnsnames", "listener", "sqlnet"] {
        for e in std::fs::read_dir(dir.join(sub))
            .expect("corpus beside the repository")
            .flatten()
        {
            let data = std::fs::read(e.path()).expect("readable");
            fuzz::paramfile(&data);
            fuzz::tnsnames(&data);
            fuzz::listener(&data);
            fuzz::sqlnet(&data);
            n += 1;
        }
    }
    assert!(n >= 90, "only {n} corpus files");
}
