//! What the shared-server machinery reads from the parameters: the DISPATCHERS entries
//! (PROTOCOL/ADDRESS/HOST, DISPATCHERS=n, CONNECTIONS, SESSIONS; attribute names abbreviable
//! to three letters), how many shared servers to keep and how many it may grow to.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::initora::{InitParams, ListenerTarget};
use crate::sga::shared::{SharedParams, dispatcher_attribute, split_dispatchers};

/// CONNECTIONS of a dispatcher when its entry does not say (`lsnrctl services` shows
/// `max:1022` for such a dispatcher).
pub const MAX_CONNECTIONS: u32 = 1022;

/// The fixed facts the dispatchers and shared servers run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedConfig {
    /// ORACLE_SID.
    pub sid: String,
    /// ORACLE_HOME (password file).
    pub oracle_home: PathBuf,
    /// Host name for addresses and SERVER_HOST.
    pub host: String,
    /// Where a dispatcher listens when its entry names no HOST: the host of
    /// LOCAL_LISTENER (an instance whose listener is on loopback keeps its dispatchers on
    /// loopback too), else the host name.
    pub default_listen_host: String,
    /// The services a client may name on a dispatcher's own port (SERVICE_NAME=).
    pub services: Vec<String>,
    /// INSTANCE_NAME (a client may name it as SID=).
    pub instance_name: String,
    /// SQLNET.INBOUND_CONNECT_TIMEOUT: a circuit must complete its login within it
    /// (`None`: no limit).
    pub inbound_connect_timeout: Option<Duration>,
    /// PROCESSES (the ceiling of shared-server growth when MAX_SHARED_SERVERS is unset).
    pub processes: u32,
    /// SQLNET.EXPIRE_TIME: dead connection detection on every circuit's socket.
    pub expire_time: Option<Duration>,
    /// SQLNET.RECV_TIMEOUT: the longest a circuit waits for its client's next data.
    pub recv_timeout: Option<Duration>,
    /// SQLNET.SEND_TIMEOUT: the longest a circuit's unsent answer may wait for its client
    /// to take any of it before the circuit is closed.
    pub send_timeout: Option<Duration>,
}

impl SharedConfig {
    /// From the instance's parameters.
    pub fn new(p: &InitParams, oracle_home: &Path, host: &str) -> SharedConfig {
        let default_listen_host = match &p.listener {
            ListenerTarget::Tcp { host, .. } => host.clone(),
            ListenerTarget::Ipc { .. } => host.to_string(),
        };
        SharedConfig {
            sid: p.sid.clone(),
            oracle_home: oracle_home.to_path_buf(),
            host: host.to_string(),
            default_listen_host,
            services: p.registered_services(),
            instance_name: p.instance_name.clone(),
            inbound_connect_timeout: crate::driver::inbound_connect_timeout(oracle_home),
            processes: p.processes,
            expire_time: crate::driver::expire_time(oracle_home),
            recv_timeout: crate::driver::recv_timeout(oracle_home),
            send_timeout: crate::driver::send_timeout(oracle_home),
        }
    }
}

/// The shared-server parameters of a parameter file, as the SGA keeps them.
pub fn shared_params(p: &InitParams) -> SharedParams {
    SharedParams {
        shared_servers: p.shared_servers,
        max_shared_servers: p.max_shared_servers,
        max_dispatchers: p.max_dispatchers,
        circuits: p.circuits,
        shared_server_sessions: p.shared_server_sessions,
        dispatchers: p
            .dispatchers
            .iter()
            .flat_map(|d| split_dispatchers(d))
            .collect(),
    }
}

/// One DISPATCHERS entry as the dispatchers it starts run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatcherSpec {
    /// CONF_INDX (the entry's position).
    pub conf_indx: u32,
    /// DISPATCHERS=n.
    pub count: u32,
    /// CONNECTIONS per dispatcher.
    pub connections: u32,
    /// Where its dispatchers listen.
    pub listen_host: String,
}

/// `(DISPATCHERS=n)` of one entry; 1 when absent or unreadable.
pub fn dispatcher_count(entry: &str) -> u32 {
    dispatcher_attribute(entry, "DISPATCHERS").map_or(1, |v| v.parse().unwrap_or(1))
}

/// Whether shared server is on: SHARED_SERVERS > 0, or unset with DISPATCHERS configured.
pub fn enabled(p: &SharedParams) -> bool {
    match p.shared_servers {
        Some(n) => n > 0,
        None => {
            p.dispatchers
                .iter()
                .map(|d| dispatcher_count(d))
                .sum::<u32>()
                > 0
        }
    }
}

