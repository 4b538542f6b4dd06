//! The architecture invariants of ARCHITECTURE.md, checked against `cargo metadata`: which of
//! our crates each crate may depend on, and which outside crates it must never use.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

const OURS: &[&str] = &[
    "schema-validation",
    "storage-port",
    "domain",
    "sqlite-adapter",
    "mongo-adapter",
    "token-adapter",
    "mail-adapter",
    "http-adapter",
    "server",
];
const WEB: &[&str] = &[
    "actix-web",
    "actix-session",
    "actix-governor",
    "tracing-actix-web",
    "utoipa",
    "utoipa-swagger-ui",
];
const DRIVERS: &[&str] = &["rusqlite", "mongodb"];

struct Rule {
    krate: &'static str,
    may_use: &'static [&'static str],
    never: Vec<&'static str>,
}

fn rules() -> Vec<Rule> {
    let web_and_drivers: Vec<&str> = WEB.iter().chain(DRIVERS).copied().collect();
    vec![
        Rule {
            krate: "schema-validation",
            may_use: &[],
            never: [&web_and_drivers[..], &["tokio", "async-trait"]].concat(),
        },
        Rule {
            krate: "storage-port",
            may_use: &["schema-validation"],
            never: web_and_drivers.clone(),
        },
        Rule {
            krate: "domain",
            may_use: &["storage-port", "schema-validation"],
            never: web_and_drivers.clone(),
        },
        Rule {
            krate: "sqlite-adapter",
            may_use: &["storage-port", "schema-validation"],
            never: [WEB, &["mongodb"]].concat(),
        },
        Rule {
            krate: "mongo-adapter",
            may_use: &["storage-port", "schema-validation"],
            never: [WEB, &["rusqlite"]].concat(),
        },
        // Crypto only: it fills in the domain's TokenCrypto with records of the port.
        Rule {
            krate: "token-adapter",
            may_use: &["domain", "storage-port"],
            never: web_and_drivers.clone(),
        },
        // SMTP only: it fills in the domain's Mailer.
        Rule {
            krate: "mail-adapter",
            may_use: &["domain", "storage-port"],
            never: web_and_drivers.clone(),
        },
        Rule {
            krate: "http-adapter",
            may_use: &["domain", "storage-port", "schema-validation"],
            never: DRIVERS.to_vec(),
        },
        // The composition root: it alone knows every crate.
        Rule {
            krate: "server",
            may_use: OURS,
            never: Vec::new(),
        },
        // Black-box tests: their dependencies are all dev-dependencies, so none is normal.
        Rule {
            krate: "tests",
            may_use: &[],
            never: [WEB, DRIVERS].concat(),
        },
    ]
}

/// Each workspace package's normal (not dev, not build) dependencies, by name.
fn normal_dependencies() -> Vec<(String, BTreeSet<String>)> {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|package| {
            let names = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("name").to_owned())
                .collect();
            (package["name"].as_str().expect("name").to_owned(), names)
        })
        .collect()
}

#[test]
fn inner_crates_depend_only_on_what_architecture_md_allows() {
    let packages = normal_dependencies();
    let mut violations = Vec::new();
    for rule in rules() {
        let (_, dependencies) = packages
            .iter()
            .find(|(name, _)| name == rule.krate)
            .unwrap_or_else(|| panic!("{} is a workspace member", rule.krate));
        for dependency in dependencies {
            if OURS.contains(&dependency.as_str()) && !rule.may_use.contains(&dependency.as_str()) {
                violations.push(format!("{} must not depend on {dependency}", rule.krate));
            }
            if rule.never.contains(&dependency.as_str()) {
                violations.push(format!("{} must not depend on {dependency}", rule.krate));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "architecture invariants broken:\n{}",
        violations.join("\n")
    );
}

/// A crate added to the workspace (a mail adapter, a token crate, …) must say in `rules()`
/// which of our crates and which outside ones it may use, or this fails.
#[test]
fn every_workspace_member_has_a_rule() {
    let rules: BTreeSet<&str> = rules().iter().map(|rule| rule.krate).collect();
    let without: Vec<String> = normal_dependencies()
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !rules.contains(name.as_str()))
        .collect();
    assert!(
        without.is_empty(),
        "workspace members with no rule in architecture.rs (and ARCHITECTURE.md): {without:?}"
    );
    let ours: BTreeSet<&str> = OURS.iter().copied().chain(["tests"]).collect();
    assert_eq!(rules, ours, "OURS lists every crate that has a rule");
}

#[test]
fn every_crate_of_the_design_is_a_workspace_member() {
    let packages: BTreeSet<String> = normal_dependencies()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for krate in OURS.iter().chain(&["tests"]) {
        assert!(
            packages.contains(*krate),
            "{krate} is missing from the workspace"
        );
    }
}

/// The Rust sources under `dir`, recursively.
fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// Access is decided in the domain: HTTP code gets an `AdminAccess` or `AppAccess` only from
/// a logged-in operator (`Operator::admin_access`, `app_access`), never the command line's
/// all-powerful one, and it cannot reach the store past the services.
#[test]
fn http_code_obtains_access_only_through_the_operator() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../http-adapter/src");
    let files = rust_files(&src);
    assert!(files.len() > 10, "found the http-adapter sources");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for forbidden in ["AdminAccess::command_line", "command_line()"] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                file.display()
            );
        }
    }
}
