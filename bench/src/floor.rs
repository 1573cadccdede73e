//! The floor: what the protocol alone costs on this machine. A separate process (tnsbench
//! itself run as `tnsbench --floor-server SCRIPT`) answers exactly the round trips of an
//! orasim connect cycle with exactly its byte counts — captured on the wire from a real
//! orasim cycle — with no crypto, no SQL and no process per connection (one thread each).
//! Every orasim row is also shown as a ratio to it.
//!
//! Framing: the client sends each request's byte count; the server reads that many and
//! answers the recorded count. After the login steps, the first byte of a request says what
//! it is (`C` a call, `O` the logoff), so calls can repeat before the logoff.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thiserror::Error;

use crate::turns::Step;

/// Socket timeouts on both sides.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Tag of a call request.
const CALL: u8 = b'C';
/// Tag of the logoff request.
const LOGOFF: u8 = b'O';

/// Errors of the floor.
#[derive(Debug, Error)]
pub enum FloorError {
    /// The script text is not `login=a:b,..;call=a:b;logoff=a:b`.
    #[error("bad floor script {0:?}")]
    Script(String),
    /// The captured cycle did not have login + call + logoff round trips.
    #[error("the captured orasim cycle has {0} round trips; expected at least 3")]
    Shape(usize),
    /// Starting or reaching the floor process failed.
    #[error("floor process: {0}")]
    Process(String),
}

/// Byte counts of one round trip: request, answer.
pub type Exchange = (u32, u32);

/// The round trips the floor replays.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FloorScript {
    /// Connect and login (TNS CONNECT/ACCEPT, negotiations, O5LOGON phases).
    pub login: Vec<Exchange>,
    /// One `select 1 from dual`.
    pub call: Exchange,
    /// LOGOFF.
    pub logoff: Exchange,
}

impl FloorScript {
    /// From the steps of a relayed `connect, login, one call, logoff` cycle.
    pub fn from_steps(steps: &[Step]) -> Result<FloorScript, FloorError> {
        if steps.len() < 3 {
            return Err(FloorError::Shape(steps.len()));
        }
        let ex = |s: &Step| {
            (
                u32::try_from(s.request_bytes.max(1)).unwrap_or(u32::MAX),
                u32::try_from(s.answer_bytes.max(1)).unwrap_or(u32::MAX),
            )
        };
        let n = steps.len();
        Ok(FloorScript {
            login: steps[..n - 2].iter().map(ex).collect(),
            call: ex(&steps[n - 2]),
            logoff: ex(&steps[n - 1]),
        })
    }

    /// `login=a:b,c:d;call=e:f;logoff=g:h`.
    pub fn encode(&self) -> String {
        let ex = |e: &Exchange| format!("{}:{}", e.0, e.1);
        format!(
            "login={};call={};logoff={}",
            self.login.iter().map(ex).collect::<Vec<_>>().join(","),
            ex(&self.call),
            ex(&self.logoff)
        )
    }

    /// Parses [`FloorScript::encode`]'s text.
    pub fn parse(text: &str) -> Result<FloorScript, FloorError> {
        let bad = || FloorError::Script(text.to_string());
        let ex = |t: &str| -> Result<Exchange, FloorError> {
            let (a, b) = t.split_once(':').ok_or_else(bad)?;
            let (a, b) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if a == 0 || b == 0 {
                return Err(bad());
            }
            Ok((a, b))
        };
        let mut login = None;
        let mut call = None;
        let mut logoff = None;
        for part in text.split(';') {
            let (k, v) = part.split_once('=').ok_or_else(bad)?;
            match k.trim() {
                "login" => {
                    login = Some(
                        v.split(',')
                            .filter(|s| !s.trim().is_empty())
                            .map(ex)
                            .collect::<Result<Vec<_>, _>>()?,
                    )
                }
                "call" => call = Some(ex(v)?),
                "logoff" => logoff = Some(ex(v)?),
                _ => return Err(bad()),
            }
        }
        Ok(FloorScript {
            login: login.filter(|l| !l.is_empty()).ok_or_else(bad)?,
            call: call.ok_or_else(bad)?,
            logoff: logoff.ok_or_else(bad)?,
        })
    }
}

/// `tnsbench --floor-server SCRIPT`: binds 127.0.0.1:0, prints `PORT=n`, serves each
/// connection on its own thread until stdin closes (tnsbench went away).
pub fn serve(script: FloorScript) -> Result<(), FloorError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| FloorError::Process(e.to_string()))?;
    let port = l
        .local_addr()
        .map_err(|e| FloorError::Process(e.to_string()))?
        .port();
    println!("PORT={port}");
    let _ = std::io::stdout().flush();
    // Exit when the parent's end of stdin closes, even if it died without killing us.
    std::thread::spawn(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
        std::process::exit(0);
    });
    for s in l.incoming() {
        let Ok(s) = s else { continue };
        let script = script.clone();
        std::thread::spawn(move || {
            let _ = serve_one(s, &script);
        });
    }
    Ok(())
}

