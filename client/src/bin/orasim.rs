//! `orasim`: the project's multi-tool. `check` validates Oracle Net configuration files
//! the way a DBA wishes `lsnrctl`/`tnsping` did (every problem, with file:line:col);
//! `resolve` shows what a connect identifier resolves to, exactly as a client would see it.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use config::naming::{Resolver, Source};
use config::{Diagnostic, ListenerConfig, ParamFile, SqlNet, TnsNames};

#[derive(Parser)]
#[command(name = "orasim", version, about = "Oracle Net simulator tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate .ora or listener.toml files and print every diagnostic (exit 1 on errors).
    Check {
        /// How to read the files; `auto` goes by file name (tnsnames, listener, sqlnet,
        /// *.toml; anything else is read as a generic parameter file such as init.ora).
        #[arg(long, value_enum, default_value_t = Kind::Auto)]
        kind: Kind,
        /// Files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Resolve a connect identifier (alias, Easy Connect string or descriptor) like an
    /// Oracle client: TNS_ADMIN, then $ORACLE_HOME/network/admin.
    Resolve {
        /// Print JSON instead of the canonical descriptor.
        #[arg(long)]
        json: bool,
        /// Read sqlnet.ora/tnsnames.ora from this directory instead of TNS_ADMIN/ORACLE_HOME.
        #[arg(long, value_name = "DIR")]
        config_dir: Option<PathBuf>,
        /// The connect identifier.
        identifier: String,
    },
    /// A guided tour: a throw-away ORACLE_HOME with the default configuration, the real
    /// listener, instance and tools, a few sessions; everything is stopped afterwards.
    Demo {
        /// Use this directory as ORACLE_HOME (kept afterwards) instead of a temporary one.
        #[arg(long, value_name = "DIR")]
        home: Option<PathBuf>,
        /// Listener port (default 1521 when free, else any free port; 0 = any free port).
        #[arg(long)]
        port: Option<u16>,
        /// The instance's SID, also its service name and tnsnames.ora alias.
        #[arg(long, default_value = client::demo::DEFAULT_SID)]
        sid: String,
        /// Sessions per mode of the closing dedicated/shared/pooled comparison
        /// (`tnsbench --quick N`; 0 leaves it out).
        #[arg(long, value_name = "N", default_value_t = client::demo::COMPARE_SESSIONS)]
        compare_sessions: u32,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Auto,
    Tnsnames,
    Listener,
    Sqlnet,
    Param,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { kind, files } => check(kind, &files),
        Command::Resolve {
            json,
            config_dir,
            identifier,
        } => resolve(json, config_dir.as_deref(), &identifier),
        Command::Demo {
            home,
            port,
            sid,
            compare_sessions,
        } => client::demo::run(&client::demo::DemoOptions {
            home,
            port,
            sid,
            compare_sessions,
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("orasim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn detect(path: &Path) -> Kind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let by_name = |s: &str| {
        if s.ends_with(".toml") || s.contains("listener") {
            Some(Kind::Listener)
        } else if s.contains("tnsname") {
            Some(Kind::Tnsnames)
        } else if s.contains("sqlnet") {
            Some(Kind::Sqlnet)
        } else {
            None
        }
    };
    if let Some(k) = by_name(&name) {
        return k;
    }
    // Then the directory names (e.g. corpus/real/tnsnames/001.ora).
    path.ancestors()
        .skip(1)
        .filter_map(|a| a.file_name())
        .find_map(|n| by_name(&n.to_string_lossy().to_ascii_lowercase()))
        .unwrap_or(Kind::Param)
}

fn check(kind: Kind, files: &[PathBuf]) -> Result<ExitCode> {
    let mut errors = 0usize;
    let mut warnings = 0usize;
    for f in files {
        let k = if kind == Kind::Auto { detect(f) } else { kind };
        let diags: std::io::Result<Vec<Diagnostic>> = match k {
            Kind::Listener => ListenerConfig::load(f)
                .map(|p| p.diagnostics)
                .map_err(|e| match e {
                    config::listener::ListenerConfigError::Read { source, .. } => source,
                }),
            Kind::Tnsnames => TnsNames::load(f).map(|p| p.diagnostics),
            Kind::Sqlnet => SqlNet::load(f).map(|p| p.diagnostics),
            Kind::Param | Kind::Auto => ParamFile::load(f).map(|p| p.diagnostics),
        };
        match diags {
            Ok(mut diags) => {
                // File order (an IFILE's messages where they were first met), then position.
                let mut files: Vec<std::sync::Arc<str>> = Vec::new();
                for d in &diags {
                    if !files.contains(&d.file) {
                        files.push(d.file.clone());
                    }
                }
                diags.sort_by_key(|d| (files.iter().position(|f| *f == d.file), d.pos));
                for d in &diags {
                    println!("{d}");
                    if d.is_error() {
                        errors += 1;
                    } else {
                        warnings += 1;
                    }
                }
            }
            Err(e) => {
                println!("{}:1:1: error: cannot read file: {e}", f.display());
                errors += 1;
            }
        }
    }
    eprintln!(
        "orasim check: {} file(s), {errors} error(s), {warnings} warning(s)",
        files.len()
    );
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn resolve(json: bool, config_dir: Option<&Path>, identifier: &str) -> Result<ExitCode> {
    let resolver = match config_dir {
        Some(d) => Resolver::with_config_dir(d),
        None => Resolver::from_env(),
    };
    for d in resolver.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!("{d}");
    }
    let resolved = match resolver.resolve(identifier) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        let mut v = resolved.descriptor.to_json();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("identifier".into(), identifier.into());
            let (source, file) = match &resolved.source {
                Source::Descriptor => ("descriptor", None),
                Source::EzConnect => ("ezconnect", None),
                Source::Tnsnames { file, pos, .. } => {
                    ("tnsnames", Some(format!("{file}:{}", pos.line)))
                }
            };
            obj.insert("source".into(), source.into());
            obj.insert("defined_at".into(), file.into());
        }
        println!("{}", serde_json::to_string(&v)?);
    } else {
        if let Source::Tnsnames { file, pos, .. } = &resolved.source {
            eprintln!(
                "{identifier}: tnsnames alias defined at {file}:{}",
                pos.line
            );
        }
        println!("{}", resolved.descriptor.render_pretty());
    }
    Ok(ExitCode::SUCCESS)
}
