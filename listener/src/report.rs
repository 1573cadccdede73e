//! Renders `lsnrctl status` and `lsnrctl services` in Oracle's layouts (labels left-justified
//! in a 26-column field; `Service "x" has N instance(s).`; handler lines with
//! `established:N refused:N` and `state:` only for dynamic handlers). Pure text functions so
//! the layout is tested without a running listener.

use crate::admin::StatusReport;
use crate::oratime::{format_unix, format_uptime};
use crate::services::{HandlerKind, ServiceView};

/// Product version this listener reports.
pub const VERSION: &str = "19.0.0.0.0";

/// `TNSLSNR for Linux: Version 19.0.0.0.0 - Production`.
pub fn tnslsnr_version() -> String {
    format!("TNSLSNR for Linux: Version {VERSION} - Production")
}

fn label(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!("{name:<26}{value}\n"));
}

/// The body of `lsnrctl status` (after the `Connecting to` line).
pub fn render_status(r: &StatusReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("STATUS of the {}\n", r.alias));
    out.push_str("------------------------\n");
    label(&mut out, "Alias", &r.alias);
    label(&mut out, "Version", &r.version);
    label(&mut out, "Start Date", &format_unix(r.start_unix));
    label(
        &mut out,
        "Uptime",
        &format_uptime(std::time::Duration::from_secs(r.uptime_secs)),
    );
    label(&mut out, "Trace Level", &r.trace_level);
    label(&mut out, "Security", &r.security);
    label(&mut out, "SNMP", "OFF");
    if let Some(s) = &r.default_service {
        label(&mut out, "Default Service", s);
    }
    if let Some(p) = &r.parameter_file {
        label(&mut out, "Listener Parameter File", p);
    }
    if let Some(l) = &r.log_file {
        label(&mut out, "Listener Log File", l);
    }
    if let Some(t) = &r.trace_file {
        label(&mut out, "Listener Trace File", t);
    }
    out.push_str("Listening Endpoints Summary...\n");
    for e in &r.endpoints {
        out.push_str(&format!("  {e}\n"));
    }
    if r.services.is_empty() {
        out.push_str("The listener supports no services\n");
    } else {
        out.push_str("Services Summary...\n");
        for s in &r.services {
            service_header(&mut out, s, false);
        }
    }
    out
}

fn service_header(out: &mut String, s: &ServiceView, with_handlers: bool) {
    out.push_str(&format!(
        "Service \"{}\" has {} instance(s).\n",
        s.name,
        s.instances.len()
    ));
    for i in &s.instances {
        out.push_str(&format!(
            "  Instance \"{}\", status {}, has {} handler(s) for this service...\n",
            i.name,
            i.status.as_str(),
            i.handlers.len()
        ));
        if !with_handlers {
            continue;
        }
        out.push_str("    Handler(s):\n");
        for h in &i.handlers {
            let mut line = format!(
                "      \"{}\" established:{} refused:{}",
                h.handler.name, h.established, h.refused
            );
            if let (Some(c), Some(m)) = (h.handler.current, h.handler.max) {
                line.push_str(&format!(" current:{c} max:{m}"));
            }
            if h.dynamic {
                line.push_str(if h.handler.blocked {
                    " state:blocked"
                } else {
                    " state:ready"
                });
            }
            out.push_str(&line);
            out.push('\n');
            match &h.handler.kind {
                HandlerKind::Dedicated => out.push_str("         LOCAL SERVER\n"),
                HandlerKind::Dispatcher {
                    address,
                    machine,
                    pid,
                    ..
                } => {
                    out.push_str(&format!(
                        "         DISPATCHER <machine: {machine}, pid: {pid}>\n"
                    ));
                    out.push_str(&format!("         {address}\n"));
                }
                HandlerKind::Pooled { machine, pid, .. } => {
                    out.push_str(&format!("         CMON <machine: {machine}, pid: {pid}>\n"));
                }
            }
        }
    }
}

