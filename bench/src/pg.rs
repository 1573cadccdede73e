//! A minimal blocking PostgreSQL client (protocol 3.0: startup, trust, cleartext or
//! SCRAM-SHA-256 authentication, simple query, terminate), just enough to time a PostgreSQL
//! or PgBouncer connect and `select 1` with the same kind of client as the orasim side:
//! synchronous, one socket, no pool, no async runtime. SCRAM is there so that a login with
//! PBKDF2 key derivation (as O5LOGON has) can be compared with one.
//!
//! Why not the `postgres` crate: it is a wrapper over `tokio-postgres` and would add an async
//! runtime to time a blocking connect; why not `psql`/`pgbench -C`: a process start per
//! connect (psql) or an average without percentiles (pgbench) would not be comparable with
//! the per-connect histograms of the orasim side.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use thiserror::Error;

/// Protocol version 3.0.
const PROTOCOL_3_0: i32 = 196_608;
/// Largest message accepted from the server (the bench only reads tiny ones).
const MAX_MESSAGE: usize = 1 << 20;

/// What can go wrong talking to PostgreSQL or PgBouncer.
#[derive(Debug, Error)]
pub enum PgError {
    /// A socket error.
    #[error("PostgreSQL connection error while {context}: {source}")]
    Io {
        /// What the client was doing.
        context: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server sent an ErrorResponse.
    #[error("PostgreSQL error {sqlstate}: {message}")]
    Server {
        /// The SQLSTATE (`53300` too many connections, `28P01` bad password).
        sqlstate: String,
        /// The message text.
        message: String,
    },
    /// The server asked for an authentication method this client does not speak.
    #[error("PostgreSQL authentication method {method} is not supported (configure trust)")]
    UnsupportedAuth {
        /// The AuthenticationRequest code (5 = MD5, 10 = SASL).
        method: i32,
    },
    /// Bytes that do not follow the protocol.
    #[error("PostgreSQL protocol error: {detail}")]
    Protocol {
        /// What was wrong.
        detail: String,
    },
}

impl PgError {
    /// The key errors are counted under in the report: `PG-<sqlstate>` or `PG-io`.
    pub fn code(&self) -> String {
        match self {
            PgError::Server { sqlstate, .. } => format!("PG-{sqlstate}"),
            PgError::Io { .. } => "PG-io".to_string(),
            PgError::UnsupportedAuth { .. } => "PG-auth".to_string(),
            PgError::Protocol { .. } => "PG-protocol".to_string(),
        }
    }
}

/// Where and as whom to connect.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// Role.
    pub user: String,
    /// Database.
    pub database: String,
    /// Password, sent only if the server asks for a cleartext one.
    pub password: Option<String>,
    /// Socket timeouts.
    pub timeout: Duration,
}

/// One open session.
#[derive(Debug)]
pub struct PgConn {
    s: TcpStream,
    /// The backend pid from BackendKeyData (PgBouncer sends its own fake key).
    pub backend_pid: Option<i32>,
}

