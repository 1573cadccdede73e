//! The heart of `tnsping`: open TCP to one listener address, send a CONNECT whose
//! CONNECT_DATA is `(COMMAND=ping)`, and read the listener's answer. An Oracle listener
//! answers a ping with a REFUSE-type packet carrying `(ERR=0)`; anything non-zero is the TNS
//! error to report. Timing covers connect + exchange, as Oracle's `OK (N msec)` does.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use tns::error_text::tns_line;
use tns::packet::{self, LengthMode, Packet};

/// `VSNNUM` this client announces (19.0.0.0.0).
pub const VSNNUM: u32 = 318_767_104;

/// Why one ping attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PingError {
    /// Connection refused (nothing listens).
    #[error("{}", tns_line(12541))]
    NoListener,
    /// The host does not resolve.
    #[error("{}", tns_line(12545))]
    UnknownHost {
        /// Host name.
        host: String,
    },
    /// No answer in time.
    #[error("{}", tns_line(12535))]
    Timeout,
    /// The listener answered with a non-zero error.
    #[error("{}", tns_line(*code))]
    Refused {
        /// The TNS error number.
        code: u32,
    },
    /// The peer closed or spoke something other than TNS.
    #[error("{}", tns_line(12537))]
    Closed {
        /// What happened.
        detail: String,
    },
}

/// The descriptor `tnsping` sends.
pub fn ping_descriptor(service: &str) -> String {
    let user = std::env::var("USER").unwrap_or_default();
    format!(
        "(CONNECT_DATA=(CID=(PROGRAM=)(HOST=)(USER={user}))(COMMAND=ping)(ARGUMENTS=64)(SERVICE={service})(VERSION={VSNNUM}))"
    )
}

