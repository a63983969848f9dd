//! The threat model in `docs/security.md` names, for each attack, the tests that prove its
//! defence: every name there must be a test that exists, so the table cannot outlive them.
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Every `.rs` and `.py` file under `dir`, skipping build output and virtual environments.
fn sources(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" && name != "node_modules" {
            sources(&path, found);
        } else if name.ends_with(".rs") || name.ends_with(".py") {
            found.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_test_the_threat_model_names_exists() {
    let doc = std::fs::read_to_string(root().join("docs/security.md")).unwrap();
    let table = doc.split("## Threat model").nth(1).unwrap().split("\n## ").next().unwrap();
    let named: Vec<&str> = table
        .lines()
        .filter_map(|row| row.rsplit('|').nth(1))
        .flat_map(|proved_by| proved_by.split('`').skip(1).step_by(2))
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .filter(|name| name.matches('_').count() >= 2)
        .collect();
    assert!(named.len() >= 20, "the table names its tests: {named:?}");
    let mut code = Vec::new();
    for dir in ["shared", "functions", "local-api", "tests"] {
        sources(&root().join(dir), &mut code);
    }
    for name in named {
        let defined =
            code.iter().any(|file| file.contains(&format!("fn {name}(")) || file.contains(&format!("def {name}(")));
        assert!(defined, "docs/security.md names `{name}`, which no test defines");
    }
}
