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

/// Extracts what the listener routes on, with the `config` crate's descriptor parser.
pub fn request_from_descriptor(text: &str) -> Result<ConnectRequest, DescriptorError> {
    let d = config::parse_descriptor(text).map_err(|e| DescriptorError::Syntax {
        detail: e.to_string(),
    })?;
    // The first description's CONNECT_DATA (`ConnectDescriptor::connect_data`), its fields
    // moved out rather than copied.
    let Some(cd) = d.descriptions.into_iter().find_map(|d| d.connect_data) else {
        return Err(DescriptorError::NoConnectData);
    };
    Ok(ConnectRequest {
        server: cd.server_type().map(|s| s.as_str().to_string()),
        use_restricted: cd
            .extra_text("UR")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("A")),
        service_name: cd.service_name,
        sid: cd.sid,
        instance_name: cd.instance_name,
        command: cd.command,
    })
}

/// The `(CONNECT_DATA=...)` part of a descriptor as the client sent it (for the log), or the
/// whole text (trimmed) when there is none.
pub fn connect_data_excerpt(text: &str) -> &str {
    // The first `(CONNECT_DATA` in any letter case, found without an upper-cased copy.
    let bytes = text.as_bytes();
    let Some(start) = text.match_indices('(').map(|(i, _)| i).find(|&i| {
        bytes
            .get(i + 1..i + 13)
            .is_some_and(|k| k.eq_ignore_ascii_case(b"CONNECT_DATA"))
    }) else {
        return text.trim();
    };
    let mut depth = 0usize;
    for (i, b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &text[start..=i];
                }
            }
            _ => {}
        }
    }
    &text[start..]
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
        assert_eq!(
            connect_data_excerpt(" (description=(connect_data=(sid=x)(cid=(a=b)))"),
            "(connect_data=(sid=x)(cid=(a=b)))"
        );
        assert_eq!(
            connect_data_excerpt("é(CONNECT_DATA=(SID=é)"),
            "(CONNECT_DATA=(SID=é)"
        );
        assert_eq!(
            connect_data_excerpt(" (ADDRESS=(HOST=x)) (CONNECT_DAT"),
            "(ADDRESS=(HOST=x)) (CONNECT_DAT"
        );
        let ping = request_from_descriptor(
            "(CONNECT_DATA=(CID=(PROGRAM=)(HOST=)(USER=x))(COMMAND=ping)(ARGUMENTS=64))",
        )
        .expect("ping");
        assert_eq!(ping.command.as_deref(), Some("ping"));
    }

    #[test]
    fn broken_and_empty_descriptors_are_errors() {
        assert!(matches!(
            request_from_descriptor("(DESCRIPTION=(CONNECT_DATA=(SID=x)"),
            Err(DescriptorError::Syntax { .. })
        ));
        assert!(matches!(
            request_from_descriptor("garbage"),
            Err(DescriptorError::Syntax { .. })
        ));
        assert_eq!(
            request_from_descriptor("(DESCRIPTION=(ADDRESS=(HOST=x)))"),
            Err(DescriptorError::NoConnectData)
        );
    }
}
