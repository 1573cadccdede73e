//! The connect phase: from a connect identifier to an ACCEPTed TNS connection. Naming and
//! the order of addresses come from `config` (tnsnames, EZConnect, `TNS_ADMIN`,
//! FAILOVER/LOAD_BALANCE/RETRY_COUNT); this module dials each attempt with its
//! TRANSPORT_CONNECT_TIMEOUT and CONNECT_TIMEOUT, sends the CONNECT the way
//! python-oracledb does (CID, CONNECTION_ID, overflow DATA packet past 230 bytes), and
//! handles every listener answer: ACCEPT, REFUSE, REDIRECT and RESEND.

use std::thread;

use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::{Duration, Instant};

use config::descriptor::{
    Address, Cid, ConnectData, ConnectDescriptor, Description, RawParam, RawValue,
};
use config::naming::{self, Attempt, Resolver};
use tns::packet::{self, Accept, Connect, Packet, packet_flags};

use crate::error::ClientError;
use crate::transport::{
    DEFAULT_CONNECT_PHASE_TIMEOUT, DEFAULT_TRANSPORT_CONNECT_TIMEOUT, RecvError, Transport,
};

/// ACCEPT NSI flag: the server insists on Native Network Encryption / checksumming, which
/// this client does not implement.
const NSI_NA_REQUIRED: u8 = 0x10;

/// How many REDIRECTs one attempt follows before giving up (a routing loop).
const MAX_REDIRECTS: usize = 4;

/// Who the client says it is, in the CID of the CONNECT and in the auth phase-one pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// Program (the executable path).
    pub program: String,
    /// Client machine name.
    pub machine: String,
    /// OS user.
    pub os_user: String,
    /// Terminal (python sends `unknown`).
    pub terminal: String,
    /// Process id.
    pub pid: u32,
}

impl ClientIdentity {
    /// Identity of the current process.
    pub fn current() -> ClientIdentity {
        let program = std::env::current_exe()
            .ok()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "orasim".to_string());
        let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "localhost".to_string());
        let os_user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        ClientIdentity {
            program,
            machine,
            os_user,
            terminal: "unknown".to_string(),
            pid: std::process::id(),
        }
    }
}

/// Replaces every character a descriptor value cannot hold unquoted with `?`, as
/// python-oracledb does for the CID values.
pub fn sanitize_cid_value(s: &str) -> String {
    const ALLOWED: &str = "\"'<>/\\,.:;-_$+*#&!%?@";
    s.trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ALLOWED.contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// `CONNECTION_ID`: base64 of 16 random bytes (24 characters).
pub(crate) fn new_connection_id() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    base64(&b)
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        let idx = |shift: u32| char::from(T[((n >> shift) & 63) as usize]);
        out.push(idx(18));
        out.push(idx(12));
        out.push(if c.len() > 1 { idx(6) } else { '=' });
        out.push(if c.len() > 2 { idx(0) } else { '=' });
    }
    out
}

const CONNECTION_ID_PLACEHOLDER: &str = "ORASIMCONNECTIONID";

/// The two descriptor texts one description yields: the one sent in CONNECT (with CID and
/// CONNECTION_ID) and the one sent as `AUTH_CONNECT_STRING` (without CID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DescriptorTexts {
    pub(crate) connect: String,
    pub(crate) auth: String,
}

/// Builds the texts for one description.
pub(crate) fn descriptor_texts(
    desc: &Description,
    who: &ClientIdentity,
    connection_id: &str,
) -> DescriptorTexts {
    let render = |with_cid: bool| {
        let mut d = desc.clone();
        let mut cd = d.connect_data.take().unwrap_or_default();
        cd.extra
            .retain(|p| !p.key.eq_ignore_ascii_case("CONNECTION_ID"));
        cd.cid = with_cid.then(|| Cid {
            program: Some(sanitize_cid_value(&who.program)),
            host: Some(sanitize_cid_value(&who.machine)),
            user: Some(sanitize_cid_value(&who.os_user)),
            extra: Vec::new(),
        });
        // python-oracledb writes the base64 id bare (`(CONNECTION_ID=ab+c==)`), while the
        // canonical renderer would quote a value holding `=`: render a placeholder and put
        // the id in afterwards.
        cd.extra.push(RawParam {
            key: "CONNECTION_ID".to_string(),
            value: RawValue::Text(CONNECTION_ID_PLACEHOLDER.to_string()),
        });
        d.connect_data = Some(ConnectData { ..cd });
        ConnectDescriptor {
            list: None,
            descriptions: vec![d],
        }
        .render()
        .replace(
            &format!("(CONNECTION_ID={CONNECTION_ID_PLACEHOLDER})"),
            &format!("(CONNECTION_ID={connection_id})"),
        )
    };
    DescriptorTexts {
        connect: render(true),
        auth: render(false),
    }
}

