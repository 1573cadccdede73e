//! `tnsnames.ora`: local naming. Maps aliases (case-insensitive; `a, b = ...` gives one
//! descriptor several names; the last definition of a name wins, as in Oracle and
//! python-oracledb) to connect descriptors. A value may also be an EZConnect string
//! (`nsn = host:1521/svc`), which is expanded with [`crate::ezconnect`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::descriptor::{ConnectDescriptor, render_param};
use crate::diag::{Diagnostic, Parsed, Pos};
use crate::ezconnect;
use crate::paramfile::{ParamFile, Value};

/// One alias definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TnsEntry {
    /// The names as written.
    pub aliases: Vec<String>,
    /// The descriptor.
    pub descriptor: ConnectDescriptor,
    /// File that defined it.
    pub file: Arc<str>,
    /// Where the first name starts.
    pub pos: Pos,
}

/// All entries of a tnsnames.ora (and its IFILEs), in file order.
#[derive(Debug, Clone, Default)]
pub struct TnsNames {
    /// Entries in file order (duplicates included; [`TnsNames::lookup`] picks the last).
    pub entries: Vec<TnsEntry>,
    index: HashMap<String, usize>,
    /// Upper-cased names of entries skipped as malformed, with where they are.
    broken: HashMap<String, (Arc<str>, Pos)>,
}

impl TnsNames {
    /// Reads `tnsnames.ora`, following IFILE. Fails only if the file cannot be read.
    pub fn load(path: &Path) -> Result<Parsed<TnsNames>, std::io::Error> {
        Ok(Self::from_params(ParamFile::load(path)?))
    }

    /// Parses text; `file` names diagnostics.
    pub fn parse_str(text: &str, file: &str) -> Parsed<TnsNames> {
        Self::from_params(ParamFile::parse_str(text, file))
    }

    /// Builds the alias table from a parsed file (keeps its diagnostics).
    pub fn from_params(parsed: Parsed<ParamFile>) -> Parsed<TnsNames> {
        let Parsed {
            value: pf,
            mut diagnostics,
        } = parsed;
        let mut t = TnsNames::default();
        for sk in &pf.skipped {
            for n in &sk.names {
                t.broken
                    .insert(n.to_ascii_uppercase(), (Arc::clone(&sk.file), sk.pos));
            }
        }
        for p in &pf.params {
            if p.is("IFILE") {
                continue;
            }
            let descriptor = match &p.value {
                Value::Atom(a) => match ezconnect::parse(&a.text) {
                    Ok(d) => d,
                    Err(e) => {
                        // Point at the offending character of a one-line value.
                        let pos = match &e {
                            ezconnect::EzConnectError::Syntax { col, .. }
                                if !a.text.contains('\n') =>
                            {
                                Pos {
                                    line: a.pos.line,
                                    col: a.pos.col
                                        + u32::try_from(*col).unwrap_or(1).saturating_sub(1),
                                }
                            }
                            _ => a.pos,
                        };
                        diagnostics.push(Diagnostic::error(
                            &p.file,
                            pos,
                            format!("{}: {}; entry skipped", p.name(), value_problem(&e)),
                        ));
                        t.mark_broken(p);
                        continue;
                    }
                },
                v => match ConnectDescriptor::from_value(v, &p.file, &mut diagnostics) {
                    Some(d) => d,
                    None => {
                        diagnostics.push(Diagnostic::error(
                            &p.file,
                            v.pos().unwrap_or(p.pos),
                            format!(
                                "{}: expected (DESCRIPTION=...), (DESCRIPTION_LIST=...) or (ADDRESS=...); entry skipped",
                                p.name()
                            ),
                        ));
                        t.mark_broken(p);
                        continue;
                    }
                },
            };
            for name in &p.names {
                let key = name.to_ascii_uppercase();
                // The index may already point at this very entry (not pushed yet) when
                // one definition lists a name twice (`a, A = ...`).
                let prev = t.index.get(&key).map(|&i| t.entries.get(i));
                if let Some(None) = prev {
                    diagnostics.push(Diagnostic::warning(
                        &p.file,
                        p.pos,
                        format!("alias {name} is listed twice in one definition"),
                    ));
                }
                if let Some(Some(prev)) = prev {
                    diagnostics.push(Diagnostic::warning(
                        &p.file,
                        p.pos,
                        format!(
                            "alias {name} is defined again (first at {}:{}); the last definition wins",
                            prev.file, prev.pos.line
                        ),
                    ));
                }
                t.index.insert(key, t.entries.len());
            }
            t.entries.push(TnsEntry {
                aliases: p.names.clone(),
                descriptor,
                file: Arc::clone(&p.file),
                pos: p.pos,
            });
        }
        Parsed {
            value: t,
            diagnostics,
        }
    }

