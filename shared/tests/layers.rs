//! The layers of `shared` (docs/architecture.md) hold in the code: no module imports a
//! module of its own layer or above, so there is no import cycle among them.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top, as docs/architecture.md draws them. A module may use itself and the
/// layers below its own; `testing` and `template` (tests and local tools only) stand beside them.
const LAYERS: &[&[&str]] = &[
    &["tls"],
    &["config", "aws", "https", "logging", "allocator"],
    &["model"],
    &["auth", "realtime"],
    &["store", "google"],
    &["error", "mail"],
    &["cursor"],
    &["app"],
    &["http"],
    &["sessions", "password_check", "lambda"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file of a top-level module: `src/<module>.rs` or everything in `src/<module>/`.
fn files_of(src: &Path, module: &str) -> Vec<PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut files = Vec::new();
    let mut folders = vec![src.join(module)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The top-level modules a file names as `crate::<module>` in code (not in comments, which
/// may link anywhere), outside its test module.
fn imports(code: &str) -> Vec<String> {
    let code = code.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(|line| line.match_indices("crate::").map(move |(at, _)| &line[at + "crate::".len()..]))
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .collect()
}

#[test]
fn no_module_imports_its_own_layer_or_one_above() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let modules: Vec<&str> =
        lib.lines().filter_map(|l| l.trim().strip_prefix("pub mod")?.trim().strip_suffix(';')).collect();
    let mut seen = BTreeMap::new();
    for module in &modules {
        if matches!(*module, "testing" | "template") {
            continue;
        }
        let layer =
            layer_of(module).unwrap_or_else(|| panic!("{module} is in no layer: add it to LAYERS and the docs"));
        for file in files_of(&src, module) {
            for used in imports(&std::fs::read_to_string(&file).unwrap()).into_iter().filter(|used| used != module) {
                let used_layer =
                    layer_of(&used).unwrap_or_else(|| panic!("{}: crate::{used} is in no layer", file.display()));
                assert!(
                    used_layer < layer,
                    "{} ({module}) imports crate::{used}, which is not below it",
                    file.display()
                );
                *seen.entry(module.to_string()).or_insert(0) += 1;
            }
        }
    }
    assert!(seen.len() >= 8, "the check read the modules' imports: {seen:?}");
}
