//! Where a connect cycle's time goes, seen from the client: starts the bench stack (the
//! instance sized as tnsbench sizes it), runs N connect cycles (connect, login, `select 1
//! from dual`, logoff) of one service through a link that timestamps every read and write,
//! and prints, per round trip, the median time the client spent before sending and the
//! median wait for the server's answer. Then the minor faults and CPU per connect of the
//! server processes the spawner forked (its `cminflt`, `cutime` and `cstime`: they count
//! once a child has exited and been reaped, so the last few cycles' may be missing).
//!
//! `cargo run --release -p bench --example connect_timeline -- [N] [SERVICE] [SERVER] [PRESPAWN]`
//! (default 300 cycles of `BENCH` with `SERVER=DEDICATED`, 8 prespawned servers;
//! `BENCH_PRE` is the prespawned service, `SHARED` a dispatcher). `BIN=dir` takes tnslsnr,
//! lsnrctl and oradb from `dir` (default: next to this program's `target/release`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bench::stack::{OrasimStack, PASSWORD, StackOptions, USER};
use client::Connection;
use client::transport::Link;

/// Reads and writes of one connection, timestamped.
type Events = Arc<Mutex<Vec<(Instant, Event)>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Read,
    Write,
}

/// A TCP link that records when each read returned and each write began.
#[derive(Debug)]
struct TimedLink {
    stream: TcpStream,
    events: Events,
}

impl TimedLink {
    fn note(&self, e: Event) {
        if let Ok(mut v) = self.events.lock() {
            v.push((Instant::now(), e));
        }
    }
}

impl Link for TimedLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = Read::read(&mut self.stream, buf)?;
        self.note(Event::Read);
        Ok(n)
    }
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.note(Event::Write);
        Write::write_all(&mut self.stream, bytes)
    }
    fn set_read_timeout(&mut self, t: Duration) -> std::io::Result<()> {
        self.stream.set_read_timeout(Some(t))
    }
    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Per round trip: (client time before its request, wait for the answer), in ms. A round
/// trip is a run of writes followed by a run of reads.
fn round_trips(start: Instant, events: &[(Instant, Event)]) -> Vec<(f64, f64)> {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut out = Vec::new();
    let mut last_answer = start;
    let mut i = 0;
    while i < events.len() {
        let first_write = events[i].0;
        let mut last_write = first_write;
        while i < events.len() && events[i].1 == Event::Write {
            last_write = events[i].0;
            i += 1;
        }
        let mut last_read = last_write;
        while i < events.len() && events[i].1 == Event::Read {
            last_read = events[i].0;
            i += 1;
        }
        out.push((ms(first_write - last_answer), ms(last_read - last_write)));
        last_answer = last_read;
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Fields of `/proc/PID/stat` after the command name.
fn stat(pid: u32) -> Vec<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = text.rfind(')').map_or("", |i| &text[i + 2..]);
    rest.split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let service = args.get(2).map_or("BENCH", String::as_str);
    let server = args.get(3).map_or("DEDICATED", String::as_str);
    let prespawn: u32 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(8);
    let bin_dir = std::env::var("BIN").unwrap_or_else(|_| "target/release".into());
    let stack = OrasimStack::start(StackOptions {
        bin_dir: bin_dir.into(),
        processes: 1600,
        sessions: 11_000,
        dispatchers: (1, 0),
        shared_servers: 2,
        prespawn,
        call_timeout: Duration::from_secs(10),
    })
    .expect("bench stack");
    let opts = stack.connect_options();
    let descriptor = format!(
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT={}))\
         (CONNECT_DATA=(SERVICE_NAME={service})(SERVER={server})))",
        stack.port
    );
    let spawner = stack.spawner_pid().expect("spawner");
    let warm_up = 20;
    let mut turns: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cycles = Vec::new();
    let mut before = Vec::new();
    for i in 0..warm_up + n {
        if i == warm_up {
            before = stat(spawner);
        }
        let events: Events = Arc::default();
        let start = Instant::now();
        let stream = TcpStream::connect(("127.0.0.1", stack.port)).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let link = TimedLink {
            stream,
            events: events.clone(),
        };
        let mut c = Connection::connect_over(Box::new(link), &descriptor, USER, PASSWORD, &opts)
            .expect("login");
        c.query("select 1 from dual").expect("select 1");
        c.close().expect("logoff");
        let end = Instant::now();
        if i < warm_up {
            continue;
        }
        cycles.push((end - start).as_secs_f64() * 1e3);
        let events = events.lock().expect("events").clone();
        for (k, rt) in round_trips(start, &events).into_iter().enumerate() {
            if turns.len() <= k {
                turns.push(Vec::new());
            }
            turns[k].push(rt);
        }
    }
    let after = stat(spawner);
    // After the command name: minflt is field 7, cminflt 8, utime 11, stime 12, cutime 13,
    // cstime 14 (clock ticks of 10 ms).
    let per = |k: usize| after[k].saturating_sub(before[k]) as f64 / n as f64;
    println!(
        "{n} cycles of {service} (SERVER={server}): p50 {:.3} ms",
        median(cycles)
    );
    println!("round trip  client before (ms)  wait for the answer (ms)");
    for (k, t) in turns.iter().enumerate() {
        println!(
            "{k:>10}  {:>18.3}  {:>24.3}",
            median(t.iter().map(|x| x.0).collect()),
            median(t.iter().map(|x| x.1).collect())
        );
    }
    println!(
        "per connect: server processes {:.0} minor faults, {:.0} us CPU; spawner {:.0} minor \
         faults, {:.0} us CPU",
        per(8),
        (per(13) + per(14)) * 10_000.0,
        per(7),
        (per(11) + per(12)) * 10_000.0
    );
}
