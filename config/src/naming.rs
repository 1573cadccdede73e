//! Client-side naming: turn a connect identifier (a tnsnames alias, an Easy Connect
//! string or a full descriptor) into a [`ConnectDescriptor`], the way an Oracle client
//! does, and turn that descriptor into the ordered list of addresses to try.
//!
//! Where the configuration lives: the directory in `TNS_ADMIN` (if set, and no fallback
//! when a file is missing there), else `$ORACLE_HOME/network/admin`. `sqlnet.ora`'s
//! NAMES.DIRECTORY_PATH decides which methods are tried, in order; LDAP and HOSTNAME are
//! not implemented and are skipped. A bare word is always an alias (as in
//! python-oracledb: resolving it as a host name would need DNS). An identifier no method
//! resolves is `ORA-12154`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;

use crate::descriptor::{
    Address, AddressEntry, ConnectDescriptor, Description, DescriptorError, parse_descriptor,
};
use crate::diag::{Diagnostic, Pos};
use crate::ezconnect::{self, EzConnectError};
use crate::sqlnet::{NamingMethod, SqlNet};
use crate::tnsnames::TnsNames;

/// Why an identifier did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No naming method knows the identifier.
    #[error("ORA-12154: TNS:could not resolve the connect identifier specified")]
    NotFound {
        /// The identifier as given.
        identifier: String,
    },
    /// The alias exists but its entry is malformed and was skipped (see `orasim check`).
    #[error("ORA-12154: TNS:could not resolve the connect identifier specified")]
    Malformed {
        /// The identifier as given.
        identifier: String,
        /// The file holding the broken entry.
        file: String,
        /// Its line.
        line: u32,
    },
    /// A full descriptor that does not parse.
    #[error(transparent)]
    Descriptor(#[from] DescriptorError),
    /// An Easy Connect string that does not parse.
    #[error(transparent)]
    EzConnect(#[from] EzConnectError),
    /// Resolved, but there is nothing to connect to.
    #[error("ORA-12154: TNS:could not resolve the connect identifier specified")]
    NoAddress {
        /// The identifier as given.
        identifier: String,
    },
}

/// How an identifier was resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The identifier was a descriptor.
    Descriptor,
    /// A tnsnames.ora alias, with where it is defined.
    Tnsnames {
        /// The alias that matched.
        alias: String,
        /// Defining file.
        file: Arc<str>,
        /// Position of the definition.
        pos: Pos,
    },
    /// Easy Connect.
    EzConnect,
}

/// A resolved identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The descriptor to connect with.
    pub descriptor: ConnectDescriptor,
    /// Where it came from.
    pub source: Source,
}

/// The naming configuration of one client: its directory, sqlnet.ora and tnsnames.ora.
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    /// The configuration directory used (`None` if neither TNS_ADMIN nor ORACLE_HOME is set).
    pub config_dir: Option<PathBuf>,
    /// sqlnet.ora (defaults when absent).
    pub sqlnet: SqlNet,
    /// tnsnames.ora (`None` when absent).
    pub tnsnames: Option<TnsNames>,
    /// Diagnostics from reading both files.
    pub diagnostics: Vec<Diagnostic>,
}