/// The dispatchers to run: every DISPATCHERS entry; with shared server on and no entry,
/// Oracle's default `(PROTOCOL=tcp)`; none with shared server off.
pub fn dispatcher_specs(p: &SharedParams, default_host: &str) -> Vec<DispatcherSpec> {
    if !enabled(p) {
        return Vec::new();
    }
    let entries = if p.dispatchers.is_empty() {
        vec!["(PROTOCOL=tcp)".to_string()]
    } else {
        p.dispatchers.clone()
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| DispatcherSpec {
            conf_indx: u32::try_from(i).unwrap_or(u32::MAX),
            count: dispatcher_count(e),
            connections: dispatcher_attribute(e, "CONNECTIONS")
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or(MAX_CONNECTIONS),
            listen_host: dispatcher_attribute(e, "HOST")
                .unwrap_or_else(|| default_host.to_string()),
        })
        .collect()
}

/// Shared servers to keep running (the floor): SHARED_SERVERS, 1 when unset with
/// dispatchers, 0 with shared server off.
pub fn target_servers(p: &SharedParams) -> u32 {
    if !enabled(p) {
        return 0;
    }
    p.shared_servers.unwrap_or(1)
}

/// How many shared servers there may be with `used` of `processes` process slots taken:
/// MAX_SHARED_SERVERS (never below SHARED_SERVERS, which then fixes the count), or when it
/// is unset, as many as keep more than 1/8 of PROCESSES (2 when PROCESSES < 24) free.
pub fn may_grow(p: &SharedParams, running: u32, used: u32, processes: u32) -> bool {
    let target = target_servers(p);
    if target == 0 {
        return false;
    }
    match p.max_shared_servers {
        Some(max) => running < max.max(target),
        None => {
            let reserve = if processes < 24 { 2 } else { processes / 8 };
            processes.saturating_sub(used) > reserve
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> InitParams {
        let pf = config::ParamFile::parse_str(text, "initORCL.ora").value;
        let mut diags = Vec::new();
        crate::initora::from_param_file(
            &pf,
            "ORCL",
            Path::new("initORCL.ora"),
            Path::new("/nonexistent"),
            &mut diags,
        )
        .expect("init.ora")
    }

    #[test]
    fn dispatchers_listen_where_dispatchers_or_local_listener_say() {
        let on_loopback = params(
            "db_name=ORCL\nshared_servers=2\nlocal_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=1522))'\n",
        );
        let cfg = SharedConfig::new(&on_loopback, Path::new("/h"), "vm");
        let sp = shared_params(&on_loopback);
        let specs = dispatcher_specs(&sp, &cfg.default_listen_host);
        assert_eq!(specs.len(), 1);
        assert_eq!(
            (specs[0].listen_host.as_str(), specs[0].count),
            ("127.0.0.1", 1)
        );
        assert_eq!(target_servers(&sp), 2);
        let explicit = params(
            "db_name=ORCL\ndispatchers='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.2))(DISPATCHERS=2)', '(PRO=tcp)(CON=5)'\n\
             local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)(PORT=1522))'\n",
        );
        let sp = shared_params(&explicit);
        let specs = dispatcher_specs(&sp, "127.0.0.1");
        assert_eq!(specs.len(), 2, "{sp:?}");
        assert_eq!(
            (specs[0].listen_host.as_str(), specs[0].count),
            ("127.0.0.2", 2)
        );
        assert_eq!((specs[1].conf_indx, specs[1].connections), (1, 5));
        assert_eq!(
            target_servers(&sp),
            1,
            "DISPATCHERS alone means SHARED_SERVERS=1"
        );
        let off = shared_params(&params("db_name=ORCL\n"));
        assert!(dispatcher_specs(&off, "h").is_empty());
        assert_eq!(target_servers(&off), 0);
        let zero = shared_params(&params(
            "db_name=ORCL\nshared_servers=0\ndispatchers='(PROTOCOL=TCP)'\n",
        ));
        assert!(!enabled(&zero));
    }

    #[test]
    fn growth_stops_at_max_shared_servers_or_the_process_reserve() {
        let mut p = SharedParams {
            shared_servers: Some(1),
            max_shared_servers: Some(4),
            ..SharedParams::default()
        };
        assert!(may_grow(&p, 3, 10, 100));
        assert!(!may_grow(&p, 4, 10, 100));
        p.max_shared_servers = Some(1);
        assert!(
            !may_grow(&p, 1, 10, 100),
            "SHARED_SERVERS >= MAX fixes the count"
        );
        p.max_shared_servers = None;
        assert!(may_grow(&p, 5, 80, 100));
        assert!(!may_grow(&p, 5, 88, 100), "keeps 1/8 of PROCESSES free");
    }

    #[test]
    fn dispatcher_count_reads_abbreviated_attributes() {
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)"), 1);
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)(DISPATCHERS=3)"), 3);
        assert_eq!(dispatcher_count("(pro=tcp)(disp=2)"), 2);
        assert_eq!(dispatcher_count("(PROTOCOL=TCP)(DISPATCHERS=x)"), 1);
    }
}
