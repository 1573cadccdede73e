//! `SET`, `SHOW` and `COLUMN`: SQL*Plus's system variables with its defaults (FEEDBACK ON
//! for 6 or more rows, PAGESIZE 14, LINESIZE 80, NUMWIDTH 10, SERVEROUTPUT OFF SIZE
//! UNLIMITED FORMAT WORD_WRAPPED, DEFINE "&", ...), the texts `SHOW` prints for them, and
//! the per-column FORMAT/HEADING of `COLUMN`.

use std::collections::BTreeMap;

use super::report::Report;
use super::sp2;
use super::title::Titles;

/// What `SET` changed, read by the renderer and the session loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// ARRAYSIZE (rows per fetch).
    pub arraysize: u32,
    /// AUTOCOMMIT: commit after each DML statement.
    pub autocommit: bool,
    /// AUTOPRINT: print the bind variables a PL/SQL block or EXECUTE used, after it.
    pub autoprint: bool,
    /// COLSEP: the text between the columns of a query's lines (one blank by default).
    pub colsep: String,
    /// DEFINE: the prefix of substitution variables; `None` is OFF.
    pub define: Option<char>,
    /// ECHO.
    pub echo: bool,
    /// FEEDBACK: `n rows selected.` from this many rows on; `None` is OFF.
    pub feedback: Option<u32>,
    /// HEADING.
    pub heading: bool,
    /// LINESIZE.
    pub linesize: u32,
    /// NULL: the text shown for a null value.
    pub null_text: String,
    /// NUMWIDTH: the default width of NUMBER columns.
    pub numwidth: u32,
    /// PAGESIZE: lines per page (0: no headings, no page breaks).
    pub pagesize: u32,
    /// SERVEROUTPUT: print DBMS_OUTPUT's lines after each call.
    pub serveroutput: bool,
    /// SERVEROUTPUT SIZE: DBMS_OUTPUT's buffer in bytes; `None` is UNLIMITED.
    pub serveroutput_size: Option<u32>,
    /// SERVEROUTPUT FORMAT.
    pub serveroutput_format: OutputFormat,
    /// TIMING: `Elapsed: hh:mi:ss.cc` after each statement.
    pub timing: bool,
    /// VERIFY.
    pub verify: bool,
    /// COLUMN definitions, by upper-case column name.
    pub columns: BTreeMap<String, ColumnFormat>,
    /// BREAK's and COMPUTE's definitions.
    pub report: Report,
    /// TTITLE and BTITLE.
    pub titles: Titles,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            arraysize: 15,
            autocommit: false,
            autoprint: false,
            colsep: " ".to_string(),
            define: Some('&'),
            echo: false,
            feedback: Some(6),
            heading: true,
            linesize: 80,
            null_text: String::new(),
            numwidth: 10,
            pagesize: 14,
            serveroutput: false,
            serveroutput_size: None,
            serveroutput_format: OutputFormat::WordWrapped,
            timing: false,
            verify: true,
            columns: BTreeMap::new(),
            report: Report::default(),
            titles: Titles::default(),
        }
    }
}

/// How SERVEROUTPUT lays out a line longer than LINESIZE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// WRAPPED: cut every LINESIZE characters.
    Wrapped,
    /// WORD_WRAPPED (the default): broken at word boundaries, each line left-justified
    /// (leading blanks skipped).
    WordWrapped,
    /// TRUNCATED: cut at LINESIZE.
    Truncated,
}

impl OutputFormat {
    fn name(self) -> &'static str {
        match self {
            OutputFormat::Wrapped => "WRAPPED",
            OutputFormat::WordWrapped => "WORD_WRAPPED",
            OutputFormat::Truncated => "TRUNCATED",
        }
    }

    /// One DBMS_OUTPUT line as SQL*Plus prints it at `linesize`: the physical lines.
    pub fn lay_out(self, line: &str, linesize: usize) -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        let width = linesize.max(1);
        match self {
            OutputFormat::Truncated => vec![chars.iter().take(width).collect()],
            OutputFormat::Wrapped if chars.is_empty() => vec![String::new()],
            OutputFormat::Wrapped => chars.chunks(width).map(|c| c.iter().collect()).collect(),
            OutputFormat::WordWrapped => word_wrap(&chars, width),
        }
    }
}

