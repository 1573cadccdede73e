//! `SPO[OL] [file_name[.ext] [CRE[ATE]|REP[LACE]|APP[END]] | OFF]`: SQL*Plus's copy of
//! what it shows. From the command on, every line orasql prints goes to the file as well
//! (the binary sends all its output through [`Spool::write`]); `SPOOL OFF` closes it,
//! `SPOOL` alone says where output goes. A name without an extension gets `.lst`, as
//! SQL*Plus on Unix gives it; REPLACE is the default, CREATE refuses an existing file,
//! APPEND adds to one. Starting a new spool file closes the one before.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::sp2;

/// What a SPOOL command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `SPOOL` alone: the spooling status.
    Status,
    /// `SPOOL OFF`.
    Off,
    /// `SPOOL file [CREATE|REPLACE|APPEND]`, the name with its extension.
    Start {
        /// The file, `.lst` added when the name has no extension.
        file: String,
        /// What to do with a file that exists.
        mode: Mode,
    },
}

/// SPOOL's CREATE / REPLACE / APPEND.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// CRE[ATE]: a new file; an existing one is refused.
    Create,
    /// REP[LACE] (the default): the file is emptied or created.
    Replace,
    /// APP[END]: output goes after what the file holds (created when missing).
    Append,
}

/// Why a SPOOL command did nothing; its `Display` is the SP2 text SQL*Plus prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpoolError {
    /// An option that is none of CREATE, REPLACE, APPEND (SP2-0768).
    Illegal,
    /// CREATE of a file that exists (SP2-0771).
    Exists(String),
    /// The file could not be opened for writing (SP2-0332).
    CannotCreate,
}

impl std::fmt::Display for SpoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpoolError::Illegal => f.write_str(&sp2(768, &[])),
            SpoolError::Exists(file) => f.write_str(&sp2(771, &[file])),
            SpoolError::CannotCreate => f.write_str(&sp2(332, &[])),
        }
    }
}

fn abbrev(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// Parses what follows `SPOOL`. A name in double quotes may hold blanks.
pub fn parse(args: &str) -> Result<Request, SpoolError> {
    let args = args.trim();
    if args.is_empty() {
        return Ok(Request::Status);
    }
    let (name, rest) = match args.strip_prefix('"') {
        Some(quoted) => match quoted.split_once('"') {
            Some((n, r)) => (n, r.trim()),
            None => (quoted, ""),
        },
        None => match args.split_once(char::is_whitespace) {
            Some((n, r)) => (n, r.trim()),
            None => (args, ""),
        },
    };
    if rest.is_empty() && name.eq_ignore_ascii_case("OFF") {
        return Ok(Request::Off);
    }
    let mut words = rest.split_whitespace();
    let mode = match words.next().map(str::to_ascii_uppercase) {
        None => Mode::Replace,
        Some(w) if abbrev(&w, "CREATE", 3) => Mode::Create,
        Some(w) if abbrev(&w, "REPLACE", 3) => Mode::Replace,
        Some(w) if abbrev(&w, "APPEND", 3) => Mode::Append,
        Some(_) => return Err(SpoolError::Illegal),
    };
    if words.next().is_some() {
        return Err(SpoolError::Illegal);
    }
    let file = if Path::new(name).extension().is_some() || name.starts_with("/dev/") {
        name.to_string()
    } else {
        format!("{name}.lst")
    };
    Ok(Request::Start { file, mode })
}

/// The spool file, while there is one.
#[derive(Debug, Default)]
pub struct Spool {
    current: Option<(String, File)>,
}

impl Spool {
    /// No spooling.
    pub fn new() -> Self {
        Spool::default()
    }

    /// Carries out a SPOOL command; returns the line to print, if any.
    pub fn command(&mut self, args: &str) -> Option<String> {
        match parse(args) {
            Ok(Request::Status) => Some(self.status()),
            Ok(Request::Off) => match self.current.take() {
                Some(_) => None,
                None => Some(self.status()),
            },
            Ok(Request::Start { file, mode }) => match open(&file, mode) {
                Ok(f) => {
                    self.current = Some((file, f));
                    None
                }
                Err(e) => Some(e.to_string()),
            },
            Err(e) => Some(e.to_string()),
        }
    }

    /// `currently spooling to file` or `not spooling currently`.
    pub fn status(&self) -> String {
        match &self.current {
            Some((file, _)) => format!("currently spooling to {file}"),
            None => "not spooling currently".to_string(),
        }
    }

    /// What `SHOW SPOOL` prints: `spool ON` while spooling (as SQL*Plus 18c prints it), else
    /// `spool OFF`, SHOW's form for an ON/OFF setting.
    pub fn show(&self) -> &'static str {
        if self.current.is_some() {
            "spool ON"
        } else {
            "spool OFF"
        }
    }

    /// Copies `text` (what was just shown) to the spool file, if there is one. A failed
    /// write ends spooling rather than failing the command that printed.
    pub fn write(&mut self, text: &str) {
        if let Some((_, f)) = &mut self.current
            && f.write_all(text.as_bytes()).is_err()
        {
            self.current = None;
        }
    }
}

