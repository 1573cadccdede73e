//! The one parser for Oracle's parameter-file syntax, shared by `tnsnames.ora`,
//! `listener.ora`, `sqlnet.ora` and the instance's `init<SID>.ora`.
//!
//! Oracle's rules (Net Services Reference, "Syntax Rules for Configuration Files"): a
//! parameter starts in column 1 and an indented line continues the previous one; `#`
//! starts a comment; keywords are case-insensitive; `a, b = ...` gives one value several
//! names; values are scalars, double- or single-quoted strings, `(a, b)` lists or nested
//! `(KEY = value)` groups, and a key repeated at one level forms a list. `IFILE = path`
//! includes another file relative to the including one.
//!
//! The file is first cut into entries by the column-1 rule (a column-1 line that starts
//! with `(` or `)` while parentheses are still open is tolerated as a continuation, as
//! real files do that), then each entry is parsed with nom. A broken entry produces a
//! diagnostic naming `file:line:col` and what was expected, and is skipped; the rest of
//! the file is still used, as Oracle clients do.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nom::bytes::complete::{take_till, take_while};
use nom::error::{ErrorKind, ParseError};
use nom::{IResult, Parser};

use crate::diag::{Diagnostic, LineIndex, Parsed, Pos};

/// A scalar value: bare text (trimmed) or the inside of a quoted string.
#[derive(Debug, Clone)]
pub struct Atom {
    /// The text, without surrounding quotes.
    pub text: String,
    /// Whether it was written between `"` or `'`.
    pub quoted: bool,
    /// Where it starts.
    pub pos: Pos,
}

/// Equality compares the text only: `"x"` and `x` mean the same value, wherever written.
impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `name = text`, `(KEY = text)`, `"quoted"`.
    Atom(Atom),
    /// `(a, b, c)` — also `'a', 'b'` at the top level of `init.ora`.
    List(Vec<Atom>),
    /// One or more `(KEY = value)` groups, in order; a repeated key is a list.
    Nodes(Vec<Node>),
}

/// One `(KEY = value)` group.
#[derive(Debug, Clone)]
pub struct Node {
    /// The keyword as written (compare with [`Node::is`]).
    pub key: String,
    /// Where the keyword starts.
    pub pos: Pos,
    /// Its value.
    pub value: Value,
}

/// Keys compare case-insensitively; positions are ignored.
impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.key.eq_ignore_ascii_case(&other.key) && self.value == other.value
    }
}

impl Node {
    /// True if the keyword is `key` (case-insensitive).
    pub fn is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }
}

impl Value {
    /// The scalar text, if this is a scalar.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Atom(a) => Some(&a.text),
            _ => None,
        }
    }

    /// The child groups, if this is a `(KEY = ...)` sequence (empty slice otherwise).
    pub fn nodes(&self) -> &[Node] {
        match self {
            Value::Nodes(n) => n,
            _ => &[],
        }
    }

    /// The first child group named `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.nodes().iter().find(|n| n.is(key))
    }

    /// Every child group named `key`, in order (a repeated key is a list).
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes().iter().filter(move |n| n.is(key))
    }

    /// The value as a list of items: a `(a, b)` list, a single scalar split on commas that
    /// are outside quotes (`'a','b'` in `init.ora`), or a one-group sequence's scalars.
    pub fn items(&self) -> Vec<String> {
        match self {
            Value::List(items) => items.iter().map(|a| a.text.clone()).collect(),
            Value::Atom(a) if a.quoted => vec![a.text.clone()],
            Value::Atom(a) => split_items(&a.text),
            Value::Nodes(_) => Vec::new(),
        }
    }

    /// Where the value starts (for diagnostics).
    pub fn pos(&self) -> Option<Pos> {
        match self {
            Value::Atom(a) => Some(a.pos),
            Value::List(items) => items.first().map(|a| a.pos),
            Value::Nodes(n) => n.first().map(|n| n.pos),
        }
    }
}

/// Splits `a, 'b,c', "d"` on commas outside quotes and strips the quotes.
fn split_items(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, ',') => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            (None, c) => cur.push(c),
        }
    }
    let last = cur.trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last.to_string());
    }
    out
}

/// One top-level parameter: `name[, name...] = value`.
#[derive(Debug, Clone)]
pub struct Param {
    /// The names as written (several for `a, b = ...`).
    pub names: Vec<String>,
    /// The file it came from (the included file for parameters read through `IFILE`).
    pub file: Arc<str>,
    /// Where the first name starts.
    pub pos: Pos,
    /// The value.
    pub value: Value,
}

impl Param {
    /// True if one of the names is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// The first name.
    pub fn name(&self) -> &str {
        self.names.first().map_or("", String::as_str)
    }
}

