//! `BRE[AK]` and `COMP[UTE]`: SQL*Plus's report breaks and their summary lines.
//!
//! `BREAK ON column [SKI[P] n | SKI[P] PAGE] [NODUP[LICATES] | DUP[LICATES]] ... [ON
//! REPORT]` replaces the breaks: a break column's value is shown only when it changes
//! (NODUPLICATES, the default), SKIP n puts blank lines before the next group, SKIP PAGE
//! starts a new page. The first ON is the outermost break: a change there breaks the inner
//! ones too. `COMPUTE fn [LABEL text] ... OF column ... ON column | REPORT` adds summary
//! lines at the end of each group of a break column (only when that column also has a
//! BREAK, as in SQL*Plus): a line with `*` across the break column and `-` under each
//! computed column, then one line per function (AVG, COUNT, MINIMUM, MAXIMUM, NUMBER, SUM,
//! in that order whatever the order typed) with its label (the function's name in lower
//! case unless LABEL) in the break column, left-aligned and cut to its width, and the
//! values under their columns. ON REPORT puts the label in the first column and no `*`s.
//!
//! The definitions are kept here and read by [`super::render::render_table`].

use super::settings::Tokens;
use super::sp2;

/// What a break does when its value changes, besides showing the new value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No SKIP clause.
    None,
    /// `SKIP n`: n blank lines.
    Lines(u32),
    /// `SKIP PAGE`: a new page.
    Page,
}

/// One `ON column` of BREAK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The column as typed (BREAK lists it so); matched without regard to case.
    pub column: String,
    /// SKIP.
    pub skip: Skip,
    /// DUPLICATES: the value is shown on every row.
    pub duplicates: bool,
}

/// A COMPUTE function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Function {
    /// `AVG`: the average of the non-null values.
    Avg,
    /// `COU[NT]`: how many values are not null.
    Count,
    /// `MIN[IMUM]`.
    Minimum,
    /// `MAX[IMUM]`.
    Maximum,
    /// `NUM[BER]`: how many rows.
    Number,
    /// `SUM`: the sum of the non-null values.
    Sum,
}

impl Function {
    fn parse(word: &str) -> Option<Function> {
        let u = word.to_ascii_uppercase();
        let abbrev = |full: &str, min: usize| u.len() >= min && full.starts_with(u.as_str());
        Some(match () {
            () if u == "AVG" => Function::Avg,
            () if abbrev("COUNT", 3) => Function::Count,
            () if abbrev("MINIMUM", 3) => Function::Minimum,
            () if abbrev("MAXIMUM", 3) => Function::Maximum,
            () if abbrev("NUMBER", 3) => Function::Number,
            () if u == "SUM" => Function::Sum,
            () => return None,
        })
    }

    /// The unabbreviated keyword in lower case: the label when no LABEL is given.
    fn name(self) -> &'static str {
        match self {
            Function::Avg => "avg",
            Function::Count => "count",
            Function::Minimum => "minimum",
            Function::Maximum => "maximum",
            Function::Number => "number",
            Function::Sum => "sum",
        }
    }

    /// The function over one column of a group: `values` are the column's cells (`None`
    /// for a null), `numeric` whether the column is a number column.
    pub fn apply(self, values: &[Option<&str>], numeric: bool) -> Option<Summary> {
        let present: Vec<&str> = values.iter().flatten().copied().collect();
        let numbers: Vec<f64> = present.iter().filter_map(|v| v.parse().ok()).collect();
        match self {
            Function::Count => Some(Summary::Number(present.len() as f64)),
            Function::Number => Some(Summary::Number(values.len() as f64)),
            Function::Sum if numeric => Some(Summary::Number(numbers.iter().sum())),
            Function::Avg if numeric && !numbers.is_empty() => Some(Summary::Number(
                numbers.iter().sum::<f64>() / numbers.len() as f64,
            )),
            Function::Minimum | Function::Maximum if numeric => {
                let pick = if self == Function::Minimum {
                    f64::min
                } else {
                    f64::max
                };
                numbers.into_iter().reduce(pick).map(Summary::Number)
            }
            Function::Minimum => present.into_iter().min().map(|v| Summary::Text(v.into())),
            Function::Maximum => present.into_iter().max().map(|v| Summary::Text(v.into())),
            Function::Sum | Function::Avg => None,
        }
    }
}

