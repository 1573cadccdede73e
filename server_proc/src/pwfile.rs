//! The password file `$ORACLE_HOME/dbs/orapw<SID>`: the O5LOGON verifiers of each user
//! (salt + derived key for the 12c and 11g families), never a password. Mode 0600, written
//! atomically (temp file + rename) so a concurrent login never reads half a file.
//!
//! Format, one user per line (`#` comments allowed):
//! `NAME T:<salt hex>:<key hex>:<iterations> S:<salt hex>:<key hex> [GRANT:ALTER_SYSTEM]`.
//!
//! `oradb user add|drop|list` is implemented here ([`run_user_command`]) so the binary only
//! parses arguments.

use std::io::{BufRead, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tns::error_text::{ora_line, ora_line_with};
use tns::o5logon::{DEFAULT_VGEN_COUNT, Verifier, VerifierKind};

/// Grant allowing `ALTER SYSTEM` (kill session, register, ...).
pub use engine::GRANT_ALTER_SYSTEM;

/// Errors of the password file and the `oradb user` commands.
#[derive(Debug, Error)]
pub enum PwFileError {
    /// The file could not be read or written.
    #[error(
        "{}\n{}",
        ora_line_with(1990, &[&.path.display().to_string()]),
        os_error_line(.source)
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line could not be parsed.
    #[error("{}", ora_line_with(1991, &[&.path.display().to_string()]))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What was wrong.
        detail: String,
    },
    /// The user name is not a valid Oracle identifier.
    #[error("{}", ora_line(911))]
    BadName(String),
    /// The user exists already.
    #[error("{}", ora_line_with(1920, &[.0]))]
    Exists(String),
    /// The user does not exist.
    #[error("{}", ora_line_with(1918, &[.0]))]
    NoSuchUser(String),
    /// An empty password was given.
    #[error("{}", ora_line(988))]
    EmptyPassword,
}

impl PwFileError {
    /// The Oracle error number of the first line.
    pub fn ora_code(&self) -> u32 {
        match self {
            PwFileError::Io { .. } => 1990,
            PwFileError::Malformed { .. } => 1991,
            PwFileError::BadName(_) => 911,
            PwFileError::Exists(_) => 1920,
            PwFileError::NoSuchUser(_) => 1918,
            PwFileError::EmptyPassword => 988,
        }
    }
}

/// An OS error as the further line of an Oracle error stack prints it
/// (`Linux-x86_64 Error: 2: No such file or directory`).
fn os_error_line(e: &std::io::Error) -> String {
    let message = crate::instance::os_message(e);
    match e.raw_os_error() {
        Some(n) => format!("Linux-x86_64 Error: {n}: {message}"),
        None => message,
    }
}

/// One user's verifiers and grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// User name (upper case unless created quoted).
    pub name: String,
    /// 12c verifier.
    pub v12c: Verifier,
    /// 11g verifier.
    pub v11g: Option<Verifier>,
    /// System privileges, e.g. [`GRANT_ALTER_SYSTEM`].
    pub grants: Vec<String>,
}

impl UserEntry {
    /// Derives the verifiers of `password` with fresh random salts.
    pub fn new(name: &str, password: &[u8], grants: Vec<String>) -> Self {
        let mut s12 = [0u8; 16];
        let mut s11 = [0u8; 10];
        rand::fill(&mut s12);
        rand::fill(&mut s11);
        UserEntry {
            name: name.to_owned(),
            v12c: Verifier::new_12c(password, &s12, DEFAULT_VGEN_COUNT),
            v11g: Some(Verifier::new_11g(password, &s11)),
            grants,
        }
    }

    /// True if the user holds `grant`.
    pub fn has_grant(&self, grant: &str) -> bool {
        self.grants.iter().any(|g| g == grant)
    }

    fn to_line(&self) -> String {
        let mut s = format!(
            "{} T:{}:{}:{}",
            self.name,
            hex::encode_upper(&self.v12c.salt),
            hex::encode_upper(&self.v12c.key),
            self.v12c.vgen_count
        );
        if let Some(v) = &self.v11g {
            s.push_str(&format!(
                " S:{}:{}",
                hex::encode_upper(&v.salt),
                hex::encode_upper(&v.key)
            ));
        }
        for g in &self.grants {
            s.push_str(&format!(" GRANT:{g}"));
        }
        s
    }