/// WORD_WRAPPED: each piece starts at the first non-blank, ends before the last blank that
/// keeps it within `width`; a word longer than `width` is cut.
fn word_wrap(chars: &[char], width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = chars;
    loop {
        let start = rest.iter().position(|c| *c != ' ').unwrap_or(rest.len());
        rest = &rest[start..];
        if rest.len() <= width {
            if !rest.is_empty() || out.is_empty() {
                out.push(rest.iter().collect());
            }
            return out;
        }
        let cut = match rest[..=width].iter().rposition(|c| *c == ' ') {
            Some(i) if i > 0 => i,
            _ => width,
        };
        let piece: String = rest[..cut].iter().collect();
        out.push(piece.trim_end().to_string());
        rest = &rest[cut..];
    }
}

/// `COLUMN name FORMAT ... HEADING ...`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnFormat {
    /// `FORMAT An` (text width) or a number mask such as `999.99`.
    pub format: Option<Format>,
    /// `HEADING 'text'` (`|` starts a new heading line).
    pub heading: Option<String>,
}

/// A COLUMN FORMAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// `An`: text in n characters, wrapped.
    Text(u32),
    /// A number mask of `9`, `0`, `.` and `,` (as written).
    Number(String),
}

/// The SET variables: name, shortest abbreviation.
const VARIABLES: &[(&str, usize)] = &[
    ("ARRAYSIZE", 5),
    ("AUTOCOMMIT", 4),
    ("AUTOPRINT", 5),
    ("COLSEP", 6),
    ("DEFINE", 3),
    ("ECHO", 4),
    ("FEEDBACK", 4),
    ("HEADING", 3),
    ("LINESIZE", 3),
    ("NULL", 4),
    ("NUMWIDTH", 3),
    ("PAGESIZE", 5),
    ("SERVEROUTPUT", 9),
    ("TIMING", 4),
    ("VERIFY", 3),
];

fn variable(word: &str) -> Option<&'static str> {
    let w = word.to_ascii_uppercase();
    VARIABLES
        .iter()
        .find(|(full, min)| w.len() >= *min && full.starts_with(w.as_str()))
        .map(|(full, _)| *full)
}

fn on_off(v: &str) -> Option<bool> {
    match v.to_ascii_uppercase().as_str() {
        "ON" => Some(true),
        "OFF" => Some(false),
        _ => None,
    }
}

/// What follows the first `n` blank-separated words of `line`.
fn after_words(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(s) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return s;
        }
    }
    v
}

