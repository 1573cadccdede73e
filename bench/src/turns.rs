//! Round trips of one connect cycle, seen on the wire: the cycle is relayed through a
//! loopback proxy that timestamps every change of direction. Each time the server starts
//! answering after the client has spoken, one round trip has completed. Counting on the wire
//! (instead of trusting the client's own counters) works the same for orasim, PostgreSQL
//! and PgBouncer, and sees the TNS CONNECT/ACCEPT exchange that no TTC counter includes.
//!
//! The timestamps also split a connect into its steps: how long the server took to start
//! answering each request, and how long the client worked before sending it (O5LOGON's key
//! derivation shows up there). The relay adds two loopback hops per step.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Timeouts on both legs of the relay.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// Who started a burst of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client spoke.
    Client,
    /// The server spoke.
    Server,
}

/// One completed round trip of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// From the server's previous answer (or the cycle's first byte) to this request.
    pub client: Duration,
    /// From this request to the first byte of the server's answer.
    pub server: Duration,
}

/// Runs `cycle(proxy_port)` with a one-connection relay to `127.0.0.1:upstream` in between
/// and returns the direction changes it saw, with their times (`None` if the relay failed or
/// `cycle` returned an error).
pub fn relay_cycle(
    upstream: u16,
    cycle: impl FnOnce(u16) -> Result<(), String>,
) -> Option<Vec<(Side, Instant)>> {
    let l = TcpListener::bind("127.0.0.1:0").ok()?;
    let port = l.local_addr().ok()?.port();
    l.set_nonblocking(true).ok()?;
    let bursts: Arc<Mutex<Vec<(Side, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    let cycle_done = Arc::new(AtomicBool::new(false));
    let (b2, done) = (bursts.clone(), cycle_done.clone());
    let relay = std::thread::spawn(move || -> std::io::Result<()> {
        // Bounded accept: a cycle that fails before connecting must not hang the relay.
        let deadline = Instant::now() + IO_TIMEOUT;
        let down = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if done.load(Ordering::SeqCst) || Instant::now() > deadline {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        };
        down.set_nonblocking(false)?;
        let up = TcpStream::connect_timeout(&([127, 0, 0, 1], upstream).into(), IO_TIMEOUT)?;
        for s in [&down, &up] {
            s.set_read_timeout(Some(IO_TIMEOUT))?;
            s.set_write_timeout(Some(IO_TIMEOUT))?;
            s.set_nodelay(true)?;
        }
        let (down_r, up_w) = (down.try_clone()?, up.try_clone()?);
        let b3 = b2.clone();
        let c2s = std::thread::spawn(move || pump(down_r, up_w, Side::Client, &b3));
        pump(up, down, Side::Server, &b2);
        let _ = c2s.join();
        Ok(())
    });
    let ok = cycle(port).is_ok();
    cycle_done.store(true, Ordering::SeqCst);
    let relayed = relay.join().ok().and_then(Result::ok).is_some();
    if !(ok && relayed) {
        return None;
    }
    Arc::try_unwrap(bursts).ok()?.into_inner().ok()
}

/// The completed round trips of a list of bursts.
pub fn steps(bursts: &[(Side, Instant)]) -> Vec<Step> {
    let mut out = Vec::new();
    let Some(&(_, first)) = bursts.first() else {
        return out;
    };
    let mut last_answer = first;
    for w in bursts.windows(2) {
        if let [(Side::Client, asked), (Side::Server, answered)] = *w {
            out.push(Step {
                client: asked.saturating_duration_since(last_answer),
                server: answered.saturating_duration_since(asked),
            });
            last_answer = answered;
        }
    }
    out
}

/// Relays `cycle` and counts its completed round trips.
pub fn count_round_trips(
    upstream: u16,
    cycle: impl FnOnce(u16) -> Result<(), String>,
) -> Option<u32> {
    relay_cycle(upstream, cycle).map(|b| steps(&b).len() as u32)
}

/// Copies `from` to `to`, recording the start of each new burst in this direction.
fn pump(mut from: TcpStream, mut to: TcpStream, side: Side, bursts: &Mutex<Vec<(Side, Instant)>>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Record before forwarding, so the answer cannot overtake the question.
                if let Ok(mut b) = bursts.lock()
                    && b.last().map(|l| l.0) != Some(side)
                {
                    b.push((side, Instant::now()));
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::echo::{self, EchoServer};

    #[test]
    fn counts_echo_round_trips() {
        let e = EchoServer::start().expect("echo");
        let n = count_round_trips(e.port(), |port| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            for _ in 0..3 {
                echo::round_trip(&mut s).map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        assert_eq!(n, Some(3));
    }

    #[test]
    fn a_failed_cycle_counts_nothing() {
        let e = EchoServer::start().expect("echo");
        let n = count_round_trips(e.port(), |port| {
            drop(TcpStream::connect(("127.0.0.1", port)));
            Err("failed".into())
        });
        assert_eq!(n, None);
        // A cycle that never connects: the relay gives up instead of hanging.
        assert_eq!(count_round_trips(e.port(), |_| Err("no".into())), None);
    }

    #[test]
    fn steps_pair_each_request_with_its_answer() {
        let t = Instant::now();
        let at = |ms| t + Duration::from_millis(ms);
        let bursts = [
            (Side::Client, at(0)),
            (Side::Server, at(5)),
            (Side::Client, at(7)),
            (Side::Server, at(8)),
            // A last request without an answer (PostgreSQL's Terminate) is no round trip.
            (Side::Client, at(9)),
        ];
        let s = steps(&bursts);
        assert_eq!(
            s,
            [
                Step {
                    client: Duration::ZERO,
                    server: Duration::from_millis(5)
                },
                Step {
                    client: Duration::from_millis(2),
                    server: Duration::from_millis(1)
                },
            ]
        );
        assert!(steps(&[]).is_empty());
    }
}
