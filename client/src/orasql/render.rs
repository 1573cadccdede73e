//! Result sets and messages laid out as SQL*Plus lays them out.
//!
//! A column is as wide as its data type: a NUMBER column NUMWIDTH (10) characters or its
//! heading if longer, right-aligned; a character column its declared length (`DUMMY`, a
//! VARCHAR2(1), is headed `D/-`), its heading cut to that width; `COLUMN ... FORMAT An`
//! overrides both, and longer text wraps inside the column. A record wider than LINESIZE
//! (default 80) continues on the next lines under headings of their own. A page (PAGESIZE
//! lines, default 14) starts with a blank line and the heading; `n rows selected.` follows
//! from FEEDBACK rows on (default 6), `no rows selected` always.

use std::fmt::Write as _;
use std::time::Duration;

use super::report::{Break, On, Report, Skip, Summary, number_text};
use super::settings::{Format, Settings};
use crate::connection::Column;
use crate::wire::Value;

/// How one column is printed.
struct Layout {
    width: usize,
    numeric: bool,
    heading: Vec<String>,
    mask: Option<String>,
}

fn is_numeric(c: &Column) -> bool {
    c.type_name == "NUMBER" || c.type_name.starts_with("BINARY_")
}

fn layout(c: &Column, cells: &[Vec<String>], i: usize, s: &Settings) -> Layout {
    let def = s.columns.get(&c.name.to_ascii_uppercase());
    let heading_text = def
        .and_then(|d| d.heading.clone())
        .unwrap_or_else(|| c.name.clone());
    let heading: Vec<String> = heading_text.split('|').map(str::to_string).collect();
    let heading_width = heading.iter().map(|h| h.chars().count()).max().unwrap_or(0);
    let data_width = cells
        .iter()
        .filter_map(|r| r.get(i))
        .map(|v| v.chars().count())
        .max()
        .unwrap_or(0);
    let numeric = is_numeric(c);
    let (width, mask) = match def.and_then(|d| d.format.clone()) {
        Some(Format::Text(n)) => (n as usize, None),
        Some(Format::Number(m)) => ((m.len() + 1).max(heading_width), Some(m)),
        None if numeric => (
            (s.numwidth as usize).max(heading_width).max(data_width),
            None,
        ),
        None => {
            let declared = match c.type_name {
                "VARCHAR2" | "CHAR" | "NVARCHAR2" | "NCHAR" => c.max_size as usize,
                "RAW" => 2 * c.max_size as usize,
                _ => 0,
            };
            let w = if declared > 0 { declared } else { data_width };
            (w.max(1), None)
        }
    };
    let heading = heading
        .into_iter()
        .map(|h| h.chars().take(width).collect())
        .collect();
    Layout {
        width,
        numeric,
        heading,
        mask,
    }
}

/// A number through a `999.99` mask: `#`s when it does not fit.
fn apply_mask(v: &str, mask: &str, width: usize) -> String {
    let decimals = mask.split_once('.').map_or(0, |(_, d)| d.len());
    let Ok(x) = v.parse::<f64>() else {
        return v.to_string();
    };
    let mut s = format!("{x:.decimals$}");
    if mask.contains(',') {
        let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
        let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
        let mut grouped = String::new();
        for (k, ch) in digits.chars().enumerate() {
            if k > 0 && (digits.len() - k) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        s = if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{frac}")
        };
    }
    if s.len() > width || s.trim_start_matches('-').len() > mask.len() {
        "#".repeat(width)
    } else {
        s
    }
}

/// Splits text into pieces of at most `width` characters (WRAPPED).
fn wrap(v: &str, width: usize) -> Vec<String> {
    if v.chars().count() <= width || width == 0 {
        return vec![v.to_string()];
    }
    let chars: Vec<char> = v.chars().collect();
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

fn join_line(parts: &[String], colsep: &str) -> String {
    let mut line = parts.join(colsep);
    line.truncate(line.trim_end().len());
    line
}

/// The columns of each physical line of a record: SQL*Plus puts columns on a line while
/// they fit in LINESIZE (COLSEP between them) and starts the next line with the column
/// that does not fit; a column never shares a line it cannot fit on.
fn line_groups(layouts: &[Layout], linesize: usize, sep: usize) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, l) in layouts.iter().enumerate() {
        if i > start && used + sep + l.width > linesize {
            groups.push(start..i);
            start = i;
            used = 0;
        }
        used += if i == start { l.width } else { sep + l.width };
    }
    if start < layouts.len() {
        groups.push(start..layouts.len());
    }
    groups
}

