//! Walks every real-world file of `../shared/corpus/real` in place: well-formed files parse
//! with no error; every file labelled MALFORMED in SOURCES.tsv yields an error on the line
//! where the defect is, and its good entries still resolve.

use std::time::Duration;

use config::diag::Diagnostic;
use config::listener::Protocol;
use config::{ListenerConfig, SqlNet, TnsNames};
use tests::corpus::{self, CorpusFile, Kind};

/// Every diagnostic of a corpus file, loaded the way its kind is loaded by clients.
fn diagnostics(f: &CorpusFile) -> Vec<Diagnostic> {
    match f.kind {
        Kind::Tnsnames => TnsNames::load(&f.path).expect("readable").diagnostics,
        Kind::Listener => ListenerConfig::load(&f.path).expect("readable").diagnostics,
        Kind::Sqlnet => SqlNet::load(&f.path).expect("readable").diagnostics,
    }
}

fn error_lines(f: &CorpusFile) -> Vec<u32> {
    diagnostics(f)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.pos.line)
        .collect()
}

/// Files not labelled MALFORMED that still contain a real defect, with the line and why.
/// Each must keep producing exactly these error lines.
const UNLABELLED_DEFECTS: &[(&str, &[u32], &str)] = &[(
    "tnsnames/033_Oracle-Note.ora",
    &[135],
    "line 135 reads `  )219.238.187.67`: stray text after the closing parenthesis of INST1_HTTP \
     (an Oracle client rejects the entry as well); SOURCES.tsv does not label the file",
)];

#[test]
fn corpus_is_present_and_labelled() {
    let files = corpus::files();
    assert!(files.len() >= 90, "only {} corpus files found", files.len());
    assert!(
        files.iter().all(|f| !f.notes.is_empty()),
        "a corpus file is missing from SOURCES.tsv"
    );
    assert_eq!(
        files.iter().filter(|f| f.malformed()).count(),
        MALFORMED.len()
    );
}

#[test]
fn every_well_formed_file_parses_without_errors() {
    let mut failures = Vec::new();
    for f in corpus::files().iter().filter(|f| !f.malformed()) {
        let errors: Vec<Diagnostic> = diagnostics(f)
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        let expected = UNLABELLED_DEFECTS
            .iter()
            .find(|(rel, _, _)| *rel == f.rel)
            .map_or(&[][..], |e| e.1);
        let lines: Vec<u32> = errors.iter().map(|d| d.pos.line).collect();
        if lines != expected {
            failures.push(format!(
                "{}: {:#?}",
                f.rel,
                errors.iter().map(ToString::to_string).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "well-formed files with unexpected errors:\n{}",
        failures.join("\n")
    );
}

/// What must hold for the good part of a malformed file.
enum Good {
    /// These tnsnames aliases resolve to a descriptor with at least one address; these do not.
    Tns(&'static [&'static str], &'static [&'static str]),
    /// Listener names with their endpoint counts, and SID_NAMEs of static registrations.
    Listener(&'static [(&'static str, usize)], &'static [&'static str]),
    /// sqlnet.ora: NAMES.DEFAULT_DOMAIN and OUTBOUND_CONNECT_TIMEOUT in seconds.
    Sqlnet(&'static str, u64),
}