/// A whole parameter file: its top-level parameters in file order.
#[derive(Debug, Clone, Default)]
pub struct ParamFile {
    /// Parameters in order; `IFILE` includes are replaced by the included parameters when
    /// loaded with [`ParamFile::load`].
    pub params: Vec<Param>,
    /// Entries skipped because they do not parse, when their names could be read (so a
    /// lookup can say "malformed" rather than "unknown").
    pub skipped: Vec<Skipped>,
}

/// A skipped entry's names and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The names as written.
    pub names: Vec<String>,
    /// The file.
    pub file: Arc<str>,
    /// Where the entry starts.
    pub pos: Pos,
}

impl ParamFile {
    /// Parses text. `file` is only used to name diagnostics. `IFILE` entries are kept as
    /// ordinary parameters (there is no directory to resolve them against).
    pub fn parse_str(text: &str, file: &str) -> Parsed<ParamFile> {
        let file: Arc<str> = Arc::from(file);
        let mut diagnostics = Vec::new();
        let mut skipped = Vec::new();
        let params = parse_text(text, &file, &mut diagnostics, &mut skipped);
        Parsed {
            value: ParamFile { params, skipped },
            diagnostics,
        }
    }

    /// Parses raw bytes (invalid UTF-8, e.g. a Latin-1 byte in a comment, is replaced by
    /// U+FFFD; lines and columns stay right).
    pub fn parse_bytes(bytes: &[u8], file: &str) -> Parsed<ParamFile> {
        Self::parse_str(&String::from_utf8_lossy(bytes), file)
    }

    /// Reads and parses `path`, following `IFILE` includes (relative to the including
    /// file's directory). An include cycle is an error; an unreadable include is a warning
    /// and is skipped. Fails only if `path` itself cannot be read.
    pub fn load(path: &Path) -> Result<Parsed<ParamFile>, std::io::Error> {
        let bytes = std::fs::read(path)?;
        let mut diagnostics = Vec::new();
        let mut stack = Vec::new();
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        stack.push(canonical);
        let mut skipped = Vec::new();
        let params = load_rec(&bytes, path, &mut stack, &mut diagnostics, &mut skipped);
        Ok(Parsed {
            value: ParamFile { params, skipped },
            diagnostics,
        })
    }

    /// The last parameter named `name` (later definitions win, as in Oracle).
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().rev().find(|p| p.is(name))
    }
}