/// Pings `host:port` once; `Ok(elapsed)` on `(ERR=0)`.
pub fn ping(
    host: &str,
    port: u16,
    service: &str,
    timeout: Duration,
) -> Result<Duration, PingError> {
    let start = Instant::now();
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| PingError::UnknownHost {
            host: host.to_string(),
        })?
        .collect();
    let mut last = PingError::UnknownHost {
        host: host.to_string(),
    };
    for addr in addrs {
        match ping_addr(&addr, service, timeout) {
            Ok(()) => return Ok(start.elapsed()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn io_to_ping(e: &std::io::Error) -> PingError {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => PingError::NoListener,
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => PingError::Timeout,
        _ => PingError::Closed {
            detail: e.to_string(),
        },
    }
}

fn ping_addr(addr: &SocketAddr, service: &str, timeout: Duration) -> Result<(), PingError> {
    let mut s = TcpStream::connect_timeout(addr, timeout).map_err(|e| io_to_ping(&e))?;
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(timeout))
        .map_err(|e| io_to_ping(&e))?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| io_to_ping(&e))?;
    let connect = packet::Connect::new(ping_descriptor(service), packet::DEFAULT_SDU);
    s.write_all(&connect.encode()).map_err(|e| io_to_ping(&e))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    loop {
        match packet::decode(&buf, LengthMode::Short) {
            Ok(Some((p, _))) => return answer(p),
            Ok(None) => {}
            Err(e) => {
                return Err(PingError::Closed {
                    detail: e.to_string(),
                });
            }
        }
        let n = s.read(&mut chunk).map_err(|e| io_to_ping(&e))?;
        if n == 0 {
            return Err(PingError::Closed {
                detail: "connection closed by peer".to_string(),
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn answer(p: Packet) -> Result<(), PingError> {
    match p {
        Packet::Refuse(r) => match r.error_code() {
            Some(0) => Ok(()),
            Some(code) => Err(PingError::Refused { code }),
            None => Err(PingError::Closed {
                detail: format!("unexpected refuse text {}", r.text),
            }),
        },
        // A dedicated server or dispatcher answering directly is alive too.
        Packet::Accept(_) | Packet::Redirect(_) | Packet::Resend { .. } => Ok(()),
        other => Err(PingError::Closed {
            detail: format!("unexpected packet type {}", other.type_code()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn one_shot(reply: Vec<u8>) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut b = [0u8; 512];
                let _ = s.read(&mut b);
                let _ = s.write_all(&reply);
            }
        });
        port
    }

    #[test]
    fn err_zero_is_ok_and_nonzero_is_reported() {
        let ok = packet::Refuse {
            user_reason: 0x22,
            system_reason: 0,
            text: format!("(DESCRIPTION=(TMP=)(VSNNUM={VSNNUM})(ERR=0)(ALIAS=LISTENER))"),
        };
        let port = one_shot(ok.encode());
        assert!(ping("127.0.0.1", port, "x", Duration::from_secs(5)).is_ok());
        let port = one_shot(packet::Refuse::for_error(1189, VSNNUM).encode());
        assert_eq!(
            ping("127.0.0.1", port, "x", Duration::from_secs(5)),
            Err(PingError::Refused { code: 1189 })
        );
    }

    #[test]
    fn closed_port_is_no_listener() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        assert_eq!(
            ping("127.0.0.1", port, "x", Duration::from_secs(5)),
            Err(PingError::NoListener)
        );
    }
}

/// How an identifier was resolved.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `TNSNAMES`, `EZCONNECT`, or `None` for a literal descriptor.
    pub adapter: Option<&'static str>,
    /// The descriptor.
    pub descriptor: config::ConnectDescriptor,
    /// What `Attempting to contact` echoes: a tnsnames.ora entry as written there (its lines
    /// joined, comments left out), a literal descriptor as typed, an Easy Connect string as
    /// the descriptor Oracle builds from it (CONNECT_DATA first).
    pub contact: String,
    /// The parameter files consulted.
    pub files: Vec<std::path::PathBuf>,
}

/// Resolution failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Nothing resolves the identifier (TNS-03505).
    #[error("{}", tns_line(3505))]
    Unresolved,
    /// A literal descriptor or Easy Connect string is malformed.
    #[error("{}", tns_line(3505))]
    Malformed {
        /// Parser message.
        detail: String,
    },
}

/// Resolves like every client of this project (`config::naming`): a literal descriptor, or
/// the naming methods of `sqlnet.ora` `NAMES.DIRECTORY_PATH` (tnsnames with
/// `NAMES.DEFAULT_DOMAIN`, Easy Connect), from `TNS_ADMIN` or `$ORACLE_HOME/network/admin`.
pub fn resolve(identifier: &str) -> Result<Resolved, ResolveError> {
    use config::naming::{ResolveError as E, Resolver, Source};
    let resolver = Resolver::from_env();
    let files = resolver
        .config_dir
        .iter()
        .map(|d| d.join("sqlnet.ora"))
        .filter(|p| p.is_file())
        .collect();
    match resolver.resolve(identifier) {
        Ok(r) => Ok(Resolved {
            contact: match &r.source {
                Source::Descriptor => identifier.trim().to_string(),
                Source::Tnsnames { file, pos, .. } => std::fs::read_to_string(&**file)
                    .ok()
                    .and_then(|text| entry_value(&text, pos.line))
                    .unwrap_or_else(|| r.descriptor.render()),
                Source::EzConnect => connect_data_first(&r.descriptor.render()),
            },
            adapter: match r.source {
                Source::Descriptor => None,
                Source::Tnsnames { .. } => Some("TNSNAMES"),
                Source::EzConnect => Some("EZCONNECT"),
            },
            descriptor: r.descriptor,
            files,
        }),
        Err(E::NotFound { .. }) => Err(ResolveError::Unresolved),
        Err(e) => Err(ResolveError::Malformed {
            detail: e.to_string(),
        }),
    }
}

/// The value of the tnsnames.ora entry that starts on line `line` (1-based), as tnsping
/// echoes it: every line of the entry up to the next one starting in column 1, comments
/// left out, each line's indentation and end turned into one blank.
pub fn entry_value(text: &str, line: u32) -> Option<String> {
    let start = usize::try_from(line).ok()?.checked_sub(1)?;
    let mut lines = text.lines().skip(start);
    let first = lines.next()?;
    let mut parts = vec![first.split_once('=')?.1.to_string()];
    for l in lines {
        let starts_entry = l
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#' && c != ')');
        if starts_entry {
            break;
        }
        parts.push(l.to_string());
    }
    let words: Vec<&str> = parts
        .iter()
        .map(|p| p.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    let value = words.join(" ");
    (!value.is_empty()).then_some(value)
}

/// An Easy Connect descriptor as Oracle's tnsping shows it: CONNECT_DATA before the
/// addresses, protocol names in lower case.
fn connect_data_first(rendered: &str) -> String {
    let Some(body) = rendered
        .strip_prefix("(DESCRIPTION=")
        .and_then(|b| b.strip_suffix(')'))
    else {
        return rendered.to_string();
    };
    // Top-level parts of the DESCRIPTION.
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in body.char_indices() {
        match c {
            '(' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    parts.push(&body[start..=i]);
                }
            }
            _ => {}
        }
    }
    parts.sort_by_key(|p| !p.starts_with("(CONNECT_DATA="));
    format!("(DESCRIPTION={})", parts.concat()).replace("(PROTOCOL=TCP)", "(PROTOCOL=tcp)")
}

/// Pings the first TCP address of `d` that answers; the error of the last one otherwise.
pub fn ping_descriptor_addresses(
    d: &config::ConnectDescriptor,
    service: &str,
    timeout: Duration,
) -> Result<Duration, PingError> {
    let start = Instant::now();
    let mut last = PingError::NoListener;
    for a in d.addresses() {
        let proto = a.protocol_lower();
        if proto != "tcp" {
            continue;
        }
        let (Some(host), Some(port)) = (a.host.as_deref(), a.effective_port()) else {
            continue;
        };
        match ping(host, port, service, timeout) {
            Ok(_) => return Ok(start.elapsed()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// What `tnsping` found out, from which [`render_report`] writes its report.
#[derive(Debug, Clone)]
pub struct PingReport {
    /// The parameter files consulted (`sqlnet.ora`).
    pub files: Vec<std::path::PathBuf>,
    /// The naming adapter that resolved the identifier (`None` for a literal descriptor).
    pub adapter: Option<&'static str>,
    /// What `Attempting to contact` echoes (see [`Resolved::contact`]).
    pub contact: String,
    /// The attempts in order; the first failure ends them.
    pub attempts: Vec<Result<Duration, PingError>>,
}

/// The report `tnsping` prints after its banner, in Oracle's layout: `Used parameter
/// files:` and the files, two blank lines, `Used <ADAPTER> adapter to resolve the alias`,
/// `Attempting to contact <descriptor>`, then `OK (N msec)` per attempt or the TNS error.
pub fn render_report(r: &PingReport) -> String {
    let mut out = String::from("Used parameter files:\n");
    for f in &r.files {
        out.push_str(&format!("{}\n", f.display()));
    }
    out.push('\n');
    if let Some(a) = r.adapter {
        out.push_str(&format!("\nUsed {a} adapter to resolve the alias\n"));
    }
    out.push_str(&format!("Attempting to contact {}\n", r.contact));
    for a in &r.attempts {
        match a {
            Ok(d) => out.push_str(&format!("OK ({} msec)\n", d.as_millis())),
            Err(e) => out.push_str(&format!("{e}\n")),
        }
    }
    out
}

/// `DD-MON-YYYY HH24:MI:SS` (UTC) for the banner.
pub fn oracle_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    tns::ttc::types::DateTime::from_unix(secs, 0).dd_mon_yyyy_hh24_mi_ss()
}

#[cfg(test)]
mod resolve_tests {
    use super::*;

    /// The example of Oracle's documentation (see `testdata/README.md`): `tnsping sales`
    /// through a tnsnames.ora entry, one attempt of 10 msec.
    #[test]
    fn report_is_the_documented_layout_byte_for_byte() {
        let tnsnames = "sales =\n  (DESCRIPTION =\n    (ADDRESS_LIST = (ADDRESS = (PROTOCOL = TCP)(HOST = sales-server)(PORT = 1521)))\n    (CONNECT_DATA = (SERVICE_NAME = sales.us.example.com)))\n";
        let report = PingReport {
            files: vec![],
            adapter: Some("TNSNAMES"),
            contact: entry_value(tnsnames, 1).expect("entry"),
            attempts: vec![Ok(Duration::from_millis(10))],
        };
        assert_eq!(
            render_report(&report),
            include_str!("../testdata/tnsping.txt")
        );
    }

    #[test]
    fn literal_descriptor_and_ezconnect_resolve() {
        let r = resolve("(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=x)))").expect("literal");
        assert_eq!(r.adapter, None);
        assert_eq!(r.descriptor.addresses()[0].port, Some(1));
        let r = resolve("127.0.0.1:1522/orcl").expect("ezconnect");
        assert_eq!(r.adapter, Some("EZCONNECT"));
        assert_eq!(r.descriptor.addresses()[0].effective_port(), Some(1522));
        assert!(matches!(
            resolve("(DESCRIPTION="),
            Err(ResolveError::Malformed { .. })
        ));
        assert!(oracle_now().len() == 20);
        assert_eq!(
            r.contact,
            "(DESCRIPTION=(CONNECT_DATA=(SERVICE_NAME=orcl))(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1522)))"
        );
    }

    #[test]
    fn a_tnsnames_entry_is_echoed_as_written() {
        let text = "# header\nOTHER = (DESCRIPTION=(ADDRESS=(HOST=x)(PORT=1)))\n\
                    ORCL =\n  (DESCRIPTION =   # the one\n    (ADDRESS = (PROTOCOL = TCP)(HOST = db1)(PORT = 1521))\n\
                    \n    (CONNECT_DATA =\n      (SERVICE_NAME = orcl)\n    )\n  )\nNEXT = x:1/y\n";
        assert_eq!(
            entry_value(text, 3).as_deref(),
            Some(
                "(DESCRIPTION = (ADDRESS = (PROTOCOL = TCP)(HOST = db1)(PORT = 1521)) (CONNECT_DATA = (SERVICE_NAME = orcl) ) )"
            )
        );
        assert_eq!(
            entry_value(text, 2).as_deref(),
            Some("(DESCRIPTION=(ADDRESS=(HOST=x)(PORT=1)))")
        );
    }
}
