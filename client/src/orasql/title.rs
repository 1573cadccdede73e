//! `TTI[TLE]` and `BTI[TLE]`: the title at the top and the bottom of each page of a query.
//!
//! The new form, `TTITLE [LE[FT]|CE[NTER]|R[IGHT]] text ... [S[KIP] [n]] ... | ON | OFF`:
//! text after LEFT starts the line, after CENTER is centered in LINESIZE, after RIGHT ends
//! at LINESIZE; SKIP n starts a new line (n lines down); `SQL.PNO` is the page number.
//! The old form (a single word or quoted string only, as SQL*Plus decides it): a line with
//! the date left and `page` with the page number in four characters right (SQL*Plus's
//! default `_page`, "page &P4"), the text centered (`|` starts a new line), then a blank
//! line; BTITLE's old form is the centered text alone (as a SQL*Plus transcript shows
//! both). Defining a title turns it ON. TTITLE alone lists it, or says it was never
//! defined as SQL*Plus does (and BTITLE likewise). COL, TAB, BOLD and FORMAT are not read.

use super::settings::Tokens;
use super::sp2;

/// One piece of a title line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `SQL.PNO`.
    PageNumber,
}

/// The three places of a line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Line {
    left: Vec<Piece>,
    center: Vec<Piece>,
    right: Vec<Piece>,
}

/// What a title is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    /// The old form's text.
    Old(String),
    /// The new form's lines.
    Lines(Vec<Line>),
}

/// One title (TTITLE or BTITLE) as defined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Title {
    spec: Option<Spec>,
    /// The text as typed, for the listing.
    typed: String,
    on: bool,
    /// BTITLE: its old form is the text alone, centered.
    bottom: bool,
}

fn is(word: &str, full: &str, min: usize) -> bool {
    let u = word.to_ascii_uppercase();
    u.len() >= min && full.starts_with(u.as_str())
}

/// `text` laid out: each piece's text, the page number in place of SQL.PNO (a number
/// without FORMAT: right-aligned in NUMWIDTH, as SQL*Plus shows it).
fn join(pieces: &[Piece], page: u32, numwidth: usize) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.clone(),
            Piece::PageNumber => format!("{page:>numwidth$}"),
        })
        .collect()
}

/// `text` centered in `width` (left when it does not fit).
fn centered(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.chars().count()) / 2;
    format!("{}{text}", " ".repeat(pad))
}

impl Title {
    /// `TTITLE ...` / `BTITLE ...` (`name` is the command, for its listing): with no
    /// clauses, the listing; ON/OFF; otherwise a new definition, turned on. Returns what
    /// to print.
    pub fn command(&mut self, name: &str, args: &str) -> String {
        let args = args.trim();
        self.bottom = name.eq_ignore_ascii_case("btitle");
        if args.is_empty() {
            return match &self.spec {
                Some(_) => format!(
                    "{name} {} and is the following {} characters:\n{}\n",
                    if self.on { "ON" } else { "OFF" },
                    self.typed.chars().count(),
                    self.typed
                ),
                // As SQL*Plus lists a title never defined (SHOW TTI, and SHOW ALL for both).
                None => format!(
                    "{name} OFF and is the first few characters of the next SELECT statement\n"
                ),
            };
        }
        if args.eq_ignore_ascii_case("ON") {
            self.on = self.spec.is_some();
            return String::new();
        }
        if args.eq_ignore_ascii_case("OFF") {
            self.on = false;
            return String::new();
        }
        let mut words = Tokens::new(args);
        let mut all = Vec::new();
        while let Some(w) = words.next_word() {
            all.push(w);
        }
        let keyword = |w: &str| {
            is(w, "LEFT", 2)
                || is(w, "CENTER", 2)
                || is(w, "RIGHT", 1)
                || is(w, "SKIP", 1)
                || w.eq_ignore_ascii_case("SQL.PNO")
        };
        self.spec = Some(match all.as_slice() {
            [only] if !keyword(only) => Spec::Old(only.clone()),
            _ => match parse_lines(&all) {
                Ok(lines) => Spec::Lines(lines),
                // SQL*Plus names the command in capitals ("unknown SHOW option").
                Err(bad) => {
                    return format!("{}\n", sp2(158, &[&name.to_ascii_uppercase(), &bad]));
                }
            },
        });
        self.typed = args.to_string();
        self.on = true;
        String::new()
    }

    /// The title's lines for page `page` at `linesize` (none when OFF or undefined);
    /// `numwidth` is SQL.PNO's width, `date` the old form's date.
    pub fn lines(&self, page: u32, numwidth: usize, linesize: usize, date: &str) -> Vec<String> {
        if !self.on {
            return Vec::new();
        }
        match &self.spec {
            None => Vec::new(),
            Some(Spec::Old(text)) if self.bottom => text
                .split('|')
                .map(|t| centered(t, linesize).trim_end().to_string())
                .collect(),
            Some(Spec::Old(text)) => {
                let number = format!("page {page:>4}");
                let gap = linesize.saturating_sub(date.chars().count() + number.len());
                let mut out = vec![format!("{date}{}{number}", " ".repeat(gap))];
                out.extend(text.split('|').map(|t| {
                    let line = centered(t, linesize);
                    line.trim_end().to_string()
                }));
                out.push(String::new());
                out
            }
            Some(Spec::Lines(lines)) => lines
                .iter()
                .map(|l| {
                    let mut row: Vec<char> = vec![' '; linesize];
                    let mut put = |at: usize, text: &str| {
                        for (k, c) in text.chars().enumerate() {
                            match row.get_mut(at + k) {
                                Some(slot) => *slot = c,
                                None => row.push(c),
                            }
                        }
                    };
                    let left = join(&l.left, page, numwidth);
                    let center = join(&l.center, page, numwidth);
                    let right = join(&l.right, page, numwidth);
                    put(0, &left);
                    put(linesize.saturating_sub(center.chars().count()) / 2, &center);
                    put(linesize.saturating_sub(right.chars().count()), &right);
                    let s: String = row.into_iter().collect();
                    s.trim_end().to_string()
                })
                .collect(),
        }
    }
}