fn load_rec(
    bytes: &[u8],
    path: &Path,
    stack: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Param> {
    let file: Arc<str> = Arc::from(path.display().to_string());
    let text = String::from_utf8_lossy(bytes);
    let parsed = parse_text(&text, &file, diags, skipped);
    let mut out = Vec::with_capacity(parsed.len());
    for p in parsed {
        if !p.is("IFILE") {
            out.push(p);
            continue;
        }
        let Some(target) = p.value.as_text().filter(|t| !t.is_empty()) else {
            diags.push(Diagnostic::error(
                &file,
                p.pos,
                "expected a file name after IFILE =",
            ));
            continue;
        };
        let target = Path::new(target);
        let target = if target.is_absolute() {
            target.to_path_buf()
        } else {
            path.parent().unwrap_or(Path::new(".")).join(target)
        };
        let canonical = target.canonicalize().unwrap_or_else(|_| target.clone());
        if stack.contains(&canonical) {
            let chain: Vec<String> = stack.iter().map(|s| s.display().to_string()).collect();
            diags.push(Diagnostic::error(
                &file,
                p.pos,
                format!(
                    "IFILE include cycle: {} -> {}",
                    chain.join(" -> "),
                    canonical.display()
                ),
            ));
            continue;
        }
        match std::fs::read(&target) {
            Ok(inner) => {
                // The including file plus three levels is what Oracle documents.
                if stack.len() > 3 {
                    diags.push(Diagnostic::warning(
                        &file,
                        p.pos,
                        format!(
                            "IFILE nested {} levels deep; Oracle documents at most three",
                            stack.len()
                        ),
                    ));
                }
                stack.push(canonical);
                out.extend(load_rec(&inner, &target, stack, diags, skipped));
                stack.pop();
            }
            Err(e) => diags.push(Diagnostic::warning(
                &file,
                p.pos,
                format!(
                    "included file {} cannot be read ({e}); ignored",
                    target.display()
                ),
            )),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Entry splitting (the column-1 rule)
// ---------------------------------------------------------------------------------------

/// Byte range of one entry in the text.
struct Entry {
    start: usize,
    end: usize,
}

/// Cuts the text into entries: a non-blank, non-comment line whose first character is not
/// whitespace starts a new entry, except a line starting with `(` or `)` while the current
/// entry still has open parentheses.
fn split_entries(text: &str) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut depth: i64 = 0;
    // Last significant character of the current entry: after a trailing '=' the value is
    // still to come, so a column-1 '(' continues the entry.
    let mut last_sig: Option<char> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let first = line.chars().next();
        let content = line.trim_end_matches(['\n', '\r']);
        let starts_entry = match first {
            None => false,
            Some(c) if c.is_whitespace() || c == '#' => false,
            Some('(' | ')') => entries.is_empty() || (depth <= 0 && last_sig != Some('=')),
            Some(_) => true,
        };
        if starts_entry {
            if let Some(last) = entries.last_mut() {
                last.end = offset;
            }
            entries.push(Entry {
                start: offset,
                end: offset + line.len(),
            });
            depth = 0;
            last_sig = None;
        } else if let Some(last) = entries.last_mut() {
            last.end = offset + line.len();
        }
        if !entries.is_empty() {
            let (balance, sig) = scan_line(content);
            depth += balance;
            last_sig = sig.or(last_sig);
        }
        offset += line.len();
    }
    entries
}

/// Net parenthesis count of one line and its last significant character, ignoring
/// `"..."` strings and `#` comments.
fn scan_line(line: &str) -> (i64, Option<char>) {
    let mut n = 0;
    let mut in_quote = false;
    let mut last = None;
    for c in line.chars() {
        match c {
            '"' => in_quote = !in_quote,
            '#' if !in_quote => break,
            '(' if !in_quote => n += 1,
            ')' if !in_quote => n -= 1,
            _ => {}
        }
        if !c.is_whitespace() {
            last = Some(c);
        }
    }
    (n, last)
}

// ---------------------------------------------------------------------------------------
// nom grammar for one entry
// ---------------------------------------------------------------------------------------

/// Parse failure: how much input was left where it failed, and what was expected there.
#[derive(Debug)]
struct PErr {
    rest_len: usize,
    expected: String,
}

impl<'a> ParseError<&'a str> for PErr {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        PErr {
            rest_len: input.len(),
            expected: kind.description().to_string(),
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr>;

fn fail<T>(rest: &str, expected: impl Into<String>) -> Res<'_, T> {
    Err(nom::Err::Failure(PErr {
        rest_len: rest.len(),
        expected: expected.into(),
    }))
}

/// Per-entry context: maps remaining input back to file positions.
struct Ctx<'t> {
    text: &'t str,
    /// Byte offset in `text` where the entry ends (remaining input is a suffix of the entry).
    end: usize,
    lines: &'t LineIndex,
    file: &'t Arc<str>,
    /// First place where the indentation contradicts the nesting (remaining length and a
    /// message). Used only to explain an entry whose parentheses never balance.
    suspect: RefCell<Option<(usize, String)>>,
}

impl Ctx<'_> {
    /// Indentation width (tabs to the next multiple of 8) of the line holding `rest`'s
    /// first character, if only whitespace precedes it on that line.
    fn line_indent(&self, rest: &str) -> Option<usize> {
        // Walk back only over whitespace: O(indentation), not O(line length).
        let before = &self.text[..self.offset(rest)];
        let mut width_chars = Vec::new();
        for c in before.chars().rev() {
            if c == '\n' {
                break;
            }
            if !c.is_whitespace() {
                return None;
            }
            width_chars.push(c);
        }
        Some(
            width_chars
                .iter()
                .rev()
                .fold(0, |w, c| if *c == '\t' { (w / 8 + 1) * 8 } else { w + 1 }),
        )
    }

    fn offset(&self, rest: &str) -> usize {
        self.end - rest.len()
    }

    fn pos(&self, rest: &str) -> Pos {
        self.lines.pos(self.text, self.offset(rest))
    }

    fn pos_len(&self, rest_len: usize) -> Pos {
        self.lines.pos(self.text, self.end - rest_len)
    }

    fn suspect(&self, rest: &str, msg: String) {
        let mut s = self.suspect.borrow_mut();
        if s.is_none() {
            *s = Some((rest.len(), msg));
        }
    }

    /// A child group that is not indented deeper than its parent, while an earlier sibling
    /// was, suggests the parent should have been closed before it. Returns the child's
    /// indentation (when it starts its line) for the next sibling's check.
    fn check_child(
        &self,
        parent_open: &str,
        parent_key: &str,
        child_open: &str,
        prev: Option<usize>,
    ) -> Option<usize> {
        // Both checks compare lines: a one-line text (a CONNECT's descriptor) has nothing to
        // check, and skips the work on its every group.
        if self.lines.single_line() {
            return None;
        }
        let ci = self.line_indent(child_open)?;
        let Some(pi) = self.line_indent(parent_open) else {
            return Some(ci);
        };
        let (pp, cp) = (self.pos(parent_open), self.pos(child_open));
        if cp.line > pp.line && ci <= pi && prev.is_some_and(|p| p > ci) {
            self.suspect(
                child_open,
                format!(
                    "expected ')' to close '({parent_key}' (opened at line {}:{}) before this group, which is indented like '({parent_key}' itself",
                    pp.line, pp.col
                ),
            );
        }
        Some(ci)
    }
}

/// Whitespace (any Unicode whitespace, so tabs, CR and NBSP too) and `#` comments.
fn ws(i: &str) -> Res<'_, ()> {
    let mut rest = i;
    loop {
        // ASCII whitespace byte by byte (most text has no other); from a non-ASCII character
        // on, whatever Unicode calls whitespace.
        let ascii = rest
            .bytes()
            .take_while(|b| matches!(b, b'\t'..=b'\r' | b' '))
            .count();
        rest = &rest[ascii..];
        if rest.as_bytes().first().is_some_and(|b| !b.is_ascii()) {
            rest = rest.trim_start_matches(char::is_whitespace);
        }
        match rest.strip_prefix('#') {
            Some(comment) => rest = &comment[comment.find('\n').unwrap_or(comment.len())..],
            None => return Ok((rest, ())),
        }
    }
}

