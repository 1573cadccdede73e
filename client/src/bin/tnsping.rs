//! `tnsping IDENTIFIER [COUNT]`: resolves the identifier (literal descriptor, tnsnames alias,
//! Easy Connect), prints which adapter resolved it, then pings the listener COUNT times and
//! prints `OK (N msec)` per attempt, or the TNS error (exit status 1).
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use client::tnsping;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = String::new();
    out.push_str(&format!(
        "\nTNS Ping Utility for Linux: Version 19.0.0.0.0 - Production on {}\n\nCopyright (c) 1997, 2026, orasim.  All rights reserved.\n\n",
        tnsping::oracle_now()
    ));
    let code = run(&args, &mut out);
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.as_bytes()).and_then(|_| so.flush());
    code
}

fn run(args: &[String], out: &mut String) -> ExitCode {
    let Some(ident) = args.first() else {
        out.push_str("Usage: tnsping <address> [<count>]\n");
        return ExitCode::FAILURE;
    };
    if matches!(ident.as_str(), "-h" | "--help" | "-help") {
        out.push_str(
            "Usage: tnsping <address> [<count>]\n\n\
             <address>  a tnsnames.ora alias, an Easy Connect string (host[:port][/service])\n\
             \x20          or a connect descriptor\n\
             <count>    how many times to ping (default 1)\n",
        );
        return ExitCode::SUCCESS;
    }
    let count: u32 = match args.get(1).map(|c| c.parse()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            out.push_str("Usage: tnsping <address> [<count>]\n");
            return ExitCode::FAILURE;
        }
    };
    let resolved = match tnsping::resolve(ident) {
        Ok(r) => r,
        Err(e) => {
            out.push_str(&format!("{e}\n"));
            return ExitCode::FAILURE;
        }
    };
    let mut attempts = Vec::new();
    for _ in 0..count {
        let attempt = tnsping::ping_descriptor_addresses(
            &resolved.descriptor,
            ident,
            Duration::from_secs(20),
        );
        let failed = attempt.is_err();
        attempts.push(attempt);
        if failed {
            break;
        }
    }
    let ok = attempts.iter().all(Result::is_ok);
    out.push_str(&tnsping::render_report(&tnsping::PingReport {
        files: resolved.files,
        adapter: resolved.adapter,
        contact: resolved.contact,
        attempts,
    }));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
