//! A DRCP pooled server (Lnnn): a process of its own, forked by the listener's spawner at
//! the broker's request, that keeps one session between the clients the broker gives it.
//!
//! It says hello on its channel to the broker, gets its name, and then serves one client at
//! a time: a new one from its CONNECT (negotiation and login: the login reuses the held
//! session or replaces it), or an authenticated one from its next call (no login). It talks
//! to the client directly, with the dedicated server's loop (and its SQLNET.RECV_TIMEOUT
//! and SEND_TIMEOUT, written to the alert log as a dedicated server writes them), until the
//! client's one-way SESSION_RELEASE, which gets no answer: then the socket and whatever the
//! client sent after the release go back to the broker. When the client's connection ends
//! instead, the session ends with it (a client that timed out leaves this server in the
//! pool); a session ended from outside (killed, also while it is parked here
//! between clients, or IMMEDIATE: SIGTERM) ends the process, and the broker counts it
//! purged and starts another.

use std::net::TcpStream;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use engine::{ServerConn, Session, SessionConfig, SessionEnd, SessionRunner};

use super::wire::{self, ClientState, HeldSession, Limits, ToBroker, ToServer};
use crate::dedicated::{ClientTimeouts, Served, log_client_timeout, serve};
use crate::driver;
use crate::handoff::HandoffMeta;
use crate::pwfile::PasswordFileCredentials;
use crate::sga::hooks::SgaInstance;

/// Largest SDU a pooled server agrees to.
const MAX_SDU: u32 = 65535;
/// How often a parked server (a session, no client) looks whether its session was killed.
const PARKED_KILL_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

/// Runs a pooled server on its channel to the broker until the broker goes away; returns
/// the exit code. `set_title` names the process once the broker has named the server.
pub fn run(chan: OwnedFd, sid: &str, oracle_home: &Path, set_title: &dyn Fn(&str)) -> i32 {
    // The sessions run on this process's main thread.
    crate::driver::ensure_session_stack();
    let pid = i32::try_from(std::process::id()).unwrap_or(0);
    if wire::send(chan.as_fd(), &ToBroker::Hello { pid }, &[], None).is_err() {
        return 1;
    }
    let Ok(Some((ToServer::Welcome { name }, _, _))) = wire::recv::<ToServer>(chan.as_fd()) else {
        return 1;
    };
    set_title(&format!("ora_{}_{sid}", name.to_ascii_lowercase()));
    let mut instance = SgaInstance::attach_pooled(oracle_home, sid, &name);
    match chan.try_clone() {
        Ok(claims) => {
            instance = instance
                .with_pool_claim(Box::new(move |user, cclass| claim(&claims, user, cclass)));
        }
        Err(e) => tracing::warn!("{name}: logins stay on this server: {e}"),
    }
    let instance = Arc::new(instance);
    let creds = Arc::new(PasswordFileCredentials::new(oracle_home, sid));
    let inbound = driver::inbound_connect_timeout(oracle_home);
    let timeouts = ClientTimeouts::of_home(oracle_home);
    let mut held: Option<Box<SessionRunner>> = None;
    loop {
        if let Some(runner) = &held
            && !wait_parked(&chan, runner, &instance)
        {
            // Killed (or the instance went away) while no client was attached: the session
            // ends with this server; the broker counts it purged and starts another.
            tracing::info!("{name}: its pooled session was ended while parked; leaving");
            return 0;
        }
        let (msg, bytes, fd) = match wire::recv::<ToServer>(chan.as_fd()) {
            Ok(Some(m)) => m,
            Ok(None) => return 0,
            Err(e) => {
                tracing::warn!("{name}: {e}");
                return 1;
            }
        };
        let Some(fd) = fd else { continue };
        let mut stream = TcpStream::from(fd);
        if stream.set_nonblocking(false).is_err() {
            continue;
        }
        let _ = stream.set_nodelay(true);
        let meta = match &msg {
            ToServer::Connect { meta, .. } | ToServer::Resume { meta, .. } => (**meta).clone(),
            ToServer::Welcome { .. } | ToServer::Claimed { .. } => continue,
        };
        let mut runner = match held.take() {
            Some(r) => r,
            None => Box::new(new_runner(&meta, &instance, &creds)),
        };
        let now = Instant::now();
        if let Some(l) = limits(&msg) {
            let session = runner.session_mut();
            session.set_now(driver::wall_clock().wall);
            session.set_pool_limits(
                l.max_use_session,
                std::time::Duration::from_secs(u64::from(l.max_lifetime_session)),
            );
        }
        let mut conn = match &msg {
            ToServer::Resume { client, .. } => {
                if let Err(e) = runner.session_mut().resume_client(&client.identity()) {
                    // No session for the client (SESSIONS exhausted, instance going down):
                    // the connection closes, as a failed login's would.
                    tracing::warn!("{name}: {}", e.text());
                    let _ = wire::send(chan.as_fd(), &ToBroker::Ended { held: None }, &[], None);
                    continue;
                }
                let mut c = ServerConn::resumed(*runner, client.framing(), MAX_SDU);
                c.handle_bytes(now, &bytes);
                c
            }
            ToServer::Connect { client, .. } => {
                runner.session_mut().begin_connection(*client);
                let mut c = ServerConn::new(*runner, MAX_SDU);
                if let Some(t) = inbound {
                    c.set_login_deadline(now + t);
                }
                c.handle_bytes(now, &bytes);
                c
            }
            ToServer::Welcome { .. } | ToServer::Claimed { .. } => continue,
        };
        if let Err(e) = timeouts.apply(&stream, &mut conn) {
            tracing::warn!("{name}: {e}");
        }
        let outcome = serve(&mut stream, &mut conn, think_time(&msg));
        log_client_timeout(oracle_home, sid, &outcome, &conn);
        match outcome {
            Ok(Served::Released) => {
                let Some(rel) = conn.into_released() else {
                    return 1;
                };
                let session = rel.runner.session();
                let client = (!rel.deauthenticate)
                    .then(|| session.client_identity())
                    .flatten()
                    .map(|id| Box::new(ClientState::new(&id, rel.framing)));
                let now_held = held_session(session);
                let msg = ToBroker::Released {
                    client,
                    held: now_held,
                };
                let sent = wire::send(chan.as_fd(), &msg, &rel.leftover, Some(stream.as_fd()));
                if sent.is_err() {
                    return 1;
                }
                held = Some(rel.runner);
            }
            Ok(Served::Ended(end)) => {
                // The connection ended without a release: its session ends with it (the
                // runner and its session are dropped, freeing the slot). A client that
                // timed out (SQLNET.RECV_TIMEOUT, INBOUND_CONNECT_TIMEOUT) says nothing
                // about this server, which stays in the pool.
                let client_timed_out = matches!(
                    conn.error(),
                    Some(
                        engine::conn::ConnError::RecvTimeout
                            | engine::conn::ConnError::LoginTimeout
                    )
                );
                drop(conn);
                let _ = wire::send(chan.as_fd(), &ToBroker::Ended { held: None }, &[], None);
                if end == SessionEnd::Closed && !client_timed_out {
                    // Killed, shut down or a protocol error: this server leaves, the broker
                    // starts another when the pool needs it.
                    return 0;
                }
            }
            Err(e) => {
                if e.is_timeout() {
                    // MAX_THINK_TIME: the client held the server without a call; its
                    // connection is closed and the server goes back to the pool.
                    tracing::info!("{name}: client idle for MAX_THINK_TIME, disconnected");
                    if let Some(sga) = instance.attachment().sga() {
                        sga.cpool_count(None, crate::sga::cpool::CpoolEvent::ThinkTimeout);
                    }
                } else {
                    tracing::warn!("{name}: {e}");
                }
                drop(conn);
                let _ = wire::send(chan.as_fd(), &ToBroker::Ended { held: None }, &[], None);
            }
        }
    }
}