impl PgConn {
    /// Connects, authenticates and waits for ReadyForQuery.
    pub fn connect(t: &PgTarget) -> Result<PgConn, PgError> {
        let io = |context| move |source| PgError::Io { context, source };
        let s = TcpStream::connect_timeout(&([127, 0, 0, 1], t.port).into(), t.timeout)
            .map_err(io("connecting"))?;
        s.set_read_timeout(Some(t.timeout))
            .map_err(io("setting timeouts"))?;
        s.set_write_timeout(Some(t.timeout))
            .map_err(io("setting timeouts"))?;
        s.set_nodelay(true).map_err(io("setting TCP_NODELAY"))?;
        let mut c = PgConn {
            s,
            backend_pid: None,
        };
        let mut body = Vec::new();
        body.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
        for (k, v) in [
            ("user", t.user.as_str()),
            ("database", t.database.as_str()),
            ("application_name", "tnsbench"),
        ] {
            cstr(&mut body, k);
            cstr(&mut body, v);
        }
        body.push(0);
        let mut msg = Vec::with_capacity(body.len() + 4);
        msg.extend_from_slice(&len_field(body.len() + 4)?);
        msg.extend_from_slice(&body);
        c.s.write_all(&msg)
            .map_err(io("sending the startup packet"))?;
        let mut scram: Option<Scram> = None;
        loop {
            let (tag, body) = c.read_message()?;
            match tag {
                b'R' => {
                    let method = be_i32(&body, 0)?;
                    let rest = body.get(4..).unwrap_or(&[]);
                    match (method, t.password.as_deref()) {
                        (0, _) => {}
                        (3, Some(pw)) => {
                            let mut p = Vec::new();
                            cstr(&mut p, pw);
                            c.send(b'p', &p)?;
                        }
                        (10, Some(pw)) => {
                            let offered = rest
                                .split(|&b| b == 0)
                                .any(|m| m == SCRAM_SHA_256.as_bytes());
                            if !offered {
                                return Err(PgError::UnsupportedAuth { method });
                            }
                            let s = Scram::new(pw)?;
                            let first = s.client_first();
                            let mut p = Vec::new();
                            cstr(&mut p, SCRAM_SHA_256);
                            p.extend_from_slice(&len_field(first.len())?);
                            p.extend_from_slice(first.as_bytes());
                            c.send(b'p', &p)?;
                            scram = Some(s);
                        }
                        (11, _) => {
                            let s = scram.as_mut().ok_or_else(|| PgError::Protocol {
                                detail: "SASLContinue without SASL".into(),
                            })?;
                            let fin = s.client_final(rest)?;
                            c.send(b'p', fin.as_bytes())?;
                        }
                        (12, _) => {
                            let s = scram.as_ref().ok_or_else(|| PgError::Protocol {
                                detail: "SASLFinal without SASL".into(),
                            })?;
                            s.verify_server(rest)?;
                        }
                        (m, _) => return Err(PgError::UnsupportedAuth { method: m }),
                    }
                }
                b'K' => c.backend_pid = Some(be_i32(&body, 0)?),
                b'Z' => return Ok(c),
                b'E' => return Err(server_error(&body)),
                // ParameterStatus, NoticeResponse, NegotiateProtocolVersion: not needed.
                _ => {}
            }
        }
    }

    /// Runs a simple query and returns the number of DataRows.
    pub fn simple_query(&mut self, sql: &str) -> Result<u64, PgError> {
        let mut q = Vec::new();
        cstr(&mut q, sql);
        self.send(b'Q', &q)?;
        let mut rows = 0;
        let mut failed = None;
        loop {
            let (tag, body) = self.read_message()?;
            match tag {
                b'D' => rows += 1,
                b'E' => failed = Some(server_error(&body)),
                b'Z' => {
                    return match failed {
                        Some(e) => Err(e),
                        None => Ok(rows),
                    };
                }
                _ => {}
            }
        }
    }

    /// Sends Terminate and closes the socket.
    pub fn close(mut self) -> Result<(), PgError> {
        self.send(b'X', &[])
    }

    fn send(&mut self, tag: u8, body: &[u8]) -> Result<(), PgError> {
        let mut msg = Vec::with_capacity(body.len() + 5);
        msg.push(tag);
        msg.extend_from_slice(&len_field(body.len() + 4)?);
        msg.extend_from_slice(body);
        self.s.write_all(&msg).map_err(|source| PgError::Io {
            context: "sending a message",
            source,
        })
    }

    fn read_message(&mut self) -> Result<(u8, Vec<u8>), PgError> {
        let io = |source| PgError::Io {
            context: "reading a message",
            source,
        };
        let mut head = [0u8; 5];
        self.s.read_exact(&mut head).map_err(io)?;
        let len = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        let body_len = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_sub(4))
            .filter(|&l| l <= MAX_MESSAGE)
            .ok_or_else(|| PgError::Protocol {
                detail: format!("message '{}' with length {len}", head[0] as char),
            })?;
        let mut body = vec![0u8; body_len];
        self.s.read_exact(&mut body).map_err(io)?;
        Ok((head[0], body))
    }
}

