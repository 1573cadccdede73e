//! Valid node checking (`sqlnet.ora` `TCP.VALIDNODE_CHECKING=YES` with `TCP.INVITED_NODES` /
//! `TCP.EXCLUDED_NODES`): which client addresses the listener serves at all. Entries are IP
//! addresses, CIDR blocks (`10.0.0.0/8`), `*` wildcards in the last IPv4 octets
//! (`192.168.1.*`) or host names (resolved when the file is read). When an invited list
//! exists it alone decides (it takes precedence over the excluded list), as in Oracle.

use std::net::{IpAddr, ToSocketAddrs};

/// One entry of a node list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Addr(IpAddr),
    Cidr(IpAddr, u8),
    Wildcard(Vec<Option<u8>>),
}

impl Node {
    fn parse(text: &str) -> Vec<Node> {
        let t = text.trim();
        if t.is_empty() {
            return Vec::new();
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            return vec![Node::Addr(ip)];
        }
        if let Some((ip, bits)) = t.split_once('/')
            && let (Ok(ip), Ok(bits)) = (ip.trim().parse::<IpAddr>(), bits.trim().parse::<u8>())
        {
            return vec![Node::Cidr(ip, bits)];
        }
        if t.contains('*') {
            let parts: Vec<Option<u8>> = t.split('.').map(|p| p.parse().ok()).collect();
            if parts.len() == 4 {
                return vec![Node::Wildcard(parts)];
            }
        }
        (t, 0)
            .to_socket_addrs()
            .map(|it| it.map(|a| Node::Addr(a.ip())).collect())
            .unwrap_or_default()
    }

    fn matches(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match self {
            Node::Addr(a) => *a == ip,
            Node::Cidr(net, bits) => match (net, ip) {
                (IpAddr::V4(n), IpAddr::V4(i)) => {
                    let b = u32::from(*bits.min(&32));
                    let mask = if b == 0 { 0 } else { u32::MAX << (32 - b) };
                    u32::from(*n) & mask == u32::from(i) & mask
                }
                (IpAddr::V6(n), IpAddr::V6(i)) => {
                    let b = u32::from(*bits.min(&128));
                    let mask = if b == 0 { 0 } else { u128::MAX << (128 - b) };
                    u128::from(*n) & mask == u128::from(i) & mask
                }
                _ => false,
            },
            Node::Wildcard(parts) => match ip {
                IpAddr::V4(i) => i
                    .octets()
                    .iter()
                    .zip(parts)
                    .all(|(o, p)| p.is_none_or(|p| p == *o)),
                IpAddr::V6(_) => false,
            },
        }
    }
}

/// The compiled lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidNodes {
    invited: Vec<Node>,
    excluded: Vec<Node>,
}

impl ValidNodes {
    /// Compiles `TCP.INVITED_NODES` and `TCP.EXCLUDED_NODES`.
    pub fn new(invited: &[String], excluded: &[String]) -> Self {
        Self {
            invited: invited.iter().flat_map(|n| Node::parse(n)).collect(),
            excluded: excluded.iter().flat_map(|n| Node::parse(n)).collect(),
        }
    }

    /// Whether a client at `ip` may connect.
    pub fn allows(&self, ip: IpAddr) -> bool {
        if !self.invited.is_empty() {
            return self.invited.iter().any(|n| n.matches(ip));
        }
        !self.excluded.iter().any(|n| n.matches(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn invited_list_decides_alone() {
        let v = ValidNodes::new(
            &[
                "127.0.0.1".into(),
                "10.0.0.0/8".into(),
                "192.168.1.*".into(),
            ],
            &["127.0.0.1".into()],
        );
        assert!(v.allows(ip("127.0.0.1")));
        assert!(v.allows(ip("10.200.3.4")));
        assert!(v.allows(ip("192.168.1.77")));
        assert!(v.allows(ip("::ffff:10.1.1.1")));
        assert!(!v.allows(ip("192.168.2.1")));
        assert!(!v.allows(ip("11.0.0.1")));
    }

    #[test]
    fn excluded_list_applies_without_invited() {
        let v = ValidNodes::new(&[], &["127.0.0.0/8".into(), "localhost".into()]);
        assert!(!v.allows(ip("127.0.0.1")));
        assert!(!v.allows(ip("127.9.9.9")));
        assert!(v.allows(ip("10.0.0.1")));
        assert!(ValidNodes::default().allows(ip("127.0.0.1")));
    }
}
