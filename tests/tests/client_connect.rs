//! The Rust client's connect phase: refusals with Oracle's codes and texts, no listener,
//! FAILOVER across an ADDRESS_LIST resolved from `tnsnames.ora`, LOAD_BALANCE in the order
//! `config` plans it, REDIRECT (re-CONNECT with flag 0x04 and the original descriptor),
//! RESEND, and the overflow DATA packet for descriptors over 230 bytes.

use std::time::Duration;

use client::{ClientError, ClientIdentity, ConnectOptions, Connection};
use config::naming::connect_plan;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tests::client_harness::{FakeListener, NamingDir, Script, dead_port};
use tests::py::start_server;

fn opts_with(naming: &NamingDir) -> ConnectOptions {
    ConnectOptions {
        resolver: naming.resolver(),
        ..ConnectOptions::default()
    }
}

fn no_naming() -> ConnectOptions {
    ConnectOptions {
        resolver: config::naming::Resolver::default(),
        ..ConnectOptions::default()
    }
}

fn select_one(c: &mut Connection) -> i64 {
    c.query("select 1 from dual").expect("select").rows[0][0]
        .as_i64()
        .expect("integer")
}

#[test]
fn refusals_carry_oracle_codes_and_texts() {
    let l = FakeListener::start(Script::Refuse(12514));
    let e = Connection::connect_with(
        &format!("127.0.0.1:{}/NOSUCH", l.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORA-12514: TNS:listener does not currently know of service requested in connect descriptor"
    );
    let l = FakeListener::start(Script::Refuse(12505));
    let e = Connection::connect_with(
        &format!(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SID=X)))",
            l.port
        ),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(12505));
    assert_eq!(
        e.to_string(),
        "ORA-12505: TNS:listener does not currently know of SID given in connect descriptor"
    );
    // The CONNECT the listener saw: python-oracledb's shape (version 319, min 300, SDU 8192,
    // descriptor with CID and CONNECTION_ID).
    let c = &l.seen()[0].connect;
    assert_eq!((c.version, c.version_min, c.sdu32), (319, 300, 8192));
    let d = c.descriptor_str();
    assert!(d.contains("(CONNECT_DATA=(SID=X)(CID=(PROGRAM="), "{d}");
    assert!(d.contains("(CONNECTION_ID="), "{d}");
}

#[test]
fn no_listener_is_ora_12541() {
    let port = dead_port();
    let e = Connection::connect_with(
        &format!("127.0.0.1:{port}/ORCL"),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert!(matches!(e, ClientError::NoListener { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with("ORA-12541: TNS:no listener"),
        "{e}"
    );
}

#[test]
fn unknown_alias_is_ora_12154() {
    let naming = NamingDir::with_tnsnames("other = (DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1)))\n");
    let e = Connection::connect_with("nosuch", "scott", "tiger", &opts_with(&naming)).unwrap_err();
    assert_eq!(e.code(), Some(12154));
    assert!(e.to_string().starts_with("ORA-12154: "), "{e}");
}

#[test]
fn failover_from_a_dead_address_to_a_live_one_through_tnsnames() {
    let s = start_server();
    let dead = dead_port();
    let naming = NamingDir::with_tnsnames(&format!(
        "ORCL_HA =\n  (DESCRIPTION =\n    (ADDRESS_LIST =\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {dead}))\n      (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {live})))\n    (CONNECT_DATA = (SERVICE_NAME = ORCL)))\n\nORCL_NOFO =\n  (DESCRIPTION =\n    (FAILOVER = off)\n    (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {dead}))\n    (ADDRESS = (PROTOCOL = TCP)(HOST = 127.0.0.1)(PORT = {live}))\n    (CONNECT_DATA = (SERVICE_NAME = ORCL)))\n",
        live = s.port
    ));
    let mut c = Connection::connect_with("orcl_ha", "scott", "tiger", &opts_with(&naming))
        .expect("failover to the second address");
    assert_eq!(select_one(&mut c), 1);
    c.close().expect("close");
    // FAILOVER=off: only the first address is tried.
    let e =
        Connection::connect_with("ORCL_NOFO", "scott", "tiger", &opts_with(&naming)).unwrap_err();
    assert_eq!(e.code(), Some(12541), "{e}");
}

#[test]
fn load_balance_follows_the_config_plan() {
    let s = start_server();
    let a = FakeListener::start(Script::Relay(s.port));
    let b = FakeListener::start(Script::Relay(s.port));
    let text = format!(
        "LB = (DESCRIPTION=(LOAD_BALANCE=on)(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME=ORCL)))\n",
        a.port, b.port
    );
    let naming = NamingDir::with_tnsnames(&text);
    let resolver = naming.resolver();
    let desc = resolver.resolve("LB").expect("resolve").descriptor;
    let mut expected = (0, 0);
    for seed in 0..12u64 {
        let plan = connect_plan(&desc, &resolver.sqlnet, &mut StdRng::seed_from_u64(seed));
        let first = plan[0].address.port.expect("port");
        if first == a.port {
            expected.0 += 1;
        } else {
            expected.1 += 1;
        }
        let o = ConnectOptions {
            load_balance_seed: Some(seed),
            ..opts_with(&naming)
        };
        let mut c = Connection::connect_with("LB", "scott", "tiger", &o).expect("connect");
        assert_eq!(select_one(&mut c), 1);
        c.close().expect("close");
        assert_eq!(
            (a.seen().len(), b.seen().len()),
            expected,
            "seed {seed}: the first address of the plan must get the connection"
        );
    }
    assert!(expected.0 > 0 && expected.1 > 0, "{expected:?}");
}

#[test]
fn redirect_is_followed_with_the_original_descriptor() {
    let s = start_server();
    let target = FakeListener::start(Script::Relay(s.port));
    let front = FakeListener::start(Script::Redirect(target.port));
    let mut c = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL", front.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .expect("connect through a redirect");
    assert_eq!(select_one(&mut c), 1);
    c.close().expect("close");
    let first = &front.seen()[0].connect;
    let second = &target.seen()[0].connect;
    assert_eq!(first.header_flags, 0);
    assert_eq!(
        second.header_flags,
        tns::packet::packet_flags::CONNECT_AFTER_REDIRECT
    );
    assert_eq!(first.descriptor, second.descriptor);
}

#[test]
fn resend_makes_the_client_send_its_connect_again() {
    let s = start_server();
    let l = FakeListener::start(Script::ResendThenRelay(s.port));
    let mut c = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL", l.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .expect("connect after RESEND");
    assert_eq!(select_one(&mut c), 1);
    c.close().expect("close");
    let seen = l.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].connect, seen[1].connect);
}

#[test]
fn long_descriptor_goes_in_an_overflow_data_packet() {
    let s = start_server();
    let l = FakeListener::start(Script::Relay(s.port));
    let o = ConnectOptions {
        identity: ClientIdentity {
            program: format!("/opt/{}/bin/app", "x".repeat(200)),
            ..ClientIdentity::current()
        },
        ..no_naming()
    };
    let mut c =
        Connection::connect_with(&format!("127.0.0.1:{}/ORCL", l.port), "scott", "tiger", &o)
            .expect("connect");
    assert_eq!(select_one(&mut c), 1);
    c.close().expect("close");
    let seen = &l.seen()[0];
    assert!(seen.connect.descriptor.len() > 230);
    assert_eq!(seen.first_packet_len, 74);
    assert_eq!(seen.wire_len, 74 + 10 + seen.connect.descriptor.len());
    // A short descriptor stays inline.
    let c = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL", l.port),
        "scott",
        "tiger",
        &ConnectOptions {
            identity: ClientIdentity {
                program: "app".into(),
                machine: "h".into(),
                os_user: "u".into(),
                ..ClientIdentity::current()
            },
            ..no_naming()
        },
    )
    .expect("connect");
    c.close().expect("close");
    let seen = &l.seen()[1];
    assert!(seen.connect.descriptor.len() <= 230);
    assert_eq!(seen.first_packet_len, 74 + seen.connect.descriptor.len());
}

