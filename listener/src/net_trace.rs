//! The listener's trace file in Oracle Net's layout, written while `TRACE_LEVEL_<listener>`
//! (or `lsnrctl set trc_level`) is USER, ADMIN or SUPPORT, at
//! `TRACE_DIRECTORY_<listener>/TRACE_FILE_<listener>` (non-ADR tracing; `lsnrctl set
//! trc_directory / trc_file` move it at run time).
//!
//! Layout (Oracle Database Net Services Administrator's Guide, "Evaluating Oracle Net
//! Services Trace Files", Example "Packet Information"; TRACE_TIMESTAMP on): one event a
//! line, `[DD-MON-YYYY HH24:MI:SS:FFF] procedure: message`, and at SUPPORT each packet as
//! `nspsend:`/`nsprecv:` lines of 8 hex bytes with their printable text between bars. The
//! procedure names are those Oracle's listener traces carry at the same steps (`nsglma` the
//! listener's main loop, `nsglhc` a new connection, `nsglfc` the service lookup, `nsglrespond`
//! a control request, `nsprecv`/`nspsend` packets); the messages say what orasim did there.
//! The file is bounded: past [`MAX_TRACE_BYTES`] it is renamed to `<file>.1` (the older copy
//! is replaced) and a new one starts.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Oracle's trace levels.
pub const USER: u32 = 4;
/// ADMIN.
pub const ADMIN: u32 = 10;
/// SUPPORT (packet dumps).
pub const SUPPORT: u32 = 16;

/// Largest trace file before it is rolled over to `<file>.1`.
pub const MAX_TRACE_BYTES: u64 = 64 * 1024 * 1024;

/// `[DD-MON-YYYY HH24:MI:SS:FFF]` of `t` (UTC).
pub fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let day = tns::ttc::types::DateTime::from_unix(secs, 0).dd_mon_yyyy_hh24_mi_ss();
    format!("[{day}:{:03}]", d.subsec_millis())
}

/// The lines of a packet dump: 8 bytes a line, hex then the printable characters.
pub fn dump_lines(procedure: &str, bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(8)
        .map(|c| {
            let hex: Vec<String> = c.iter().map(|b| format!("{b:02X}")).collect();
            let text: String = c
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{procedure}:{:<23}  |{text:<8}|", hex.join(" "))
        })
        .collect()
}

/// The open trace file (none while the level is OFF).
#[derive(Debug)]
pub struct NetTrace {
    level: u32,
    path: PathBuf,
    file: Option<File>,
    written: u64,
}

impl NetTrace {
    /// Tracing at `level` (0 = off: no file) into `dir/file`, appended to.
    pub fn open(dir: &Path, file: &str, level: u32) -> std::io::Result<NetTrace> {
        let path = dir.join(file);
        let mut t = NetTrace {
            level,
            path,
            file: None,
            written: 0,
        };
        if level > 0 {
            std::fs::create_dir_all(dir)?;
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&t.path)?;
            t.written = f.metadata().map(|m| m.len()).unwrap_or(0);
            t.file = Some(f);
        }
        Ok(t)
    }

    /// No tracing.
    pub fn off() -> NetTrace {
        NetTrace {
            level: 0,
            path: PathBuf::new(),
            file: None,
            written: 0,
        }
    }

    /// The level in force.
    pub fn level(&self) -> u32 {
        self.level
    }

    /// True when events of level `at` are written.
    pub fn on(&self, at: u32) -> bool {
        self.file.is_some() && self.level >= at
    }

    /// Writes `procedure: message` when the level is at least `at`. The message is formatted
    /// only then (pass `format_args!`): with tracing off an event costs nothing.
    pub fn event(&mut self, at: u32, procedure: &str, message: impl std::fmt::Display) {
        if self.on(at) {
            self.write(&[format!("{procedure}: {message}")]);
        }
    }

    /// At SUPPORT: the packet `bytes` under `procedure` (`nsprecv`, `nspsend`).
    pub fn packet(&mut self, procedure: &str, bytes: &[u8]) {
        if self.on(SUPPORT) {
            let mut lines = vec![format!("{procedure}:packet dump")];
            lines.extend(dump_lines(procedure, bytes));
            self.write(&lines);
        }
    }

    fn write(&mut self, lines: &[String]) {
        let now = stamp(SystemTime::now());
        let mut text = String::new();
        for l in lines {
            text.push_str(&now);
            text.push(' ');
            text.push_str(l);
            text.push('\n');
        }
        if self.written + text.len() as u64 > MAX_TRACE_BYTES {
            self.roll_over();
        }
        if let Some(f) = self.file.as_mut()
            && f.write_all(text.as_bytes()).is_ok()
        {
            self.written += text.len() as u64;
        }
    }

    fn roll_over(&mut self) {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        let _ = std::fs::rename(&self.path, &old);
        self.file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .ok();
        self.written = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_oracles_timestamp_and_packets_dump_eight_bytes_a_line() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_764_943_968_123);
        assert_eq!(stamp(t), "[05-DEC-2025 14:12:48:123]");
        // As in the guide's example: `nspsend:00 BB 00 00 01 00 00 00  |........|`.
        let lines = dump_lines("nspsend", b"\x00\xbb\x00\x00\x01\x00\x00\x00(DESCR");
        assert_eq!(
            lines,
            [
                "nspsend:00 BB 00 00 01 00 00 00  |........|",
                "nspsend:28 44 45 53 43 52        |(DESCR  |",
            ]
        );
    }

    #[test]
    fn levels_filter_and_off_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = NetTrace::open(dir.path(), "l.trc", USER).unwrap();
        t.event(USER, "nsglma", "entry");
        t.event(ADMIN, "nsglfc", "not at USER");
        t.packet("nsprecv", b"x");
        let text = std::fs::read_to_string(dir.path().join("l.trc")).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.ends_with("] nsglma: entry\n"), "{text}");
        let mut off = NetTrace::open(dir.path(), "off.trc", 0).unwrap();
        off.event(USER, "nsglma", "entry");
        assert!(!dir.path().join("off.trc").exists());
    }
}
