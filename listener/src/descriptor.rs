//! From the descriptor text of a CONNECT to the listener's [`ConnectRequest`], and the
//! `(CONNECT_DATA=...)` excerpt that `listener.log` records.

use crate::services::ConnectRequest;

/// Why a descriptor could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// The text does not parse as a connect descriptor.
    #[error("unparsable connect descriptor: {detail}")]
    Syntax {
        /// Parser message.
        detail: String,
    },
    /// The descriptor has no CONNECT_DATA (TNS-12502).
    #[error("connect descriptor has no CONNECT_DATA")]
    NoConnectData,
}

/// Extracts what the listener routes on.
pub fn request_from_descriptor(text: &str) -> Result<ConnectRequest, DescriptorError> {
    let tree = scan::parse(text).map_err(|detail| DescriptorError::Syntax { detail })?;
    let cd = scan::find(&tree, "CONNECT_DATA").ok_or(DescriptorError::NoConnectData)?;
    let get = |k: &str| scan::find(cd, k).and_then(scan::Node::atom).map(str::to_string);
    Ok(ConnectRequest {
        service_name: get("SERVICE_NAME"),
        sid: get("SID"),
        instance_name: get("INSTANCE_NAME"),
        server: get("SERVER"),
        command: get("COMMAND"),
    })
}

/// The `(CONNECT_DATA=...)` part of a descriptor as the client sent it (for the log), or the
/// whole text when there is none.
pub fn connect_data_excerpt(text: &str) -> String {
    let upper = text.to_ascii_uppercase();
    let Some(start) = upper.find("(CONNECT_DATA") else {
        return text.trim().to_string();
    };
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate().skip(start) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return text[start..=i].to_string();
                }
            }
            _ => {}
        }
    }
    text[start..].to_string()
}

mod scan {
    //! Minimal `(KEY=value)` tree reader used until the config crate's descriptor parser is
    //! wired in.

    #[derive(Debug)]
    pub(super) enum Node {
        Atom(String),
        List(Vec<(String, Node)>),
    }

    impl Node {
        pub(super) fn atom(&self) -> Option<&str> {
            match self {
                Node::Atom(s) => Some(s.as_str()),
                Node::List(_) => None,
            }
        }
    }

    pub(super) fn find<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
        let Node::List(items) = n else { return None };
        for (k, v) in items {
            if k.eq_ignore_ascii_case(key) {
                return Some(v);
            }
        }
        items.iter().find_map(|(_, v)| find(v, key))
    }

    pub(super) fn parse(text: &str) -> Result<Node, String> {
        let b = text.as_bytes();
        let mut i = 0;
        let mut items = Vec::new();
        skip_ws(b, &mut i);
        while i < b.len() {
            items.push(pair(b, &mut i)?);
            skip_ws(b, &mut i);
        }
        if items.is_empty() {
            return Err("empty descriptor".to_string());
        }
        Ok(Node::List(items))
    }

    fn skip_ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }

    fn pair(b: &[u8], i: &mut usize) -> Result<(String, Node), String> {
        if b.get(*i) != Some(&b'(') {
            return Err(format!("expected '(' at offset {i}"));
        }
        *i += 1;
        let start = *i;
        while *i < b.len() && !matches!(b[*i], b'=' | b'(' | b')') {
            *i += 1;
        }
        if b.get(*i) != Some(&b'=') {
            return Err(format!("expected '=' at offset {i}"));
        }
        let key = String::from_utf8_lossy(&b[start..*i]).trim().to_string();
        *i += 1;
        skip_ws(b, i);
        let value = if b.get(*i) == Some(&b'(') {
            let mut items = Vec::new();
            while b.get(*i) == Some(&b'(') {
                items.push(pair(b, i)?);
                skip_ws(b, i);
            }
            Node::List(items)
        } else {
            let vs = *i;
            while *i < b.len() && b[*i] != b')' && b[*i] != b'(' {
                *i += 1;
            }
            Node::Atom(String::from_utf8_lossy(&b[vs..*i]).trim().to_string())
        };
        if b.get(*i) != Some(&b')') {
            return Err(format!("expected ')' at offset {i}"));
        }
        *i += 1;
        Ok((key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_routing_fields() {
        let d = "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=orcl)(SERVER=dedicated)(CID=(PROGRAM=/usr/bin/python)(HOST=h)(USER=u))))";
        let r = request_from_descriptor(d).expect("parse");
        assert_eq!(r.service_name.as_deref(), Some("orcl"));
        assert_eq!(r.server.as_deref(), Some("dedicated"));
        assert_eq!(r.sid, None);
        assert_eq!(
            connect_data_excerpt(d),
            "(CONNECT_DATA=(SERVICE_NAME=orcl)(SERVER=dedicated)(CID=(PROGRAM=/usr/bin/python)(HOST=h)(USER=u)))"
        );
        let ping = request_from_descriptor("(CONNECT_DATA=(CID=(PROGRAM=)(HOST=)(USER=x))(COMMAND=ping)(ARGUMENTS=64))").expect("ping");
        assert_eq!(ping.command.as_deref(), Some("ping"));
    }

    #[test]
    fn broken_and_empty_descriptors_are_errors() {
        assert!(matches!(request_from_descriptor("(DESCRIPTION=(CONNECT_DATA=(SID=x)"), Err(DescriptorError::Syntax { .. })));
        assert!(matches!(request_from_descriptor("garbage"), Err(DescriptorError::Syntax { .. })));
        assert_eq!(request_from_descriptor("(DESCRIPTION=(ADDRESS=(HOST=x)))"), Err(DescriptorError::NoConnectData));
    }
}