#[test]
fn retry_count_makes_extra_passes_over_the_address_list() {
    let l = FakeListener::start(Script::Refuse(12516));
    let e = Connection::connect_with(
        &format!(
            "(DESCRIPTION=(RETRY_COUNT=2)(RETRY_DELAY=0)(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))(CONNECT_DATA=(SERVICE_NAME=ORCL)))",
            l.port
        ),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ORA-12516: TNS:listener could not find available handler with matching protocol stack"
    );
    // One first pass and two retries.
    assert_eq!(l.seen().len(), 3);
}

#[test]
fn connect_timeout_bounds_a_silent_listener() {
    let l = FakeListener::start(Script::Silent);
    let e = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL?connect_timeout=1", l.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(12170), "{e}");
    assert!(
        e.to_string()
            .starts_with("ORA-12170: TNS:Connect timeout occurred"),
        "{e}"
    );
}

#[test]
fn a_server_requiring_network_encryption_is_refused_by_the_client() {
    let l = FakeListener::start(Script::AcceptRequiringEncryption);
    let e = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL", l.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(12660), "{e}");
}

/// The TTC payloads of every DATA packet in a 4-byte-length byte stream.
fn data_payloads(mut b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Ok(Some((p, used))) = tns::packet::decode(b, tns::packet::LengthMode::Large) {
        if let tns::packet::Packet::Data(d) = p {
            out.push(d.payload);
        }
        b = &b[used..];
    }
    out
}

#[test]
fn after_login_the_calls_are_byte_identical_to_python_oracledb() {
    // tns/testdata/pyo_client_session.bin: what python-oracledb 26.1.0 sent for
    // select 1 (twice), select level ... <= 5, select * from missing, ping, commit, close.
    let python = data_payloads(include_bytes!("../../tns/testdata/pyo_client_session.bin"));
    let s = start_server();
    let relay = FakeListener::start(Script::Relay(s.port));
    let mut c = Connection::connect_with(
        &format!("127.0.0.1:{}/ORCL", relay.port),
        "scott",
        "tiger",
        &no_naming(),
    )
    .expect("connect");
    assert_eq!(select_one(&mut c), 1);
    assert_eq!(select_one(&mut c), 1);
    let r = c
        .query("select level from dual connect by level <= 5")
        .expect("levels");
    assert_eq!(r.rows.len(), 5);
    assert_eq!(
        c.query("select * from missing").unwrap_err().code(),
        Some(942)
    );
    c.ping().expect("ping");
    c.commit().expect("commit");
    c.close().expect("close");
    assert!(
        relay.wait_finished(1, Duration::from_secs(10)),
        "the relay never saw the client's end of the session"
    );
    let ours = data_payloads(&relay.client_bytes());
    // Protocol, data types and the two auth messages carry driver names, randomness and
    // host details; everything after them must match byte for byte (EOF packet included).
    assert_eq!(ours.len(), python.len());
    let hex = |v: &[u8]| v.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (i, (o, p)) in ours.iter().zip(&python).enumerate().skip(4) {
        assert_eq!(hex(o), hex(p), "message {i}");
    }
}