/// Cells padded to their columns' widths and joined by COLSEP, trailing blanks cut
/// (TRIMOUT ON).
fn lay_line(cells: &[&str], layouts: &[Layout], colsep: &str) -> String {
    let parts: Vec<String> = cells
        .iter()
        .zip(layouts)
        .map(|(v, l)| {
            let w = l.width;
            if l.numeric {
                format!("{v:>w$}")
            } else {
                format!("{v:<w$}")
            }
        })
        .collect();
    join_line(&parts, colsep)
}

/// BTITLE at the foot of page `page`, of which `used` lines are filled: blank lines down to
/// the title's place in PAGESIZE, then its lines. Nothing without a BTITLE.
fn bottom_title(out: &mut String, s: &Settings, page: u32, used: usize) {
    let lines = s.titles.bottom.lines(
        page,
        s.numwidth as usize,
        s.linesize as usize,
        &s.titles.date,
    );
    if lines.is_empty() {
        return;
    }
    let room = (s.pagesize as usize).saturating_sub(used + lines.len());
    out.push_str(&"\n".repeat(room));
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
}

/// The BREAK columns present in a result set, outermost first: (column index, break).
struct Breaks<'a> {
    columns: Vec<(usize, &'a Break)>,
}

impl<'a> Breaks<'a> {
    fn new(columns: &[Column], report: &'a Report) -> Self {
        let columns = report
            .breaks
            .iter()
            .filter_map(|b| {
                columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(&b.column))
                    .map(|i| (i, b))
            })
            .collect();
        Breaks { columns }
    }

    /// The outermost break level whose value changes at row `r` (every level at row 0).
    fn level(&self, cells: &[Vec<String>], r: usize) -> Option<usize> {
        if self.columns.is_empty() {
            return None;
        }
        if r == 0 {
            return Some(0);
        }
        self.columns
            .iter()
            .position(|(i, _)| cells[r][*i] != cells[r - 1][*i])
    }

    /// Whether column `i` of row `r` is a repeated break value that NODUPLICATES hides.
    fn suppressed(&self, i: usize, r: usize, level: Option<usize>) -> bool {
        let Some(j) = self.columns.iter().position(|(c, _)| *c == i) else {
            return false;
        };
        r > 0 && !self.columns[j].1.duplicates && level.is_none_or(|k| k > j)
    }

    /// What happens before the next group when level `k` breaks: SKIP PAGE if any of the
    /// levels broken asks for it, else the most blank lines asked.
    fn skip(&self, k: usize) -> Skip {
        let skips = self.columns[k..].iter().map(|(_, b)| b.skip);
        if skips.clone().any(|s| s == Skip::Page) {
            return Skip::Page;
        }
        match skips
            .filter_map(|s| match s {
                Skip::Lines(n) => Some(n),
                _ => None,
            })
            .max()
        {
            Some(n) => Skip::Lines(n),
            None => Skip::None,
        }
    }
}

/// What COMPUTE's lines are laid out from.
struct Summaries<'a> {
    columns: &'a [Column],
    layouts: &'a [Layout],
    groups: &'a [std::ops::Range<usize>],
    rows: &'a [Vec<Value>],
    cells: &'a [Vec<String>],
    colsep: &'a str,
}