/// An ACCEPTed connection, ready for TTC.
#[derive(Debug)]
pub(crate) struct Established {
    pub(crate) transport: Transport,
    pub(crate) accept: Accept,
    pub(crate) texts: DescriptorTexts,
}

/// Resolves `identifier` and walks the connect plan until one address ACCEPTs (`seed`
/// fixes the LOAD_BALANCE shuffles). The error
/// of the last attempt is returned when none does.
pub(crate) fn establish(
    resolver: &Resolver,
    identifier: &str,
    who: &ClientIdentity,
    seed: Option<u64>,
) -> Result<Established, ClientError> {
    let resolved = resolver.resolve(identifier)?;
    let plan = match seed {
        Some(s) => naming::connect_plan(
            &resolved.descriptor,
            &resolver.sqlnet,
            &mut StdRng::seed_from_u64(s),
        ),
        None => naming::connect_plan(&resolved.descriptor, &resolver.sqlnet, &mut rand::rng()),
    };
    establish_plan(&resolved.descriptor, &plan, who)
}

/// Tries the attempts of a plan in order.
pub(crate) fn establish_plan(
    descriptor: &ConnectDescriptor,
    plan: &[Attempt],
    who: &ClientIdentity,
) -> Result<Established, ClientError> {
    let connection_id = new_connection_id();
    let mut last: Option<ClientError> = None;
    for attempt in plan {
        if !attempt.delay_before.is_zero() {
            thread::sleep(attempt.delay_before);
        }
        let Some(desc) = descriptor.descriptions.get(attempt.description) else {
            continue;
        };
        let texts = descriptor_texts(desc, who, &connection_id);
        match try_attempt(attempt, &texts) {
            Ok((transport, accept)) => {
                return Ok(Established {
                    transport,
                    accept,
                    texts,
                });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| ClientError::NoUsableAddress {
        detail: "the connect plan is empty".to_string(),
    }))
}

fn tcp_target(a: &Address) -> Result<(String, u16), ClientError> {
    let proto = a.protocol_lower();
    if proto != "tcp" {
        return Err(ClientError::NoUsableAddress {
            detail: format!("PROTOCOL={proto} is not supported by this client"),
        });
    }
    let host = a.host.clone().ok_or_else(|| ClientError::NoUsableAddress {
        detail: "ADDRESS without HOST".to_string(),
    })?;
    let port = a.effective_port().unwrap_or(1521);
    Ok((host, port))
}

/// One attempt: TCP connect, CONNECT, and the listener's answers until ACCEPT.
fn try_attempt(
    attempt: &Attempt,
    texts: &DescriptorTexts,
) -> Result<(Transport, Accept), ClientError> {
    let start = Instant::now();
    let overall = attempt
        .connect_timeout
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_CONNECT_PHASE_TIMEOUT);
    let deadline = start + overall;
    let tcp_timeout = attempt
        .transport_connect_timeout
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TRANSPORT_CONNECT_TIMEOUT)
        .min(overall);
    let (mut host, mut port) = tcp_target(&attempt.address)?;
    let mut header_flags = 0u8;
    for _ in 0..=MAX_REDIRECTS {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(outbound_timeout(overall, &host, port));
        }
        let mut t = Transport::connect(&host, port, tcp_timeout.min(left), left)?;
        match handshake(&mut t, texts, attempt.sdu, header_flags, deadline) {
            Ok(Handshake::Accepted(a)) => return Ok((t, a)),
            Ok(Handshake::Redirected(target)) => {
                (host, port) = target;
                header_flags = packet_flags::CONNECT_AFTER_REDIRECT;
            }
            Err(ClientError::ConnectTimeout { .. }) => {
                return Err(outbound_timeout(overall, &host, port));
            }
            Err(e) => return Err(e),
        }
    }
    Err(ClientError::TooManyRedirects {
        address: format!("{host}:{port}"),
    })
}

/// How the CONNECT exchange ended.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// ACCEPTed: the transport is in the session phase.
    Accepted(Accept),
    /// REDIRECTed to another address (the transport is closed).
    Redirected((String, u16)),
}