/// The SASL mechanism name.
const SCRAM_SHA_256: &str = "SCRAM-SHA-256";

/// Client side of SCRAM-SHA-256 (RFC 5802 / 7677) without channel binding, as libpq does
/// it over a plain TCP connection.
#[derive(Debug)]
struct Scram {
    password: String,
    client_nonce: String,
    client_first_bare: String,
    /// Set by [`Scram::client_final`]: the expected server signature.
    server_signature: Option<Vec<u8>>,
}

impl Scram {
    fn new(password: &str) -> Result<Scram, PgError> {
        use base64::Engine as _;
        let mut raw = [0u8; 18];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut raw))
            .map_err(|source| PgError::Io {
                context: "reading /dev/urandom for the SCRAM nonce",
                source,
            })?;
        // PostgreSQL takes the user from the startup packet and ignores SCRAM's `n=`.
        Ok(Scram::with_nonce(
            "",
            password,
            &base64::engine::general_purpose::STANDARD.encode(raw),
        ))
    }

    fn with_nonce(user: &str, password: &str, client_nonce: &str) -> Scram {
        Scram {
            password: password.to_string(),
            client_first_bare: format!("n={user},r={client_nonce}"),
            client_nonce: client_nonce.to_string(),
            server_signature: None,
        }
    }

    fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// Answers the server-first message with the proof.
    fn client_final(&mut self, server_first: &[u8]) -> Result<String, PgError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let bad = |what: &str| PgError::Protocol {
            detail: format!("SCRAM server-first message: {what}"),
        };
        let text = std::str::from_utf8(server_first).map_err(|_| bad("not UTF-8"))?;
        let field = |k: &str| {
            text.split(',')
                .find_map(|f| f.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
        };
        let nonce = field("r").ok_or_else(|| bad("no nonce"))?;
        if !nonce.starts_with(&self.client_nonce) {
            return Err(bad("nonce does not extend ours"));
        }
        let salt = b64
            .decode(field("s").ok_or_else(|| bad("no salt"))?)
            .map_err(|_| bad("salt is not base64"))?;
        let iterations: u32 = field("i")
            .and_then(|i| i.parse().ok())
            .filter(|&i| i > 0)
            .ok_or_else(|| bad("bad iteration count"))?;
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            self.password.as_bytes(),
            &salt,
            iterations,
            &mut salted,
        );
        let client_key = hmac_sha256(&salted, b"Client Key")?;
        let stored_key = <sha2::Sha256 as sha2::Digest>::digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.client_first_bare);
        let signature = hmac_sha256(&stored_key, auth_message.as_bytes())?;
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac_sha256(&salted, b"Server Key")?;
        self.server_signature = Some(hmac_sha256(&server_key, auth_message.as_bytes())?);
        Ok(format!("{without_proof},p={}", b64.encode(proof)))
    }

    /// Checks the server's `v=` signature: the server knew the password verifier.
    fn verify_server(&self, server_final: &[u8]) -> Result<(), PgError> {
        use base64::Engine as _;
        let got = std::str::from_utf8(server_final)
            .ok()
            .and_then(|t| t.strip_prefix("v="))
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok());
        match (&self.server_signature, got) {
            (Some(want), Some(got)) if *want == got => Ok(()),
            _ => Err(PgError::Protocol {
                detail: "SCRAM server signature does not match".into(),
            }),
        }
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, PgError> {
    use hmac::{KeyInit as _, Mac as _};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).map_err(|_| PgError::Protocol {
        detail: "HMAC key".into(),
    })?;
    m.update(data);
    Ok(m.finalize().into_bytes().to_vec())
}

fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn len_field(n: usize) -> Result<[u8; 4], PgError> {
    i32::try_from(n)
        .map(i32::to_be_bytes)
        .map_err(|_| PgError::Protocol {
            detail: format!("message of {n} bytes is too long"),
        })
}

fn be_i32(b: &[u8], at: usize) -> Result<i32, PgError> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(i32::from_be_bytes)
        .ok_or_else(|| PgError::Protocol {
            detail: format!("message too short for an Int32 at {at}"),
        })
}