/// Every MALFORMED file: the lines that must carry an error, and what must still work.
/// The lines were found by reading each file (see the SOURCES.tsv note for the defect).
const MALFORMED: &[(&str, &[u32], Good)] = &[
    // BNF template: `<alias>= [ (DESCRIPTION_LIST =` is not a value; continuation lines follow.
    (
        "tnsnames/008_ADMIN.ora",
        &[24, 27],
        Good::Tns(&[], &["<alias>"]),
    ),
    // HEDWQA3's DESCRIPTION is never closed: the entry ends at line 299.
    (
        "tnsnames/013_Oracle.ora",
        &[299],
        Good::Tns(
            &["HEPYQA3", "HEPYQA3.AETNA.COM", "HEPYUAT", "HEPYUAT.world"],
            &["HEDWQA3", "HEDWQA3.world"],
        ),
    ),
    // Prose headings: "CONTOH" (line 1) / "=====" (line 2), "FAILOVER" (15) / "=====" (16),
    // "FAILOVER & LOAD BALANCE" (40) / "=====" (41).
    (
        "tnsnames/020_Master_oracle.ora",
        &[1, 2, 15, 16, 40, 41],
        Good::Tns(
            &["CSLB_FAILOVER", "PRIMARY", "SECONDARY", "LBAFO"],
            &["CONTOH"],
        ),
    ),
    // ADDRESS (line 2) is not closed before CONNECT_DATA (line 6), which sits at its indentation.
    (
        "tnsnames/023_OracleLambda.ora",
        &[6],
        Good::Tns(&[], &["Myservice"]),
    ),
    // ` DEMO =` is indented on line 31, so it continues `local`'s value.
    (
        "tnsnames/024_wrapper.ora",
        &[31],
        Good::Tns(&["localbase", "JOAO", "local"], &["DEMO"]),
    ),
    // SampleFullOptions' DESCRIPTION_LIST misses its final ')' at the end of the file (line 72).
    (
        "tnsnames/030_templates.ora",
        &[72],
        Good::Tns(&["sampleSimple", "sampleHA"], &["SampleFullOptions"]),
    ),
    // Free-text notes after the last entry (lines 10, 12, 13).
    (
        "tnsnames/038_Oracle.ora",
        &[10, 12, 13],
        Good::Tns(&["PROD_PUPPIS"], &[]),
    ),
    // Merge markers (1, 52, 103) and prose headings; each LBAFO is cut by a marker (51, 102)
    // and the last one's closing paren is left alone on line 104.
    (
        "tnsnames/041_Oracle.ora",
        &[
            1, 2, 3, 16, 17, 41, 42, 51, 52, 53, 54, 67, 68, 92, 93, 102, 103, 104,
        ],
        Good::Tns(&["CSLB_FAILOVER", "PRIMARY", "SECONDARY"], &["LBAFO"]),
    ),
    // Orphan indented `(ADDRESS = ...)` lines from line 22 on.
    (
        "listener/007_Oracle.ora",
        &[22],
        Good::Listener(
            &[
                ("MGMTLSNR", 1),
                ("LISTENER", 1),
                ("LISTENER_SCAN1", 1),
                ("ASMNET1LSNR_ASM", 1),
            ],
            &["HEPYSTS", "HEPYDBA"],
        ),
    ),
    // SQL-style `-- ...` comment lines 1 and 17.
    (
        "listener/009_Oracle.ora",
        &[1, 17],
        Good::Listener(
            &[("HEPYGOLD", 1), ("VHEP_MSK", 1), ("VHEP_SRC", 1)],
            &["HEPYGOLD"],
        ),
    ),
    // Shell prompt lines 1-4; SID_LIST never closed (file ends on line 9).
    (
        "listener/014_OracleDBA.ora",
        &[1, 2, 3, 4, 9],
        Good::Listener(&[("listener_rdsdb19", 1)], &[]),
    ),
    // IPC ADDRESS on line 17 misses its ')'.
    (
        "listener/019_oracle-db-xe-21c.ora",
        &[17],
        Good::Listener(&[("LISTENER", 0)], &["CLRExtProc"]),
    ),
    // `(SID_NAME = XE` on line 14 misses its ')'.
    (
        "listener/020_dds_project.ora",
        &[14],
        Good::Listener(&[("LISTENER", 3)], &[]),
    ),
    // TCP ADDRESS on line 21 misses its ')'.
    (
        "listener/021_templates.ora",
        &[21],
        Good::Listener(&[("LISTENER", 0)], &["PLSExtProc", "sales"]),
    ),
    // Same as 021 at line 21; BNF `SID_LIST_listener_name=[(SID_LIST=]` continues on line 51.
    (
        "listener/022_templates.ora",
        &[21, 51],
        Good::Listener(&[("LISTENER", 4)], &[]),
    ),
    // Control bytes 0x1F 0x1C before SQLNET.EXPIRE_TIME on line 20.
    ("sqlnet/020_s_common.ora", &[20], Good::Sqlnet("world", 2)),
];