/// How long a login waits for the broker's answer to a claim before it is served here.
const CLAIM_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Asks the broker for a free pooled server holding a session of `user` and `cclass`
/// (kept for the client being served now); its session's slot, or `None` (also when the
/// broker does not answer in [`CLAIM_PATIENCE`]: a late answer is ignored by the loop).
fn claim(chan: &OwnedFd, user: &str, cclass: &str) -> Option<engine::SessionSlot> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let ask = ToBroker::Claim {
        user: user.to_owned(),
        cclass: cclass.to_owned(),
    };
    wire::send(chan.as_fd(), &ask, &[], None).ok()?;
    let patience = PollTimeout::try_from(CLAIM_PATIENCE).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(chan.as_fd(), PollFlags::POLLIN)];
    if poll(&mut fds, patience).ok()? == 0 {
        return None;
    }
    match wire::recv::<ToServer>(chan.as_fd()) {
        Ok(Some((ToServer::Claimed { session }, _, _))) => {
            session.map(|(sid, serial)| engine::SessionSlot { sid, serial })
        }
        _ => None,
    }
}

/// Waits until the broker has a message for a server that holds a session and no client;
/// false when the session was ended from outside meanwhile (`ALTER SYSTEM KILL SESSION`,
/// an instance shutdown), checked every [`PARKED_KILL_CHECK`].
fn wait_parked(chan: &OwnedFd, runner: &SessionRunner, instance: &SgaInstance) -> bool {
    use engine::InstanceHooks;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let Some((_, _, slot)) = runner.session().pooled_session() else {
        return true;
    };
    let every = PollTimeout::try_from(PARKED_KILL_CHECK).unwrap_or(PollTimeout::MAX);
    loop {
        let mut fds = [PollFd::new(chan.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, every) {
            Ok(0) | Err(nix::Error::EINTR) => {}
            // A message, the broker gone or a failing poll: the receive tells which.
            _ => return true,
        }
        if instance.is_killed(slot) {
            return false;
        }
    }
}

/// The pool's limits the broker sent with a client.
fn limits(msg: &ToServer) -> Option<Limits> {
    match msg {
        ToServer::Connect { limits, .. } | ToServer::Resume { limits, .. } => Some(*limits),
        ToServer::Welcome { .. } | ToServer::Claimed { .. } => None,
    }
}

/// MAX_THINK_TIME: how long the client may hold the server without a call.
fn think_time(msg: &ToServer) -> Option<std::time::Duration> {
    limits(msg)
        .filter(|l| l.max_think_time > 0)
        .map(|l| std::time::Duration::from_secs(u64::from(l.max_think_time)))
}

fn held_session(session: &Session) -> Option<HeldSession> {
    session
        .pooled_session()
        .map(|(user, cclass, slot)| HeldSession {
            user,
            cclass,
            sid: slot.sid,
            serial: slot.serial,
        })
}

fn new_runner(
    meta: &HandoffMeta,
    instance: &Arc<SgaInstance>,
    creds: &Arc<PasswordFileCredentials>,
) -> SessionRunner {
    let cfg = SessionConfig {
        service_name: meta
            .global_dbname
            .clone()
            .unwrap_or_else(|| meta.service.clone()),
        db_domain: String::new(),
        server_host: crate::instance::host_name(),
        max_open_cursors: 300,
    };
    let instance: Arc<dyn engine::InstanceHooks> = instance.clone();
    let creds: Arc<dyn engine::Credentials> = creds.clone();
    let mut session = Session::new(cfg, creds, instance, driver::os_random());
    session.set_pooled();
    SessionRunner::new(session, driver::wall_clock())
}
