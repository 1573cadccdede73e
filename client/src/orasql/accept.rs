//! `ACC[EPT] variable [NUM[BER]|CHAR|DATE] [FOR[MAT] format] [DEF[AULT] default]
//! [PROMPT text|NOPR[OMPT]] [HIDE]`: one line read into a substitution variable.
//!
//! The parsing and the check of the reply live here, apart from the reading, so that they
//! are tested without a terminal. SQL*Plus asks again after a reply its type rejects
//! (`SP2-0425: "x" is not a valid NUMBER`); an empty reply takes the DEFAULT. A NUMBER
//! variable is defined as one (DEFINE lists it with `(NUMBER)`). FORMAT is read and not
//! applied, and DATE replies are not checked: both need Oracle's format models, which the
//! client does not have.

use super::settings::Tokens;
use super::sp2;

/// The type ACCEPT checks the reply against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `CHAR` (the default): any text.
    Char,
    /// `NUM[BER]`: a number, kept as a NUMBER variable.
    Number,
    /// `DATE`: kept as CHAR.
    Date,
}

impl Kind {
    /// The type's name in SP2-0425.
    fn name(self) -> &'static str {
        match self {
            Kind::Char => "CHAR",
            Kind::Number => "NUMBER",
            Kind::Date => "DATE",
        }
    }
}

/// What is shown before the reply is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// No PROMPT clause: nothing is shown.
    Silent,
    /// `PROMPT text`.
    Text(String),
    /// `NOPR[OMPT]`: SQL*Plus skips a line.
    NoPrompt,
}

/// One ACCEPT command, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// The variable to define.
    pub name: String,
    /// The type the reply must have.
    pub kind: Kind,
    /// `DEF[AULT]`: the value of an empty reply.
    pub default: Option<String>,
    /// What is shown before reading.
    pub prompt: Prompt,
    /// `HIDE`: the reply is not echoed (on a terminal).
    pub hide: bool,
}

/// Why an ACCEPT command was refused: SQL*Plus's texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptError {
    /// SP2-0002: no variable name.
    NoVariable,
    /// SP2-0003: an option ACCEPT does not know (the text from it on).
    IllFormed(String),
}

impl std::fmt::Display for AcceptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcceptError::NoVariable => write!(f, "{}", sp2(2, &[])),
            AcceptError::IllFormed(from) => write!(f, "{}", sp2(3, &[from])),
        }
    }
}

/// `word` is `full` or an abbreviation of it at least `min` characters long.
fn abbrev(word: &str, full: &str, min: usize) -> bool {
    word.len() >= min && full.starts_with(word)
}

/// Parses what follows `ACCEPT`.
pub fn parse(args: &str) -> Result<Accept, AcceptError> {
    let mut words = Tokens::new(args);
    let name = words.next_word().ok_or(AcceptError::NoVariable)?;
    let mut accept = Accept {
        name,
        kind: Kind::Char,
        default: None,
        prompt: Prompt::Silent,
        hide: false,
    };
    while let Some(w) = words.next_word() {
        let u = w.to_ascii_uppercase();
        if abbrev(&u, "NUMBER", 3) {
            accept.kind = Kind::Number;
        } else if u == "CHAR" {
            accept.kind = Kind::Char;
        } else if u == "DATE" {
            accept.kind = Kind::Date;
        } else if abbrev(&u, "FORMAT", 3) {
            words.next_word().ok_or(AcceptError::IllFormed(w))?;
        } else if abbrev(&u, "DEFAULT", 3) {
            accept.default = Some(words.next_word().ok_or(AcceptError::IllFormed(w))?);
        } else if u == "PROMPT" {
            accept.prompt = Prompt::Text(words.next_word().ok_or(AcceptError::IllFormed(w))?);
        } else if abbrev(&u, "NOPROMPT", 4) {
            accept.prompt = Prompt::NoPrompt;
        } else if u == "HIDE" {
            accept.hide = true;
        } else {
            return Err(AcceptError::IllFormed(w));
        }
    }
    Ok(accept)
}

/// Whether `s` is a number as Oracle reads one: sign, digits with one optional decimal
/// point, optional exponent.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = mantissa.chars().filter(char::is_ascii_digit).count();
    let mantissa_ok = digits > 0
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && mantissa.matches('.').count() <= 1;
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

impl Accept {
    /// The value a reply gives the variable (the DEFAULT for an empty one), or the SP2-0425
    /// line SQL*Plus prints before asking again.
    pub fn value(&self, reply: &str) -> Result<String, String> {
        let reply = match (&self.default, reply.is_empty()) {
            (Some(d), true) => d.as_str(),
            _ => reply,
        };
        if self.kind == Kind::Number && !is_number(reply.trim()) {
            return Err(sp2(425, &[reply, self.kind.name()]));
        }
        Ok(match self.kind {
            Kind::Number => reply.trim().to_string(),
            Kind::Char | Kind::Date => reply.to_string(),
        })
    }

    /// The text shown before the reply is read.
    pub fn prompt_text(&self) -> &str {
        match &self.prompt {
            Prompt::Silent => "",
            Prompt::Text(t) => t,
            Prompt::NoPrompt => "\n",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_in_any_order_abbreviated() {
        let a = parse("n num def 5 prompt 'How many? ' hide").expect("parses");
        assert_eq!(
            a,
            Accept {
                name: "n".to_string(),
                kind: Kind::Number,
                default: Some("5".to_string()),
                prompt: Prompt::Text("How many? ".to_string()),
                hide: true,
            }
        );
        let a = parse("d date for 'dd/mm/yy' nopr").expect("parses");
        assert_eq!(a.kind, Kind::Date);
        assert_eq!(a.prompt_text(), "\n");
        assert_eq!(parse("x").expect("parses").prompt_text(), "");
    }

    #[test]
    fn refused_commands_get_sqlplus_texts() {
        assert_eq!(
            parse("").unwrap_err().to_string(),
            "SP2-0002: ACCEPT statement must specify a variable name"
        );
        assert_eq!(
            parse("x numbr").unwrap_err().to_string(),
            "SP2-0003: Ill-formed ACCEPT command starting as numbr"
        );
    }

    #[test]
    fn number_replies_are_checked_and_default_fills_an_empty_one() {
        let a = parse("n number default 7").expect("parses");
        assert_eq!(a.value("42"), Ok("42".to_string()));
        assert_eq!(a.value("-1.5e3"), Ok("-1.5e3".to_string()));
        assert_eq!(a.value(""), Ok("7".to_string()));
        assert_eq!(
            a.value("abc"),
            Err("SP2-0425: \"abc\" is not a valid NUMBER".to_string())
        );
        for bad in ["1.2.3", "e5", "inf", "NaN", "1e", "."] {
            assert!(a.value(bad).is_err(), "{bad}");
        }
        let c = parse("c").expect("parses");
        assert_eq!(c.value("any text "), Ok("any text ".to_string()));
        assert_eq!(c.value(""), Ok(String::new()));
    }
}
