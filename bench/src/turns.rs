//! Round trips of one connect cycle, seen on the wire: the cycle is relayed through a
//! loopback proxy that timestamps every change of direction. Each time the server starts
//! answering after the client has spoken, one round trip has completed. Counting on the wire
//! (instead of trusting the client's own counters) works the same for orasim, PostgreSQL
//! and PgBouncer, and sees the TNS CONNECT/ACCEPT exchange that no TTC counter includes.
//!
//! The relay also counts the bytes of each burst: the floor process replays exactly those
//! byte counts, round trip by round trip.

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

/// One burst: consecutive bytes in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// Who spoke.
    pub side: Side,
    /// When its first byte was seen.
    pub at: Instant,
    /// How many bytes it carried.
    pub bytes: u64,
}

/// One completed round trip of a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// From the server's previous answer (or the cycle's first byte) to this request.
    pub client: Duration,
    /// From this request to the first byte of the server's answer.
    pub server: Duration,
    /// Bytes of the request.
    pub request_bytes: u64,
    /// Bytes of the answer.
    pub answer_bytes: u64,
}

/// Runs `cycle(proxy_port)` with a one-connection relay to `127.0.0.1:upstream` in between
/// and returns the bursts it saw, or what failed: the cycle (its own error) or the relay
/// (which leg, and the OS error).
pub fn relay_cycle(
    upstream: u16,
    cycle: impl FnOnce(u16) -> Result<(), String>,
) -> Result<Vec<Burst>, String> {
    let setup = |e: std::io::Error| format!("relay: cannot listen on 127.0.0.1: {e}");
    let l = TcpListener::bind("127.0.0.1:0").map_err(setup)?;
    let port = l.local_addr().map_err(setup)?.port();
    l.set_nonblocking(true).map_err(setup)?;
    let bursts: Arc<Mutex<Vec<Burst>>> = Arc::new(Mutex::new(Vec::new()));
    let cycle_done = Arc::new(AtomicBool::new(false));
    let (b2, done) = (bursts.clone(), cycle_done.clone());
    let relay = std::thread::spawn(move || -> Result<(), String> {
        // Bounded accept: a cycle that fails before connecting must not hang the relay.
        let deadline = Instant::now() + IO_TIMEOUT;
        let down = loop {
            match l.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if done.load(Ordering::SeqCst) {
                        return Err("relay: the cycle ended without connecting".into());
                    }
                    if Instant::now() > deadline {
                        return Err(format!(
                            "relay: no connection from the cycle within {} s",
                            IO_TIMEOUT.as_secs()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(format!("relay: accept failed: {e}")),
            }
        };
        let sock = |e: std::io::Error| format!("relay: setting up the client leg: {e}");
        down.set_nonblocking(false).map_err(sock)?;
        let up = TcpStream::connect_timeout(&([127, 0, 0, 1], upstream).into(), IO_TIMEOUT)
            .map_err(|e| format!("relay: cannot connect to 127.0.0.1:{upstream}: {e}"))?;
        for s in [&down, &up] {
            s.set_read_timeout(Some(IO_TIMEOUT)).map_err(sock)?;
            s.set_write_timeout(Some(IO_TIMEOUT)).map_err(sock)?;
            s.set_nodelay(true).map_err(sock)?;
        }
        let (down_r, up_w) = (
            down.try_clone().map_err(sock)?,
            up.try_clone().map_err(sock)?,
        );
        let b3 = b2.clone();
        let c2s = std::thread::spawn(move || pump(down_r, up_w, Side::Client, &b3));
        pump(up, down, Side::Server, &b2);
        let _ = c2s.join();
        Ok(())
    });
    let cycled = cycle(port);
    cycle_done.store(true, Ordering::SeqCst);
    let relayed = relay
        .join()
        .unwrap_or_else(|_| Err("relay: its thread panicked".into()));
    match (cycled, relayed) {
        (Err(cycle), Err(relay)) => return Err(format!("the cycle failed: {cycle} ({relay})")),
        (Err(cycle), Ok(())) => return Err(format!("the cycle failed: {cycle}")),
        (Ok(()), Err(relay)) => return Err(relay),
        (Ok(()), Ok(())) => {}
    }
    let bursts = Arc::try_unwrap(bursts).map_err(|_| "relay: a leg still holds the bursts")?;
    bursts
        .into_inner()
        .map_err(|_| "relay: a leg panicked while recording".to_string())
}

/// The completed round trips of a list of bursts.
pub fn steps(bursts: &[Burst]) -> Vec<Step> {
    let mut out = Vec::new();
    let Some(first) = bursts.first() else {
        return out;
    };
    let mut last_answer = first.at;
    for w in bursts.windows(2) {
        if let [asked, answered] = w
            && asked.side == Side::Client
            && answered.side == Side::Server
        {
            out.push(Step {
                client: asked.at.saturating_duration_since(last_answer),
                server: answered.at.saturating_duration_since(asked.at),
                request_bytes: asked.bytes,
                answer_bytes: answered.bytes,
            });
            last_answer = answered.at;
        }
    }
    out
}

/// Relays `cycle` and counts its completed round trips.
pub fn count_round_trips(
    upstream: u16,
    cycle: impl FnOnce(u16) -> Result<(), String>,
) -> Option<u32> {
    relay_cycle(upstream, cycle)
        .ok()
        .map(|b| steps(&b).len() as u32)
}

/// Copies `from` to `to`, recording each new burst in this direction and its bytes.
fn pump(mut from: TcpStream, mut to: TcpStream, side: Side, bursts: &Mutex<Vec<Burst>>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Record before forwarding, so the answer cannot overtake the question.
                if let Ok(mut b) = bursts.lock() {
                    match b.last_mut() {
                        Some(last) if last.side == side => last.bytes += n as u64,
                        _ => b.push(Burst {
                            side,
                            at: Instant::now(),
                            bytes: n as u64,
                        }),
                    }
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

    /// A one-connection-at-a-time echo server for the tests (bytes back as they come).
    fn echo() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let _ = s.set_read_timeout(Some(IO_TIMEOUT));
                let mut buf = [0u8; 512];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        });
        port
    }

    fn exchange(s: &mut TcpStream, n: usize) -> Result<(), String> {
        s.write_all(&vec![7u8; n]).map_err(|e| e.to_string())?;
        let mut back = vec![0u8; n];
        s.read_exact(&mut back).map_err(|e| e.to_string())
    }

    #[test]
    fn counts_round_trips_and_their_bytes() {
        let port = echo();
        let bursts = relay_cycle(port, |p| {
            let mut s = TcpStream::connect(("127.0.0.1", p)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            for n in [1, 300, 20] {
                exchange(&mut s, n)?;
            }
            Ok(())
        })
        .expect("relayed");
        let st = steps(&bursts);
        let sizes: Vec<(u64, u64)> = st
            .iter()
            .map(|s| (s.request_bytes, s.answer_bytes))
            .collect();
        assert_eq!(sizes, [(1, 1), (300, 300), (20, 20)]);
        assert_eq!(
            count_round_trips(port, |p| {
                let mut s = TcpStream::connect(("127.0.0.1", p)).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(IO_TIMEOUT))
                    .map_err(|e| e.to_string())?;
                exchange(&mut s, 1)
            }),
            Some(1)
        );
    }

    #[test]
    fn a_failed_cycle_counts_nothing() {
        let port = echo();
        let n = count_round_trips(port, |p| {
            drop(TcpStream::connect(("127.0.0.1", p)));
            Err("failed".into())
        });
        assert_eq!(n, None);
        // A cycle that never connects: the relay gives up instead of hanging.
        assert_eq!(count_round_trips(port, |_| Err("no".into())), None);
    }

    #[test]
    fn a_failed_relay_says_what_failed() {
        let port = echo();
        let e = relay_cycle(port, |p| {
            drop(TcpStream::connect(("127.0.0.1", p)));
            Err("ORA-01017".into())
        })
        .unwrap_err();
        assert!(e.starts_with("the cycle failed: ORA-01017"), "{e}");
        let e = relay_cycle(port, |_| Err("TNS-12541".into())).unwrap_err();
        assert_eq!(
            e,
            "the cycle failed: TNS-12541 (relay: the cycle ended without connecting)"
        );
        // Nothing listens upstream: the relay names the port it could not reach.
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let dead = closed.local_addr().expect("addr").port();
        drop(closed);
        let e = relay_cycle(dead, |p| {
            let mut s = TcpStream::connect(("127.0.0.1", p)).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(IO_TIMEOUT))
                .map_err(|e| e.to_string())?;
            let mut b = [0u8; 1];
            let _ = s.read(&mut b);
            Ok(())
        })
        .unwrap_err();
        assert!(
            e.starts_with(&format!("relay: cannot connect to 127.0.0.1:{dead}: ")),
            "{e}"
        );
    }

    #[test]
    fn steps_pair_each_request_with_its_answer() {
        let t = Instant::now();
        let b = |side, ms, bytes| Burst {
            side,
            at: t + Duration::from_millis(ms),
            bytes,
        };
        let bursts = [
            b(Side::Client, 0, 10),
            b(Side::Server, 5, 20),
            b(Side::Client, 7, 30),
            b(Side::Server, 8, 40),
            // A last request without an answer (PostgreSQL's Terminate) is no round trip.
            b(Side::Client, 9, 5),
        ];
        let s = steps(&bursts);
        assert_eq!(
            s,
            [
                Step {
                    client: Duration::ZERO,
                    server: Duration::from_millis(5),
                    request_bytes: 10,
                    answer_bytes: 20
                },
                Step {
                    client: Duration::from_millis(2),
                    server: Duration::from_millis(1),
                    request_bytes: 30,
                    answer_bytes: 40
                },
            ]
        );
        assert!(steps(&[]).is_empty());
    }
}