impl Settings {
    /// `SET name value [name value ...]`; returns the SP2 messages of what it refused.
    pub fn set(&mut self, args: &str) -> Vec<String> {
        let mut errors = Vec::new();
        let words: Vec<&str> = args.split_whitespace().collect();
        let mut i = 0;
        if words.is_empty() {
            return vec![sp2(158, &["SET", ""])];
        }
        while i < words.len() {
            let name = words[i];
            let Some(var) = variable(name) else {
                errors.push(sp2(158, &["SET", name]));
                break;
            };
            let value = words.get(i + 1).copied().unwrap_or("");
            i += 2;
            let lower = var.to_ascii_lowercase();
            let number = |lo: u32, hi: u32| -> Result<u32, String> {
                match value.parse::<u32>() {
                    Ok(n) if n >= lo && n <= hi => Ok(n),
                    Ok(n) => Err(sp2(
                        267,
                        &[&lower, &n.to_string(), &lo.to_string(), &hi.to_string()],
                    )),
                    Err(_) => Err(sp2(268, &[&lower])),
                }
            };
            let flag = || on_off(value).ok_or_else(|| sp2(265, &[&lower]));
            let r: Result<(), String> = match var {
                "ARRAYSIZE" => number(1, 5000).map(|n| self.arraysize = n),
                "AUTOCOMMIT" => match value.to_ascii_uppercase().as_str() {
                    "ON" | "IMMEDIATE" => {
                        self.autocommit = true;
                        Ok(())
                    }
                    "OFF" => {
                        self.autocommit = false;
                        Ok(())
                    }
                    _ => Err(sp2(265, &[&lower])),
                },
                "AUTOPRINT" => flag().map(|b| self.autoprint = b),
                "COLSEP" => {
                    // The value is the rest of the line as typed (a quoted one keeps its
                    // blanks).
                    self.colsep = unquote(after_words(args, i - 1)).to_string();
                    i = words.len();
                    Ok(())
                }
                "DEFINE" => match on_off(value) {
                    Some(true) => {
                        self.define = Some('&');
                        Ok(())
                    }
                    Some(false) => {
                        self.define = None;
                        Ok(())
                    }
                    None => {
                        let v = unquote(value);
                        let mut c = v.chars();
                        match (c.next(), c.next()) {
                            (Some(ch), None) if !ch.is_alphanumeric() && !ch.is_whitespace() => {
                                self.define = Some(ch);
                                Ok(())
                            }
                            _ => Err(sp2(265, &[&lower])),
                        }
                    }
                },
                "ECHO" => flag().map(|b| self.echo = b),
                "FEEDBACK" => match on_off(value) {
                    Some(true) => {
                        self.feedback = Some(6);
                        Ok(())
                    }
                    Some(false) => {
                        self.feedback = None;
                        Ok(())
                    }
                    None => number(0, 50000).map(|n| {
                        self.feedback = (n > 0).then_some(n);
                    }),
                },
                "HEADING" => flag().map(|b| self.heading = b),
                "LINESIZE" => number(1, 32767).map(|n| self.linesize = n),
                "NULL" => {
                    // The value is the rest of the line (it may hold blanks when quoted).
                    let rest = words[(i - 1).min(words.len())..].join(" ");
                    let rest = rest.as_str();
                    self.null_text = if rest.eq_ignore_ascii_case("off") {
                        String::new()
                    } else {
                        unquote(rest).to_string()
                    };
                    i = words.len();
                    Ok(())
                }
                "NUMWIDTH" => number(2, 50).map(|n| self.numwidth = n),
                "PAGESIZE" => number(0, 50000).map(|n| self.pagesize = n),
                "SERVEROUTPUT" => self.set_serveroutput(&words[i - 1..]).map(|used| {
                    // Another variable may follow SERVEROUTPUT's own options.
                    i = i - 1 + used;
                }),
                "TIMING" => flag().map(|b| self.timing = b),
                "VERIFY" => flag().map(|b| self.verify = b),
                _ => Ok(()),
            };
            if let Err(e) = r {
                errors.push(e);
                break;
            }
        }
        errors
    }

    /// `SET SERVEROUTPUT {ON|OFF} [SIZE {n|UNL[IMITED]}] [FOR[MAT] {WRA[PPED]|
    /// WOR[D_WRAPPED]|TRU[NCATED]}]`: ON keeps the SIZE and FORMAT given before. Returns
    /// how many words it used.
    fn set_serveroutput(&mut self, words: &[&str]) -> Result<usize, String> {
        let on = on_off(words.first().copied().unwrap_or(""))
            .ok_or_else(|| sp2(265, &["serveroutput"]))?;
        let (mut size, mut format) = (self.serveroutput_size, self.serveroutput_format);
        let mut used = 1;
        let mut rest = words[1..].iter();
        while let Some(w) = rest.next() {
            let u = w.to_ascii_uppercase();
            used += 2;
            if u == "SIZE" {
                let v = rest.next().copied().unwrap_or("");
                let uv = v.to_ascii_uppercase();
                size = if uv.len() >= 3 && "UNLIMITED".starts_with(uv.as_str()) {
                    None
                } else {
                    match v.parse::<u32>() {
                        Ok(n) if (2000..=1_000_000).contains(&n) => Some(n),
                        Ok(n) => {
                            return Err(sp2(547, &["size", &n.to_string(), "2000", "1000000"]));
                        }
                        Err(_) => return Err(sp2(268, &["serveroutput"])),
                    }
                };
            } else if u.len() >= 3 && "FORMAT".starts_with(u.as_str()) {
                let v = rest.next().copied().unwrap_or("").to_ascii_uppercase();
                format = if v.len() >= 3 && "WRAPPED".starts_with(v.as_str()) {
                    OutputFormat::Wrapped
                } else if v.len() >= 3 && "WORD_WRAPPED".starts_with(v.as_str()) {
                    OutputFormat::WordWrapped
                } else if v.len() >= 3 && "TRUNCATED".starts_with(v.as_str()) {
                    OutputFormat::Truncated
                } else {
                    return Err(sp2(158, &["SET SERVEROUTPUT", &v]));
                };
            } else {
                used -= 2;
                break;
            }
        }
        self.serveroutput = on;
        self.serveroutput_size = size;
        self.serveroutput_format = format;
        Ok(used)
    }