/// A computed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    /// A number, laid out as the column's numbers are.
    Number(f64),
    /// The MINIMUM or MAXIMUM of a character column.
    Text(String),
}

/// Where a COMPUTE's lines go: the end of each group of a break column, or of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum On {
    /// `ON column` (as typed).
    Column(String),
    /// `ON REPORT`.
    Report,
}

impl On {
    fn listing(&self) -> &str {
        match self {
            On::Column(c) => c,
            On::Report => "REPORT",
        }
    }
}

/// One computed column on one break: SQL*Plus keeps one per (OF column, ON break) pair; a
/// later COMPUTE for the same pair replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compute {
    /// The functions, in SQL*Plus's order, each with its LABEL.
    pub functions: Vec<(Function, Option<String>)>,
    /// The OF column, as typed.
    pub of: String,
    /// The ON break.
    pub on: On,
}

/// BREAK's and COMPUTE's definitions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The column breaks, outermost first.
    pub breaks: Vec<Break>,
    /// `ON REPORT` among the breaks.
    pub break_report: bool,
    /// The computes.
    pub computes: Vec<Compute>,
}

/// Why a BREAK or COMPUTE command was refused: SQL*Plus's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// SP2-0016: a BREAK specification that does not start with ON.
    NoOn,
    /// SP2-0017: no column after a keyword.
    MissingColumn(String),
    /// SP2-0019: SKIP with a count that is not a number.
    BadNumber(String),
    /// SP2-0158: an option the command does not know.
    UnknownOption(&'static str, String),
}

impl std::fmt::Display for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let line = match self {
            ReportError::NoOn => sp2(16, &[]),
            ReportError::MissingColumn(k) => sp2(17, &[k]),
            ReportError::BadNumber(k) => sp2(19, &[k]),
            ReportError::UnknownOption(c, w) => sp2(158, &[c, w]),
        };
        f.write_str(&line)
    }
}

fn is(word: &str, full: &str, min: usize) -> bool {
    let u = word.to_ascii_uppercase();
    u.len() >= min && full.starts_with(u.as_str())
}

impl Report {
    /// `BREAK [ON ...]`: with no clauses, the listing (SP2-0015 when there is no break);
    /// otherwise the new breaks. Returns what to print.
    pub fn break_command(&mut self, args: &str) -> Result<String, ReportError> {
        let mut words = Tokens::new(args);
        let Some(first) = words.next_word() else {
            return Ok(self.break_listing());
        };
        if !first.eq_ignore_ascii_case("ON") {
            return Err(ReportError::NoOn);
        }
        let (mut breaks, mut report) = (Vec::new(), false);
        let mut next = Some(first);
        while let Some(w) = next.take() {
            if w.eq_ignore_ascii_case("ON") {
                let column = words
                    .next_word()
                    .ok_or_else(|| ReportError::MissingColumn("ON".to_string()))?;
                if column.eq_ignore_ascii_case("REPORT") {
                    report = true;
                } else {
                    breaks.push(Break {
                        column,
                        skip: Skip::None,
                        duplicates: false,
                    });
                }
            } else if is(&w, "SKIP", 3) {
                let n = words
                    .next_word()
                    .ok_or_else(|| ReportError::BadNumber("SKIP".to_string()))?;
                let skip = if n.eq_ignore_ascii_case("PAGE") {
                    Skip::Page
                } else {
                    Skip::Lines(
                        n.parse()
                            .map_err(|_| ReportError::BadNumber("SKIP".to_string()))?,
                    )
                };
                if let Some(b) = breaks.last_mut() {
                    b.skip = skip;
                }
            } else if is(&w, "NODUPLICATES", 5) || is(&w, "DUPLICATES", 3) {
                if let Some(b) = breaks.last_mut() {
                    b.duplicates = w.to_ascii_uppercase().starts_with('D');
                }
            } else {
                return Err(ReportError::UnknownOption("BREAK", w));
            }
            next = words.next_word();
        }
        self.breaks = breaks;
        self.break_report = report;
        Ok(String::new())
    }

