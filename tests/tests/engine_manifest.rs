//! The engine is sans-I/O by construction, and its manifest is the proof: what
//! `cargo tree -p engine` lists holds no crate that does I/O or system calls, its own
//! dependencies are `tns`, `nom` and `thiserror` only, and it forbids `unsafe`.

use std::path::Path;
use std::process::Command;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
}

fn cargo_tree(args: &[&str]) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "-p", "engine", "--prefix", "none", "--offline"])
        .args(args)
        .current_dir(workspace_root())
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn cargo_tree_of_engine_lists_nothing_that_does_io() {
    // Normal, build and dev dependencies: what `cargo tree -p engine` shows by default.
    let crates = cargo_tree(&[]);
    assert!(crates.iter().any(|c| c == "tns"), "{crates:?}");
    assert!(crates.iter().any(|c| c == "nom"), "{crates:?}");
    for forbidden in [
        "nix",
        "libc",
        "mio",
        "socket2",
        "rustix",
        "getrandom",
        "tokio",
        "rand",
        "server_proc",
        "config",
    ] {
        assert!(
            !crates.iter().any(|c| c == forbidden),
            "engine reaches {forbidden}: {crates:?}"
        );
    }
    assert!(
        !crates.iter().any(|c| c.starts_with("crossbeam")),
        "engine reaches crossbeam: {crates:?}"
    );
}

#[test]
fn engine_depends_directly_on_tns_nom_and_thiserror_only() {
    let mut direct = cargo_tree(&["--depth", "1", "-e", "normal,build,dev"]);
    direct.retain(|c| c != "engine");
    direct.sort();
    assert_eq!(direct, ["nom", "thiserror", "tns"]);
}

#[test]
fn engine_forbids_unsafe_code() {
    let lib = std::fs::read_to_string(workspace_root().join("engine/src/lib.rs")).unwrap();
    assert!(lib.contains("#![forbid(unsafe_code)]"));
}