/// The new form's lines; `Err` names a word that is not read.
fn parse_lines(words: &[String]) -> Result<Vec<Line>, String> {
    let mut lines = vec![Line::default()];
    #[derive(Clone, Copy)]
    enum At {
        Left,
        Center,
        Right,
    }
    let mut at = At::Left;
    let mut k = 0;
    while k < words.len() {
        let w = &words[k];
        k += 1;
        if is(w, "LEFT", 2) {
            at = At::Left;
        } else if is(w, "CENTER", 2) {
            at = At::Center;
        } else if is(w, "RIGHT", 1) {
            at = At::Right;
        } else if is(w, "SKIP", 1) {
            let n = match words.get(k).and_then(|n| n.parse::<usize>().ok()) {
                Some(n) => {
                    k += 1;
                    n
                }
                None => 1,
            };
            for _ in 0..n {
                lines.push(Line::default());
            }
            at = At::Left;
        } else {
            let piece = if w.eq_ignore_ascii_case("SQL.PNO") {
                Piece::PageNumber
            } else if ["COL", "TAB", "BOLD", "FORMAT"]
                .iter()
                .any(|x| w.eq_ignore_ascii_case(x))
            {
                return Err(w.clone());
            } else {
                Piece::Text(w.clone())
            };
            let line = lines.last_mut().expect("one line at least");
            match at {
                At::Left => line.left.push(piece),
                At::Center => line.center.push(piece),
                At::Right => line.right.push(piece),
            }
        }
    }
    Ok(lines)
}

/// The session's TTITLE and BTITLE, and the date the old form shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Titles {
    /// TTITLE.
    pub top: Title,
    /// BTITLE.
    pub bottom: Title,
    /// The old form's date, `Dy Mon DD` (e.g. `Sun Dec 06`).
    pub date: String,
}

/// The old form's date of a Unix time: `Dy Mon DD`.
pub fn title_date(unix_secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = tns::ttc::types::DateTime::from_unix(unix_secs, 0);
    let weekday = DAYS[unix_secs.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[usize::from(d.month.saturating_sub(1)) % 12];
    format!("{weekday} {month} {:02}", d.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_form_places_left_center_right_and_skips() {
        let mut t = Title::default();
        assert_eq!(
            t.command(
                "ttitle",
                "left 'Acme' center Report right 'p.' sql.pno skip 1 center x"
            ),
            ""
        );
        assert_eq!(
            t.lines(3, 1, 20, ""),
            vec!["Acme   Report    p.3", "         x"]
        );
        assert_eq!(
            t.command("ttitle", ""),
            "ttitle ON and is the following 60 characters:\nleft 'Acme' center Report right 'p.' sql.pno skip 1 center x\n"
        );
        t.command("ttitle", "off");
        assert!(t.lines(1, 1, 20, "").is_empty());
        t.command("ttitle", "on");
        assert_eq!(t.lines(1, 1, 20, "").len(), 2);
        assert_eq!(
            t.command("btitle", "left a bold"),
            "SP2-0158: unknown BTITLE option \"bold\"\n"
        );
    }

    #[test]
    fn old_form_has_date_page_centered_text_and_a_blank_line() {
        let mut t = Title::default();
        t.command("ttitle", "'Monthly Report|Part 2'");
        assert_eq!(
            t.lines(1, 10, 40, "Sun Dec 06"),
            vec![
                "Sun Dec 06                     page    1",
                "             Monthly Report",
                "                 Part 2",
                "",
            ]
        );
    }

    #[test]
    fn old_form_btitle_is_the_centered_text_alone() {
        let mut t = Title::default();
        t.command("btitle", "'End report'");
        assert_eq!(
            t.lines(1, 10, 40, "Sun Dec 06"),
            vec!["               End report"]
        );
    }

    #[test]
    fn a_title_never_defined_lists_as_sql_plus_says() {
        let mut t = Title::default();
        assert_eq!(
            t.command("ttitle", ""),
            "ttitle OFF and is the first few characters of the next SELECT statement\n"
        );
        assert!(t.lines(1, 10, 40, "Sun Dec 06").is_empty());
        assert_eq!(
            Title::default().command("btitle", ""),
            "btitle OFF and is the first few characters of the next SELECT statement\n"
        );
    }

    #[test]
    fn title_date_is_weekday_month_day() {
        // 2026-12-06 was a Sunday.
        assert_eq!(title_date(1_796_515_200), "Sun Dec 06");
        assert_eq!(title_date(0), "Thu Jan 01");
    }
}
