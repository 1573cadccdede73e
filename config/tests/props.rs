//! Property tests: rendering a model (connect descriptor, tnsnames.ora, sqlnet.ora,
//! listener.ora — generated models, not only the corpus) and parsing it back gives the same
//! model;
//! no parser panics on arbitrary bytes (these run the cargo-fuzz bodies of
//! `config::fuzz`, so the fuzz targets and the stable suite exercise the same code).

use std::time::Duration;

use config::descriptor::{
    Address, AddressEntry, AddressList, Cid, ConnectData, ConnectDescriptor, Description,
    ListOptions, RawParam, RawValue, Security, Timeout,
};
use config::fuzz;
use config::listener::{
    Endpoint, Listener, ListenerParams, PrespawnDesc, SidDesc, SpawnMethod, ValidNodeChecking,
};
use config::sqlnet::NamingMethod;
use config::tnsnames::TnsEntry;
use config::{ListenerConfig, SqlNet, TnsNames};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

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

/// A tnsnames alias (`IFILE` is the include directive, never an alias).
fn alias() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,8}(\\.[A-Za-z0-9_]{1,6})?"
        .prop_filter("IFILE is a directive", |s| !s.eq_ignore_ascii_case("IFILE"))
}

fn tnsnames() -> impl Strategy<Value = TnsNames> {
    vec((vec(alias(), 1..3), descriptor()), 0..5).prop_map(|defs| {
        let mut t = TnsNames::default();
        t.entries = defs
            .into_iter()
            .map(|(aliases, descriptor)| TnsEntry {
                aliases,
                descriptor,
                file: Arc::from("gen.ora"),
                pos: config::Pos::default(),
            })
            .collect();
        t
    })
}

/// Kept (unmodelled) parameters with distinct keys: a repeated key keeps only its last value.
fn kept_params() -> impl Strategy<Value = Vec<RawParam>> {
    vec((extra_key(), raw_value()), 0..4).prop_map(|v| {
        let mut out: Vec<RawParam> = Vec::new();
        for (key, value) in v {
            if !out.iter().any(|p| p.key == key) {
                out.push(RawParam { key, value });
            }
        }
        out
    })
}

fn node_item() -> impl Strategy<Value = String> {
    "[a-z0-9*][a-z0-9.*/:-]{0,14}"
}

fn naming_method() -> impl Strategy<Value = NamingMethod> {
    prop_oneof![
        Just(NamingMethod::Tnsnames),
        Just(NamingMethod::Ezconnect),
        Just(NamingMethod::Ldap),
        Just(NamingMethod::Hostname),
        "[A-Z][A-Z0-9_]{0,8}"
            .prop_filter("a known method", |s| !matches!(
                s.as_str(),
                "TNSNAMES" | "EZCONNECT" | "EZCONNECT_PLUS" | "LDAP" | "HOSTNAME"
            ))
            .prop_map(NamingMethod::Other),
    ]
}

fn opt_ms() -> impl Strategy<Value = Option<Duration>> {
    of((0u64..100_000_000).prop_map(Duration::from_millis))
}

fn sqlnet() -> impl Strategy<Value = SqlNet> {
    (
        (
            vec(naming_method(), 1..5),
            of("[a-z0-9]{1,8}(\\.[a-z0-9]{1,8}){0,2}"),
            any::<u32>(),
            (opt_ms(), opt_ms(), opt_ms(), opt_ms(), opt_ms()),
        ),
        (
            any::<bool>(),
            vec(node_item(), 0..4),
            vec(node_item(), 0..4),
            any::<bool>(),
            512u32..=2_097_152,
            kept_params(),
        ),
    )
        .prop_map(
            |(
                (path, domain, expire, (inbound, outbound, recv, send, tcp_connect)),
                (checking, invited, excluded, nodelay, sdu, other),
            )| SqlNet {
                names_directory_path: path,
                names_default_domain: domain,
                expire_time: expire,
                inbound_connect_timeout: inbound,
                outbound_connect_timeout: outbound,
                recv_timeout: recv,
                send_timeout: send,
                tcp_validnode_checking: checking,
                tcp_invited_nodes: invited,
                tcp_excluded_nodes: excluded,
                tcp_nodelay: nodelay,
                tcp_connect_timeout: tcp_connect,
                default_sdu_size: sdu,
                other,
            },
        )
}

