//! The local sockets an instance binds in the run directory, and their removal when an
//! earlier incarnation of the SID left them.
//!
//! `oradb` binds, named after its SID and its pid: each dispatcher's hand-off socket
//! (`<sid>_d000_<pid>.disp`, [`crate::shared::handoff_path`]), and while the DRCP pool
//! runs each broker's hand-off socket (`<sid>_n000_<pid>.cbrok`,
//! [`crate::pooled::broker_path`]) and the socket its pooled servers connect to
//! (`<sid>_cmon_<pid>.pool`, [`crate::pooled::servers_path`]). It removes them when it stops,
//! but an instance killed with `kill -9` cannot: the files stay, and nothing would ever
//! remove them, since the next incarnation binds its own under its own pid.
//!
//! So at startup, once the SGA is created (creating it fails while another live process
//! is the instance of this SID, so this process is then the only live one), every such
//! file of the SID whose pid is not this process's is stale and removed.

use std::path::PathBuf;

/// The kinds of socket: (the part between `<sid>_` and `_<pid>` — its letters, and whether
/// digits follow them —, the extension).
const KINDS: [(&str, bool, &str); 3] = [
    // D000, D001, ...: dispatchers.
    ("d", true, "disp"),
    // N000, N001, ...: connection brokers.
    ("n", true, "cbrok"),
    // CMON's socket for the pooled servers.
    ("cmon", false, "pool"),
];

/// The pid in the name of a socket of instance `sid` (lower case in the name), or `None`
/// when `file_name` is not one.
fn owner_pid(sid: &str, file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix(&sid.to_ascii_lowercase())?;
    let rest = rest.strip_prefix('_')?;
    let (stem, ext) = rest.rsplit_once('.')?;
    let (process, pid) = stem.rsplit_once('_')?;
    let known = KINDS.iter().any(|&(letters, numbered, kind_ext)| {
        ext == kind_ext
            && process.strip_prefix(letters).is_some_and(|n| {
                if numbered {
                    !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                } else {
                    n.is_empty()
                }
            })
    });
    if !known || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the sockets of instance `sid` that another pid left in the run directory (see
/// the module documentation: call it only once this process has created the SID's SGA).
/// Returns the paths removed.
pub fn remove_stale(sid: &str) -> Vec<PathBuf> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir(crate::registration::run_dir()) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| owner_pid(sid, &e.file_name().to_string_lossy()).is_some_and(|pid| pid != own))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(path: PathBuf) -> String {
        path.file_name().unwrap().to_string_lossy().into_owned()
    }

    #[test]
    fn the_names_the_instance_binds_are_recognised_with_their_pid() {
        for (path, pid) in [
            (crate::shared::handoff_path("ORCL", "D000", 1234), 1234),
            (crate::shared::handoff_path("ORCL", "D12", 9), 9),
            (crate::pooled::broker_path("ORCL", 77, 0), 77),
            (crate::pooled::broker_path("ORCL", 78, 3), 78),
            (crate::pooled::servers_path("ORCL", 5), 5),
        ] {
            assert_eq!(owner_pid("ORCL", &name(path)), Some(pid));
        }
    }

    #[test]
    fn other_files_are_not_taken_for_sockets() {
        for other in [
            "orcl_d000_.disp",
            "orcl_dx00_12.disp",
            "orcl_d000_12.reg",
            "orcl_n000_12.disp",
            "orcl_d000_12.cbrok",
            "orcl_n_12.cbrok",
            "orcl_cmon1_12.pool",
            "orcl_cmon_12x.pool",
            "orcl2_d000_12.disp",
            "orc_d000_12.disp",
            "lsnr_ipc_1521.reg",
        ] {
            assert_eq!(owner_pid("ORCL", other), None, "{other}");
        }
    }
}