    fn parse_line(line: &str) -> Result<Self, String> {
        let mut parts = line.split_whitespace();
        let name = parts.next().ok_or("empty line")?.to_owned();
        let mut v12c = None;
        let mut v11g = None;
        let mut grants = Vec::new();
        let unhex = |s: &str| hex::decode(s).map_err(|e| format!("bad hex: {e}"));
        for p in parts {
            let f: Vec<&str> = p.split(':').collect();
            match f.as_slice() {
                ["T", salt, key, iters] => {
                    v12c = Some(Verifier {
                        kind: VerifierKind::V12c,
                        salt: unhex(salt)?,
                        key: unhex(key)?,
                        vgen_count: iters.parse().map_err(|_| "bad iteration count")?,
                    });
                }
                ["S", salt, key] => {
                    v11g = Some(Verifier {
                        kind: VerifierKind::V11g,
                        salt: unhex(salt)?,
                        key: unhex(key)?,
                        vgen_count: 0,
                    });
                }
                ["GRANT", g] => grants.push((*g).to_owned()),
                _ => return Err(format!("unknown field '{p}'")),
            }
        }
        let v12c = v12c.ok_or("no T: verifier")?;
        if v12c.key.len() != 32 || v11g.as_ref().is_some_and(|v| v.key.len() != 24) {
            return Err("verifier key has the wrong length".into());
        }
        Ok(UserEntry {
            name,
            v12c,
            v11g,
            grants,
        })
    }
}

/// `$ORACLE_HOME/dbs/orapw<SID>`.
pub fn path_for(oracle_home: &Path, sid: &str) -> PathBuf {
    oracle_home.join("dbs").join(format!("orapw{sid}"))
}

pub use engine::normalize_user;

/// The password file of one SID.
#[derive(Debug, Clone)]
pub struct PasswordFile {
    path: PathBuf,
    /// Users in file order.
    pub users: Vec<UserEntry>,
}

impl PasswordFile {
    /// Loads the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, PwFileError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(PwFileError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let mut users = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            users.push(UserEntry::parse_line(line).map_err(|detail| {
                tracing::warn!("{}: line {}: {detail}", path.display(), n + 1);
                PwFileError::Malformed {
                    path: path.to_owned(),
                    line: n + 1,
                    detail,
                }
            })?);
        }
        Ok(PasswordFile {
            path: path.to_owned(),
            users,
        })
    }

    /// The entry for `name` (already normalised).
    pub fn lookup(&self, name: &str) -> Option<&UserEntry> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Writes the file atomically with mode 0600.
    pub fn save(&self) -> Result<(), PwFileError> {
        let io = |source| PwFileError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        let mut text = String::from(
            "# orasim password file: O5LOGON verifiers only, never passwords.\n# Managed by `oradb user add|drop|list`.\n",
        );
        for u in &self.users {
            text.push_str(&u.to_line());
            text.push('\n');
        }
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    /// Adds a user.
    pub fn add(&mut self, entry: UserEntry) -> Result<(), PwFileError> {
        if self.lookup(&entry.name).is_some() {
            return Err(PwFileError::Exists(entry.name));
        }
        self.users.push(entry);
        Ok(())
    }

    /// Removes a user.
    pub fn drop_user(&mut self, name: &str) -> Result<(), PwFileError> {
        let before = self.users.len();
        self.users.retain(|u| u.name != name);
        if self.users.len() == before {
            return Err(PwFileError::NoSuchUser(name.to_owned()));
        }
        Ok(())
    }
}

/// What `oradb user` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserCommand {
    /// `oradb user add NAME [--password-stdin] [--grant alter-system]`.
    Add {
        /// User name as typed.
        name: String,
        /// Read the password from stdin instead of prompting.
        password_stdin: bool,
        /// Grants (`alter-system`).
        grants: Vec<String>,
    },
    /// `oradb user drop NAME`.
    Drop {
        /// User name as typed.
        name: String,
    },
    /// `oradb user list`.
    List,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic())
        && name.len() <= 128
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '#'))
}