fn serve_one(mut s: TcpStream, script: &FloorScript) -> std::io::Result<()> {
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.set_nodelay(true)?;
    let mut buf = vec![0u8; 64 * 1024];
    let answer = |s: &mut TcpStream, n: u32| s.write_all(&vec![0x5a; n as usize]);
    for &(req, resp) in &script.login {
        read_n(&mut s, &mut buf, req)?;
        answer(&mut s, resp)?;
    }
    loop {
        let mut tag = [0u8; 1];
        if s.read(&mut tag)? == 0 {
            return Ok(());
        }
        let (req, resp) = match tag[0] {
            CALL => script.call,
            LOGOFF => script.logoff,
            _ => return Ok(()),
        };
        read_n(&mut s, &mut buf, req - 1)?;
        answer(&mut s, resp)?;
        if tag[0] == LOGOFF {
            return Ok(());
        }
    }
}

fn read_n(s: &mut TcpStream, buf: &mut [u8], mut n: u32) -> std::io::Result<()> {
    while n > 0 {
        let want = (n as usize).min(buf.len());
        s.read_exact(&mut buf[..want])?;
        n -= want as u32;
    }
    Ok(())
}

/// The floor process, killed when dropped.
#[derive(Debug)]
pub struct FloorServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// What it replays.
    pub script: FloorScript,
}

impl FloorServer {
    /// Starts `exe --floor-server SCRIPT` and reads its port.
    pub fn start(exe: &std::path::Path, script: FloorScript) -> Result<FloorServer, FloorError> {
        let mut child = Command::new(exe)
            .arg("--floor-server")
            .arg(script.encode())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| FloorError::Process(format!("{}: {e}", exe.display())))?;
        let line = child.stdout.take().and_then(|out| {
            let mut l = String::new();
            BufReader::new(out).read_line(&mut l).ok().map(|_| l)
        });
        let port = line
            .as_deref()
            .and_then(|l| l.trim().strip_prefix("PORT="))
            .and_then(|p| p.parse().ok());
        match port {
            Some(port) => Ok(FloorServer {
                child,
                port,
                script,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(FloorError::Process(format!(
                    "no PORT= line from the floor process ({line:?})"
                )))
            }
        }
    }

    /// Pid of the floor process.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client session of the floor.
#[derive(Debug)]
pub struct FloorSession {
    s: TcpStream,
    script: FloorScript,
    buf: Vec<u8>,
}

impl FloorSession {
    /// Connects and replays the login round trips.
    pub fn open(port: u16, script: &FloorScript) -> std::io::Result<FloorSession> {
        let s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), IO_TIMEOUT)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        s.set_nodelay(true)?;
        let mut me = FloorSession {
            s,
            script: script.clone(),
            buf: vec![0u8; 64 * 1024],
        };
        for (req, resp) in me.script.login.clone() {
            me.exchange(None, req, resp)?;
        }
        Ok(me)
    }

    fn exchange(&mut self, tag: Option<u8>, req: u32, resp: u32) -> std::io::Result<()> {
        let mut msg = vec![0xa5; req as usize];
        if let (Some(t), Some(first)) = (tag, msg.first_mut()) {
            *first = t;
        }
        self.s.write_all(&msg)?;
        read_n(&mut self.s, &mut self.buf, resp)
    }

    /// One call round trip.
    pub fn call(&mut self) -> std::io::Result<()> {
        let (req, resp) = self.script.call;
        self.exchange(Some(CALL), req, resp)
    }

    /// The logoff round trip, then close.
    pub fn close(mut self) -> std::io::Result<()> {
        let (req, resp) = self.script.logoff;
        self.exchange(Some(LOGOFF), req, resp)?;
        let _ = self.s.shutdown(Shutdown::Both);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script() -> FloorScript {
        FloorScript {
            login: vec![(230, 40), (40, 150), (300, 1900), (420, 330), (900, 1800)],
            call: (120, 260),
            logoff: (30, 40),
        }
    }

    #[test]
    fn script_round_trips_through_text() {
        let s = script();
        assert_eq!(FloorScript::parse(&s.encode()).expect("parse"), s);
        for bad in [
            "",
            "login=;call=1:1;logoff=1:1",
            "login=1:0;call=1:1;logoff=1:1",
            "x=1",
        ] {
            assert!(FloorScript::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn from_steps_splits_login_call_and_logoff() {
        let st = |req, ans| Step {
            client: Duration::ZERO,
            server: Duration::ZERO,
            request_bytes: req,
            answer_bytes: ans,
        };
        let s = FloorScript::from_steps(&[st(1, 2), st(3, 4), st(5, 6), st(7, 8)]).expect("ok");
        assert_eq!(s.login, [(1, 2), (3, 4)]);
        assert_eq!((s.call, s.logoff), ((5, 6), (7, 8)));
        assert!(FloorScript::from_steps(&[st(1, 1), st(1, 1)]).is_err());
    }

    #[test]
    fn sessions_replay_the_script_with_its_byte_counts() {
        // The server side in-process here; the floor process runs the same `serve_one`.
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let sc = script();
        let sc2 = sc.clone();
        std::thread::spawn(move || {
            for s in l.incoming().take(2) {
                let _ = serve_one(s.expect("accept"), &sc2);
            }
        });
        let relayed = crate::turns::relay_cycle(port, |p| {
            let mut f = FloorSession::open(p, &sc).map_err(|e| e.to_string())?;
            f.call().map_err(|e| e.to_string())?;
            f.close().map_err(|e| e.to_string())
        })
        .expect("relayed");
        let steps = crate::turns::steps(&relayed);
        assert_eq!(FloorScript::from_steps(&steps).expect("shape"), sc);
        let mut f = FloorSession::open(port, &sc).expect("open");
        for _ in 0..3 {
            f.call().expect("call");
        }
        f.close().expect("close");
    }
}
