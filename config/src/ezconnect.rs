//! Easy Connect and Easy Connect Plus: `[[tcp|tcps:]//]host[,host...][:port][;host...]
//! [/[service][:dedicated|shared|pooled][/instance]][?name=value&...]`, expanded to a
//! [`ConnectDescriptor`] exactly as an Oracle client (and python-oracledb) does:
//! a port applies to the hosts before it in the same list that have none, `;` starts a
//! new ADDRESS_LIST, the default port is 1521, IPv6 literals go in `[...]`, and `?`
//! parameters land in DESCRIPTION, CONNECT_DATA, SECURITY or every ADDRESS by name.

use crate::descriptor::{ConnectDescriptor, RawParam, RawValue, parse_descriptor, render_param};

/// Why a string is not a usable Easy Connect string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EzConnectError {
    /// A bare word (or empty text): in Oracle's naming order it is a tnsnames alias, not a
    /// host name.
    #[error("not an Easy Connect string: {text:?}")]
    NotEzConnect {
        /// The input.
        text: String,
    },
    /// Looks like Easy Connect but does not parse.
    #[error(
        "ORA-12154: TNS:could not resolve the connect identifier specified (Easy Connect syntax error at column {col} of {text:?}: {expected})"
    )]
    Syntax {
        /// The input.
        text: String,
        /// 1-based character column.
        col: usize,
        /// What was expected there.
        expected: String,
    },
    /// A protocol other than tcp/tcps.
    #[error(
        "ORA-12154: TNS:could not resolve the connect identifier specified (Easy Connect protocol {protocol:?} is not tcp or tcps)"
    )]
    Protocol {
        /// The protocol given.
        protocol: String,
    },
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// Parameter names placed in DESCRIPTION.
const DESCRIPTION_PARAMS: &[&str] = &[
    "transport_connect_timeout",
    "connect_timeout",
    "retry_count",
    "retry_delay",
    "expire_time",
    "sdu",
    "failover",
    "load_balance",
    "source_route",
    "enable",
    "recv_buf_size",
    "send_buf_size",
    "use_sni",
];
/// Parameter names placed in CONNECT_DATA.
const CONNECT_DATA_PARAMS: &[&str] = &[
    "pool_connection_class",
    "pool_purity",
    "pool_name",
    "pool_boundary",
    "connection_id_prefix",
    "colocation_tag",
];
/// Parameter names placed in SECURITY.
const SECURITY_PARAMS: &[&str] = &[
    "ssl_server_dn_match",
    "ssl_server_cert_dn",
    "wallet_location",
];
/// Parameter names placed in every ADDRESS.
const ADDRESS_PARAMS: &[&str] = &["https_proxy", "https_proxy_port"];

struct Cursor<'a> {
    text: &'a str,
    chars: Vec<char>,
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }
    fn err(&self, expected: &str) -> EzConnectError {
        EzConnectError::Syntax {
            text: self.text.to_string(),
            col: self.i + 1,
            expected: expected.to_string(),
        }
    }
    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        self.chars[start..self.i].iter().collect()
    }
}

/// True when `text` has Easy Connect structure (not a bare alias word).
pub fn looks_like_ezconnect(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && !t.starts_with('(') && t.contains(['/', ':', ',', ';', '?', '['])
}

