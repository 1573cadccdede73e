//! The logon argument: `user[/password][@identifier] [AS SYSDBA|SYSOPER]`, as SQL*Plus
//! reads it on its command line, at its `Enter user-name:` prompt and after `CONNECT`.

use crate::connection::Privilege;

/// The logon argument, split. Missing parts are prompted for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Logon {
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Connect identifier (alias, EZConnect string or descriptor).
    pub identifier: Option<String>,
    /// `AS SYSDBA` / `AS SYSOPER`.
    pub privilege: Option<Privilege>,
    /// `/`: operating-system authentication instead of a user and password.
    pub os_auth: bool,
}

/// Why a logon argument is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogonError {
    /// `AS` followed by something that is not a privilege (SQL*Plus: SP2-0306).
    #[error("invalid AS clause")]
    BadPrivilege,
}

/// Parses `user[/password][@identifier] [AS SYSDBA|SYSOPER]`. The password may be
/// double-quoted to hold `@` or `/` (`scott/"p@ss"@orcl`); the identifier is everything
/// after the `@` that ends the credentials up to a trailing `AS` clause, so EZConnect
/// strings with `/` and `:` pass through whole. `/` alone (or `/@identifier`) asks for
/// operating-system authentication.
pub fn parse_logon(arg: &str) -> Result<Logon, LogonError> {
    let (arg, privilege) = split_privilege(arg.trim())?;
    let mut out = Logon {
        privilege,
        ..Logon::default()
    };
    let (creds, ident) = split_credentials(arg);
    if let Some(id) = ident.filter(|s| !s.is_empty()) {
        out.identifier = Some(id.to_string());
    }
    if creds == "/" {
        out.os_auth = true;
        return Ok(out);
    }
    match creds.split_once('/') {
        Some((u, p)) => {
            let p = p
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(p);
            if !u.is_empty() {
                out.user = Some(u.to_string());
            }
            if !p.is_empty() {
                out.password = Some(p.to_string());
            }
        }
        None if !creds.is_empty() => out.user = Some(creds.to_string()),
        None => {}
    }
    Ok(out)
}

/// Takes a trailing `AS SYSDBA` / `AS SYSOPER` (any case) off the argument.
fn split_privilege(arg: &str) -> Result<(&str, Option<Privilege>), LogonError> {
    let words: Vec<&str> = arg.split_whitespace().collect();
    if words.len() >= 2 && words[words.len() - 2].eq_ignore_ascii_case("as") {
        let privilege = match words[words.len() - 1].to_ascii_uppercase().as_str() {
            "SYSDBA" => Privilege::Sysdba,
            "SYSOPER" => Privilege::Sysoper,
            _ => return Err(LogonError::BadPrivilege),
        };
        // Cut at the start of the `AS` word.
        let cut = arg
            .to_ascii_uppercase()
            .rfind(" AS ")
            .or_else(|| arg.to_ascii_uppercase().rfind("\tAS"))
            .unwrap_or(0);
        return Ok((arg[..cut].trim_end(), Some(privilege)));
    }
    if words.len() == 1 && words[0].eq_ignore_ascii_case("as") {
        return Err(LogonError::BadPrivilege);
    }
    Ok((arg, None))
}

fn split_credentials(arg: &str) -> (&str, Option<&str>) {
    // A quoted password may contain '@': skip over it.
    if let Some(slash) = arg.find('/') {
        let after = &arg[slash + 1..];
        if let Some(quoted) = after.strip_prefix('"')
            && let Some(close) = quoted.find('"')
        {
            let end = slash + 1 + 1 + close + 1;
            let rest = &arg[end..];
            return match rest.strip_prefix('@') {
                Some(id) => (&arg[..end], Some(id)),
                None => (&arg[..end], None),
            };
        }
    }
    match arg.find('@') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Logon {
        parse_logon(s).expect(s)
    }

    #[test]
    fn logon_forms() {
        assert_eq!(
            p("scott/tiger@orcl"),
            Logon {
                user: Some("scott".into()),
                password: Some("tiger".into()),
                identifier: Some("orcl".into()),
                ..Logon::default()
            }
        );
        let l = p("scott/tiger@127.0.0.1:1521/ORCL");
        assert_eq!(l.identifier.as_deref(), Some("127.0.0.1:1521/ORCL"));
        assert_eq!(l.password.as_deref(), Some("tiger"));
        let l = p("scott@orcl");
        assert_eq!(l.user.as_deref(), Some("scott"));
        assert_eq!(l.password, None);
        let l = p("scott/\"p@ss/w\"@host:1/svc");
        assert_eq!(l.password.as_deref(), Some("p@ss/w"));
        assert_eq!(l.identifier.as_deref(), Some("host:1/svc"));
        let l = p(
            "scott/tiger@(DESCRIPTION=(ADDRESS=(HOST=h)(PORT=1))(CONNECT_DATA=(SERVICE_NAME=s)))",
        );
        assert!(l.identifier.unwrap().starts_with("(DESCRIPTION="));
    }

    #[test]
    fn as_sysdba_is_not_part_of_the_identifier() {
        let l = p("sys/pw@DBAD as sysdba");
        assert_eq!(l.identifier.as_deref(), Some("DBAD"));
        assert_eq!(l.user.as_deref(), Some("sys"));
        assert_eq!(l.password.as_deref(), Some("pw"));
        assert_eq!(l.privilege, Some(Privilege::Sysdba));
        let l = p("scott/tiger AS SYSOPER");
        assert_eq!(l.password.as_deref(), Some("tiger"));
        assert_eq!(l.identifier, None);
        assert_eq!(l.privilege, Some(Privilege::Sysoper));
        let l = p("/ as sysdba");
        assert!(l.os_auth);
        assert_eq!(l.user, None);
        assert_eq!(l.privilege, Some(Privilege::Sysdba));
        assert_eq!(
            parse_logon("scott/tiger as dba"),
            Err(LogonError::BadPrivilege)
        );
        // A descriptor with spaces keeps them.
        let l = p("u/p@(DESCRIPTION = (ADDRESS = (HOST = h)(PORT = 1))) as sysdba");
        assert_eq!(
            l.identifier.as_deref(),
            Some("(DESCRIPTION = (ADDRESS = (HOST = h)(PORT = 1)))")
        );
    }
}
