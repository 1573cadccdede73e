//! `listener.log` in Oracle's one-line-per-event format (Net Services Reference; real logs):
//!
//! ```text
//! 15-MAY-2010 11:42:24 * (CONNECT_DATA=(SERVICE_NAME=S111W6)(CID=...)) * (ADDRESS=(PROTOCOL=tcp)(HOST=10.0.0.5)(PORT=60340)) * establish * S111W6 * 0
//! 15-MAY-2010 11:42:25 * (CONNECT_DATA=(SERVICE_NAME=nope)(CID=...)) * (ADDRESS=...) * establish * nope * 12514
//! TNS-12514: TNS:listener does not currently know of service requested in connect descriptor
//! ```
//!
//! Events that never got as far as a CONNECT (timeouts, garbage) are logged as Oracle does:
//! the timestamp, `* <code>`, the TNS error line(s) and the client address. Writes are
//! synchronous and unbuffered (one `write` per event), so a crash loses nothing.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::oratime::format_unix;
use crate::tnserr::TnsCode;

/// The open `listener.log`.
#[derive(Debug)]
pub struct ListenerLog {
    path: PathBuf,
    file: Option<File>,
    /// The last second stamped and its text: lines within one second reuse it.
    stamp: Option<(u64, String)>,
}

/// Errors opening the log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The directory or file could not be created/opened.
    #[error("cannot open listener log {path}: {source}")]
    Open {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl ListenerLog {
    /// Opens (creating the directory) `path` for appending; `enabled=false` gives a log that
    /// writes nothing (`LOGGING_<l>=OFF`).
    pub fn open(path: &Path, enabled: bool) -> Result<Self, LogError> {
        if !enabled {
            return Ok(Self {
                path: path.to_path_buf(),
                file: None,
                stamp: None,
            });
        }
        let err = |source| LogError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        Ok(Self {
            path: path.to_path_buf(),
            file: Some(file),
            stamp: None,
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether logging is on.
    pub fn enabled(&self) -> bool {
        self.file.is_some()
    }

    /// `DD-MON-YYYY HH24:MI:SS` of now, formatted once a second.
    fn timestamp(&mut self) -> &str {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.stamp.as_ref().is_none_or(|(s, _)| *s != secs) {
            self.stamp = Some((secs, format_unix(secs)));
        }
        self.stamp.as_ref().map_or("", |(_, text)| text)
    }

    fn write(&mut self, text: &str) {
        if let Some(f) = &mut self.file
            && let Err(e) = f.write_all(text.as_bytes())
        {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write listener.log");
        }
    }

    /// Text written as is (the start-up banner).
    pub fn raw(&mut self, text: &str) {
        self.write(text);
    }

    /// A free-form event line (`ping * 0`, `service_update * ORCL * 0`).
    pub fn event(&mut self, text: &str) {
        if !self.enabled() {
            return;
        }
        let line = format!("{} * {}\n", self.timestamp(), escape(text));
        self.write(&line);
    }

    /// One connection decision: `ts * connect data * address * action * service * rc`, with
    /// the `TNS-` line after a failure.
    pub fn connect(
        &mut self,
        connect_data: &str,
        peer: &str,
        action: &str,
        service: &str,
        code: Option<TnsCode>,
    ) {
        if !self.enabled() {
            return;
        }
        let rc = code.map(|c| c.0).unwrap_or(0);
        let mut line = String::with_capacity(connect_data.len() + peer.len() + 96);
        for part in [
            self.timestamp(),
            " * ",
            &escape(connect_data),
            " * ",
            &escape(peer),
            " * ",
            action,
            " * ",
            &escape(service),
            " * ",
        ] {
            line.push_str(part);
        }
        let _ = writeln!(line, "{rc}");
        if let Some(c) = code.filter(|c| c.0 != 0) {
            line.push_str(&c.tns_line());
            line.push('\n');
        }
        self.write(&line);
    }

    /// A connection dropped before routing: `ts * code`, the error stack, the client address
    /// and a one-line reason.
    pub fn dropped(&mut self, code: TnsCode, stack: &[TnsCode], peer: &str, reason: &str) {
        if !self.enabled() {
            return;
        }
        let mut text = format!("{} * {}\n{}\n", self.timestamp(), code.0, code.tns_line());
        for (i, c) in stack.iter().enumerate() {
            text.push_str(&" ".repeat(i + 1));
            text.push_str(&c.tns_line());
            text.push('\n');
        }
        text.push_str(&format!(
            " Client address: {}\n Reason: {}\n",
            escape(peer),
            escape(reason)
        ));
        self.write(&text);
    }
}

/// What a client sent, made safe for one log line: control bytes (a newline that would start
/// a forged line, NUL, escape sequences) are written as `\xNN`; everything else as is.
fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII, what clients send, is recognised byte by byte.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) || !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\x{:02X}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_bytes_cannot_start_a_log_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("listener.log");
        let mut log = ListenerLog::open(&path, true).unwrap();
        log.connect(
            "(CONNECT_DATA=(SERVICE_NAME=x\n05-DEC-2026 00:00:00 * forged * 0\r\0))",
            "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1))",
            "establish",
            "x\u{1b}[2J",
            None,
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text:?}");
        assert!(
            text.contains("x\\x0A05-DEC-2026 00:00:00 * forged * 0\\x0D\\x00))"),
            "{text:?}"
        );
        assert!(text.contains(" * x\\x1B[2J * 0"), "{text:?}");
        assert!(!text.contains('\0'));
    }

    #[test]
    fn writes_oracle_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log").join("listener.log");
        let mut log = ListenerLog::open(&path, true).expect("open");
        log.connect(
            "(CONNECT_DATA=(SERVICE_NAME=x))",
            "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=5))",
            "establish",
            "x",
            Some(TnsCode::UNKNOWN_SERVICE),
        );
        log.connect(
            "(CONNECT_DATA=(SID=ORCL))",
            "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=6))",
            "establish",
            "ORCL",
            None,
        );
        log.dropped(
            TnsCode::INBOUND_TIMEOUT,
            &[TnsCode::TIMED_OUT],
            "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=7))",
            "no CONNECT within 1 s",
        );
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with(" * (CONNECT_DATA=(SERVICE_NAME=x)) * (ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=5)) * establish * x * 12514"), "{}", lines[0]);
        assert_eq!(lines[1], TnsCode::UNKNOWN_SERVICE.tns_line());
        assert!(lines[2].ends_with("* establish * ORCL * 0"));
        assert!(lines[3].ends_with(" * 12525"));
        assert_eq!(lines[5], " TNS-12535: TNS:operation timed out");
        assert!(lines[6].contains("PORT=7"));
        let off = ListenerLog::open(&dir.path().join("off.log"), false).expect("open");
        assert!(!off.enabled());
        assert!(!dir.path().join("off.log").exists());
    }
}