/// Expands an Easy Connect string.
pub fn parse(text: &str) -> Result<ConnectDescriptor, EzConnectError> {
    let t = text.trim();
    if !looks_like_ezconnect(t) {
        return Err(EzConnectError::NotEzConnect {
            text: text.to_string(),
        });
    }
    let mut c = Cursor {
        text: t,
        chars: t.chars().collect(),
        i: 0,
    };

    // [protocol:]//
    let mut protocol = "tcp".to_string();
    let save = c.i;
    let word = c.take_while(|ch| ch.is_ascii_alphabetic() || ch == '-' || ch == '_');
    let rest: String = c.chars[c.i..].iter().take(3).collect();
    if !word.is_empty() && rest == "://" {
        protocol = word.to_ascii_lowercase();
        c.i += 3;
    } else {
        c.i = save;
        if rest_starts(&c, "//") {
            c.i += 2;
        }
    }
    if protocol != "tcp" && protocol != "tcps" {
        return Err(EzConnectError::Protocol { protocol });
    }

    // hosts
    let mut lists: Vec<Vec<(String, Option<u16>)>> = vec![Vec::new()];
    loop {
        let host = if c.peek() == Some('[') {
            c.i += 1;
            let h = c.take_while(|ch| ch != ']');
            if c.peek() != Some(']') {
                return Err(c.err("']' closing the IPv6 address"));
            }
            c.i += 1;
            h
        } else {
            c.take_while(is_name_char)
        };
        if host.is_empty() {
            return Err(c.err("a host name"));
        }
        let list = lists.last_mut().ok_or_else(|| c.err("a host name"))?;
        list.push((host, None));
        if c.peek() == Some(':') && c.chars.get(c.i + 1).is_some_and(char::is_ascii_digit) {
            c.i += 1;
            let digits = c.take_while(|ch| ch.is_ascii_digit());
            let port: u16 = digits
                .parse()
                .map_err(|_| c.err("a port number up to 65535"))?;
            for h in list.iter_mut().rev() {
                if h.1.is_some() {
                    break;
                }
                h.1 = Some(port);
            }
        }
        match c.peek() {
            Some(',') => c.i += 1,
            Some(';') => {
                c.i += 1;
                lists.push(Vec::new());
            }
            _ => break,
        }
    }

    // /service[:server][/instance]
    let mut service = None;
    let mut server = None;
    let mut instance = None;
    if c.peek() == Some('/') {
        c.i += 1;
        let s = c.take_while(is_name_char);
        service = Some(s);
        if c.peek() == Some(':') {
            c.i += 1;
            let s = c.take_while(|ch| ch.is_ascii_alphabetic());
            if s.is_empty() {
                return Err(c.err("dedicated, shared or pooled after ':'"));
            }
            server = Some(s.to_ascii_lowercase());
        }
        if c.peek() == Some('/') {
            c.i += 1;
            let s = c.take_while(is_name_char);
            if s.is_empty() {
                return Err(c.err("an instance name after '/'"));
            }
            instance = Some(s);
        }
    }

    // ?k=v&k=v
    let mut params: Vec<(String, String)> = Vec::new();
    if c.peek() == Some('?') {
        c.i += 1;
        loop {
            let _ = c.take_while(char::is_whitespace);
            let name = c.take_while(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.');
            if name.is_empty() {
                return Err(c.err("a parameter name"));
            }
            let _ = c.take_while(char::is_whitespace);
            if c.peek() != Some('=') {
                return Err(c.err("'=' after the parameter name"));
            }
            c.i += 1;
            let _ = c.take_while(char::is_whitespace);
            let value = if c.peek() == Some('"') {
                c.i += 1;
                let v = c.take_while(|ch| ch != '"');
                if c.peek() != Some('"') {
                    return Err(c.err("closing '\"'"));
                }
                c.i += 1;
                v
            } else {
                c.take_while(|ch| ch != '&').trim().to_string()
            };
            params.push((name.to_ascii_lowercase(), value));
            let _ = c.take_while(char::is_whitespace);
            match c.peek() {
                Some('&') => c.i += 1,
                None => break,
                Some(_) => return Err(c.err("'&' or end of string")),
            }
        }
    }
    if c.i != c.chars.len() {
        return Err(c.err("'/', '?' or end of string"));
    }

    // Build the descriptor tree, then parse it with the one descriptor parser.
    let text_param = |k: &str, v: &str| RawParam {
        key: k.to_ascii_uppercase(),
        value: RawValue::Text(v.to_string()),
    };
    let address = |host: &str, port: Option<u16>| {
        let mut a = vec![
            text_param("PROTOCOL", &protocol),
            text_param("HOST", host),
            text_param("PORT", &port.unwrap_or(1521).to_string()),
        ];
        for (k, v) in &params {
            if ADDRESS_PARAMS.contains(&k.as_str()) {
                a.push(text_param(k, v));
            }
        }
        RawParam {
            key: "ADDRESS".into(),
            value: RawValue::Nodes(a),
        }
    };
    let mut desc: Vec<RawParam> = Vec::new();
    for (k, v) in &params {
        if DESCRIPTION_PARAMS.contains(&k.as_str()) {
            desc.push(text_param(k, v));
        }
    }
    if lists.len() == 1 {
        desc.extend(lists[0].iter().map(|(h, p)| address(h, *p)));
    } else {
        for l in &lists {
            let addrs = l.iter().map(|(h, p)| address(h, *p)).collect();
            desc.push(RawParam {
                key: "ADDRESS_LIST".into(),
                value: RawValue::Nodes(addrs),
            });
        }
    }
    let mut cd = Vec::new();
    if let Some(s) = &service {
        cd.push(text_param("SERVICE_NAME", s));
    }
    if let Some(s) = &instance {
        cd.push(text_param("INSTANCE_NAME", s));
    }
    if let Some(s) = &server {
        cd.push(text_param("SERVER", s));
    }
    for (k, v) in &params {
        if CONNECT_DATA_PARAMS.contains(&k.as_str()) {
            cd.push(text_param(k, v));
        }
    }
    desc.push(RawParam {
        key: "CONNECT_DATA".into(),
        value: RawValue::Nodes(cd),
    });
    let sec: Vec<RawParam> = params
        .iter()
        .filter(|(k, _)| SECURITY_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| {
            if k == "wallet_location" {
                text_param("MY_WALLET_DIRECTORY", v)
            } else {
                text_param(k, v)
            }
        })
        .collect();
    if !sec.is_empty() {
        desc.push(RawParam {
            key: "SECURITY".into(),
            value: RawValue::Nodes(sec),
        });
    }
    let mut s = String::new();
    render_param(
        &mut s,
        &RawParam {
            key: "DESCRIPTION".into(),
            value: RawValue::Nodes(desc),
        },
        None,
    );
    parse_descriptor(&s).map_err(|e| c.err(&format!("values that form a valid descriptor ({e})")))
}

fn rest_starts(c: &Cursor<'_>, s: &str) -> bool {
    let rest: String = c.chars[c.i..].iter().take(s.chars().count()).collect();
    rest == s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(d: &ConnectDescriptor) -> Vec<(String, Option<u16>)> {
        d.addresses()
            .iter()
            .map(|a| (a.host.clone().unwrap_or_default(), a.port))
            .collect()
    }

    #[test]
    fn basic_forms() {
        let d = parse("dbhost:1522/orclpdb:pooled/inst1?pool_connection_class=MYAPP&retry_count=3")
            .unwrap();
        assert_eq!(hosts(&d), vec![("dbhost".to_string(), Some(1522))]);
        assert_eq!(d.service_name(), Some("orclpdb"));
        assert_eq!(d.instance_name(), Some("inst1"));
        assert_eq!(d.server(), Some(crate::descriptor::ServerType::Pooled));
        assert_eq!(d.descriptions[0].retry_count, Some(3));
        assert_eq!(
            d.connect_data()
                .and_then(|c| c.extra_text("POOL_CONNECTION_CLASS")),
            Some("MYAPP")
        );
        let d = parse("tcps://h1,h2:2484;[::1]/svc").unwrap();
        assert_eq!(
            hosts(&d),
            vec![
                ("h1".into(), Some(2484)),
                ("h2".into(), Some(2484)),
                ("::1".into(), Some(1521))
            ]
        );
        assert_eq!(d.addresses()[0].protocol.as_deref(), Some("tcps"));
        assert!(matches!(
            parse("orcl"),
            Err(EzConnectError::NotEzConnect { .. })
        ));
        assert!(matches!(
            parse("udp://h/s"),
            Err(EzConnectError::Protocol { .. })
        ));
        assert!(matches!(
            parse("h:1521/s x"),
            Err(EzConnectError::Syntax { col: 9, .. })
        ));
    }
}