impl Resolver {
    /// Uses `TNS_ADMIN`, else `$ORACLE_HOME/network/admin`, from the process environment.
    pub fn from_env() -> Resolver {
        let tns_admin = std::env::var_os("TNS_ADMIN")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let oracle_home = std::env::var_os("ORACLE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self::from_locations(tns_admin.as_deref(), oracle_home.as_deref())
    }

    /// Oracle's search order with explicit values for `TNS_ADMIN` and `ORACLE_HOME`.
    pub fn from_locations(tns_admin: Option<&Path>, oracle_home: Option<&Path>) -> Resolver {
        match (tns_admin, oracle_home) {
            (Some(dir), _) => Self::with_config_dir(dir),
            (None, Some(home)) => Self::with_config_dir(&home.join("network").join("admin")),
            (None, None) => Resolver::default(),
        }
    }

    /// Reads `sqlnet.ora` and `tnsnames.ora` from `dir` (either may be missing).
    pub fn with_config_dir(dir: &Path) -> Resolver {
        let mut r = Resolver {
            config_dir: Some(dir.to_path_buf()),
            ..Resolver::default()
        };
        let sqlnet = dir.join("sqlnet.ora");
        if sqlnet.is_file() {
            match SqlNet::load(&sqlnet) {
                Ok(p) => {
                    r.sqlnet = p.value;
                    r.diagnostics.extend(p.diagnostics);
                }
                Err(e) => r.diagnostics.push(unreadable(&sqlnet, &e)),
            }
        }
        let tns = dir.join("tnsnames.ora");
        if tns.is_file() {
            match TnsNames::load(&tns) {
                Ok(p) => {
                    r.tnsnames = Some(p.value);
                    r.diagnostics.extend(p.diagnostics);
                }
                Err(e) => r.diagnostics.push(unreadable(&tns, &e)),
            }
        }
        r
    }

    /// Resolves a connect identifier.
    pub fn resolve(&self, identifier: &str) -> Result<Resolved, ResolveError> {
        let id = identifier.trim();
        let resolved = if id.starts_with('(') {
            Resolved {
                descriptor: parse_descriptor(id)?,
                source: Source::Descriptor,
            }
        } else {
            self.resolve_name(id)?
        };
        if resolved.descriptor.addresses().is_empty() {
            return Err(ResolveError::NoAddress {
                identifier: identifier.to_string(),
            });
        }
        Ok(resolved)
    }

    fn resolve_name(&self, id: &str) -> Result<Resolved, ResolveError> {
        for method in &self.sqlnet.names_directory_path {
            match method {
                NamingMethod::Tnsnames => {
                    if let Some(r) = self.lookup_alias(id) {
                        return Ok(r);
                    }
                }
                NamingMethod::Ezconnect => match ezconnect::parse(id) {
                    Ok(d) => {
                        return Ok(Resolved {
                            descriptor: d,
                            source: Source::EzConnect,
                        });
                    }
                    Err(EzConnectError::NotEzConnect { .. }) => {}
                    Err(e) => return Err(e.into()),
                },
                NamingMethod::Ldap | NamingMethod::Hostname | NamingMethod::Other(_) => {}
            }
        }
        Err(ResolveError::NotFound {
            identifier: id.to_string(),
        })
    }

    fn lookup_alias(&self, id: &str) -> Option<Resolved> {
        let t = self.tnsnames.as_ref()?;
        let qualified = match &self.sqlnet.names_default_domain {
            Some(dom) if !id.contains('.') && !dom.is_empty() => Some(format!("{id}.{dom}")),
            _ => None,
        };
        let entry = qualified
            .as_deref()
            .and_then(|q| t.lookup(q))
            .or_else(|| t.lookup(id))?;
        Some(Resolved {
            descriptor: entry.descriptor.clone(),
            source: Source::Tnsnames {
                alias: id.to_string(),
                file: Arc::clone(&entry.file),
                pos: entry.pos,
            },
        })
    }
}

fn unreadable(path: &Path, e: &std::io::Error) -> Diagnostic {
    let file: Arc<str> = Arc::from(path.display().to_string());
    Diagnostic::error(&file, Pos { line: 1, col: 1 }, format!("cannot read: {e}"))
}

/// One connection attempt of a [`connect_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Index of the description in the descriptor.
    pub description: usize,
    /// 0 for the first pass over the description's addresses, then 1..=RETRY_COUNT.
    pub pass: u32,
    /// Where to connect.
    pub address: Address,
    /// Wait this long before the attempt (RETRY_DELAY before each new pass).
    pub delay_before: Duration,
    /// CONNECT_TIMEOUT (or SQLNET.OUTBOUND_CONNECT_TIMEOUT): whole Net connect.
    pub connect_timeout: Option<Duration>,
    /// TRANSPORT_CONNECT_TIMEOUT (or TCP.CONNECT_TIMEOUT): TCP handshake only.
    pub transport_connect_timeout: Option<Duration>,
    /// SDU to request (description's SDU or DEFAULT_SDU_SIZE).
    pub sdu: u32,
}