/// Runs `oradb user ...` against `$ORACLE_HOME/dbs/orapw<SID>`. `input` supplies the
/// password (stdin or the terminal), `out` gets the messages.
pub fn run_user_command(
    cmd: &UserCommand,
    oracle_home: &Path,
    sid: &str,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), PwFileError> {
    let path = path_for(oracle_home, sid);
    let mut file = PasswordFile::load(&path)?;
    let io = |source| PwFileError::Io {
        path: path.clone(),
        source,
    };
    match cmd {
        UserCommand::Add {
            name,
            password_stdin,
            grants,
        } => {
            let user = normalize_user(name);
            if !valid_name(&user) {
                return Err(PwFileError::BadName(name.clone()));
            }
            if file.lookup(&user).is_some() {
                return Err(PwFileError::Exists(user));
            }
            let password = if *password_stdin {
                read_line(input).map_err(io)?
            } else {
                prompt_password(input, out, &user).map_err(io)?
            };
            if password.is_empty() {
                return Err(PwFileError::EmptyPassword);
            }
            let grants = grants
                .iter()
                .map(|g| g.to_ascii_uppercase().replace('-', "_"))
                .collect();
            file.add(UserEntry::new(&user, password.as_bytes(), grants))?;
            file.save()?;
            writeln!(out, "User created.").map_err(io)?;
        }
        UserCommand::Drop { name } => {
            file.drop_user(&normalize_user(name))?;
            file.save()?;
            writeln!(out, "User dropped.").map_err(io)?;
        }
        UserCommand::List => {
            writeln!(out, "{:<30} {:<16} PRIVILEGES", "USERNAME", "VERIFIERS").map_err(io)?;
            for u in &file.users {
                let v = if u.v11g.is_some() { "12C 11G" } else { "12C" };
                writeln!(out, "{:<30} {:<16} {}", u.name, v, u.grants.join(",")).map_err(io)?;
            }
        }
    }
    Ok(())
}

fn read_line(input: &mut dyn BufRead) -> std::io::Result<String> {
    let mut s = String::new();
    input.read_line(&mut s)?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

fn stty(arg: &str) {
    let _ = std::process::Command::new("stty")
        .arg(arg)
        .stdin(std::process::Stdio::inherit())
        .status();
}

fn prompt_password(
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    user: &str,
) -> std::io::Result<String> {
    use std::io::IsTerminal;
    let tty = std::io::stdin().is_terminal();
    let mut ask = |label: &str| -> std::io::Result<String> {
        write!(out, "{label}")?;
        out.flush()?;
        if tty {
            stty("-echo");
        }
        let r = read_line(input);
        if tty {
            stty("echo");
            writeln!(out)?;
        }
        r
    };
    let first = ask(&format!("Enter password for {user}: "))?;
    let second = ask("Re-enter password: ")?;
    if first != second {
        return Err(std::io::Error::other("passwords do not match"));
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_see_every_change_of_the_file_and_read_it_only_then() {
        use engine::Credentials;
        let dir = tempfile::tempdir().unwrap();
        let add = |name: &str, password: &[u8]| {
            let cmd = UserCommand::Add {
                name: name.into(),
                password_stdin: true,
                grants: vec![],
            };
            let mut input = password.to_vec();
            input.push(b'\n');
            run_user_command(&cmd, dir.path(), "ORCL", &mut &input[..], &mut Vec::new()).unwrap();
        };
        let creds = PasswordFileCredentials::new(dir.path(), "ORCL");
        assert!(creds.verifier("SCOTT").is_none(), "no file yet");
        add("scott", b"Tiger#1");
        assert!(creds.verifier("SCOTT").unwrap().matches(b"Tiger#1"));
        let first = creds.current().unwrap();
        assert!(
            Arc::ptr_eq(&first, &creds.current().unwrap()),
            "unchanged: not read again"
        );
        add("adams", b"Wood#2");
        assert!(creds.verifier("ADAMS").unwrap().matches(b"Wood#2"));
        // A clone (another circuit's login) shares what was read; a new password is seen.
        let other = creds.clone();
        other.set_password("SCOTT", b"Lion#3").unwrap();
        assert!(creds.verifier("SCOTT").unwrap().matches(b"Lion#3"));
        std::fs::remove_file(path_for(dir.path(), "ORCL")).unwrap();
        assert!(creds.verifier("SCOTT").is_none(), "file gone: no users");
    }

    #[test]
    fn add_list_drop_round_trip_with_mode_0600_and_no_password() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Vec::new();
        let add = UserCommand::Add {
            name: "scott".into(),
            password_stdin: true,
            grants: vec!["alter-system".into()],
        };
        run_user_command(&add, dir.path(), "ORCL", &mut &b"Tiger#1\n"[..], &mut out).unwrap();
        let path = path_for(dir.path(), "ORCL");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("Tiger#1"));
        let f = PasswordFile::load(&path).unwrap();
        let u = f.lookup("SCOTT").unwrap();
        assert!(u.v12c.matches(b"Tiger#1"));
        assert!(!u.v12c.matches(b"tiger#1"));
        assert!(u.v11g.as_ref().unwrap().matches(b"Tiger#1"));
        assert!(u.has_grant(GRANT_ALTER_SYSTEM));
        let e = run_user_command(&add, dir.path(), "ORCL", &mut &b"x\n"[..], &mut out).unwrap_err();
        assert!(matches!(e, PwFileError::Exists(_)));
        let mut listing = Vec::new();
        run_user_command(
            &UserCommand::List,
            dir.path(),
            "ORCL",
            &mut &b""[..],
            &mut listing,
        )
        .unwrap();
        let listing = String::from_utf8(listing).unwrap();
        assert!(listing.contains("SCOTT"), "{listing}");
        assert!(listing.contains("ALTER_SYSTEM"), "{listing}");
        let drop = UserCommand::Drop {
            name: "Scott".into(),
        };
        run_user_command(&drop, dir.path(), "ORCL", &mut &b""[..], &mut out).unwrap();
        assert!(PasswordFile::load(&path).unwrap().users.is_empty());
        let e = run_user_command(&drop, dir.path(), "ORCL", &mut &b""[..], &mut out).unwrap_err();
        assert_eq!(e.to_string(), "ORA-01918: user 'SCOTT' does not exist");
    }

    #[test]
    fn malformed_lines_are_reported_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("orapwX");
        std::fs::write(&path, "# c\nSCOTT T:zz:00:1\n").unwrap();
        let e = PasswordFile::load(&path).unwrap_err();
        assert!(matches!(e, PwFileError::Malformed { line: 2, .. }), "{e}");
    }
}