#[test]
fn every_malformed_file_reports_the_defect_line_and_keeps_the_good_entries() {
    let files = corpus::files();
    for f in files.iter().filter(|f| f.malformed()) {
        let Some((_, lines, good)) = MALFORMED.iter().find(|(rel, _, _)| *rel == f.rel) else {
            panic!(
                "{} is labelled MALFORMED but has no expectation in this test",
                f.rel
            );
        };
        let got = error_lines(f);
        assert!(!got.is_empty(), "{}: no error", f.rel);
        for l in *lines {
            assert!(
                got.contains(l),
                "{}: expected an error on line {l}, errors are on {got:?}",
                f.rel
            );
        }
        for l in &got {
            assert!(
                lines.contains(l),
                "{}: unexpected error on line {l}: {:?}",
                f.rel,
                diagnostics(f)
            );
        }
        match good {
            Good::Tns(ok, missing) => {
                let t = TnsNames::load(&f.path).expect("readable").value;
                for a in *ok {
                    let e = t
                        .lookup(a)
                        .unwrap_or_else(|| panic!("{}: alias {a} does not resolve", f.rel));
                    assert!(
                        !e.descriptor.addresses().is_empty(),
                        "{}: alias {a} has no address",
                        f.rel
                    );
                }
                for a in *missing {
                    assert!(
                        t.lookup(a).is_none(),
                        "{}: broken alias {a} resolved",
                        f.rel
                    );
                    // An alias whose own entry is broken is reported as malformed, not unknown.
                    let own_entry = !matches!(*a, "DEMO" | "CONTOH");
                    assert_eq!(
                        t.broken(a).is_some(),
                        own_entry,
                        "{}: {a} malformed?",
                        f.rel
                    );
                }
            }
            Good::Listener(listeners, sids) => {
                let c = ListenerConfig::load(&f.path).expect("readable").value;
                for (name, n) in *listeners {
                    let l = c
                        .listener(name)
                        .unwrap_or_else(|| panic!("{}: listener {name} missing", f.rel));
                    assert_eq!(l.endpoints.len(), *n, "{}: endpoints of {name}", f.rel);
                }
                let all: Vec<String> = c
                    .listeners
                    .iter()
                    .flat_map(|l| l.sid_list.iter().filter_map(|s| s.sid_name.clone()))
                    .collect();
                for s in *sids {
                    assert!(
                        all.iter().any(|x| x == s),
                        "{}: SID_DESC {s} missing from {all:?}",
                        f.rel
                    );
                }
            }
            Good::Sqlnet(domain, secs) => {
                let s = SqlNet::load(&f.path).expect("readable").value;
                assert_eq!(
                    s.names_default_domain.as_deref(),
                    Some(*domain),
                    "{}",
                    f.rel
                );
                assert_eq!(
                    s.outbound_connect_timeout,
                    Some(Duration::from_secs(*secs)),
                    "{}",
                    f.rel
                );
            }
        }
    }
}

#[test]
fn listener_details_from_real_files() {
    // 022: the second LISTENER definition (DECNET and all) replaces the broken first one.
    let f = corpus::corpus_dir().join("listener/022_templates.ora");
    let c = ListenerConfig::load(&f).expect("readable").value;
    let l = c.listener("LISTENER").expect("LISTENER");
    let protos: Vec<&str> = l.endpoints.iter().map(|e| e.protocol.as_str()).collect();
    assert_eq!(protos, vec!["ipc", "ipc", "tcp", "decnet"]);
    // 021/019: DEFAULT_SERVICE without parentheses.
    let c = ListenerConfig::load(&corpus::corpus_dir().join("listener/019_oracle-db-xe-21c.ora"))
        .expect("readable")
        .value;
    assert_eq!(
        c.listener("LISTENER")
            .and_then(|l| l.params.default_service.as_deref()),
        Some("XE")
    );
    // 018: INBOUND_CONNECT_TIMEOUT_LISTENER=120 and an IPC-only Grid listener.
    let c = ListenerConfig::load(&corpus::corpus_dir().join("listener/018_db4odbc.ora"))
        .expect("readable")
        .value;
    let l = c.listener("LISTENER").expect("LISTENER");
    assert_eq!(l.params.inbound_connect_timeout, Duration::from_secs(120));
    assert!(l.endpoints.iter().all(|e| e.protocol == Protocol::Ipc));
}

#[test]
fn listener_files_render_back_to_the_same_model() {
    for f in corpus::files().iter().filter(|f| f.kind == Kind::Listener) {
        let mut model = ListenerConfig::load(&f.path).expect("readable").value;
        let text = model.to_ora();
        // A listener with nothing but Oracle's defaults is not written (022's
        // `SID_LIST_listener_name=[...]` names one and gives it nothing).
        model.listeners.retain(|l| {
            !(l.endpoints.is_empty()
                && l.sid_list.is_empty()
                && l.params == config::listener::ListenerParams::default())
        });
        let again = ListenerConfig::parse_str(&text, "rendered.ora");
        assert!(
            !again.has_errors(),
            "{}: {:?}\n{text}",
            f.rel,
            again.diagnostics
        );
        assert_eq!(again.value, model, "{}:\n{text}", f.rel);
    }
}