/// RETRY_DELAY when a description sets RETRY_COUNT but no delay (python-oracledb: 1 s).
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The ordered list of addresses a client should try, applying FAILOVER (default on; off
/// means only the first choice), LOAD_BALANCE (shuffle; default on for a
/// DESCRIPTION_LIST, off elsewhere), SOURCE_ROUTE (only the first hop is dialled), and
/// RETRY_COUNT passes separated by RETRY_DELAY. `rng` drives the shuffles, so tests can
/// inject a seeded one. Timeouts fall back to `sqlnet`.
pub fn connect_plan<R: Rng + ?Sized>(
    d: &ConnectDescriptor,
    sqlnet: &SqlNet,
    rng: &mut R,
) -> Vec<Attempt> {
    let mut order: Vec<usize> = (0..d.descriptions.len()).collect();
    let (list_lb, list_fo) = match &d.list {
        Some(l) => (l.load_balance.unwrap_or(true), l.failover.unwrap_or(true)),
        None => (false, true),
    };
    if list_lb {
        order.shuffle(rng);
    }
    if !list_fo {
        order.truncate(1);
    }
    let mut out = Vec::new();
    for di in order {
        let Some(desc) = d.descriptions.get(di) else {
            continue;
        };
        let passes = desc.retry_count.unwrap_or(0).saturating_add(1);
        let delay = desc
            .retry_delay
            .map_or(DEFAULT_RETRY_DELAY, |s| Duration::from_secs(s.into()));
        for pass in 0..passes {
            let addresses = description_order(desc, rng);
            for (i, a) in addresses.into_iter().enumerate() {
                out.push(Attempt {
                    description: di,
                    pass,
                    address: a.clone(),
                    delay_before: if pass > 0 && i == 0 {
                        delay
                    } else {
                        Duration::ZERO
                    },
                    connect_timeout: desc
                        .connect_timeout
                        .map(|t| t.0)
                        .or(sqlnet.outbound_connect_timeout),
                    transport_connect_timeout: desc
                        .transport_connect_timeout
                        .map(|t| t.0)
                        .or(sqlnet.tcp_connect_timeout),
                    sdu: desc.sdu.unwrap_or(sqlnet.default_sdu_size),
                });
            }
        }
    }
    out
}

fn description_order<'a, R: Rng + ?Sized>(desc: &'a Description, rng: &mut R) -> Vec<&'a Address> {
    entries_order(
        &desc.addresses,
        desc.load_balance.unwrap_or(false),
        desc.failover.unwrap_or(true),
        desc.source_route.unwrap_or(false),
        rng,
    )
}