fn is_key_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !matches!(c, '(' | ')' | '=' | ',' | '#' | '"' | '\'')
}

fn keyword(i: &str) -> Res<'_, &str> {
    match i.find(|c| !is_key_char(c)).unwrap_or(i.len()) {
        0 => Err(nom::Err::Error(PErr::from_error_kind(
            i,
            ErrorKind::TakeWhile1,
        ))),
        n => Ok((&i[n..], &i[..n])),
    }
}

/// `"..."` or `'...'` (may span lines; no escapes, as in Oracle).
fn quoted<'a>(ctx: &Ctx<'_>, i: &'a str) -> Res<'a, Atom> {
    let pos = ctx.pos(i);
    let Some(q) = i.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return Err(nom::Err::Error(PErr {
            rest_len: i.len(),
            expected: "a quoted string".into(),
        }));
    };
    let body = &i[1..];
    match body.find(q) {
        Some(end) => Ok((
            &body[end + 1..],
            Atom {
                text: body[..end].to_string(),
                quoted: true,
                pos,
            },
        )),
        None => fail(i, format!("closing {q} of the string started here")),
    }
}

/// Bare text inside parentheses: up to `(`, `)`, `#` or end of line, trimmed.
fn bare_inner<'a>(ctx: &Ctx<'_>, i: &'a str) -> Res<'a, Atom> {
    let pos = ctx.pos(i);
    let end = i.find(['(', ')', '#', '\n', '\r']).unwrap_or(i.len());
    let (text, rest) = i.split_at(end);
    Ok((
        rest,
        Atom {
            text: text.trim().to_string(),
            quoted: false,
            pos,
        },
    ))
}

/// One list item: quoted, or bare text up to `,` `(` `)` `#` or end of line.
fn list_item<'a>(ctx: &Ctx<'_>, i: &'a str) -> Res<'a, Atom> {
    if i.starts_with(['"', '\'']) {
        return quoted(ctx, i);
    }
    let pos = ctx.pos(i);
    let (rest, text) = take_till(|c| matches!(c, ',' | '(' | ')' | '#' | '\n' | '\r')).parse(i)?;
    Ok((
        rest,
        Atom {
            text: text.trim().to_string(),
            quoted: false,
            pos,
        },
    ))
}

/// Either a `(KEY = value)` group or a `(a, b)` list, starting at `(`.
enum Group {
    Node(Node),
    List(Vec<Atom>),
}

fn group<'a>(ctx: &Ctx<'_>, i: &'a str, depth: usize) -> Res<'a, Group> {
    if depth > 64 {
        return fail(i, "at most 64 levels of nested parentheses");
    }
    let open = i;
    let Some(i) = i.strip_prefix('(') else {
        return Err(nom::Err::Error(PErr::from_error_kind(i, ErrorKind::Char)));
    };
    let (i, ()) = ws(i)?;
    // A keyword followed by '=' makes a node; anything else is a list.
    if let Ok((after_key, key)) = keyword(i) {
        let (after_ws, ()) = ws(after_key)?;
        if let Some(after_eq) = after_ws.strip_prefix('=') {
            let key_pos = ctx.pos(i);
            let (r, value) = inner_value(ctx, after_eq, depth, Some((open, key)))?;
            let r = close_paren(ctx, r, open, key)?;
            return Ok((
                r,
                Group::Node(Node {
                    key: key.to_string(),
                    pos: key_pos,
                    value,
                }),
            ));
        }
    }
    let mut items = Vec::new();
    let mut r = i;
    if !r.starts_with(')') {
        loop {
            let (r2, item) = list_item(ctx, r)?;
            let (r2, ()) = ws(r2)?;
            if item.text.is_empty() && !item.quoted {
                return fail(r2, "a keyword followed by '=', or a list item");
            }
            items.push(item);
            match r2.strip_prefix(',') {
                Some(r3) => {
                    let (r3, ()) = ws(r3)?;
                    r = r3;
                }
                None => {
                    r = r2;
                    break;
                }
            }
        }
    }
    let r = close_paren(ctx, r, open, "list")?;
    Ok((r, Group::List(items)))
}