    /// The line `SHOW var` prints for a SET variable (`None`: not one).
    pub fn show_variable(&self, name: &str) -> Option<String> {
        let on = |b: bool| if b { "ON" } else { "OFF" };
        Some(match variable(name)? {
            "ARRAYSIZE" => format!("arraysize {}", self.arraysize),
            "AUTOCOMMIT" => format!(
                "autocommit {}",
                if self.autocommit { "IMMEDIATE" } else { "OFF" }
            ),
            "AUTOPRINT" => format!("autoprint {}", on(self.autoprint)),
            "COLSEP" => format!("colsep \"{}\"", self.colsep),
            "DEFINE" => match self.define {
                Some(c) => format!("define \"{c}\" (hex {:02x})", u32::from(c)),
                None => "define OFF".to_string(),
            },
            "ECHO" => format!("echo {}", on(self.echo)),
            "FEEDBACK" => match self.feedback {
                Some(n) => format!("FEEDBACK ON for {n} or more rows"),
                None => "feedback OFF".to_string(),
            },
            "HEADING" => format!("heading {}", on(self.heading)),
            "LINESIZE" => format!("linesize {}", self.linesize),
            "NULL" => format!("null \"{}\"", self.null_text),
            "NUMWIDTH" => format!("numwidth {}", self.numwidth),
            "PAGESIZE" => format!("pagesize {}", self.pagesize),
            "SERVEROUTPUT" if self.serveroutput => format!(
                "serveroutput ON SIZE {} FORMAT {}",
                self.serveroutput_size
                    .map_or("UNLIMITED".to_string(), |n| n.to_string()),
                self.serveroutput_format.name()
            ),
            "SERVEROUTPUT" => "serveroutput OFF".to_string(),
            "TIMING" => format!("timing {}", on(self.timing)),
            "VERIFY" => format!("verify {}", on(self.verify)),
            _ => return None,
        })
    }