    fn break_listing(&self) -> String {
        if self.breaks.is_empty() && !self.break_report {
            return format!("{}\n", sp2(15, &[]));
        }
        // As the SQL*Plus User's Guide shows it ("Formatting SQL*Plus Reports", Example
        // 6-13): `break on DEPARTMENT_ID page  nodup` and each further ON on its own line
        // under the first, `          on JOB_ID skip 1 nodup`.
        let mut clauses: Vec<String> = self
            .breaks
            .iter()
            .map(|b| {
                let skip = match b.skip {
                    Skip::None => String::new(),
                    Skip::Lines(n) => format!(" skip {n}"),
                    Skip::Page => " page ".to_string(),
                };
                let dup = if b.duplicates { "dup" } else { "nodup" };
                format!("on {}{skip} {dup}", b.column)
            })
            .collect();
        if self.break_report {
            clauses.push("on report nodup".to_string());
        }
        format!("break {}\n", clauses.join("\n          "))
    }

    /// `COMPUTE [fn [LABEL text] ... OF column ... ON column | REPORT ...]`: with no
    /// clauses, the listing; otherwise the computes are added (replacing those for the same
    /// column and break). Returns what to print.
    pub fn compute_command(&mut self, args: &str) -> Result<String, ReportError> {
        let mut words = Tokens::new(args);
        let Some(mut w) = words.next_word() else {
            return Ok(self.compute_listing());
        };
        let mut functions: Vec<(Function, Option<String>)> = Vec::new();
        while !w.eq_ignore_ascii_case("OF") {
            if is(&w, "LABEL", 3) {
                let label = words
                    .next_word()
                    .ok_or_else(|| ReportError::UnknownOption("COMPUTE", w.clone()))?;
                if let Some(f) = functions.last_mut() {
                    f.1 = Some(label);
                }
            } else {
                let f = Function::parse(&w)
                    .ok_or_else(|| ReportError::UnknownOption("COMPUTE", w.clone()))?;
                if !functions.iter().any(|(g, _)| *g == f) {
                    functions.push((f, None));
                }
            }
            w = words
                .next_word()
                .ok_or_else(|| ReportError::MissingColumn("OF".to_string()))?;
        }
        functions.sort_by_key(|(f, _)| *f);
        let mut of = Vec::new();
        loop {
            match words.next_word() {
                Some(c) if c.eq_ignore_ascii_case("ON") => break,
                Some(c) => of.push(c),
                None => return Err(ReportError::MissingColumn("ON".to_string())),
            }
        }
        let mut on = Vec::new();
        while let Some(c) = words.next_word() {
            on.push(if c.eq_ignore_ascii_case("REPORT") {
                On::Report
            } else {
                On::Column(c)
            });
        }
        if of.is_empty() {
            return Err(ReportError::MissingColumn("OF".to_string()));
        }
        if on.is_empty() {
            return Err(ReportError::MissingColumn("ON".to_string()));
        }
        for o in &on {
            for c in &of {
                let same = |x: &Compute| {
                    x.of.eq_ignore_ascii_case(c) && x.on.listing().eq_ignore_ascii_case(o.listing())
                };
                self.computes.retain(|x| !same(x));
                self.computes.push(Compute {
                    functions: functions.clone(),
                    of: c.clone(),
                    on: o.clone(),
                });
            }
        }
        Ok(String::new())
    }

    fn compute_listing(&self) -> String {
        let mut out = String::new();
        for c in &self.computes {
            let mut line = "COMPUTE".to_string();
            for (f, label) in &c.functions {
                let label = label.as_deref().unwrap_or(f.name());
                line.push_str(&format!(" {} LABEL '{label}'", f.name()));
            }
            line.push_str(&format!(" OF {} ON {}\n", c.of, c.on.listing()));
            out.push_str(&line);
        }
        out
    }

    /// `CLEAR BREAKS`.
    pub fn clear_breaks(&mut self) {
        self.breaks.clear();
        self.break_report = false;
    }

    /// `CLEAR COMPUTES`.
    pub fn clear_computes(&mut self) {
        self.computes.clear();
    }

    /// The functions computed at `on`, in SQL*Plus's order, each with its label (the first
    /// LABEL given for it), and for each the columns (by name, upper case) computed with it.
    pub fn lines_for(&self, on: &On) -> Vec<(Function, String, Vec<String>)> {
        let mut lines: Vec<(Function, String, Vec<String>)> = Vec::new();
        let here = self
            .computes
            .iter()
            .filter(|c| c.on.listing().eq_ignore_ascii_case(on.listing()));
        for c in here {
            for (f, label) in &c.functions {
                let column = c.of.to_ascii_uppercase();
                match lines.iter_mut().find(|(g, _, _)| g == f) {
                    Some((_, _, cols)) => cols.push(column),
                    None => lines.push((
                        *f,
                        label.clone().unwrap_or_else(|| f.name().to_string()),
                        vec![column],
                    )),
                }
            }
        }
        lines.sort_by_key(|(f, _, _)| *f);
        lines
    }
}

