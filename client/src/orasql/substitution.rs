//! Substitution variables, as SQL*Plus has them: `DEFINE` and `UNDEFINE`, the predefined
//! `_DATE`, `_USER`, ... and the replacement of `&name` / `&&name` in a line.
//!
//! The rules (SQL*Plus User's Guide, "Using Substitution Variables"): the prefix is the
//! DEFINE character (`&`); blanks after it are skipped; the name is letters, digits, `_`,
//! `$` and `#`; a `.` right after the name (the CONCAT character) ends it and is dropped; an
//! undefined variable is asked for ("Enter value for name: ") each time it occurs, and
//! `&&name` defines it with the answer so that it is asked once. A prefix not followed by a
//! name stays as it is.

use super::sp2;

/// The variables defined in this session, in the order they were first defined (DEFINE
/// lists them so).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    defined: Vec<(String, String)>,
    /// The variables that are NUMBERs (ACCEPT ... NUMBER); the others are CHAR.
    numbers: Vec<String>,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '$' | '#')
}

impl Variables {
    /// No variables.
    pub fn new() -> Self {
        Variables::default()
    }

    /// Defines (or redefines, in place) `name`; names are case-insensitive.
    pub fn define(&mut self, name: &str, value: &str) {
        let key = name.to_ascii_uppercase();
        self.numbers.retain(|k| *k != key);
        match self.defined.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value.to_string(),
            None => self.defined.push((key, value.to_string())),
        }
    }

    /// Defines `name` as a NUMBER variable (ACCEPT ... NUMBER).
    pub fn define_number(&mut self, name: &str, value: &str) {
        self.define(name, value);
        self.numbers.push(name.to_ascii_uppercase());
    }

    /// Removes `name`.
    pub fn undefine(&mut self, name: &str) {
        let key = name.to_ascii_uppercase();
        self.numbers.retain(|k| *k != key);
        self.defined.retain(|(k, _)| *k != key);
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let key = name.to_ascii_uppercase();
        self.defined
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `DEFINE NAME            = "value" (CHAR)`: the name padded to 15 characters; a
    /// NUMBER's value unquoted, right-aligned in NUMWIDTH's 10 characters.
    fn listing(&self, name: &str, value: &str) -> String {
        if self.numbers.iter().any(|k| k == name) {
            format!("DEFINE {name:<15} = {value:>10} (NUMBER)\n")
        } else {
            format!("DEFINE {name:<15} = \"{value}\" (CHAR)\n")
        }
    }

    /// `DEFINE [name [= text]]`: lists every variable, lists one, or defines one (`text` up
    /// to its first blank unless quoted). Returns what to print.
    pub fn define_command(&mut self, args: &str) -> String {
        let args = args.trim();
        if args.is_empty() {
            return self
                .defined
                .iter()
                .map(|(k, v)| self.listing(k, v))
                .collect();
        }
        let Some((name, text)) = args.split_once('=') else {
            let name = args.split_whitespace().next().unwrap_or(args);
            return match self.get(name) {
                Some(v) => self.listing(&name.to_ascii_uppercase(), v),
                None => format!("{}\n", sp2(135, &[name])),
            };
        };
        let name = name.trim();
        let text = text.trim();
        let value = match text.chars().next() {
            Some(q @ ('\'' | '"')) => {
                let body = &text[1..];
                body.find(q).map_or(body, |end| &body[..end])
            }
            _ => text.split_whitespace().next().unwrap_or(""),
        };
        self.define(name, value);
        String::new()
    }

    /// `UNDEFINE name [name ...]`.
    pub fn undefine_command(&mut self, args: &str) {
        for name in args.split_whitespace() {
            self.undefine(name);
        }
    }
}

/// Why a substitution did not complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Abandoned;

/// `text` with its substitution variables (prefix `prefix`) replaced. `ask` is called with
/// the name of each undefined one and returns the value typed, or `None` at EOF or Ctrl-C
/// (the whole line is then abandoned, SP2-0546).
pub fn substitute(
    text: &str,
    prefix: char,
    vars: &mut Variables,
    ask: &mut dyn FnMut(&str) -> Option<String>,
) -> Result<String, Abandoned> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != prefix {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let twice = chars.get(i) == Some(&prefix);
        if twice {
            i += 1;
        }
        while matches!(chars.get(i), Some(' ' | '\t')) {
            i += 1;
        }
        let name_start = i;
        while chars.get(i).is_some_and(|c| is_name_char(*c)) {
            i += 1;
        }
        if i == name_start {
            out.extend(&chars[start..i]);
            continue;
        }
        let name: String = chars[name_start..i].iter().collect();
        if chars.get(i) == Some(&'.') {
            i += 1;
        }
        let value = match vars.get(&name) {
            Some(v) => v.to_string(),
            None => {
                let v = ask(&name).ok_or(Abandoned)?;
                if twice {
                    vars.define(&name, &v);
                }
                v
            }
        };
        out.push_str(&value);
    }
    Ok(out)
}

