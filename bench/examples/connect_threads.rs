//! Where a connect cycle's server CPU goes, thread by thread: starts the bench stack, runs
//! N connect cycles of one orasim mode, and prints each server thread's CPU (schedstat run
//! time, ns) per cycle, grouped by process and thread name.
//!
//! Each thread's line also shows the user and system parts (from `/proc/<pid>/task/<tid>/stat`,
//! clock ticks, so meaningful over a thousand cycles or more).
//!
//! `cargo run --release -p bench --example connect_threads -- shared 2000 [pause]`
//! (`CLIENTS=k` in the environment: k client threads share the cycles)
//! (`pause`: print the pids and wait for a line on stdin before the cycles, to attach strace).

use std::collections::BTreeMap;
use std::time::Instant;

use bench::proctree::tree;
use bench::run::{Mode, orasim_target};
use bench::stack::{OrasimStack, StackOptions};
use bench::target::{CLIENT_TIMEOUT, Target};

/// Per thread: its name, schedstat run time (ns), and user and system time (ns) from its stat.
type ThreadCpu = (String, u64, u64, u64);

fn threads(roots: &[u32]) -> BTreeMap<(u32, u32), ThreadCpu> {
    // USER_HZ, the unit of /proc's times: 100 on every Linux architecture tnsbench runs on.
    let tick_ns = 10_000_000u64;
    let mut out = BTreeMap::new();
    for pid in tree(roots) {
        let pname = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tid: u32 = t.file_name().to_string_lossy().parse().unwrap_or(0);
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            let ns = std::fs::read_to_string(t.path().join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0);
            // Fields 14 and 15 (utime, stime), counted after the parenthesised command name.
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
            let after_comm = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let field = |i: usize| {
                after_comm
                    .split_whitespace()
                    .nth(i)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    * tick_ns
            };
            out.insert(
                (pid, tid),
                (
                    format!("{}/{}", pname.trim(), comm.trim()),
                    ns,
                    field(11),
                    field(12),
                ),
            );
        }
    }
    out
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = match args.get(1).map(String::as_str) {
        Some("pooled") => Mode::Pooled,
        Some("dedicated") => Mode::Dedicated,
        _ => Mode::Shared,
    };
    let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let exe = std::env::current_exe()?;
    let bin_dir = std::env::var_os("BIN_DIR").map_or_else(
        || exe.parent().and_then(|p| p.parent()).unwrap().to_path_buf(),
        std::path::PathBuf::from,
    );
    let stack = OrasimStack::start(StackOptions {
        bin_dir,
        processes: 1600,
        sessions: 11000,
        dispatchers: (2, 5300),
        shared_servers: 2,
        prespawn: 0,
        call_timeout: CLIENT_TIMEOUT,
    })?;
    if mode == Mode::Pooled {
        stack.start_pool(300).map_err(anyhow::Error::msg)?;
    }
    let target = orasim_target(&stack, mode);
    for _ in 0..50 {
        target.cycle().map_err(anyhow::Error::msg)?;
    }
    let roots = stack.roots();
    if args.get(3).map(String::as_str) == Some("pause") {
        println!("roots {roots:?} instance {:?}", stack.instance_pid());
        for ((pid, tid), (name, ..)) in threads(&roots) {
            println!("  {pid} {tid} {name}");
        }
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
    }
    let before = threads(&roots);
    // CLIENTS=k: k threads share the N cycles, as the concurrent points of tnsbench do.
    let clients: u32 = std::env::var("CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut lat = std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|k| {
                let target = &target;
                s.spawn(move || {
                    let mine = n / clients + u32::from(k < n % clients);
                    let mut lat = Vec::with_capacity(mine as usize);
                    for _ in 0..mine {
                        let t = Instant::now();
                        target.cycle()?;
                        lat.push(t.elapsed());
                    }
                    Ok::<_, String>(lat)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n as usize);
        for w in workers {
            all.extend(
                w.join()
                    .map_err(|_| anyhow::anyhow!("a client panicked"))?
                    .map_err(anyhow::Error::msg)?,
            );
        }
        anyhow::Ok(all)
    })?;
    let after = threads(&roots);
    lat.sort();
    let mut by_name: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (k, (name, ns, user, sys)) in &after {
        let (b, bu, bs) = before.get(k).map_or((0, 0, 0), |(_, b, u, s)| (*b, *u, *s));
        let e = by_name.entry(name.clone()).or_default();
        e[0] += ns.saturating_sub(b);
        e[1] += user.saturating_sub(bu);
        e[2] += sys.saturating_sub(bs);
    }
    let total: u64 = by_name.values().map(|v| v[0]).sum();
    println!(
        "{mode:?}: {n} cycles, p50 {:.3} ms, server CPU (live threads) {:.1} µs/connect",
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        total as f64 / 1e3 / f64::from(n)
    );
    let per = |ns: u64| ns as f64 / 1e3 / f64::from(n);
    println!(
        "  {:40} {:>8} {:>8} {:>8}",
        "thread", "run µs", "user", "system"
    );
    for (name, [ns, user, sys]) in by_name {
        if ns > 0 {
            println!(
                "  {name:40} {:8.1} {:8.1} {:8.1}",
                per(ns),
                per(user),
                per(sys)
            );
        }
    }
    Ok(())
}