    fn mark_broken(&mut self, p: &crate::paramfile::Param) {
        for n in &p.names {
            self.broken
                .insert(n.to_ascii_uppercase(), (Arc::clone(&p.file), p.pos));
        }
    }

    /// Where a malformed (skipped) entry named `alias` is, if there is one and no valid
    /// definition of the name exists.
    pub fn broken(&self, alias: &str) -> Option<(&Arc<str>, Pos)> {
        let key = alias.to_ascii_uppercase();
        if self.index.contains_key(&key) {
            return None;
        }
        self.broken.get(&key).map(|(f, p)| (f, *p))
    }

    /// The descriptor for `alias` (case-insensitive; last definition wins).
    pub fn lookup(&self, alias: &str) -> Option<&TnsEntry> {
        self.index
            .get(&alias.to_ascii_uppercase())
            .and_then(|&i| self.entries.get(i))
    }

    /// Writes the entries as `tnsnames.ora` text in canonical form: one entry per
    /// definition, in file order, names as written, each descriptor in Oracle's indented
    /// layout (an Easy Connect value is written as the descriptor it expands to). Parsing
    /// the text gives the same aliases and descriptors.
    pub fn to_ora(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&e.aliases.join(", "));
            out.push_str(" =\n");
            for p in e.descriptor.to_raw() {
                out.push_str("  ");
                render_param(&mut out, &p, Some(1));
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }

    /// Every alias that resolves, upper-cased, sorted.
    pub fn aliases(&self) -> Vec<String> {
        let mut v: Vec<String> = self.index.keys().cloned().collect();
        v.sort();
        v
    }
}

/// Why a scalar tnsnames value is unusable, phrased for a file diagnostic.
fn value_problem(e: &ezconnect::EzConnectError) -> String {
    use ezconnect::EzConnectError as E;
    match e {
        E::NotEzConnect { text } => {
            format!(
                "expected a connect descriptor (DESCRIPTION=...) or an Easy Connect string, found {text:?}"
            )
        }
        E::Syntax { text, expected, .. } => format!(
            "expected a connect descriptor (DESCRIPTION=...) or an Easy Connect string; as Easy Connect, {text:?} needs {expected} here"
        ),
        E::Protocol { protocol } => {
            format!("Easy Connect protocol {protocol:?} is not tcp or tcps")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_case_and_last_wins() {
        let p = TnsNames::parse_str(
            "a, B.world = (DESCRIPTION=(ADDRESS=(HOST=h1)(PORT=1))(CONNECT_DATA=(SID=x)))\n\
             ez = db:1522/svc\n\
             A = (DESCRIPTION=(ADDRESS=(HOST=h2)(PORT=2)))\n",
            "tnsnames.ora",
        );
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        let t = p.value;
        assert_eq!(t.lookup("b.WORLD").unwrap().descriptor.sid(), Some("x"));
        assert_eq!(
            t.lookup("a").unwrap().descriptor.addresses()[0]
                .host
                .as_deref(),
            Some("h2")
        );
        assert_eq!(
            t.lookup("EZ").unwrap().descriptor.service_name(),
            Some("svc")
        );
        assert_eq!(t.aliases(), vec!["A", "B.WORLD", "EZ"]);
        assert_eq!(p.diagnostics.len(), 1);
    }

    #[test]
    fn a_name_listed_twice_in_one_definition_is_a_warning() {
        let p = TnsNames::parse_str(
            "a, A = (DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1)))\n",
            "tnsnames.ora",
        );
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
        assert!(p.diagnostics[0].to_string().contains("listed twice"));
        assert_eq!(p.value.entries.len(), 1);
        assert!(p.value.lookup("a").is_some());
    }

    #[test]
    fn bad_easy_connect_value_points_at_the_character() {
        let p = TnsNames::parse_str("ok = h/s\nbad =  host:1/svc x\n", "tnsnames.ora");
        let e: Vec<String> = p.errors().map(ToString::to_string).collect();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("tnsnames.ora:2:18: error: bad: expected a connect descriptor"),
            "{}",
            e[0]
        );
        assert!(p.value.lookup("ok").is_some());
        assert!(p.value.broken("bad").is_some());
    }
}
