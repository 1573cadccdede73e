//! The shared real-world corpus of Oracle Net files, read in place from
//! `../shared/corpus/real` beside the repository (never copied into it), with the
//! provenance and MALFORMED labels of its `SOURCES.tsv`.

use std::path::{Path, PathBuf};

/// The repository root (the workspace directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// `../shared/corpus/real` relative to the repository root.
pub fn corpus_dir() -> PathBuf {
    repo_root()
        .join("..")
        .join("shared")
        .join("corpus")
        .join("real")
}

/// Which kind of file a corpus entry is (its directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tnsnames/`
    Tnsnames,
    /// `listener/`
    Listener,
    /// `sqlnet/`
    Sqlnet,
}

/// One corpus file.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path relative to the corpus directory, e.g. `tnsnames/013_Oracle.ora`.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Its kind.
    pub kind: Kind,
    /// The notes column of SOURCES.tsv (empty if the file is not listed).
    pub notes: String,
}

impl CorpusFile {
    /// Labelled MALFORMED in SOURCES.tsv.
    pub fn malformed(&self) -> bool {
        self.notes.starts_with("MALFORMED")
    }
}

/// Every `.ora` file under the corpus directory, sorted, with its SOURCES.tsv notes.
/// Panics with a clear message if the corpus is not beside the repository.
pub fn files() -> Vec<CorpusFile> {
    let dir = corpus_dir();
    let sources = std::fs::read_to_string(dir.join("SOURCES.tsv")).unwrap_or_else(|e| {
        panic!(
            "corpus not found at {} ({e}); it must be beside the repository",
            dir.display()
        )
    });
    let notes_of = |rel: &str| {
        sources
            .lines()
            .skip(1)
            .filter_map(|l| {
                let cols: Vec<&str> = l.split('\t').collect();
                (cols.first() == Some(&rel))
                    .then(|| cols.get(4).copied().unwrap_or_default().to_string())
            })
            .next()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (sub, kind) in [
        ("tnsnames", Kind::Tnsnames),
        ("listener", Kind::Listener),
        ("sqlnet", Kind::Sqlnet),
    ] {
        let entries = std::fs::read_dir(dir.join(sub))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(sub).display()));
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let rel = format!("{sub}/{name}");
            out.push(CorpusFile {
                notes: notes_of(&rel),
                rel,
                path: e.path(),
                kind,
            });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}
