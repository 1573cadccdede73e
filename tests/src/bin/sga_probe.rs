//! `sga_probe`: a stand-in for a dedicated server process in the instance tests. It attaches
//! the SGA of a SID, takes a process slot and N session slots exactly as a dedicated server
//! does, then obeys one command per stdin line and answers one line on stdout:
//!
//! With `--ignore-sigterm` it ignores SIGTERM (a server that does not die politely).
//!
//! ```text
//! call         -> OK | ERROR <ORA-...>      (one call: begin_call + end_call)
//! sleep <s>    -> OK | ERROR <ORA-...>      (a long call, like DBMS_SESSION.SLEEP)
//! exit         -> logs off and exits 0
//! ```
//! At start it prints `PROCESS <pid> <spid>`, one `SESSION <sid>,<serial#>` per session (or
//! `ERROR ...` for the first one refused), then `READY`. If the process slot is refused it
//! prints `ERROR ...` and exits 2. Multi-line Oracle error stacks are joined with ` | `.

use std::io::{BufRead, Write};
use std::time::Duration;

use server_proc::sga::{ProcessSpec, SessionSpec, Sga, SgaError};

fn one_line(e: &SgaError) -> String {
    e.to_string().replace('\n', " | ")
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sid = arg("--sid").unwrap_or_default();
    let sessions: u32 = arg("--sessions").and_then(|n| n.parse().ok()).unwrap_or(1);
    let user = arg("--user").unwrap_or_else(|| "SCOTT".to_string());
    if args.iter().any(|a| a == "--ignore-sigterm") {
        // SAFETY: installing SIG_IGN has no handler code to be async-signal-safe about, and
        // this runs before any other thread exists.
        let _ = unsafe {
            nix::sys::signal::signal(
                nix::sys::signal::Signal::SIGTERM,
                nix::sys::signal::SigHandler::SigIgn,
            )
        };
    }
    let sga = match Sga::attach(&sid) {
        Ok(s) => s,
        Err(e) => {
            say(&format!("ERROR {}", one_line(&e)));
            std::process::exit(2);
        }
    };
    let process = match sga.register_process(&ProcessSpec::dedicated("oracle@probe (TNS V1-V3)")) {
        Ok(p) => p,
        Err(e) => {
            say(&format!("ERROR {}", one_line(&e)));
            std::process::exit(2);
        }
    };
    say(&format!("PROCESS {} {}", process.pid(), std::process::id()));
    let mut held = Vec::new();
    for _ in 0..sessions {
        match process.create_session(&SessionSpec {
            username: user.clone(),
            program: "sga_probe".to_string(),
            machine: "probe-host".to_string(),
            process: std::process::id().to_string(),
            service: "probe".to_string(),
            ..SessionSpec::default()
        }) {
            Ok(s) => {
                say(&format!("SESSION {},{}", s.sid(), s.serial()));
                held.push(s);
            }
            Err(e) => {
                say(&format!("ERROR {}", one_line(&e)));
                break;
            }
        }
    }
    say("READY");
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let result = match (words.next(), held.first()) {
            (Some("exit"), _) | (None, _) => break,
            (Some(_), None) => Err(SgaError::NotLoggedOn),
            (Some("call"), Some(s)) => s.begin_call().and_then(|()| s.end_call()),
            (Some("sleep"), Some(s)) => {
                let secs: u64 = words.next().and_then(|w| w.parse().ok()).unwrap_or(1);
                s.begin_call().and_then(|()| {
                    // The call ends either way; a kill during it is its answer.
                    let slept = s.sleep(Duration::from_secs(secs));
                    let ended = s.end_call();
                    slept.and(ended)
                })
            }
            (Some(other), _) => {
                say(&format!("UNKNOWN {other}"));
                continue;
            }
        };
        match result {
            Ok(()) => say("OK"),
            Err(e) => say(&format!("ERROR {}", one_line(&e))),
        }
    }
    drop(held);
    drop(process);
}
