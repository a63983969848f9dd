//! The token signing keys for local runs: the private JWK Set `SIGNING_JWKS_FILE` names
//! when set; otherwise one generated on first start and kept in the data directory as
//! `signing-keys.json` (owner-only), so sessions survive restarts. local-api serves every
//! route, so it holds the private set and verifies with its public half.
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use shared::auth::signing_keys::{PrivateJwk, PrivateJwkSet};
use shared::model::{new_id, now};

const FILE_NAME: &str = "signing-keys.json";

fn generate() -> std::io::Result<PrivateJwkSet> {
    let key = PrivateJwk::generate(&new_id(now())).map_err(std::io::Error::other)?;
    Ok(PrivateJwkSet { keys: vec![key] })
}

fn read(path: &Path) -> std::io::Result<PrivateJwkSet> {
    let text = std::fs::read_to_string(path)?;
    PrivateJwkSet::from_json(&text)
        .map_err(|e| std::io::Error::new(ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}

/// The set in `file` when given; else the one kept in `dir`, or a new one kept there.
/// With neither (`--memory`) the keys live only as long as the process.
pub fn load_or_generate(file: Option<&Path>, dir: Option<&Path>) -> std::io::Result<PrivateJwkSet> {
    if let Some(file) = file {
        return read(file);
    }
    let Some(dir) = dir else {
        tracing::info!("using throwaway signing keys (tokens end with this process)");
        return generate();
    };
    let path = dir.join(FILE_NAME);
    match read(&path) {
        Ok(set) => return Ok(set),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(dir)?;
    let set = generate()?;
    let json = serde_json::to_string_pretty(&set).map_err(std::io::Error::other)?;
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    file.write_all(json.as_bytes())?;
    file.sync_all()?;
    tracing::info!("generated signing keys and saved them to {} (owner-only)", path.display());
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_once_then_reused_and_private_or_read_from_the_named_file() {
        let dir = std::env::temp_dir().join(format!("local-api-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = load_or_generate(None, Some(&dir)).unwrap();
        assert_eq!(first.keys.len(), 1);
        assert_eq!(load_or_generate(None, Some(&dir)).unwrap(), first);
        let mode = std::fs::metadata(dir.join(FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(load_or_generate(None, None).unwrap(), first);
        let named = load_or_generate(Some(&dir.join(FILE_NAME)), None).unwrap();
        assert_eq!(named, first, "SIGNING_JWKS_FILE is read as it is");
        std::fs::write(dir.join("bad.json"), "{\"keys\": []}").unwrap();
        assert!(load_or_generate(Some(&dir.join("bad.json")), Some(&dir)).is_err(), "a bad named file is an error");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
