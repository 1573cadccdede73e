//! Body of the `server_conn` fuzz target (`fuzz/fuzz_targets/server_conn.rs`), here so the
//! stable tests run the same code: arbitrary bytes from a client that has not logged in must
//! never panic `engine::ServerConn` (the server side of one connection: TNS framing, the
//! CONNECT, markers, the negotiation and the O5LOGON exchange, the login limits), and what it
//! buffers stays bounded. It lives in `server_proc` because it needs a clock reading to start
//! from, which `engine` never takes itself.
//!
//! The first byte chooses how the rest reaches the connection, so the fuzzer needs not learn
//! TNS framing before it can reach the layers behind it:
//! - `0`: the bytes as they come, in chunks;
//! - `1`: a valid CONNECT first, then the bytes as they come;
//! - `2`: a valid CONNECT, then each `[len][payload]` record as one DATA packet (a record of
//!   length 0 is a BREAK marker) — the TTC negotiation and login see the payloads.
//!
//! Between chunks the virtual clock moves 1 s and due timeouts fire, as the drivers do.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use engine::{LocalInstance, ServerConn, Session, SessionConfig, SessionRunner, WallClock};
use tns::packet::{Connect, Data, LengthMode, Marker, MarkerKind};

/// No user exists: every login gets the decoy challenge and ORA-01017.
struct NoUsers;

impl engine::Credentials for NoUsers {
    fn verifier(&self, _user: &str) -> Option<tns::o5logon::Verifier> {
        None
    }
}

/// Largest output the connection may hold for a client that never reads, per input byte
/// plus a constant (refusals, ACCEPT, error messages).
const OUT_PER_BYTE: usize = 64;

fn connect() -> Vec<u8> {
    Connect::new(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=ORCL)))",
        8192,
    )
    .encode()
}

/// Feeds `data` to a fresh `ServerConn` as described in the module docs.
pub fn server_conn(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let inst = Arc::new(LocalInstance::new("ORCL", 1));
    let cfg = SessionConfig {
        service_name: "ORCL".into(),
        db_domain: String::new(),
        server_host: "h".into(),
        max_open_cursors: 10,
    };
    let mut seed = 0u8;
    let session = Session::new(
        cfg,
        Arc::new(NoUsers),
        inst.clone(),
        Box::new(move |b: &mut [u8]| {
            for x in b {
                seed = seed.wrapping_mul(31).wrapping_add(7);
                *x = seed;
            }
        }),
    );
    let mut now = Instant::now();
    let runner = SessionRunner::new(
        session,
        WallClock {
            instant: now,
            wall: SystemTime::UNIX_EPOCH,
        },
    );
    let mut c = ServerConn::new(runner, 65535);
    let mut fed = 0usize;
    let mut out = 0usize;
    let mut step = |c: &mut ServerConn, bytes: &[u8], now: &mut Instant| {
        fed += bytes.len();
        c.handle_bytes(*now, bytes);
        *now += Duration::from_secs(1);
        if c.poll_timeout().is_some_and(|t| t <= *now) {
            c.handle_timeout(*now);
        }
        while let Some(b) = c.poll_transmit() {
            out += b.len();
        }
        assert!(
            out <= 4096 + OUT_PER_BYTE * fed,
            "{out} bytes out for {fed} bytes in"
        );
    };
    match mode % 3 {
        0 => {
            for chunk in rest.chunks(61) {
                step(&mut c, chunk, &mut now);
                if c.is_closed() {
                    break;
                }
            }
        }
        1 => {
            step(&mut c, &connect(), &mut now);
            for chunk in rest.chunks(61) {
                step(&mut c, chunk, &mut now);
                if c.is_closed() {
                    break;
                }
            }
        }
        _ => {
            step(&mut c, &connect(), &mut now);
            let mut r = rest;
            while let Some((&len, tail)) = r.split_first() {
                let (payload, next) = tail.split_at(usize::from(len).min(tail.len()));
                r = next;
                let bytes = if len == 0 {
                    Marker {
                        kind: MarkerKind::Break,
                    }
                    .encode(LengthMode::Large)
                } else {
                    Data {
                        flags: 0,
                        payload: payload.to_vec(),
                    }
                    .encode(LengthMode::Large)
                };
                step(&mut c, &bytes, &mut now);
                if c.is_closed() {
                    break;
                }
            }
        }
    }
    c.handle_eof();
    drop(c);
    // Whatever happened, the session slot is given back.
    assert!(inst.open_sessions().is_empty(), "a session slot leaked");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The golden packets of `tns/testdata`, as the fuzz script seeds the corpus with them.
    #[test]
    fn golden_packets_in_every_mode() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tns/testdata");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).expect("tns/testdata") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "bin") {
                let bytes = std::fs::read(&p).expect("read");
                for mode in 0..3u8 {
                    let mut d = vec![mode];
                    d.extend(&bytes);
                    super::server_conn(&d);
                }
                n += 1;
            }
        }
        assert!(n >= 10, "only {n} golden packets");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
            super::server_conn(&data);
        }
    }
}