/// Decodes an ErrorResponse: fields `C` (SQLSTATE) and `M` (message).
fn server_error(body: &[u8]) -> PgError {
    let mut sqlstate = String::from("?????");
    let mut message = String::new();
    let mut rest = body;
    while let Some((&field, tail)) = rest.split_first() {
        if field == 0 {
            break;
        }
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        let value = String::from_utf8_lossy(&tail[..end]).into_owned();
        match field {
            b'C' => sqlstate = value,
            b'M' => message = value,
            _ => {}
        }
        rest = tail.get(end + 1..).unwrap_or(&[]);
    }
    PgError::Server { sqlstate, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    /// A scripted server: reads the startup packet, answers trust + key + ready, then one
    /// `select 1` answer, then expects Terminate.
    #[test]
    fn talks_protocol_3_with_a_scripted_server() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(10))).ok();
            let mut len = [0u8; 4];
            s.read_exact(&mut len).expect("len");
            let mut startup = vec![0u8; i32::from_be_bytes(len) as usize - 4];
            s.read_exact(&mut startup).expect("startup");
            let mut out = msg(b'R', &0i32.to_be_bytes());
            out.extend(msg(b'S', b"server_version\x0017.0\x00"));
            let mut key = 4242i32.to_be_bytes().to_vec();
            key.extend_from_slice(&7i32.to_be_bytes());
            out.extend(msg(b'K', &key));
            out.extend(msg(b'Z', b"I"));
            s.write_all(&out).expect("write");
            let mut q = [0u8; 5];
            s.read_exact(&mut q).expect("query head");
            let mut sql = vec![0u8; i32::from_be_bytes([q[1], q[2], q[3], q[4]]) as usize - 4];
            s.read_exact(&mut sql).expect("query");
            let mut out = msg(
                b'T',
                b"\x00\x01?column?\x00\0\0\0\0\0\0\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0",
            );
            out.extend(msg(b'D', b"\x00\x01\x00\x00\x00\x011"));
            out.extend(msg(b'C', b"SELECT 1\x00"));
            out.extend(msg(b'Z', b"I"));
            s.write_all(&out).expect("write");
            let mut x = [0u8; 5];
            s.read_exact(&mut x).expect("terminate");
            (String::from_utf8_lossy(&startup).into_owned(), sql, x)
        });
        let t = PgTarget {
            port,
            user: "orasim".into(),
            database: "postgres".into(),
            password: None,
            timeout: Duration::from_secs(10),
        };
        let mut c = PgConn::connect(&t).expect("connect");
        assert_eq!(c.backend_pid, Some(4242));
        assert_eq!(c.simple_query("select 1").expect("query"), 1);
        c.close().expect("close");
        let (startup, sql, x) = server.join().expect("server");
        assert!(startup.contains("user\0orasim\0database\0postgres\0"));
        assert_eq!(sql, b"select 1\0");
        assert_eq!(x, [b'X', 0, 0, 0, 4]);
    }

    /// RFC 7677 section 3: the SCRAM-SHA-256 example exchange.
    #[test]
    fn scram_sha_256_matches_rfc_7677() {
        let mut s = Scram::with_nonce("user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(s.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let fin = s
            .client_final(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
            )
            .expect("final");
        assert_eq!(
            fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        s.verify_server(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .expect("server signature");
        assert!(s.verify_server(b"v=AAAA").is_err());
        // A server nonce that does not extend ours is refused.
        let mut s = Scram::with_nonce("", "pencil", "abc");
        assert!(s.client_final(b"r=xyz,s=AAAA,i=4096").is_err());
    }

    #[test]
    fn error_response_carries_sqlstate() {
        let e = server_error(b"SFATAL\0C53300\0Msorry, too many clients already\0\0");
        assert_eq!(e.code(), "PG-53300");
        assert!(e.to_string().contains("too many clients"));
        // A truncated body still yields an error, never a panic.
        assert_eq!(server_error(b"C12").code(), "PG-12");
    }
}