/// Expects `)` (after optional whitespace). At the end of the entry the error is placed
/// right after the last token, not at the next entry's first line.
fn close_paren<'a>(
    ctx: &Ctx<'_>,
    i: &'a str,
    open: &str,
    what: &str,
) -> Result<&'a str, nom::Err<PErr>> {
    let (r, ()) = ws(i)?;
    if let Some(after) = r.strip_prefix(')') {
        if ctx.lines.single_line() {
            return Ok(after);
        }
        if let (Some(ci), Some(oi)) = (ctx.line_indent(r), ctx.line_indent(open)) {
            let (cp, op) = (ctx.pos(r), ctx.pos(open));
            if cp.line > op.line && ci < oi {
                ctx.suspect(
                    i,
                    format!(
                        "expected ')' to close '({what}' (opened at line {}:{}); the ')' on line {} is indented less than that line and probably closes an outer group",
                        op.line, op.col, cp.line
                    ),
                );
            }
        }
        return Ok(after);
    }
    // Point at the end of the last token when the next one is on a later line (or absent):
    // that is where the ')' is missing.
    let skipped = &i[..i.len() - r.len()];
    let at = if r.is_empty() || skipped.contains('\n') {
        i
    } else {
        r
    };
    let opened = ctx.pos(open);
    let found = describe(at);
    fail::<()>(
        at,
        format!(
            "expected ')' to close '({what}' opened at line {}:{}, found {found}",
            opened.line, opened.col
        ),
    )
    .map(|_| at)
}

/// True when only whitespace and comments remain.
fn at_end(rest: &str) -> bool {
    matches!(ws(rest), Ok(("", ())))
}

fn describe_pos(p: Pos) -> String {
    format!("{}:{}", p.line, p.col)
}

fn describe(i: &str) -> String {
    match i.trim_start_matches([' ', '\t', '\r']).chars().next() {
        None => "end of entry".into(),
        Some('\n') => "end of line".into(),
        Some(c) if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
        Some(c) => format!("'{c}'"),
    }
}

/// The value after `KEY =` inside parentheses.
fn inner_value<'a>(
    ctx: &Ctx<'_>,
    i: &'a str,
    depth: usize,
    parent: Option<(&str, &str)>,
) -> Res<'a, Value> {
    let (i, ()) = ws(i)?;
    if i.starts_with('(') {
        return groups(ctx, i, depth + 1, parent);
    }
    if i.starts_with(['"', '\'']) {
        let (r, a) = quoted(ctx, i)?;
        return Ok((r, Value::Atom(a)));
    }
    let (r, a) = bare_inner(ctx, i)?;
    Ok((r, Value::Atom(a)))
}

/// One or more groups: all nodes (a `Value::Nodes`) or a single list.
fn groups<'a>(
    ctx: &Ctx<'_>,
    i: &'a str,
    depth: usize,
    parent: Option<(&str, &str)>,
) -> Res<'a, Value> {
    let mut prev_indent = None;
    if let Some((open, key)) = parent {
        prev_indent = ctx.check_child(open, key, i, None);
    }
    let (mut r, first) = group(ctx, i, depth)?;
    let mut nodes = match first {
        Group::List(items) => return Ok((r, Value::List(items))),
        Group::Node(n) => {
            // Room for an ADDRESS's or a CID's groups without growing.
            let mut nodes = Vec::with_capacity(4);
            nodes.push(n);
            nodes
        }
    };
    loop {
        let (r2, ()) = ws(r)?;
        if !r2.starts_with('(') {
            return Ok((r, Value::Nodes(nodes)));
        }
        if let Some((open, key)) = parent {
            prev_indent = ctx.check_child(open, key, r2, prev_indent).or(prev_indent);
        }
        let (r3, g) = group(ctx, r2, depth)?;
        match g {
            Group::Node(n) => nodes.push(n),
            Group::List(_) => return fail(r2, "a (KEYWORD = value) group, not a list"),
        }
        r = r3;
    }
}