/// SET VERIFY ON's report: `old   n: line` / `new   n: line` for each line of a statement
/// that substitution changed.
pub fn verify_lines(old: &str, new: &str) -> String {
    let mut out = String::new();
    for (n, (o, w)) in old.lines().zip(new.lines()).enumerate() {
        if o != w {
            out.push_str(&format!("old {:>3}: {o}\nnew {:>3}: {w}\n", n + 1, n + 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_ask(name: &str) -> Option<String> {
        panic!("asked for {name}")
    }

    #[test]
    fn define_list_and_undefine() {
        let mut v = Variables::new();
        assert_eq!(v.define_command("pos = MANAGER"), "");
        assert_eq!(v.define_command("department_id = 20"), "");
        assert_eq!(
            v.define_command("department_id"),
            "DEFINE DEPARTMENT_ID   = \"20\" (CHAR)\n"
        );
        assert_eq!(v.define_command("msg='Hello, World!'"), "");
        assert_eq!(v.get("MSG"), Some("Hello, World!"));
        assert_eq!(v.define_command("x = two words"), "");
        assert_eq!(v.get("x"), Some("two"));
        assert_eq!(
            v.define_command(""),
            "DEFINE POS             = \"MANAGER\" (CHAR)\n\
             DEFINE DEPARTMENT_ID   = \"20\" (CHAR)\n\
             DEFINE MSG             = \"Hello, World!\" (CHAR)\n\
             DEFINE X               = \"two\" (CHAR)\n"
        );
        v.undefine_command("pos x");
        assert_eq!(
            v.define_command("pos"),
            "SP2-0135: symbol pos is UNDEFINED\n"
        );
        assert_eq!(v.get("department_id"), Some("20"));
    }

    #[test]
    fn ampersand_double_ampersand_concat_and_literals() {
        let mut v = Variables::new();
        v.define("tab", "scott.dept");
        let s = substitute("select * from &tab", '&', &mut v, &mut no_ask).unwrap();
        assert_eq!(s, "select * from scott.dept");
        // `.` ends the name and goes; `&` not followed by a name stays.
        let s = substitute("x_&tab._y & 'a&'", '&', &mut v, &mut no_ask).unwrap();
        assert_eq!(s, "x_scott.dept_y & 'a&'");
        // Undefined: asked each time with `&`, once with `&&` (which defines it).
        let mut asked = Vec::new();
        let mut ask = |n: &str| {
            asked.push(n.to_string());
            Some("7500".to_string())
        };
        let s = substitute("between &x and &x+100", '&', &mut v, &mut ask).unwrap();
        assert_eq!(s, "between 7500 and 7500+100");
        let s = substitute("&&y + &&y + &y", '&', &mut v, &mut ask).unwrap();
        assert_eq!(s, "7500 + 7500 + 7500");
        assert_eq!(asked, ["x", "x", "y"]);
        assert_eq!(v.get("Y"), Some("7500"));
        assert_eq!(v.get("x"), None);
        // Blanks after the prefix are skipped: `& Spencers` is the variable SPENCERS.
        let mut empty = |_: &str| Some(String::new());
        let s = substitute("'Marks & Spencers Ltd'", '&', &mut v, &mut empty).unwrap();
        assert_eq!(s, "'Marks  Ltd'");
        // Another prefix; EOF abandons the line.
        let s = substitute("select '^tab' from dual", '^', &mut v, &mut no_ask).unwrap();
        assert_eq!(s, "select 'scott.dept' from dual");
        assert_eq!(
            substitute("&nosuch", '&', &mut v, &mut |_| None),
            Err(Abandoned)
        );
    }

    #[test]
    fn verify_lists_changed_lines_with_their_numbers() {
        let old = "SELECT * FROM dual\n WHERE dummy = '&&dummy_char'";
        let new = "SELECT * FROM dual\n WHERE dummy = 'X'";
        assert_eq!(
            verify_lines(old, new),
            "old   2:  WHERE dummy = '&&dummy_char'\nnew   2:  WHERE dummy = 'X'\n"
        );
        assert_eq!(verify_lines("select 1", "select 1"), "");
    }
}