fn path() -> impl Strategy<Value = PathBuf> {
    "/[a-z0-9_.-]{1,8}(/[a-z0-9_.-]{1,8}){0,2}".prop_map(PathBuf::from)
}

fn listener_params() -> impl Strategy<Value = ListenerParams> {
    (
        (
            (0u64..100_000).prop_map(Duration::from_secs),
            of(any::<u32>()),
            of(any::<u32>()),
            of(word()),
            of(path()),
            of(word()),
            of(prop_oneof![
                Just("off".to_string()),
                Just("user".to_string()),
                Just("admin".to_string()),
                Just("support".to_string())
            ]),
            of(path()),
            of(word()),
            of(path()),
        ),
        (
            vec(any::<bool>(), 11),
            prop_oneof![
                Just(ValidNodeChecking::Off),
                Just(ValidNodeChecking::Local),
                Just(ValidNodeChecking::Subnet)
            ],
            vec(node_item(), 0..3),
            vec(node_item(), 0..3),
            vec("[a-z]{2,5}", 0..3),
            vec("[a-z]{2,5}", 0..3),
        ),
    )
        .prop_map(
            |(
                (
                    inbound,
                    connection_rate,
                    service_rate,
                    default_service,
                    log_directory,
                    log_file,
                    trace_level,
                    trace_directory,
                    trace_file,
                    adr_base,
                ),
                (flags, vnc, invited, excluded, secure_register, secure_control),
            )| ListenerParams {
                inbound_connect_timeout: inbound,
                connection_rate,
                service_rate,
                default_service,
                admin_restrictions: flags[0],
                logging: flags[1],
                log_directory,
                log_file,
                trace_level,
                trace_directory,
                trace_file,
                diag_adr_enabled: flags[2],
                adr_base,
                valid_node_checking_registration: vnc,
                registration_invited_nodes: invited,
                registration_excluded_nodes: excluded,
                dynamic_registration: flags[3],
                save_config_on_stop: flags[4],
                use_sid_as_service: flags[5],
                enable_global_dynamic_endpoint: flags[6],
                subscribe_for_node_down_event: flags[7],
                direct_handoff_ttc: flags[8],
                dedicated_through_broker: flags[9],
                spawn_method: if flags[10] {
                    SpawnMethod::Exec
                } else {
                    SpawnMethod::Fork
                },
                secure_register,
                secure_control,
                other: Vec::new(),
            },
        )
}

fn sid_desc() -> impl Strategy<Value = SidDesc> {
    (
        (of(text()), of(text()), of(text()), of(text()), of(text())),
        of(any::<u32>()),
        vec(
            (of(word()), of(any::<u32>()), of(any::<u32>())).prop_map(
                |(protocol, pool_size, timeout)| PrespawnDesc {
                    protocol,
                    pool_size,
                    timeout,
                },
            ),
            0..3,
        ),
        extras(),
    )
        .prop_map(
            |(
                (global_dbname, sid_name, oracle_home, program, envs),
                prespawn_max,
                prespawn,
                extra,
            )| {
                SidDesc {
                    global_dbname,
                    sid_name,
                    oracle_home,
                    program,
                    envs,
                    prespawn_max,
                    prespawn,
                    extra,
                }
            },
        )
}

/// Some of the `PARAM_<listener>` names listener.ora accepts but orasim does not model
/// (including ones that extend a modelled name: `LOG_FILE_NUM`, `TRACE_FILELEN`).
const KEPT_SUFFIXED: &[&str] = &[
    "FIREWALL",
    "LOG_FILE_NUM",
    "TRACE_FILELEN",
    "WALLET_LOCATION",
    "VALID_NODE_CHECKING_REGISTRATION_SERVICE",
    "LOCAL_REGISTRATION_ADDRESS",
];