impl Summaries<'_> {
    /// The summary lines of the group `range` at `on`: `*`s across the break columns
    /// (`stars`: the break's own column, where the label goes, then the break columns
    /// inside it, which break with it, as in the SQL*Plus User's Guide's example of
    /// COMPUTE ON DEPARTMENT_ID under BREAK ON DEPARTMENT_ID ... ON JOB_ID; none for
    /// REPORT, whose labels go in the first column), `-`s under the computed columns,
    /// then a line per function with its label and values.
    fn lines(
        &self,
        report: &Report,
        on: &On,
        stars: &[usize],
        range: std::ops::Range<usize>,
    ) -> Vec<String> {
        let functions = report.lines_for(on);
        if functions.is_empty() || range.is_empty() {
            return Vec::new();
        }
        let n = self.columns.len();
        let computed = |i: usize| {
            let name = self.columns[i].name.to_ascii_uppercase();
            functions.iter().any(|(_, _, cols)| cols.contains(&name))
        };
        let rule: Vec<String> = (0..n)
            .map(|i| {
                let w = self.layouts[i].width;
                if stars.contains(&i) {
                    "*".repeat(w)
                } else if computed(i) {
                    "-".repeat(w)
                } else {
                    String::new()
                }
            })
            .collect();
        if !(0..n).any(computed) {
            return Vec::new();
        }
        let mut table = vec![rule];
        let label_at = stars.first().copied().unwrap_or(0);
        for (f, label, cols) in &functions {
            let line: Vec<String> = (0..n)
                .map(|i| {
                    let l = &self.layouts[i];
                    let name = self.columns[i].name.to_ascii_uppercase();
                    if cols.contains(&name) {
                        let values: Vec<Option<&str>> = range
                            .clone()
                            .map(|r| match self.rows[r][i] {
                                Value::Null => None,
                                _ => Some(self.cells[r][i].as_str()),
                            })
                            .collect();
                        return match f.apply(&values, l.numeric) {
                            Some(Summary::Number(x)) => match &l.mask {
                                Some(m) => apply_mask(&x.to_string(), m, l.width),
                                None => number_text(x, l.width),
                            },
                            Some(Summary::Text(t)) => t,
                            None => String::new(),
                        };
                    }
                    if i == label_at {
                        let w = l.width;
                        let cut: String = label.chars().take(w).collect();
                        return format!("{cut:<w$}");
                    }
                    String::new()
                })
                .collect();
            table.push(line);
        }
        let mut out = Vec::new();
        for line in &table {
            for g in self.groups {
                let vs: Vec<&str> = line[g.clone()].iter().map(String::as_str).collect();
                out.push(lay_line(&vs, &self.layouts[g.clone()], self.colsep));
            }
        }
        out
    }
}