    /// `SHOW ALL`: every variable, in SQL*Plus's alphabetical order.
    pub fn show_all(&self) -> String {
        let mut out = String::new();
        for (name, _) in VARIABLES {
            if let Some(line) = self.show_variable(name) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// `COLUMN ...`: defines, lists or clears a column's format. Returns what to print.
    pub fn column(&mut self, args: &str) -> String {
        let (name, rest) = match args.trim().split_once(char::is_whitespace) {
            Some((n, r)) => (n, r.trim()),
            None => (args.trim(), ""),
        };
        if name.is_empty() {
            let mut out = String::new();
            for (n, c) in &self.columns {
                out.push_str(&column_listing(n, c));
                out.push('\n');
            }
            return out;
        }
        let key = unquote(name).to_ascii_uppercase();
        if rest.is_empty() {
            return match self.columns.get(&key) {
                Some(c) => column_listing(name, c),
                None => format!("{}\n", sp2(46, &[name])),
            };
        }
        let mut def = self.columns.get(&key).cloned().unwrap_or_default();
        let mut words = Tokens::new(rest);
        while let Some(w) = words.next_word() {
            let u = w.to_ascii_uppercase();
            if u.len() >= 3 && "FORMAT".starts_with(u.as_str()) {
                let Some(f) = words.next_word() else {
                    return format!("{}\n", sp2(246, &[""]));
                };
                match parse_format(&f) {
                    Some(fmt) => def.format = Some(fmt),
                    None => return format!("{}\n", sp2(246, &[&f])),
                }
            } else if u.len() >= 3 && "HEADING".starts_with(u.as_str()) {
                def.heading = words.next_word();
            } else if u.len() >= 3 && "CLEAR".starts_with(u.as_str()) {
                self.columns.remove(&key);
                return String::new();
            } else {
                return format!("{}\n", sp2(158, &["COLUMN", &w]));
            }
        }
        self.columns.insert(key, def);
        String::new()
    }
}

/// What `COLUMN name` prints for a defined column.
fn column_listing(name: &str, c: &ColumnFormat) -> String {
    let mut out = format!("COLUMN   {name} ON\n");
    if let Some(f) = &c.format {
        let f = match f {
            Format::Text(n) => format!("A{n}"),
            Format::Number(m) => m.clone(),
        };
        out.push_str(&format!("FORMAT   {f}\n"));
    }
    if let Some(h) = &c.heading {
        out.push_str(&format!("HEADING  '{h}'\n"));
    }
    out
}

fn parse_format(f: &str) -> Option<Format> {
    let u = f.to_ascii_uppercase();
    if let Some(n) = u.strip_prefix('A') {
        return n.parse::<u32>().ok().filter(|&n| n > 0).map(Format::Text);
    }
    let valid = !u.is_empty()
        && u.chars().all(|c| matches!(c, '9' | '0' | '.' | ','))
        && u.matches('.').count() <= 1
        && u.contains(['9', '0']);
    valid.then_some(Format::Number(u))
}

/// Words of a COLUMN (ACCEPT, BREAK, COMPUTE) command, quoted strings as one word.
pub(super) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(s: &'a str) -> Self {
        Tokens { rest: s }
    }

    pub(super) fn next_word(&mut self) -> Option<String> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            return None;
        }
        let q = s.chars().next()?;
        if q == '\'' || q == '"' {
            let body = &s[1..];
            let end = body.find(q).unwrap_or(body.len());
            self.rest = body.get(end + 1..).unwrap_or("");
            return Some(body[..end].to_string());
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        self.rest = &s[end..];
        Some(s[..end].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colsep_is_the_rest_of_the_line_and_autoprint_a_flag() {
        let mut s = Settings::default();
        assert!(s.set("colsep '| '").is_empty());
        assert_eq!(s.colsep, "| ");
        assert_eq!(s.show_variable("colsep").as_deref(), Some("colsep \"| \""));
        assert!(s.set("COLSEP ,").is_empty());
        assert_eq!(s.colsep, ",");
        // COLSEP has no abbreviation.
        assert_eq!(s.set("cols x"), vec![sp2(158, &["SET", "cols"])]);
        assert!(s.set("autop on").is_empty());
        assert_eq!(
            s.show_variable("autoprint").as_deref(),
            Some("autoprint ON")
        );
        assert_eq!(
            s.set("autoprint maybe"),
            vec!["SP2-0265: autoprint must be set ON or OFF".to_string()]
        );
    }

    #[test]
    fn defaults_show_as_sqlplus_prints_them() {
        let s = Settings::default();
        assert_eq!(
            s.show_variable("feedback").as_deref(),
            Some("FEEDBACK ON for 6 or more rows")
        );
        assert_eq!(s.show_variable("lin").as_deref(), Some("linesize 80"));
        assert_eq!(s.show_variable("pages").as_deref(), Some("pagesize 14"));
        assert_eq!(s.show_variable("numwidth").as_deref(), Some("numwidth 10"));
        assert_eq!(
            s.show_variable("autocommit").as_deref(),
            Some("autocommit OFF")
        );
        assert_eq!(s.show_variable("timing").as_deref(), Some("timing OFF"));
        assert_eq!(s.show_variable("nosuch"), None);
        let all = s.show_all();
        assert!(
            all.starts_with(
                "arraysize 15\nautocommit OFF\nautoprint OFF\ncolsep \" \"\ndefine \"&\" (hex 26)\necho OFF\n"
            ),
            "{all}"
        );
        assert_eq!(all.lines().count(), VARIABLES.len());
    }

    #[test]
    fn set_changes_and_refuses_like_sqlplus() {
        let mut s = Settings::default();
        assert!(s.set("feedback off").is_empty());
        assert_eq!(s.feedback, None);
        assert!(s.set("feed 1 pages 0 timing on").is_empty());
        assert_eq!((s.feedback, s.pagesize, s.timing), (Some(1), 0, true));
        assert!(s.set("numwidth 5 autocommit on").is_empty());
        assert_eq!((s.numwidth, s.autocommit), (5, true));
        assert!(s.set("null '(null)'").is_empty());
        assert_eq!(s.null_text, "(null)");
        assert_eq!(
            s.set("bogus on"),
            vec!["SP2-0158: unknown SET option \"bogus\""]
        );
        assert_eq!(
            s.set("numwidth x"),
            vec!["SP2-0268: numwidth option not a valid number"]
        );
        assert_eq!(
            s.set("linesize 0"),
            vec!["SP2-0267: linesize option 0 out of range (1 through 32767)"]
        );
        assert_eq!(
            s.set("heading maybe"),
            vec!["SP2-0265: heading must be set ON or OFF"]
        );
    }

    #[test]
    fn serveroutput_size_format_and_layout() {
        let mut s = Settings::default();
        assert_eq!(
            s.show_variable("serveroutput").as_deref(),
            Some("serveroutput OFF")
        );
        assert!(s.set("serveroutput on").is_empty());
        assert_eq!(
            s.show_variable("serverout").as_deref(),
            Some("serveroutput ON SIZE UNLIMITED FORMAT WORD_WRAPPED")
        );
        assert!(
            s.set("serveroutput on size 5000 format wra linesize 60")
                .is_empty()
        );
        assert_eq!(s.linesize, 60);
        assert_eq!(
            s.show_variable("serveroutput").as_deref(),
            Some("serveroutput ON SIZE 5000 FORMAT WRAPPED")
        );
        // OFF then ON keeps SIZE and FORMAT.
        assert!(s.set("serveroutput off").is_empty());
        assert!(s.set("serveroutput on").is_empty());
        assert_eq!(s.serveroutput_size, Some(5000));
        assert_eq!(
            s.set("serveroutput on size 100"),
            vec!["SP2-0547: size option 100 out of range (2000 through 1000000)"]
        );
        // The SQL*Plus Reference's example: "I am js2008." at LINESIZE 9.
        let line = "I am js2008.";
        assert_eq!(
            OutputFormat::WordWrapped.lay_out(line, 9),
            ["I am", "js2008."]
        );
        assert_eq!(OutputFormat::Wrapped.lay_out(line, 9), ["I am js20", "08."]);
        assert_eq!(OutputFormat::Truncated.lay_out(line, 9), ["I am js20"]);
        assert_eq!(
            OutputFormat::WordWrapped.lay_out("   indented", 80),
            ["indented"]
        );
        assert_eq!(
            OutputFormat::Wrapped.lay_out("   indented", 80),
            ["   indented"]
        );
        assert_eq!(OutputFormat::WordWrapped.lay_out("", 80), [""]);
        assert_eq!(
            OutputFormat::WordWrapped.lay_out("abcdefghij", 4),
            ["abcd", "efgh", "ij"]
        );
    }

    #[test]
    fn define_prefix_on_off_and_show() {
        let mut s = Settings::default();
        assert_eq!(
            s.show_variable("define").as_deref(),
            Some("define \"&\" (hex 26)")
        );
        assert!(s.set("define off").is_empty());
        assert_eq!(s.define, None);
        assert_eq!(s.show_variable("def").as_deref(), Some("define OFF"));
        assert!(s.set("define ^").is_empty());
        assert_eq!(s.define, Some('^'));
        assert!(s.set("define on").is_empty());
        assert_eq!(s.define, Some('&'));
    }

    #[test]
    fn column_format_and_heading() {
        let mut s = Settings::default();
        assert_eq!(s.column("program format a20 heading 'Prog'"), "");
        let c = &s.columns["PROGRAM"];
        assert_eq!(c.format, Some(Format::Text(20)));
        assert_eq!(c.heading.as_deref(), Some("Prog"));
        assert_eq!(
            s.column("program"),
            "COLUMN   program ON\nFORMAT   A20\nHEADING  'Prog'\n"
        );
        assert_eq!(s.column("sid format 999"), "");
        assert_eq!(s.columns["SID"].format, Some(Format::Number("999".into())));
        assert_eq!(
            s.column("x format zz"),
            "SP2-0246: Illegal FORMAT string \"zz\"\n"
        );
        assert_eq!(
            s.column("nosuch"),
            "SP2-0046: COLUMN 'nosuch' not defined\n"
        );
        assert_eq!(s.column("program clear"), "");
        assert!(!s.columns.contains_key("PROGRAM"));
    }
}
