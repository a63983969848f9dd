//! The JWT secret for local runs: `JWT_SECRET` when set; otherwise one generated on first
//! start and kept in the data directory (owner-only), so sessions survive restarts.
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const FILE_NAME: &str = "jwt-secret";

/// 48 random bytes, base64url: 64 characters, well over the 32-byte minimum.
fn generate() -> std::io::Result<String> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Reads the secret kept in `dir`, or generates and keeps one. With no `dir` (`--memory`)
/// the secret lives only as long as the process.
pub fn load_or_generate(dir: Option<&Path>) -> std::io::Result<String> {
    let Some(dir) = dir else {
        tracing::info!("JWT_SECRET is not set: using a throwaway secret (tokens end with this process)");
        return generate();
    };
    let path = dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(secret) => return Ok(secret.trim().to_owned()),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    std::fs::create_dir_all(dir)?;
    let secret = generate()?;
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::info!("JWT_SECRET is not set: generated one and saved it to {} (owner-only)", path.display());
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generated_once_then_reused_and_private() {
        let dir = std::env::temp_dir().join(format!("local-api-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = load_or_generate(Some(&dir)).unwrap();
        assert!(first.len() >= shared::config::MIN_JWT_SECRET_BYTES);
        assert_eq!(load_or_generate(Some(&dir)).unwrap(), first);
        let mode = std::fs::metadata(dir.join(FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(load_or_generate(None).unwrap(), first);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