fn open(file: &str, mode: Mode) -> Result<File, SpoolError> {
    let mut o = OpenOptions::new();
    match mode {
        Mode::Create => o.write(true).create_new(true),
        Mode::Replace => o.write(true).create(true).truncate(true),
        Mode::Append => o.append(true).create(true),
    };
    o.open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => SpoolError::Exists(file.to_string()),
        _ => SpoolError::CannotCreate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_lst_and_options_are_abbreviated() {
        assert_eq!(parse(""), Ok(Request::Status));
        assert_eq!(parse("off"), Ok(Request::Off));
        assert_eq!(
            parse("diary"),
            Ok(Request::Start {
                file: "diary.lst".into(),
                mode: Mode::Replace
            })
        );
        assert_eq!(
            parse("out.txt app"),
            Ok(Request::Start {
                file: "out.txt".into(),
                mode: Mode::Append
            })
        );
        assert_eq!(
            parse("\"my file\" CRE"),
            Ok(Request::Start {
                file: "my file.lst".into(),
                mode: Mode::Create
            })
        );
        assert_eq!(
            parse("/dev/null"),
            Ok(Request::Start {
                file: "/dev/null".into(),
                mode: Mode::Replace
            })
        );
        assert_eq!(parse("x sideways"), Err(SpoolError::Illegal));
        assert_eq!(
            SpoolError::Illegal.to_string(),
            "SP2-0768: Illegal SPOOL command"
        );
    }

    #[test]
    fn spooling_writes_replaces_appends_and_refuses_create() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("out");
        let file = format!("{}.lst", base.display());
        let mut s = Spool::new();
        assert_eq!(s.status(), "not spooling currently");
        assert_eq!(s.show(), "spool OFF");
        assert_eq!(s.command("off").as_deref(), Some("not spooling currently"));
        assert_eq!(s.command(&base.display().to_string()), None);
        assert_eq!(s.status(), format!("currently spooling to {file}"));
        assert_eq!(s.show(), "spool ON");
        s.write("one\n");
        assert_eq!(s.command("OFF"), None);
        s.write("not spooled\n");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\n");
        assert_eq!(s.command(&format!("{file} append")), None);
        s.write("two\n");
        s.command("off");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\ntwo\n");
        assert_eq!(
            s.command(&format!("{file} create")),
            Some(format!(
                "SP2-0771: File \"{file}\" already exists.\nUse another name or \"SPOOL filename[.ext] REPLACE\""
            ))
        );
        assert_eq!(s.command(&file), None);
        s.command("off");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
        let missing = dir.path().join("no/such/dir/x.lst");
        assert_eq!(
            s.command(&missing.display().to_string()).as_deref(),
            Some("SP2-0332: Cannot create spool file.")
        );
    }
}
