//! A program on a pseudo-terminal, for the interactive tests (`orasql` at its `SQL>`
//! prompt): the child is a session leader whose controlling terminal is the pty, so a
//! Ctrl-C byte written to the master becomes SIGINT in the child exactly as in a terminal
//! window. A reader thread collects everything the child prints; the guard kills and reaps
//! the child even when the test fails.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A child on a pty.
pub struct PtyChild {
    child: Option<Child>,
    master: File,
    screen: Arc<Mutex<Vec<u8>>>,
    /// Where the last [`PtyChild::expect`] match ended.
    mark: usize,
}

impl PtyChild {
    /// Starts `program args...` on a new 80x24 pty with `env` added.
    pub fn spawn(program: &Path, args: &[&str], env: &[(&str, &str)]) -> PtyChild {
        let size = nix::pty::Winsize {
            ws_row: 24,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::from(slave.try_clone().expect("dup pty")))
            .stdout(Stdio::from(slave.try_clone().expect("dup pty")))
            .stderr(Stdio::from(slave));
        // SAFETY: runs in the forked child before exec; setsid and ioctl are
        // async-signal-safe and touch no memory shared with the parent.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                // fd 0 is the pty slave: make it this session's controlling terminal.
                if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on pty");
        let master = File::from(pty.master);
        let mut reader = master.try_clone().expect("dup master");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            // EIO once the child closed its side ends the loop.
            while let Ok(n) = reader.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&chunk[..n]);
            }
        });
        PtyChild {
            child: Some(child),
            master,
            screen,
            mark: 0,
        }
    }

    /// Types `bytes` (`\r` is Enter, `\x03` is Ctrl-C).
    pub fn send(&mut self, bytes: &str) {
        self.master
            .write_all(bytes.as_bytes())
            .expect("write to pty");
    }

    /// Everything printed so far, as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }

    /// Waits until `needle` appears after the previous match; panics with the screen after
    /// `limit`. Returns the text between the previous match and the end of this one.
    pub fn expect(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if let Some(i) = screen.get(self.mark..).and_then(|s| s.find(needle)) {
                let end = self.mark + i + needle.len();
                let seen = screen[self.mark..end].to_string();
                self.mark = end;
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {limit:?}; screen after byte {}:\n{}",
                self.mark,
                screen.get(self.mark..).unwrap_or("")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit (killing it after `limit`).
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                self.child = None;
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
