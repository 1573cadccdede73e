//! `lsnrctl`: the Listener Control utility. `start [NAME]` launches `tnslsnr` in the
//! background and waits until it answers; `stop`, `status`, `services`, `reload`, `version`,
//! `set <param> <value>` and `show <param>` talk to a running listener over its admin socket
//! and print Oracle's layouts; bare `set` / `show` list their parameters. Without a command
//! it reads commands at an `LSNRCTL>` prompt; `lsnrctl @file` runs the file's commands
//! (lines starting with `REM` or `#` are comments), as Oracle's batch mode does.

use std::io::{BufRead, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use clap::Parser;
use listener::admin::{self, AdminError, AdminRequest, AdminResponse};
use listener::home::OracleHome;
use listener::oratime::format_timestamp;
use listener::report::{self, VERSION};
use listener::settings::{self, ListenerSettings};
use listener::tnserr::TnsCode;
use tns::error_text::tns_line_with;

/// Listener Control utility.
#[derive(Debug, Parser)]
#[command(name = "lsnrctl", version, disable_help_subcommand = true)]
struct Args {
    /// ORACLE_HOME (default: the ORACLE_HOME environment variable).
    #[arg(long)]
    home: Option<PathBuf>,
    /// Command and its arguments, e.g. `status`, `start LISTENER2`, `set trc_level admin`.
    command: Vec<String>,
}

struct Ctl {
    home: OracleHome,
    current: String,
    /// `set displaymode` (RAW, COMPACT, NORMAL, VERBOSE): kept by lsnrctl itself.
    displaymode: String,
    /// `set rawmode`: kept by lsnrctl itself.
    rawmode: bool,
    out: String,
}

/// What lsnrctl itself keeps (the rest belongs to the listener): name, settable.
const LOCAL_PARAMETERS: &[(&str, bool)] = &[
    ("rawmode", true),
    ("displaymode", true),
    ("current_listener", true),
];

/// The parameters in the order lsnrctl 19c lists them after a bare `show` (Oracle Database
/// Net Services Reference, "Listener Control Utility", SHOW); those orasim does not have
/// (`rules`, `snmp_visible`, `enable_global_dynamic_endpoint`, `oracle_home`, `pid`,
/// `connection_rate_limit`, `valid_node_checking_registration`, `registration_invited_nodes`,
/// `registration_excluded_nodes`, `remote_registration_address`) are left out.
const ORACLE_ORDER: &[&str] = &[
    "rawmode",
    "displaymode",
    "trc_file",
    "trc_directory",
    "trc_level",
    "log_file",
    "log_directory",
    "log_status",
    "current_listener",
    "inbound_connect_timeout",
    "startup_waittime",
    "save_config_on_stop",
    "dynamic_registration",
];

/// Bare `set` / `show`: the parameters in Oracle's order, two to a line, each name in a
/// 37-column field, as lsnrctl lists them.
fn parameter_list(verb: &str) -> String {
    let known: Vec<(&str, bool)> = LOCAL_PARAMETERS
        .iter()
        .chain(listener::control::LISTENER_PARAMETERS)
        .copied()
        .collect();
    let names: Vec<&str> = ORACLE_ORDER
        .iter()
        .copied()
        .filter(|name| {
            known
                .iter()
                .any(|(k, settable)| k == name && (verb == "show" || *settable))
        })
        .collect();
    let mut out = format!(
        "The following operations are available after {verb}\n\
         An asterisk (*) denotes a modifier or extended command:\n\n"
    );
    for pair in names.chunks(2) {
        for name in pair {
            out.push_str(&format!("{name:<37}"));
        }
        out.push('\n');
    }
    out
}

/// The commands of a batch file: blank lines and `REM` / `#` comments left out.
fn batch_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            let first = l.split_whitespace().next().unwrap_or("");
            !l.is_empty() && !l.starts_with('#') && !first.eq_ignore_ascii_case("rem")
        })
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

const OK: &str = "The command completed successfully";