/// A query's rows as SQL*Plus prints them, feedback line included. A record wider than
/// LINESIZE continues on further lines, each group of columns under its own heading and
/// dashes; a record that took more than one line (wider than LINESIZE, or a value wrapped
/// in its column) is followed by the record separator, a blank line (RECSEP WRAPPED,
/// RECSEPCHAR ' '). A column wider than LINESIZE is cut to it, its values wrapped.
pub fn render_table(columns: &[Column], rows: &[Vec<Value>], s: &Settings) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        if s.feedback.is_some() {
            out.push_str("\nno rows selected\n\n");
        }
        return out;
    }
    let linesize = s.linesize as usize;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::Null => s.null_text.clone(),
                    v => v.to_string(),
                })
                .collect()
        })
        .collect();
    let layouts: Vec<Layout> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut l = layout(c, &cells, i, s);
            if !l.numeric && l.width > linesize {
                l.width = linesize;
                for h in &mut l.heading {
                    *h = h.chars().take(linesize).collect();
                }
            }
            l
        })
        .collect();
    let colsep = s.colsep.as_str();
    let groups = line_groups(&layouts, linesize, colsep.chars().count());
    let mut heading = Vec::new();
    if s.heading {
        for g in &groups {
            let ls = &layouts[g.clone()];
            let lines = ls.iter().map(|l| l.heading.len()).max().unwrap_or(1);
            for k in 0..lines {
                let hs: Vec<&str> = ls
                    .iter()
                    .map(|l| l.heading.get(k).map_or("", String::as_str))
                    .collect();
                heading.push(lay_line(&hs, ls, colsep));
            }
            let dashes: Vec<String> = ls.iter().map(|l| "-".repeat(l.width)).collect();
            heading.push(dashes.join(colsep));
        }
    }
    let page_lines = s.pagesize as usize;
    let mut used = 0;
    let mut on_page = 0;
    let breaks = Breaks::new(columns, &s.report);
    // The page number (SQL.PNO; each query starts at 1) and BTITLE's lines per page.
    let mut page = 0;
    let bottom = s
        .titles
        .bottom
        .lines(1, s.numwidth as usize, linesize, &s.titles.date)
        .len();
    // What the summary lines of COMPUTE are made from.
    let ctx = Summaries {
        columns,
        layouts: &layouts,
        groups: &groups,
        rows,
        cells: &cells,
        colsep,
    };
    // Where the group of each break level started.
    let mut starts = vec![0; breaks.columns.len()];
    for (r, row) in cells.iter().enumerate() {
        let level = breaks.level(&cells, r);
        if let (Some(k), true) = (level, r > 0) {
            for j in (k..breaks.columns.len()).rev() {
                let at = On::Column(columns[breaks.columns[j].0].name.clone());
                let stars: Vec<usize> = breaks.columns[j..].iter().map(|c| c.0).collect();
                let lines = ctx.lines(&s.report, &at, &stars, starts[j]..r);
                used += lines.len();
                for line in lines {
                    out.push_str(&line);
                    out.push('\n');
                }
                starts[j] = r;
            }
            match breaks.skip(k) {
                Skip::Page => on_page = 0,
                Skip::Lines(n) => {
                    for _ in 0..n {
                        out.push('\n');
                    }
                    used += n as usize;
                }
                Skip::None => {}
            }
        }
        let shown: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if breaks.suppressed(i, r, level) {
                    String::new()
                } else {
                    v.clone()
                }
            })
            .collect();
        let mut record = Vec::new();
        for g in &groups {
            let ls = &layouts[g.clone()];
            let pieces: Vec<Vec<String>> = shown[g.clone()]
                .iter()
                .zip(ls)
                .map(|(v, l)| match &l.mask {
                    Some(m) if !v.is_empty() => vec![apply_mask(v, m, l.width)],
                    _ if l.numeric => vec![v.clone()],
                    _ => wrap(v, l.width),
                })
                .collect();
            let lines = pieces.iter().map(Vec::len).max().unwrap_or(1);
            for k in 0..lines {
                let vs: Vec<&str> = pieces
                    .iter()
                    .map(|p| p.get(k).map_or("", String::as_str))
                    .collect();
                record.push(lay_line(&vs, ls, colsep));
            }
        }
        if record.len() > 1 {
            record.push(String::new());
        }
        if page_lines > 0 && (on_page == 0 || used + record.len() + bottom > page_lines) {
            if page > 0 {
                bottom_title(&mut out, s, page, used);
            }
            page += 1;
            out.push('\n');
            let top = s
                .titles
                .top
                .lines(page, s.numwidth as usize, linesize, &s.titles.date);
            for line in top.iter().chain(&heading) {
                out.push_str(line);
                out.push('\n');
            }
            used = 1 + top.len() + heading.len();
            on_page = 0;
        }
        for line in &record {
            out.push_str(line);
            out.push('\n');
        }
        used += record.len();
        on_page += 1;
    }
    for j in (0..breaks.columns.len()).rev() {
        let at = On::Column(columns[breaks.columns[j].0].name.clone());
        let stars: Vec<usize> = breaks.columns[j..].iter().map(|c| c.0).collect();
        for line in ctx.lines(&s.report, &at, &stars, starts[j]..rows.len()) {
            out.push_str(&line);
            out.push('\n');
            used += 1;
        }
    }
    if s.report.break_report {
        let lines = ctx.lines(&s.report, &On::Report, &[], 0..rows.len());
        // The end of the report breaks the columns too: their SKIP comes before the
        // REPORT summary (the SQL*Plus User's Guide's Example 6-26, BREAK ON
        // DEPARTMENT_ID SKIP 1 ON REPORT).
        if !lines.is_empty()
            && !breaks.columns.is_empty()
            && let Skip::Lines(n) = breaks.skip(0)
        {
            out.push_str(&"\n".repeat(n as usize));
            used += n as usize;
        }
        for line in lines {
            out.push_str(&line);
            out.push('\n');
            used += 1;
        }
    }
    if page > 0 {
        bottom_title(&mut out, s, page, used);
    }
    if s.pagesize > 0 {
        out.push('\n');
    }
    let n = rows.len();
    if s.feedback.is_some_and(|f| n as u64 >= u64::from(f)) {
        let _ = writeln!(
            out,
            "{n} {} selected.\n",
            if n == 1 { "row" } else { "rows" }
        );
    }
    out
}