/// The value after `name =` at the top level.
fn top_value<'a>(ctx: &Ctx<'_>, i: &'a str) -> Res<'a, Value> {
    let (i, ()) = ws(i)?;
    if i.starts_with('(') {
        return groups(ctx, i, 0, None);
    }
    if i.starts_with(['"', '\'']) {
        // `'a', 'b'` (init.ora) is a list; a single quoted string is an atom.
        let (r, first) = quoted(ctx, i)?;
        let mut items = vec![first];
        let mut r = r;
        loop {
            let (r2, ()) = ws_inline(r)?;
            let Some(r3) = r2.strip_prefix(',') else {
                break;
            };
            let (r3, ()) = ws(r3)?;
            let (r4, item) = list_item(ctx, r3)?;
            items.push(item);
            r = r4;
        }
        if items.len() == 1 {
            return Ok((r, Value::Atom(items.remove(0))));
        }
        return Ok((r, Value::List(items)));
    }
    let pos = ctx.pos(i);
    let (r, text) = take_till(|c| matches!(c, '#' | '\n')).parse(i)?;
    let text = text.trim();
    if text.is_empty() {
        return fail(i, "a value after '='");
    }
    Ok((
        r,
        Value::Atom(Atom {
            text: text.to_string(),
            quoted: false,
            pos,
        }),
    ))
}

/// Spaces and tabs only (used where a newline ends the construct).
fn ws_inline(i: &str) -> Res<'_, ()> {
    let (r, _) =
        take_while(|c: char| c == ' ' || c == '\t' || c == '\r' || c == '\u{a0}').parse(i)?;
    Ok((r, ()))
}

/// `name[, name...] =`
fn names(i: &str) -> Res<'_, Vec<String>> {
    let mut out = Vec::new();
    let mut r = i;
    loop {
        let Ok((r2, k)) = keyword(r) else {
            let what = if out.is_empty() {
                "a parameter name"
            } else {
                "a name after ','"
            };
            return fail(r, format!("expected {what}, found {}", describe(r)));
        };
        out.push(k.to_string());
        let (r2, ()) = ws(r2)?;
        if let Some(r3) = r2.strip_prefix(',') {
            let (r3, ()) = ws(r3)?;
            r = r3;
            continue;
        }
        if let Some(r3) = r2.strip_prefix('=') {
            return Ok((r3, out));
        }
        return fail(
            r2,
            format!("expected '=' after '{}', found {}", k, describe(r2)),
        );
    }
}

/// Result of parsing one entry: the parameter if its value was complete, plus diagnostics.
fn parse_entry(ctx: &Ctx<'_>, i: &str, diags: &mut Vec<Diagnostic>) -> Option<Param> {
    let pos = ctx.pos(i);
    let parsed = names(i).and_then(|(r, n)| top_value(ctx, r).map(|(r, v)| (r, n, v)));
    match parsed {
        Ok((rest, names, value)) => {
            if let Ok((rest, ())) = ws(rest)
                && !rest.is_empty()
            {
                diags.push(Diagnostic::error(
                    ctx.file,
                    ctx.pos(rest),
                    format!(
                        "unexpected {} after the value of '{}' (a new parameter must start in column 1; an indented line continues the previous one)",
                        describe(rest),
                        names.first().map_or("", String::as_str)
                    ),
                ));
            }
            Some(Param {
                names,
                file: Arc::clone(ctx.file),
                pos,
                value,
            })
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => {
            let msg = if e.expected.starts_with("expected") {
                e.expected
            } else {
                format!("expected {}", e.expected)
            };
            // An unbalanced entry is reported where the indentation says the ')' is missing,
            // when it says so; the parser itself only notices at the end of the entry.
            let suspect = ctx.suspect.borrow_mut().take();
            // At the end of the entry, point just after its last token rather than at the
            // start of the next entry's line.
            let fail_len = e.rest_len.min(i.len());
            let failed_at_end = at_end(&i[i.len() - fail_len..]);
            let err_len = if failed_at_end {
                i.len() - i[..i.len() - fail_len].trim_end().len()
            } else {
                fail_len
            };
            let e = PErr {
                rest_len: err_len,
                expected: String::new(),
            };
            match suspect {
                Some((rest_len, hint)) if msg.starts_with("expected ')'") && failed_at_end => diags
                    .push(Diagnostic::error(
                        ctx.file,
                        ctx.pos_len(rest_len),
                        format!(
                            "{hint} (at {}: {msg}); entry skipped",
                            describe_pos(ctx.pos_len(e.rest_len))
                        ),
                    )),
                _ => diags.push(Diagnostic::error(
                    ctx.file,
                    ctx.pos_len(e.rest_len),
                    format!("{msg}; entry skipped"),
                )),
            }
            None
        }
        Err(nom::Err::Incomplete(_)) => {
            diags.push(Diagnostic::error(
                ctx.file,
                ctx.pos_len(0),
                "unexpected end of input; entry skipped",
            ));
            None
        }
    }
}

fn parse_text(
    text: &str,
    file: &Arc<str>,
    diags: &mut Vec<Diagnostic>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Param> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = LineIndex::new(text);
    warn_nbsp(text, &lines, file, diags);
    let mut out = Vec::new();
    for e in split_entries(text) {
        let ctx = Ctx {
            text,
            end: e.end,
            lines: &lines,
            file,
            suspect: RefCell::new(None),
        };
        let entry = &text[e.start..e.end];
        match parse_entry(&ctx, entry, diags) {
            Some(p) => out.push(p),
            None => {
                if let Ok((_, names)) = names(entry) {
                    skipped.push(Skipped {
                        names,
                        file: Arc::clone(file),
                        pos: ctx.pos(entry),
                    });
                }
            }
        }
    }
    out
}

/// Non-breaking spaces work as whitespace here but often not in Oracle's own tools.
fn warn_nbsp(text: &str, lines: &LineIndex, file: &Arc<str>, diags: &mut Vec<Diagnostic>) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or_default();
        if let Some(i) = code.find('\u{a0}') {
            diags.push(Diagnostic::warning(
                file,
                lines.pos(text, offset + i),
                "non-breaking space (U+00A0) used as whitespace",
            ));
        }
        offset += line.len();
    }
}