fn entries_order<'a, R: Rng + ?Sized>(
    entries: &'a [AddressEntry],
    load_balance: bool,
    failover: bool,
    source_route: bool,
    rng: &mut R,
) -> Vec<&'a Address> {
    let mut refs: Vec<&AddressEntry> = entries.iter().collect();
    if load_balance && !source_route {
        refs.shuffle(rng);
    }
    if !failover || source_route {
        refs.truncate(1);
    }
    let mut out = Vec::new();
    for e in refs {
        match e {
            AddressEntry::Address(a) => out.push(a),
            AddressEntry::List(l) => out.extend(entries_order(
                &l.entries,
                l.load_balance.unwrap_or(false),
                l.failover.unwrap_or(true),
                l.source_route.unwrap_or(false),
                rng,
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn hosts(plan: &[Attempt]) -> Vec<String> {
        plan.iter()
            .map(|a| format!("{}#{}", a.address.host.clone().unwrap_or_default(), a.pass))
            .collect()
    }

    #[test]
    fn failover_order_and_retries() {
        let d = parse_descriptor(
            "(DESCRIPTION=(RETRY_COUNT=1)(RETRY_DELAY=3)(CONNECT_TIMEOUT=5)(ADDRESS=(HOST=a)(PORT=1))(ADDRESS_LIST=(ADDRESS=(HOST=b)(PORT=1))(ADDRESS=(HOST=c)(PORT=1))))",
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let plan = connect_plan(&d, &SqlNet::default(), &mut rng);
        assert_eq!(hosts(&plan), vec!["a#0", "b#0", "c#0", "a#1", "b#1", "c#1"]);
        assert_eq!(plan[3].delay_before, Duration::from_secs(3));
        assert_eq!(plan[1].delay_before, Duration::ZERO);
        assert_eq!(plan[0].connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(plan[0].sdu, 8192);
    }

    #[test]
    fn failover_off_and_source_route() {
        let d =
            parse_descriptor("(DESCRIPTION=(FAILOVER=off)(ADDRESS=(HOST=a))(ADDRESS=(HOST=b)))")
                .unwrap();
        let plan = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(1));
        assert_eq!(hosts(&plan), vec!["a#0"]);
        let d = parse_descriptor(
            "(DESCRIPTION=(SOURCE_ROUTE=yes)(ADDRESS=(HOST=cman))(ADDRESS=(HOST=db)))",
        )
        .unwrap();
        let plan = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(1));
        assert_eq!(hosts(&plan), vec!["cman#0"]);
    }

    #[test]
    fn load_balance_shuffles_with_injected_rng() {
        let d = parse_descriptor(
            "(DESCRIPTION=(LOAD_BALANCE=on)(ADDRESS=(HOST=a))(ADDRESS=(HOST=b))(ADDRESS=(HOST=c))(ADDRESS=(HOST=d)))",
        )
        .unwrap();
        let mut seen = std::collections::HashSet::new();
        for seed in 0..32 {
            let plan = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(seed));
            let mut h = hosts(&plan);
            seen.insert(h.clone());
            h.sort();
            assert_eq!(h, vec!["a#0", "b#0", "c#0", "d#0"]);
        }
        assert!(seen.len() > 1, "load balancing never changed the order");
        let again = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(7));
        let again2 = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(7));
        assert_eq!(again, again2);
    }

    #[test]
    fn description_list_defaults_load_balance_on_and_failover_off_keeps_one() {
        let d = parse_descriptor(
            "(DESCRIPTION_LIST=(DESCRIPTION=(ADDRESS=(HOST=a)))(DESCRIPTION=(ADDRESS=(HOST=b)))(DESCRIPTION=(ADDRESS=(HOST=c))))",
        )
        .unwrap();
        let firsts: std::collections::HashSet<String> = (0..32)
            .map(|seed| {
                hosts(&connect_plan(
                    &d,
                    &SqlNet::default(),
                    &mut StdRng::seed_from_u64(seed),
                ))[0]
                    .clone()
            })
            .collect();
        assert!(
            firsts.len() > 1,
            "a DESCRIPTION_LIST is load-balanced by default"
        );
        let d = parse_descriptor(
            "(DESCRIPTION_LIST=(LOAD_BALANCE=off)(FAILOVER=off)(DESCRIPTION=(ADDRESS=(HOST=a)))(DESCRIPTION=(ADDRESS=(HOST=b))))",
        )
        .unwrap();
        let plan = connect_plan(&d, &SqlNet::default(), &mut StdRng::seed_from_u64(3));
        assert_eq!(hosts(&plan), vec!["a#0"]);
        // Timeouts and SDU fall back to sqlnet.ora.
        let s = SqlNet {
            outbound_connect_timeout: Some(Duration::from_secs(7)),
            tcp_connect_timeout: Some(Duration::from_secs(2)),
            default_sdu_size: 32767,
            ..SqlNet::default()
        };
        let plan = connect_plan(&d, &s, &mut StdRng::seed_from_u64(3));
        assert_eq!(plan[0].connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(
            plan[0].transport_connect_timeout,
            Some(Duration::from_secs(2))
        );
        assert_eq!(plan[0].sdu, 32767);
    }

    #[test]
    fn resolver_order_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tnsnames.ora"), "orcl.world = (DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=orcl)))\nnoaddr = (DESCRIPTION=(CONNECT_DATA=(SID=x)))\n").unwrap();
        std::fs::write(
            dir.path().join("sqlnet.ora"),
            "NAMES.DIRECTORY_PATH=(TNSNAMES, EZCONNECT)\nNAMES.DEFAULT_DOMAIN=world\n",
        )
        .unwrap();
        let r = Resolver::with_config_dir(dir.path());
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let got = r.resolve("ORCL").unwrap();
        assert_eq!(got.descriptor.service_name(), Some("orcl"));
        assert!(matches!(got.source, Source::Tnsnames { .. }));
        assert_eq!(r.resolve("h2:1522/svc").unwrap().source, Source::EzConnect);
        let e = r.resolve("nosuch").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ORA-12154: TNS:could not resolve the connect identifier specified"
        );
        assert!(matches!(
            r.resolve("noaddr"),
            Err(ResolveError::NoAddress { .. })
        ));
        // Without EZCONNECT in the path, Easy Connect strings do not resolve.
        std::fs::write(
            dir.path().join("sqlnet.ora"),
            "NAMES.DIRECTORY_PATH=(TNSNAMES)\n",
        )
        .unwrap();
        let r = Resolver::with_config_dir(dir.path());
        assert!(matches!(
            r.resolve("h2:1522/svc"),
            Err(ResolveError::NotFound { .. })
        ));
        let r = Resolver::from_locations(None, Some(Path::new("/nonexistent/home")));
        assert_eq!(
            r.config_dir.as_deref(),
            Some(Path::new("/nonexistent/home/network/admin"))
        );
    }
}