/// The type as DESCRIBE prints it (`VARCHAR2(30)`, `NUMBER(5,2)`, `DATE`).
fn describe_type(c: &Column) -> String {
    match c.type_name {
        "VARCHAR2" | "CHAR" | "NVARCHAR2" | "NCHAR" | "RAW" => {
            format!("{}({})", c.type_name, c.max_size)
        }
        "NUMBER" => match (c.precision, c.scale) {
            (p, s) if p > 0 && s > 0 => format!("NUMBER({p},{s})"),
            (p, 0) if p > 0 => format!("NUMBER({p})"),
            _ => "NUMBER".to_string(),
        },
        "TIMESTAMP" | "TIMESTAMP WITH TIME ZONE" | "TIMESTAMP WITH LOCAL TIME ZONE" => {
            let p = if c.scale > 0 { c.scale } else { 6 };
            format!(
                "TIMESTAMP({p}){}",
                c.type_name.strip_prefix("TIMESTAMP").unwrap_or("")
            )
        }
        other => other.to_string(),
    }
}

/// `DESCRIBE`: one line per column, Name / Null? / Type.
pub fn render_describe(columns: &[Column]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, " {:<41} {:<8} Type", "Name", "Null?");
    let _ = writeln!(
        out,
        " {} {} {}",
        "-".repeat(41),
        "-".repeat(8),
        "-".repeat(28)
    );
    for c in columns {
        let null = if c.nullable { "" } else { "NOT NULL" };
        let line = format!(" {:<41} {:<8} {}", c.name, null, describe_type(c));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    out
}

/// V$PARAMETER.TYPE as SHOW PARAMETER names it.
fn parameter_type(t: &str) -> &'static str {
    match t {
        "1" => "boolean",
        "2" => "string",
        "3" => "integer",
        "4" => "file",
        "5" => "number",
        "6" => "big integer",
        _ => "",
    }
}