/// A syntax error in a standalone value (see [`parse_value`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {message}", pos.line, pos.col)]
pub struct ValueSyntaxError {
    /// Where it failed.
    pub pos: Pos,
    /// What was expected there.
    pub message: String,
}

/// `<descriptor>`, the file name of a standalone value's diagnostics: one allocation for
/// the process, not one per CONNECT the listener parses.
pub(crate) fn descriptor_file() -> Arc<str> {
    static FILE: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    Arc::clone(FILE.get_or_init(|| Arc::from("<descriptor>")))
}

/// Parses a standalone parenthesised value such as a connect descriptor received in a
/// CONNECT packet: `(DESCRIPTION=...)`, whitespace and newlines allowed anywhere, the whole
/// text must be consumed.
pub fn parse_value(text: &str) -> Result<Value, ValueSyntaxError> {
    let lines = LineIndex::new(text);
    let file = descriptor_file();
    let ctx = Ctx {
        text,
        end: text.len(),
        lines: &lines,
        file: &file,
        suspect: RefCell::new(None),
    };
    let res = ws(text).and_then(|(r, ())| {
        if r.starts_with('(') {
            groups(&ctx, r, 0, None)
        } else {
            fail(
                r,
                format!("expected '(' to start a descriptor, found {}", describe(r)),
            )
        }
    });
    match res {
        Ok((rest, v)) => match ws(rest) {
            Ok(("", ())) => Ok(v),
            Ok((r, ())) => Err(ValueSyntaxError {
                pos: ctx.pos(r),
                message: format!("expected end of descriptor, found {}", describe(r)),
            }),
            Err(_) => Err(ValueSyntaxError {
                pos: ctx.pos(rest),
                message: "expected end of descriptor".into(),
            }),
        },
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(ValueSyntaxError {
            pos: ctx.pos_len(e.rest_len),
            message: if e.expected.starts_with("expected") {
                e.expected
            } else {
                format!("expected {}", e.expected)
            },
        }),
        Err(nom::Err::Incomplete(_)) => Err(ValueSyntaxError {
            pos: ctx.pos_len(0),
            message: "unexpected end of descriptor".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Parsed<ParamFile> {
        ParamFile::parse_str(t, "t.ora")
    }

    #[test]
    fn simple_and_nested() {
        let p = parse(
            "a = 1\nB, c =\n  (DESCRIPTION = (ADDRESS=(PROTOCOL=tcp)(HOST=h)(PORT=1))\n   (ADDRESS=(HOST=x)))\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.value.params.len(), 2);
        assert_eq!(p.value.params[0].value.as_text(), Some("1"));
        assert_eq!(p.value.params[1].names, vec!["B", "c"]);
        let d = p.value.params[1].value.get("description").unwrap();
        assert_eq!(d.value.get_all("ADDRESS").count(), 2);
        assert_eq!(d.pos, Pos { line: 3, col: 4 });
    }

    #[test]
    fn lists_quotes_comments() {
        let p = parse(
            "NAMES.DIRECTORY_PATH = (TNSNAMES, EZCONNECT) # c\r\nx=(E=\"a (b)=c\")\ncf='/a','/b'\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(
            p.value.params[0].value.items(),
            vec!["TNSNAMES", "EZCONNECT"]
        );
        assert_eq!(
            p.value.params[1].value.get("e").unwrap().value.as_text(),
            Some("a (b)=c")
        );
        assert_eq!(p.value.params[2].value.items(), vec!["/a", "/b"]);
    }

    #[test]
    fn init_ora_pfile_lines() {
        let p = parse(
            "orcl.__db_cache_size=1207959552\n\
             *.audit_file_dest='/u01/app/oracle/admin/orcl/adump'\n\
             *.control_files='/u01/oradata/ORCL/control01.ctl','/u01/fra/ORCL/control02.ctl'\n\
             *.db_name='orcl'\n\
             *.dispatchers='(PROTOCOL=TCP) (SERVICE=orclXDB)'\n\
             *.local_listener='(ADDRESS=(PROTOCOL=TCP)(HOST=localhost)(PORT=1521))'\n\
             *.processes=300 # sized for the demo\n\
             shared_servers = 2\n\
             *.nls_language=\"AMERICAN\"\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let f = &p.value;
        assert_eq!(
            f.get("*.db_name").and_then(|x| x.value.as_text()),
            Some("orcl")
        );
        assert_eq!(
            f.get("*.CONTROL_FILES").map(|x| x.value.items()),
            Some(vec![
                "/u01/oradata/ORCL/control01.ctl".to_string(),
                "/u01/fra/ORCL/control02.ctl".to_string()
            ])
        );
        assert_eq!(
            f.get("*.dispatchers").and_then(|x| x.value.as_text()),
            Some("(PROTOCOL=TCP) (SERVICE=orclXDB)")
        );
        assert_eq!(
            f.get("*.processes").and_then(|x| x.value.as_text()),
            Some("300")
        );
        assert_eq!(
            f.get("shared_servers").and_then(|x| x.value.as_text()),
            Some("2")
        );
        assert_eq!(
            f.get("orcl.__db_cache_size")
                .and_then(|x| x.value.as_text()),
            Some("1207959552")
        );
        assert_eq!(
            f.get("*.nls_language").and_then(|x| x.value.as_text()),
            Some("AMERICAN")
        );
    }

    #[test]
    fn broken_entry_is_skipped_with_position() {
        let p = parse("a = (X = (Y = 1)\nb = (Z = 2)\n");
        assert_eq!(p.value.params.len(), 1);
        assert_eq!(p.value.params[0].name(), "b");
        let e: Vec<_> = p.errors().collect();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].pos.line, 1);
        assert!(e[0].message.contains("expected ')'"), "{}", e[0]);
        assert!(e[0].to_string().starts_with("t.ora:1:"), "{}", e[0]);
    }

    #[test]
    fn unbalanced_entry_points_where_indentation_says() {
        // ADDRESS never closed: CONNECT_DATA sits at ADDRESS's own indentation.
        let p = parse(
            "svc=(DESCRIPTION=\n\t(ADDRESS=\n\t\t(HOST=h)\n\t\t(PORT=1)\n\t(CONNECT_DATA=\n\t\t(SID=x)))\n",
        );
        let e: Vec<_> = p.errors().collect();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].pos, Pos { line: 5, col: 2 }, "{}", e[0]);
        // A ')' less indented than the line that opened what it closes.
        let p = parse(
            "L =\n  (DESCRIPTION_LIST =\n    (DESCRIPTION =\n      (ADDRESS = (PROTOCOL = IPC)(KEY = X)\n    )\n  )\n",
        );
        let e: Vec<_> = p.errors().collect();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].pos.line, 4, "{}", e[0]);
    }

    #[test]
    fn indented_line_continues() {
        let p = parse("a = (X = 1)\n  b = (Y = 2)\nc = 3");
        assert_eq!(p.value.params.len(), 2);
        let e: Vec<_> = p.errors().collect();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].pos, Pos { line: 2, col: 3 });
    }

    #[test]
    fn column_one_close_paren_inside_open_entry() {
        let p = parse("a =\n (X =\n  (Y = 1)\n)\n");
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(p.value.params.len(), 1);
    }

    #[test]
    fn ifile_cycle_and_relative() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("a.ora"),
            "x = 1\nIFILE = sub/b.ora\nz = 3\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/b.ora"), "y = 2\nifile=../a.ora\n").unwrap();
        let p = ParamFile::load(&dir.path().join("a.ora")).unwrap();
        let names: Vec<_> = p
            .value
            .params
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        assert_eq!(names, vec!["x", "y", "z"]);
        let e: Vec<_> = p.errors().collect();
        assert_eq!(e.len(), 1);
        assert!(
            p.diagnostics
                .iter()
                .all(|d| !d.message.contains("levels deep"))
        );
        assert!(e[0].message.contains("cycle"));
        assert!(e[0].file.ends_with("b.ora"));
        assert_eq!(e[0].pos.line, 2);
    }

    #[test]
    fn ifile_deeper_than_three_levels_is_read_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::write(
                dir.path().join(format!("f{i}.ora")),
                format!("p{i} = {i}\nifile = f{}.ora\n", i + 1),
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("f5.ora"), "p5 = 5\n").unwrap();
        let p = ParamFile::load(&dir.path().join("f0.ora")).unwrap();
        assert_eq!(p.value.params.len(), 6);
        let w: Vec<_> = p
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("levels deep"))
            .collect();
        assert_eq!(w.len(), 2, "{:?}", p.diagnostics);
        assert!(w[0].file.ends_with("f3.ora"), "{}", w[0]);
    }
}