fn main() -> ExitCode {
    let args = Args::parse();
    let home = match OracleHome::resolve(args.home.as_deref()) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut ctl = Ctl {
        home,
        current: "LISTENER".to_string(),
        displaymode: "NORMAL".to_string(),
        rawmode: false,
        out: String::new(),
    };
    let mut ok = true;
    ctl.out.push_str(&banner());
    if args.command.is_empty() {
        flush(&mut ctl.out);
        let stdin = std::io::stdin();
        loop {
            print!("LSNRCTL> ");
            let _ = std::io::stdout().flush();
            let mut line = String::new();
            match stdin.lock().read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            if matches!(
                words.first().map(|w| w.to_ascii_lowercase()).as_deref(),
                Some("exit" | "quit")
            ) {
                break;
            }
            if !words.is_empty() {
                ok = ctl.run(&words);
                flush(&mut ctl.out);
            }
        }
    } else if let Some(file) = args.command[0].strip_prefix('@') {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                ctl.line(&format!("lsnrctl: cannot read {file}: {e}"));
                flush(&mut ctl.out);
                return ExitCode::FAILURE;
            }
        };
        for words in batch_commands(&text) {
            if matches!(words[0].to_ascii_lowercase().as_str(), "exit" | "quit") {
                break;
            }
            ok &= ctl.run(&words);
            flush(&mut ctl.out);
        }
    } else {
        ok = ctl.run(&args.command);
        flush(&mut ctl.out);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Writes and clears the buffer; a closed stdout (`lsnrctl status | head`) is not an error.
fn flush(out: &mut String) {
    let mut so = std::io::stdout().lock();
    if let Err(e) = so.write_all(out.as_bytes()).and_then(|_| so.flush())
        && e.kind() != ErrorKind::BrokenPipe
    {
        eprintln!("lsnrctl: {e}");
    }
    out.clear();
}

fn banner() -> String {
    format!(
        "\nLSNRCTL for Linux: Version {VERSION} - Production on {}\n\nCopyright (c) 1991, 2026, orasim.  All rights reserved.\n\n",
        format_timestamp(SystemTime::now())
    )
}

fn help() -> String {
    "The following operations are available\n\
     An asterisk (*) denotes a modifier or extended command:\n\n\
     start           stop            status          services\n\
     version         reload          save_config     trace\n\
     set*            show*\n\
     quit            exit\n\n\
     set/show parameters: \"set\" or \"show\" alone lists them\n"
        .to_string()
}

impl Ctl {
    fn line(&mut self, s: &str) {
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Runs one command; false on failure.
    fn run(&mut self, words: &[String]) -> bool {
        let cmd = words[0].to_ascii_lowercase();
        let arg = words.get(1).cloned();
        let name = arg
            .clone()
            .unwrap_or_else(|| self.current.clone())
            .to_ascii_uppercase();
        match cmd.as_str() {
            "help" => {
                let h = help();
                self.out.push_str(&h);
                true
            }
            "start" => self.start(&name),
            "stop" => self.simple(&name, AdminRequest::Stop),
            "status" => self.simple(&name, AdminRequest::Status),
            "services" => self.simple(&name, AdminRequest::Services),
            "reload" => self.simple(&name, AdminRequest::Reload),
            "version" => self.simple(&name, AdminRequest::Version),
            "save_config" => self.simple(&name, AdminRequest::SaveConfig),
            "trace" => {
                let Some(level) = arg else {
                    self.line(
                        &TnsCode::BAD_COMMAND
                            .tns_line_with(&["trace requires a level (off|user|admin|support)"]),
                    );
                    return false;
                };
                let target = words
                    .get(2)
                    .cloned()
                    .unwrap_or_else(|| self.current.clone())
                    .to_ascii_uppercase();
                self.simple(
                    &target,
                    AdminRequest::Set {
                        param: "trc_level".to_string(),
                        value: level,
                    },
                )
            }
            "set" | "show" => {
                let Some(param) = arg.map(|p| p.to_ascii_lowercase()) else {
                    let list = parameter_list(&cmd);
                    self.out.push_str(&list);
                    return true;
                };
                if param == "displaymode" || param == "rawmode" {
                    return self.local_parameter(&cmd, &param, words.get(2));
                }
                if param == "current_listener" {
                    if cmd == "set" {
                        let Some(v) = words.get(2) else { return false };
                        self.current = v.to_ascii_uppercase();
                    }
                    let cur = self.current.clone();
                    self.line(&format!("Current Listener is {cur}"));
                    return true;
                }
                let req = if cmd == "set" {
                    let Some(value) = words.get(2).cloned() else {
                        self.line(
                            &TnsCode::BAD_COMMAND
                                .tns_line_with(&[&format!("set {param} requires a value")]),
                        );
                        return false;
                    };
                    AdminRequest::Set { param, value }
                } else {
                    AdminRequest::Show { param }
                };
                let current = self.current.clone();
                self.simple(&current, req)
            }
            _ => {
                self.line(&format!(
                    "NL-00853: undefined command \"{}\".  Try \"help\"",
                    words[0]
                ));
                false
            }
        }
    }

    /// `set|show displaymode|rawmode`: lsnrctl's own display settings.
    fn local_parameter(&mut self, cmd: &str, param: &str, value: Option<&String>) -> bool {
        if cmd == "set" {
            let Some(v) = value.map(|v| v.to_ascii_uppercase()) else {
                self.line(&TnsCode::BAD_COMMAND.tns_line_with(&[param]));
                return false;
            };
            match param {
                "displaymode" if ["RAW", "COMPACT", "NORMAL", "VERBOSE"].contains(&v.as_str()) => {
                    self.displaymode = v;
                }
                "rawmode" if v == "ON" || v == "OFF" => self.rawmode = v == "ON",
                _ => {
                    self.line(&TnsCode::BAD_COMMAND.tns_line_with(&[&format!("{param} {v}")]));
                    return false;
                }
            }
        }
        let line = if param == "displaymode" {
            format!("Service display mode is {}", self.displaymode)
        } else {
            format!("Raw mode is {}", if self.rawmode { "ON" } else { "OFF" })
        };
        self.line(&line);
        true
    }

    fn settings(&self, name: &str) -> ListenerSettings {
        settings::load(&self.home, name)
            .map(|l| l.settings)
            .unwrap_or_else(|_| ListenerSettings::defaults(name, &self.home))
    }

    fn connecting_line(&mut self, name: &str) {
        let s = self.settings(name);
        let addr =
            s.endpoints.first().map(|e| e.address()).unwrap_or_else(|| {
                "(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521))".to_string()
            });
        self.line(&format!("Connecting to (DESCRIPTION={addr})"));
    }

    fn no_listener(&mut self, err: &AdminError) {
        match err {
            AdminError::NoListener { source, .. } => {
                let (errno, text) = match source.raw_os_error() {
                    Some(2) | Some(111) | None => (111, "Connection refused".to_string()),
                    Some(n) => (n, source.to_string()),
                };
                self.line(&TnsCode::NO_LISTENER.tns_line());
                self.line(&format!(" {}", TnsCode::PROTOCOL_ADAPTER.tns_line()));
                self.line(&format!("  {}", TnsCode::NO_LISTENER_00511.tns_line()));
                self.line(&format!("   Linux Error: {errno}: {text}"));
            }
            AdminError::Protocol { .. } => self.line(&err.to_string()),
        }
    }

    fn call(&self, name: &str, req: &AdminRequest) -> Result<AdminResponse, AdminError> {
        admin::call(&self.home.admin_socket(name), req)
    }

    fn simple(&mut self, name: &str, req: AdminRequest) -> bool {
        let socket = self.home.admin_socket(name);
        // `stop` returns once the listener process is gone (its port is free then).
        let pid = if req == AdminRequest::Stop {
            std::fs::read_to_string(self.home.pid_file(name))
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok())
        } else {
            None
        };
        let answer = self.call(name, &req);
        // A name listener.ora does not define, with nothing running under it, is unknown.
        if answer.is_err()
            && let Err(settings::SettingsError::MissingListener { .. }) =
                settings::load(&self.home, name)
        {
            self.line(&tns_line_with(1101, &[name]));
            return false;
        }
        self.connecting_line(name);
        match answer {
            Err(e) => {
                self.no_listener(&e);
                false
            }
            Ok(resp) => {
                let ok = self.print_response(resp);
                if ok && req == AdminRequest::Stop {
                    wait_gone(&socket, pid, Duration::from_secs(15));
                }
                ok
            }
        }
    }

    fn print_response(&mut self, resp: AdminResponse) -> bool {
        match resp {
            AdminResponse::Status(r) => {
                let body = report::render_status(&r);
                self.out.push_str(&body);
                self.line(OK);
                true
            }
            AdminResponse::Services { services } => {
                let body = report::render_services(&services);
                self.out.push_str(&body);
                self.line(OK);
                true
            }
            AdminResponse::Ok { lines } => {
                for l in lines {
                    self.line(&l);
                }
                self.line(OK);
                true
            }
            AdminResponse::Error { lines, .. } => {
                for l in lines {
                    self.line(&l);
                }
                false
            }
        }
    }

    fn start(&mut self, name: &str) -> bool {
        if self.call(name, &AdminRequest::Version).is_ok() {
            self.line(&tns_line_with(1106, &[name]));
            return false;
        }
        let exe = match std::env::current_exe() {
            Ok(p) => p.with_file_name("tnslsnr"),
            Err(e) => {
                self.line(&format!(
                    "{}: cannot locate tnslsnr: {e}",
                    TnsCode::SPAWN_FAILED.tns_line()
                ));
                return false;
            }
        };
        self.line(&format!("Starting {}: please wait...", exe.display()));
        self.line("");
        let s = self.settings(name);
        let trace_dir = self.home.home.join("network").join("trace");
        let _ = std::fs::create_dir_all(&trace_dir);
        // The trace file proper (TRACE_FILE_<l>, Oracle's layout) is the listener's own; its
        // standard error (orasim's diagnostics) goes beside it.
        let trace_path = trace_dir.join(format!("{}_stderr.log", name.to_ascii_lowercase()));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&trace_path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null());
        let mut command = Command::new(&exe);
        command
            .arg(name)
            .arg("-inherit")
            .arg("--home")
            .arg(&self.home.home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = match command.spawn() {
            Ok(c) => c,
            Err(e) => {
                self.line(&format!(
                    "{}: {}: {e}",
                    TnsCode::SPAWN_FAILED.tns_line(),
                    exe.display()
                ));
                return false;
            }
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Ok(AdminResponse::Status(r)) = self.call(name, &AdminRequest::Status) {
                break Some(r);
            }
            if let Ok(Some(_)) = child.try_wait() {
                break None;
            }
            if Instant::now() > deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let Some(r) = status else {
            // tnslsnr's stderr: tracing lines start with a timestamp; the error stack does not.
            let trace = std::fs::read_to_string(&trace_path).unwrap_or_default();
            let is_trace =
                |l: &str| l.len() > 4 && l.as_bytes()[..4].iter().all(u8::is_ascii_digit);
            for l in trace.lines().filter(|l| !is_trace(l)) {
                self.line(l);
            }
            self.line("");
            self.line(&format!(
                "Listener failed to start. See the error message(s) above and {}",
                trace_path.display()
            ));
            return false;
        };
        self.line(&report::tnslsnr_version());
        if let Some(p) = &r.parameter_file {
            self.line(&format!("System parameter file is {p}"));
        }
        if let Some(l) = &r.log_file {
            self.line(&format!("Log messages written to {l}"));
        }
        for e in &r.endpoints {
            self.line(&format!("Listening on: {e}"));
        }
        self.line("");
        let _ = s;
        self.connecting_line(name);
        let body = report::render_status(&r);
        self.out.push_str(&body);
        self.line(OK);
        true
    }
}

/// Waits until the admin socket is gone and process `pid` has exited (or is a zombie).
fn wait_gone(socket: &Path, pid: Option<u32>, limit: Duration) {
    let running = |p: u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|s| {
                s.rfind(')')
                    .and_then(|i| s[i + 1..].split_whitespace().next().map(str::to_string))
            })
            .is_some_and(|state| state != "Z")
    };
    let deadline = Instant::now() + limit;
    while (socket.exists() || pid.is_some_and(running)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte for byte the list lsnrctl 19c prints after a bare `show` (see
    /// `testdata/README.md`), less the parameters orasim does not have.
    #[test]
    fn bare_show_is_the_documented_list_byte_for_byte() {
        assert_eq!(
            parameter_list("show"),
            include_str!("../../testdata/lsnrctl_show.txt")
        );
        // Every parameter orasim has is listed (none lost by the ordering).
        for (p, _) in LOCAL_PARAMETERS
            .iter()
            .chain(listener::control::LISTENER_PARAMETERS)
            .filter(|(p, _)| *p != "log_level")
        {
            assert!(ORACLE_ORDER.contains(p), "{p}");
        }
        // `set` offers the trace file's place too (it moves at run time).
        let l = parameter_list("set");
        assert!(
            l.contains("trc_file")
                && l.contains("trc_directory")
                && l.contains("save_config_on_stop"),
            "{l}"
        );
    }

    #[test]
    fn batch_files_skip_comments_and_blank_lines() {
        let c = batch_commands("REM a comment\n# another\n\nstatus\nset trc_level admin\nrem x\n");
        assert_eq!(
            c,
            vec![
                vec!["status".to_string()],
                vec![
                    "set".to_string(),
                    "trc_level".to_string(),
                    "admin".to_string()
                ]
            ]
        );
    }
}