fn listener_config() -> impl Strategy<Value = ListenerConfig> {
    let listener = (
        "LISTENER(_[A-Z0-9]{1,6})?",
        vec(
            address().prop_filter_map("not a usable endpoint", |a| Endpoint::from_address(&a).ok()),
            0..3,
        ),
        vec(sid_desc(), 0..3),
        listener_params(),
        vec((0..KEPT_SUFFIXED.len(), raw_value()), 0..3),
    )
        .prop_map(|(name, endpoints, sid_list, mut params, kept)| {
            // Suffixed parameters orasim keeps without modelling (`FIREWALL_LISTENER = ...`).
            params.other = kept
                .into_iter()
                .map(|(i, value)| RawParam {
                    key: format!("{}_{}", KEPT_SUFFIXED[i], name.to_ascii_uppercase()),
                    value,
                })
                .collect();
            Listener {
                name,
                endpoints,
                sid_list,
                params,
            }
        })
        // A listener with no endpoint, no SID list and only defaults is Oracle's implicit
        // default listener: the file has nothing to say about it.
        .prop_filter("implicit listener", |l| {
            !l.endpoints.is_empty()
                || !l.sid_list.is_empty()
                || l.params != ListenerParams::default()
        });
    (vec(listener, 0..4), kept_params()).prop_map(|(ls, other)| {
        // One definition per name; listeners known only from SID_LIST_/PARAM lines are
        // created when those lines are read, after every listener definition.
        let mut listeners: Vec<Listener> = Vec::new();
        for l in ls {
            if !listeners
                .iter()
                .any(|x| x.name.eq_ignore_ascii_case(&l.name))
            {
                listeners.push(l);
            }
        }
        listeners.sort_by_key(|l| l.endpoints.is_empty());
        ListenerConfig { listeners, other }
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
    fn tnsnames_render_then_parse_gives_the_same_aliases_and_descriptors(t in tnsnames()) {
        let text = t.to_ora();
        let p = TnsNames::parse_str(&text, "gen.ora");
        prop_assert!(!p.has_errors(), "{:?}\n{text}", p.diagnostics);
        let want: Vec<_> = t.entries.iter().map(|e| (&e.aliases, &e.descriptor)).collect();
        let got: Vec<_> = p.value.entries.iter().map(|e| (&e.aliases, &e.descriptor)).collect();
        prop_assert_eq!(got, want, "rendered:\n{}", text);
        // Lookup is case-insensitive and the last definition of a name wins.
        for e in &t.entries {
            for a in &e.aliases {
                let last = t
                    .entries
                    .iter()
                    .rev()
                    .find(|x| x.aliases.iter().any(|y| y.eq_ignore_ascii_case(a)))
                    .map(|x| &x.descriptor);
                let found = p.value.lookup(&a.to_ascii_lowercase()).map(|x| &x.descriptor);
                prop_assert_eq!(found, last);
            }
        }
    }

    #[test]
    fn sqlnet_render_then_parse_gives_the_same_model(s in sqlnet()) {
        let text = s.to_ora();
        let p = SqlNet::parse_str(&text, "sqlnet.ora");
        prop_assert!(!p.has_errors(), "{:?}\n{text}", p.diagnostics);
        prop_assert_eq!(&p.value, &s, "rendered:\n{}", text);
    }

    #[test]
    fn listener_render_then_parse_gives_the_same_model(c in listener_config()) {
        let text = c.to_ora();
        let p = ListenerConfig::parse_str(&text, "listener.ora");
        prop_assert!(!p.has_errors(), "{:?}\n{text}", p.diagnostics);
        prop_assert_eq!(&p.value, &c, "rendered:\n{}", text);
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

#[test]
fn fuzz_crashes_stay_fixed() {
    // Every input cargo-fuzz once crashed a body with, kept under fuzz/regressions/<target>/.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    type Body = fn(&[u8]);
    let bodies: [(&str, Body); 2] = [
        ("descriptor", fuzz::descriptor),
        ("ezconnect", fuzz::ezconnect),
    ];
    let mut n = 0;
    for (target, body) in bodies {
        for e in std::fs::read_dir(dir.join(target))
            .expect("regressions")
            .flatten()
        {
            body(&std::fs::read(e.path()).expect("readable"));
            n += 1;
        }
    }
    assert!(n >= 2, "only {n} regression inputs");
}