/// The body of `lsnrctl services`.
pub fn render_services(services: &[ServiceView]) -> String {
    let mut out = String::new();
    if services.is_empty() {
        out.push_str("The listener supports no services\n");
        return out;
    }
    out.push_str("Services Summary...\n");
    for s in services {
        service_header(&mut out, s, true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{Handler, HandlerView, InstanceStatus, InstanceView};

    fn services() -> Vec<ServiceView> {
        vec![ServiceView {
            name: "orcl.example.com".into(),
            instances: vec![InstanceView {
                name: "ORCL".into(),
                status: InstanceStatus::Unknown,
                handlers: vec![HandlerView {
                    handler: Handler {
                        name: "DEDICATED".into(),
                        kind: HandlerKind::Dedicated,
                        blocked: false,
                        current: None,
                        max: None,
                    },
                    established: 3,
                    refused: 1,
                    dynamic: false,
                }],
            }],
        }]
    }

    #[test]
    fn services_layout_matches_oracle() {
        let text = render_services(&services());
        assert_eq!(
            text,
            "Services Summary...\n\
             Service \"orcl.example.com\" has 1 instance(s).\n  \
             Instance \"ORCL\", status UNKNOWN, has 1 handler(s) for this service...\n    \
             Handler(s):\n      \
             \"DEDICATED\" established:3 refused:1\n         \
             LOCAL SERVER\n"
        );
    }

    #[test]
    fn status_layout_matches_oracle() {
        let r = StatusReport {
            alias: "LISTENER".into(),
            version: tnslsnr_version(),
            start_unix: 1_273_923_744,
            uptime_secs: 65,
            trace_level: "off".into(),
            security: "ON: Local OS Authentication".into(),
            default_service: None,
            parameter_file: Some("/u01/network/admin/listener.ora".into()),
            log_file: Some("/u01/network/log/listener.log".into()),
            trace_file: None,
            endpoints: vec![
                "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521)))".into(),
            ],
            services: services(),
            pid: 1,
        };
        let text = render_status(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "STATUS of the LISTENER");
        assert_eq!(lines[2], "Alias                     LISTENER");
        assert_eq!(lines[4], "Start Date                15-MAY-2010 11:42:24");
        assert_eq!(
            lines[5],
            "Uptime                    0 days 0 hr. 1 min. 5 sec"
        );
        assert!(text.contains("Listening Endpoints Summary...\n  (DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=127.0.0.1)(PORT=1521)))\n"));
        assert!(text.ends_with(
            "Instance \"ORCL\", status UNKNOWN, has 1 handler(s) for this service...\n"
        ));
        let empty = StatusReport {
            services: vec![],
            ..r
        };
        assert!(render_status(&empty).ends_with("The listener supports no services\n"));
    }
    fn dynamic(name: &str, kind: HandlerKind, load: Option<(u32, u32)>) -> HandlerView {
        HandlerView {
            handler: Handler {
                name: name.into(),
                kind,
                blocked: false,
                current: load.map(|l| l.0),
                max: load.map(|l| l.1),
            },
            established: 0,
            refused: 0,
            dynamic: true,
        }
    }

    /// The example of Oracle's documentation (see `testdata/README.md`): one service, one
    /// READY instance, a dedicated handler and two dispatchers.
    fn documented_services() -> Vec<ServiceView> {
        let dispatcher = |n: &str, pid: u32, port: u16| {
            dynamic(
                n,
                HandlerKind::Dispatcher {
                    address: format!("(ADDRESS=(PROTOCOL=tcp)(HOST=sales-server)(PORT={port}))"),
                    machine: "sales-server".into(),
                    pid,
                    handoff_path: None,
                },
                Some((0, 10000)),
            )
        };
        vec![ServiceView {
            name: "sales.us.example.com".into(),
            instances: vec![InstanceView {
                name: "sales".into(),
                status: InstanceStatus::Ready,
                handlers: vec![
                    dynamic("DEDICATED", HandlerKind::Dedicated, None),
                    dispatcher("D000", 1689, 52414),
                    dispatcher("D001", 1691, 52415),
                ],
            }],
        }]
    }

    #[test]
    fn status_is_the_documented_layout_byte_for_byte() {
        let r = StatusReport {
            alias: "LISTENER".into(),
            version: tnslsnr_version(),
            start_unix: 1_557_951_720,
            uptime_secs: 65 * 86_400 + 10 * 3600 + 5 * 60 + 22,
            trace_level: "support".into(),
            security: "OFF".into(),
            default_service: None,
            parameter_file: Some("/oracle/admin/listener.ora".into()),
            log_file: Some("/oracle/network/log/listener.log".into()),
            trace_file: Some("/oracle/network/trace/listener.trc".into()),
            endpoints: vec![
                "(DESCRIPTION=(ADDRESS=(PROTOCOL=tcp)(HOST=sales-server)(PORT=1521)))".into(),
            ],
            services: documented_services(),
            pid: 1,
        };
        assert_eq!(
            render_status(&r),
            include_str!("../testdata/lsnrctl_status.txt")
        );
    }

    #[test]
    fn services_is_the_documented_layout_byte_for_byte() {
        assert_eq!(
            render_services(&documented_services()),
            include_str!("../testdata/lsnrctl_services.txt")
        );
    }
}