/// Credentials from the password file, checked at every login (so `oradb user add` takes
/// effect without a restart): one `stat` of the file, and a read and parse only when it is
/// another file or was written since the last read (its inode, size, mtime or ctime differ).
#[derive(Debug, Clone)]
pub struct PasswordFileCredentials {
    path: PathBuf,
    read: Arc<Mutex<Option<LastRead>>>,
}

/// The file as last read, and the stamp it had.
type LastRead = (FileStamp, Arc<PasswordFile>);

/// What tells one version of the password file from another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        })
    }
}

impl PasswordFileCredentials {
    /// Reads `$ORACLE_HOME/dbs/orapw<SID>`.
    pub fn new(oracle_home: &std::path::Path, sid: &str) -> Self {
        PasswordFileCredentials {
            path: path_for(oracle_home, sid),
            read: Arc::default(),
        }
    }

    /// The file as it is now: the last read while the file has not changed since.
    fn current(&self) -> Result<Arc<PasswordFile>, PwFileError> {
        let Some(stamp) = FileStamp::of(&self.path) else {
            // Missing or unreadable: load says which (a missing file has no users).
            return PasswordFile::load(&self.path).map(Arc::new);
        };
        let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, file)) = read.as_ref()
            && *seen == stamp
        {
            return Ok(Arc::clone(file));
        }
        let file = Arc::new(PasswordFile::load(&self.path)?);
        // Kept only if the file did not change while it was read.
        if FileStamp::of(&self.path) == Some(stamp) {
            *read = Some((stamp, Arc::clone(&file)));
        }
        Ok(file)
    }
}

impl engine::Credentials for PasswordFileCredentials {
    fn verifier(&self, user: &str) -> Option<tns::o5logon::Verifier> {
        let f = self.current().ok()?;
        f.lookup(user).map(|u| u.v12c.clone())
    }

    fn grants(&self, user: &str) -> Vec<String> {
        self.current()
            .ok()
            .and_then(|f| f.lookup(user).map(|u| u.grants.clone()))
            .unwrap_or_default()
    }

    fn set_password(&self, user: &str, password: &[u8]) -> Result<(), engine::sql::OraError> {
        let io = |e: PwFileError| engine::sql::OraError::from_stack(e.ora_code(), &e.to_string());
        let mut f = PasswordFile::load(&self.path).map_err(io)?;
        let Some(entry) = f.users.iter_mut().find(|u| u.name == user) else {
            return Err(engine::sql::OraError::with_args(1918, &[user], 0));
        };
        *entry = UserEntry::new(user, password, entry.grants.clone());
        f.save().map_err(io)
    }
}