/// Sends CONNECT over `t` and reads the answers until ACCEPT, REFUSE or REDIRECT (RESEND
/// sends the CONNECT again). A timeout is reported as `ConnectTimeout` for the caller to
/// name the address.
pub(crate) fn handshake(
    t: &mut Transport,
    texts: &DescriptorTexts,
    sdu: u32,
    header_flags: u8,
    deadline: Instant,
) -> Result<Handshake, ClientError> {
    let timeout = || ClientError::ConnectTimeout {
        what: "Outbound connect timeout",
        secs: 0.0,
        host: String::new(),
        port: 0,
    };
    let mut connect = Connect::new(texts.connect.as_bytes().to_vec(), sdu);
    connect.header_flags = header_flags;
    // Breaks travel in-band (MARKER packets): like python-oracledb with OOB disabled
    // (its asyncio connections), no "can receive attention" bit and no CHECK_OOB.
    connect.service_options = packet::service_options::DONT_CARE;
    connect.connect_flags2 = 0;
    let bytes = connect.encode();
    t.send_raw(&bytes)?;
    loop {
        let p = match t.recv_before(deadline) {
            Ok(p) => p,
            Err(RecvError::Timeout) => return Err(timeout()),
            Err(RecvError::Eof) => return Err(ClientError::ConnectionClosed),
            Err(RecvError::Io(e)) => {
                return Err(ClientError::Io {
                    context: "reading the listener's answer",
                    source: e,
                });
            }
            Err(RecvError::Decode(e)) => return Err(e.into()),
        };
        match p {
            Packet::Accept(a) => {
                if a.version < packet::VERSION_LARGE_SDU {
                    t.shutdown();
                    return Err(ClientError::ServerVersion { version: a.version });
                }
                if a.nsi0 & NSI_NA_REQUIRED != 0 {
                    t.shutdown();
                    return Err(ClientError::NetworkEncryptionRequired);
                }
                t.accepted(a.version, a.sdu);
                return Ok(Handshake::Accepted(a));
            }
            Packet::Refuse(r) => {
                t.shutdown();
                let code = r.error_code().unwrap_or(12564);
                return Err(ClientError::refused(code, r.text));
            }
            Packet::Resend { .. } => {
                // Send the CONNECT (and its overflow DATA packet) again.
                t.send_raw(&bytes)?;
            }
            Packet::Redirect(h) => {
                let data = if h.inline.len() >= usize::from(h.data_len) && h.data_len > 0 {
                    h.inline
                } else {
                    match t.recv_before(deadline) {
                        Ok(Packet::Data(d)) => d.payload,
                        Ok(other) => {
                            return Err(ClientError::protocol(format!(
                                "REDIRECT followed by packet type {}",
                                other.type_code()
                            )));
                        }
                        Err(RecvError::Timeout) => return Err(timeout()),
                        Err(_) => return Err(ClientError::ConnectionClosed),
                    }
                };
                t.shutdown();
                return Ok(Handshake::Redirected(redirect_target(&data)?));
            }
            // MARKER, CONTROL, stray DATA: a listener has nothing else to say here.
            _ => {}
        }
    }
}

fn outbound_timeout(d: Duration, host: &str, port: u16) -> ClientError {
    ClientError::ConnectTimeout {
        what: "Outbound connect timeout",
        secs: d.as_secs_f64(),
        host: host.to_string(),
        port,
    }
}

/// The first address of the redirect data (`address NUL connect-data`).
pub(crate) fn redirect_target(data: &[u8]) -> Result<(String, u16), ClientError> {
    let nul = data
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| ClientError::protocol("invalid redirect data: no NUL separator"))?;
    let text = String::from_utf8_lossy(&data[..nul]);
    let d = config::parse_descriptor(text.trim())
        .map_err(|e| ClientError::protocol(format!("invalid redirect address: {e}")))?;
    let a = d
        .addresses()
        .first()
        .copied()
        .cloned()
        .ok_or_else(|| ClientError::protocol("redirect data carries no address"))?;
    tcp_target(&a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(new_connection_id().len(), 24);
    }

    #[test]
    fn cid_values_are_sanitized() {
        assert_eq!(
            sanitize_cid_value("/usr/bin/my prog(1)"),
            "/usr/bin/my?prog?1?"
        );
        assert_eq!(sanitize_cid_value("a=b"), "a?b");
    }

    #[test]
    fn descriptor_texts_follow_python_shape() {
        let d = config::parse_descriptor(
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)))",
        )
        .unwrap();
        let who = ClientIdentity {
            program: "/usr/bin/orasql".into(),
            machine: "vm".into(),
            os_user: "root".into(),
            terminal: "unknown".into(),
            pid: 1,
        };
        let t = descriptor_texts(&d.descriptions[0], &who, "Z3OgQ+b9jMiXtBjiG2ZsJw==");
        assert_eq!(
            t.connect,
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)(CID=(PROGRAM=/usr/bin/orasql)(HOST=vm)(USER=root))(CONNECTION_ID=Z3OgQ+b9jMiXtBjiG2ZsJw==)))"
        );
        assert_eq!(
            t.auth,
            "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)(CONNECTION_ID=Z3OgQ+b9jMiXtBjiG2ZsJw==)))"
        );
    }

    #[test]
    fn redirect_data_gives_first_address() {
        let data = b"(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=4242))\0(DESCRIPTION=...)";
        assert_eq!(
            redirect_target(data).unwrap(),
            ("127.0.0.1".to_string(), 4242)
        );
        assert!(redirect_target(b"(ADDRESS=(HOST=x))").is_err());
    }
}