/// A computed number laid out in `width` characters as SQL*Plus shows a NUMBER without a
/// format: an integer in full, a fraction with as many decimals as fit.
pub fn number_text(x: f64, width: usize) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    for decimals in (0..width).rev() {
        let s = format!("{x:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        let s = s
            .strip_prefix("0.")
            .map_or(s.clone(), |r| format!(".{r}"))
            .replace("-0.", "-.");
        if s.len() <= width {
            return s;
        }
    }
    "#".repeat(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_replaces_the_breaks_and_lists_them() {
        let mut r = Report::default();
        assert_eq!(
            r.break_command(""),
            Ok("SP2-0015: no break(s) defined\n".into())
        );
        assert_eq!(
            r.break_command("on dept skip 1 on job dup"),
            Ok(String::new())
        );
        assert_eq!(
            r.breaks,
            vec![
                Break {
                    column: "dept".into(),
                    skip: Skip::Lines(1),
                    duplicates: false
                },
                Break {
                    column: "job".into(),
                    skip: Skip::None,
                    duplicates: true
                },
            ]
        );
        assert_eq!(
            r.break_command(""),
            Ok("break on dept skip 1 nodup\n          on job dup\n".into())
        );
        r.break_command("on report").expect("parses");
        assert!(r.breaks.is_empty() && r.break_report);
        assert_eq!(r.break_command("dept"), Err(ReportError::NoOn));
        assert_eq!(
            r.break_command("on d skip x").unwrap_err().to_string(),
            "SP2-0019: invalid numeric argument to SKIP option"
        );
        // The SQL*Plus User's Guide's listing (Example 6-13).
        r.break_command("ON DEPARTMENT_ID SKIP PAGE ON JOB_ID SKIP 1")
            .expect("parses");
        assert_eq!(
            r.break_command(""),
            Ok("break on DEPARTMENT_ID page  nodup\n          on JOB_ID skip 1 nodup\n".into())
        );
        r.clear_breaks();
        assert_eq!(
            r.break_command(""),
            Ok("SP2-0015: no break(s) defined\n".into())
        );
    }

    #[test]
    fn compute_keeps_one_per_column_and_break_in_sqlplus_order() {
        let mut r = Report::default();
        r.compute_command("sum avg label mean of sal comm on dept")
            .expect("parses");
        assert_eq!(r.computes.len(), 2);
        assert_eq!(
            r.computes[0].functions,
            vec![(Function::Avg, Some("mean".into())), (Function::Sum, None)]
        );
        r.compute_command("max of sal on dept").expect("parses");
        assert_eq!(r.computes.len(), 2);
        assert_eq!(
            r.lines_for(&On::Column("DEPT".into())),
            vec![
                (Function::Avg, "mean".into(), vec!["COMM".into()]),
                (Function::Maximum, "maximum".into(), vec!["SAL".into()]),
                (Function::Sum, "sum".into(), vec!["COMM".into()]),
            ]
        );
        assert_eq!(
            r.compute_command("total of sal on dept")
                .unwrap_err()
                .to_string(),
            "SP2-0158: unknown COMPUTE option \"total\""
        );
        r.clear_computes();
        assert!(r.computes.is_empty());
    }

    #[test]
    fn functions_over_a_group() {
        let v = [Some("1"), None, Some("4")];
        assert_eq!(Function::Sum.apply(&v, true), Some(Summary::Number(5.0)));
        assert_eq!(Function::Avg.apply(&v, true), Some(Summary::Number(2.5)));
        assert_eq!(Function::Count.apply(&v, true), Some(Summary::Number(2.0)));
        assert_eq!(Function::Number.apply(&v, true), Some(Summary::Number(3.0)));
        assert_eq!(
            Function::Minimum.apply(&v, true),
            Some(Summary::Number(1.0))
        );
        let t = [Some("b"), Some("a")];
        assert_eq!(
            Function::Maximum.apply(&t, false),
            Some(Summary::Text("b".into()))
        );
        assert_eq!(Function::Sum.apply(&t, false), None);
        assert_eq!(number_text(5.0, 10), "5");
        assert_eq!(number_text(2.0 / 3.0, 10), ".666666667");
        assert_eq!(number_text(-1.5, 10), "-1.5");
    }
}