/// `SHOW PARAMETER`: rows of (NAME, TYPE, VALUE) from V$PARAMETER, already filtered.
pub fn render_parameters(rows: &[(String, String, String)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{:<36} {:<11} VALUE", "NAME", "TYPE");
    let _ = writeln!(
        out,
        "{} {} {}",
        "-".repeat(36),
        "-".repeat(11),
        "-".repeat(30)
    );
    for (name, ty, value) in rows {
        let pieces = wrap(value, 30);
        for (k, piece) in pieces.iter().enumerate() {
            let line = if k == 0 {
                format!("{name:<36} {:<11} {piece}", parameter_type(ty))
            } else {
                format!("{:<36} {:<11} {piece}", "", "")
            };
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

/// `Elapsed: hh:mi:ss.cc` (SET TIMING ON).
pub fn elapsed(d: Duration) -> String {
    let cs = d.as_millis() / 10;
    let (h, rem) = (cs / 360_000, cs % 360_000);
    let (m, rem) = (rem / 6000, rem % 6000);
    let (sec, cc) = (rem / 100, rem % 100);
    format!("Elapsed: {h:02}:{m:02}:{sec:02}.{cc:02}")
}

/// SQL*Plus's feedback for a statement that returns no rows.
pub fn feedback(sql: &str, row_count: u64) -> String {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(4)
        .map(str::to_ascii_uppercase)
        .collect();
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let rows = |verb: &str| {
        format!(
            "{row_count} {} {verb}.",
            if row_count == 1 { "row" } else { "rows" }
        )
    };
    match w(0) {
        "INSERT" => rows("created"),
        "UPDATE" => rows("updated"),
        "DELETE" => rows("deleted"),
        "MERGE" => rows("merged"),
        "COMMIT" => "Commit complete.".to_string(),
        "ROLLBACK" => "Rollback complete.".to_string(),
        "BEGIN" | "DECLARE" | "CALL" => "PL/SQL procedure successfully completed.".to_string(),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" => {
            let verb = match w(0) {
                "CREATE" => "created",
                "DROP" => "dropped",
                "ALTER" => "altered",
                _ => "truncated",
            };
            let mut obj = if w(1) == "OR" { w(3) } else { w(1) }.to_string();
            if obj == "GLOBAL" || obj == "UNIQUE" || obj == "PUBLIC" {
                obj = w(2).to_string();
            }
            if w(0) == "ALTER" && obj == "SESSION" {
                return "Session altered.".to_string();
            }
            if w(0) == "ALTER" && obj == "SYSTEM" {
                return "System altered.".to_string();
            }
            let mut name = obj.to_ascii_lowercase();
            if let Some(f) = name.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            format!("{name} {verb}.")
        }
        "GRANT" => "Grant succeeded.".to_string(),
        "REVOKE" => "Revoke succeeded.".to_string(),
        _ => "Statement processed.".to_string(),
    }
}

/// SQL*Plus's error report: the offending line with a `*` under the error position (when
/// the server gave one), `ERROR at line n:`, then the ORA message.
pub fn render_error(sql: &str, offset: Option<u32>, message: &str) -> String {
    let mut out = String::new();
    let pos = offset.map(|o| o as usize).filter(|&o| o <= sql.len());
    match pos {
        Some(o) if sql.is_char_boundary(o) => {
            let before = &sql[..o];
            let line_no = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line_end = sql[line_start..]
                .find('\n')
                .map_or(sql.len(), |i| line_start + i);
            let col = sql[line_start..o].chars().count();
            let _ = writeln!(out, "{}", &sql[line_start..line_end]);
            let _ = writeln!(out, "{}*", " ".repeat(col));
            let _ = writeln!(out, "ERROR at line {line_no}:");
        }
        _ => out.push_str("ERROR:\n"),
    }
    let _ = writeln!(out, "{message}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tns::ttc::types::Decimal;

    fn col(name: &str, ty: &'static str, size: u32) -> Column {
        Column {
            name: name.into(),
            ora_type: 0,
            type_name: ty,
            precision: 0,
            scale: 0,
            max_size: size,
            nullable: true,
        }
    }

    fn num(s: &str) -> Value {
        Value::Number(Decimal::parse(s).unwrap())
    }

    #[test]
    fn breaks_hide_repeats_and_computes_add_summary_lines() {
        let mut s = Settings::default();
        s.report
            .break_command("on d on report")
            .expect("break parses");
        s.report
            .compute_command("sum count label n of v on d")
            .expect("compute parses");
        s.report
            .compute_command("max of v on report")
            .expect("compute parses");
        let rows = vec![
            vec![Value::Text("a".into()), num("1")],
            vec![Value::Text("a".into()), Value::Null],
            vec![Value::Text("b".into()), num("2.5")],
        ];
        // Labels are cut to the break column's width (the first column's for REPORT).
        let t = render_table(&[col("D", "VARCHAR2", 2), col("V", "NUMBER", 0)], &rows, &s);
        assert_eq!(
            t,
            "\nD           V\n-- ----------\n\
             a           1\n\
             \n\
             ** ----------\n\
             n           1\n\
             su          1\n\
             b         2.5\n\
             ** ----------\n\
             n           1\n\
             su        2.5\n\
             \x20  ----------\n\
             ma        2.5\n\n"
        );
    }

    #[test]
    fn colsep_stands_between_headings_dashes_and_values() {
        let s = Settings {
            colsep: "|".into(),
            ..Settings::default()
        };
        let t = render_table(
            &[col("N", "NUMBER", 0), col("V", "VARCHAR2", 3)],
            &[vec![num("42"), Value::Text("ab".into())]],
            &s,
        );
        assert_eq!(t, "\n         N|V\n----------|---\n        42|ab\n\n");
    }

    #[test]
    fn dual_is_headed_d_and_one_row_has_no_feedback() {
        let t = render_table(
            &[col("DUMMY", "VARCHAR2", 1)],
            &[vec![Value::Text("X".into())]],
            &Settings::default(),
        );
        assert_eq!(t, "\nD\n-\nX\n\n");
    }

    #[test]
    fn numbers_right_aligned_in_numwidth_and_text_in_its_declared_width() {
        let t = render_table(
            &[
                col("1", "NUMBER", 0),
                col("GREETING", "CHAR", 5),
                col("NAME", "VARCHAR2", 12),
            ],
            &[
                vec![num("1"), Value::Text("hello".into()), Value::Null],
                vec![
                    num("1234.5"),
                    Value::Text("hello".into()),
                    Value::Text("a".into()),
                ],
            ],
            &Settings::default(),
        );
        let want = "\n         1 GREET NAME\n---------- ----- ------------\n         1 hello\n    1234.5 hello a\n\n";
        assert_eq!(t, want);
    }

    #[test]
    fn feedback_from_six_rows_and_pages_of_fourteen_lines() {
        let rows: Vec<Vec<Value>> = (1..=12).map(|i| vec![num(&i.to_string())]).collect();
        let t = render_table(&[col("LEVEL", "NUMBER", 0)], &rows, &Settings::default());
        // 14 lines a page: blank, heading, dashes and 11 rows; then the heading again.
        let head = "\n     LEVEL\n----------\n";
        assert!(t.starts_with(head), "{t}");
        assert_eq!(t.matches("     LEVEL\n").count(), 2, "{t}");
        assert!(
            t.contains("        11\n\n     LEVEL\n----------\n        12\n"),
            "{t}"
        );
        assert!(t.ends_with("        12\n\n12 rows selected.\n\n"), "{t}");
        let five: Vec<Vec<Value>> = rows[..5].to_vec();
        let t = render_table(&[col("LEVEL", "NUMBER", 0)], &five, &Settings::default());
        assert!(!t.contains("selected"), "{t}");
        assert_eq!(
            render_table(&[col("X", "NUMBER", 0)], &[], &Settings::default()),
            "\nno rows selected\n\n"
        );
        let mut quiet = Settings::default();
        quiet.set("pagesize 0 feedback off");
        assert_eq!(
            render_table(&[col("X", "NUMBER", 0)], &[vec![num("7")]], &quiet),
            "         7\n"
        );
        assert_eq!(render_table(&[col("X", "NUMBER", 0)], &[], &quiet), "");
    }

    #[test]
    fn column_format_heading_numwidth_and_null() {
        let mut s = Settings::default();
        s.column("program format a10 heading 'Prog|Name'");
        s.set("numwidth 4 null -");
        let t = render_table(
            &[col("PROGRAM", "VARCHAR2", 48), col("SID", "NUMBER", 0)],
            &[vec![
                Value::Text("a-very-long-program-name".into()),
                Value::Null,
            ]],
            &s,
        );
        // The wrapped record is followed by the record separator (RECSEP WRAPPED).
        assert_eq!(
            t,
            "\nProg        SID\nName\n---------- ----\na-very-lon    -\ng-program-\nname\n\n\n"
        );
        s.column("sid format 9,999.9");
        let t = render_table(&[col("SID", "NUMBER", 0)], &[vec![num("1234.56")]], &s);
        assert_eq!(t, "\n     SID\n--------\n 1,234.6\n\n");
    }

    #[test]
    fn rows_wider_than_linesize_continue_under_their_own_headings() {
        let mut s = Settings::default();
        s.set("linesize 30 pagesize 100");
        let cols = [
            col("NAME", "VARCHAR2", 12),
            col("STATUS", "VARCHAR2", 10),
            col("SID", "NUMBER", 0),
            col("PROGRAM", "VARCHAR2", 40),
        ];
        let rows = vec![
            vec![
                Value::Text("SYS".into()),
                Value::Text("ACTIVE".into()),
                num("7"),
                Value::Text("orasql".into()),
            ],
            vec![
                Value::Text("SCOTT".into()),
                Value::Text("INACTIVE".into()),
                num("12"),
                Value::Text("python".into()),
            ],
        ];
        let t = render_table(&cols, &rows, &s);
        // NAME + STATUS fit in 30 (12 + 1 + 10); SID would make 34: a second line; PROGRAM
        // (40) is cut to 30 on a third. Each record took three lines: a blank line after it.
        let want = [
            "",
            "NAME         STATUS",
            "------------ ----------",
            "       SID",
            "----------",
            "PROGRAM",
            "------------------------------",
            "SYS          ACTIVE",
            "         7",
            "orasql",
            "",
            "SCOTT        INACTIVE",
            "        12",
            "python",
            "",
            "",
            "",
        ]
        .join("\n");
        assert_eq!(t, want);
        // A page holds 14 lines: blank + 6 heading lines + one record (4 lines) = 11; the
        // next record would make 15, so it starts a page of its own.
        s.set("pagesize 14");
        let t = render_table(&cols, &rows, &s);
        assert_eq!(t.matches("PROGRAM\n").count(), 2, "{t}");
        s.set("linesize 80");
        let t = render_table(&cols, &rows, &s);
        assert!(
            t.starts_with("\nNAME         STATUS            SID PROGRAM\n"),
            "{t}"
        );
        assert!(!t.contains("\n\n\n"), "{t}");
    }

    #[test]
    fn describe_lists_name_null_and_type() {
        let mut sid = col("SID", "NUMBER", 0);
        sid.nullable = false;
        let d = render_describe(&[col("PROGRAM", "VARCHAR2", 48), sid]);
        assert_eq!(
            d,
            " Name                                      Null?    Type\n \
             ----------------------------------------- -------- ----------------------------\n \
             PROGRAM                                            VARCHAR2(48)\n \
             SID                                       NOT NULL NUMBER\n\n"
        );
    }

    #[test]
    fn show_parameter_and_timing() {
        let p = render_parameters(&[("processes".into(), "3".into(), "300".into())]);
        assert_eq!(
            p,
            "\nNAME                                 TYPE        VALUE\n\
             ------------------------------------ ----------- ------------------------------\n\
             processes                            integer     300\n"
        );
        assert_eq!(elapsed(Duration::from_millis(12)), "Elapsed: 00:00:00.01");
        assert_eq!(
            elapsed(Duration::from_millis(3_723_450)),
            "Elapsed: 01:02:03.45"
        );
    }

    #[test]
    fn feedback_lines() {
        assert_eq!(feedback("insert into t values (1)", 1), "1 row created.");
        assert_eq!(feedback("delete from t", 3), "3 rows deleted.");
        assert_eq!(feedback("create table t (x number)", 0), "Table created.");
        assert_eq!(feedback("commit", 0), "Commit complete.");
        assert_eq!(
            feedback("BEGIN DBMS_SESSION.SLEEP(1); END;", 0),
            "PL/SQL procedure successfully completed."
        );
    }

    #[test]
    fn error_rendering_points_at_offset() {
        let e = render_error(
            "select * from nosuch",
            Some(14),
            "ORA-00942: table or view does not exist",
        );
        assert_eq!(
            e,
            "select * from nosuch\n              *\nERROR at line 1:\nORA-00942: table or view does not exist\n"
        );
        let e = render_error("select 1\nfrom nosuch", Some(14), "ORA-00942: x");
        assert_eq!(e, "from nosuch\n     *\nERROR at line 2:\nORA-00942: x\n");
        assert_eq!(
            render_error("x", None, "ORA-01017: y"),
            "ERROR:\nORA-01017: y\n"
        );
    }
}
