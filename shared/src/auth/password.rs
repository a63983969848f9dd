//! argon2id password hashing in PHC strings, always off the async executor.
use crate::model::Secret;
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

/// Stored hashes asking for more than this are refused: a tampered item must not be able
/// to make one login burn seconds of CPU or gigabytes of memory.
const MAX_MEMORY_KIB: u32 = 256 * 1024;
const MAX_ITERATIONS: u32 = 16;
const MAX_PARALLELISM: u32 = 8;

/// A random salt and output in PHC form with the current parameters (no known password
/// hashes to it). Login verifies against it when the email is unknown, so both failures
/// cost one full verification. A test checks that its parameters match the ones above.
pub(crate) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$3Jd6D4PGtWYnQmr4HgHOPw$nCnFvDmGmkNe2r7eR0eJhQ1gQm4PyDXVR3eAgQqYkVg";

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
    #[error("stored password hash refused: {0}")]
    StoredHashRefused(String),
    #[error("password task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn hasher() -> Argon2<'static> {
    // The constants are within argon2's limits, which a unit test proves.
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with argon2id and a random salt, returning a PHC string.
pub async fn hash_password(password: Secret) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        hasher().hash_password(password.0.as_bytes()).map(|hash| hash.to_string()).map_err(PasswordError::Hashing)
    })
    .await?
}

/// Checks `password` against a stored PHC string, or against [`DUMMY_HASH`] when there is
/// none (unknown account), so the caller's two failure cases take the same time.
pub async fn verify_password(password: Secret, stored: Option<String>) -> Result<bool, PasswordError> {
    let account_exists = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
        let hash =
            PasswordHash::new(stored).map_err(|e| PasswordError::StoredHashRefused(format!("unparseable: {e}")))?;
        check_acceptable(&hash)?;
        let matches = hasher().verify_password(password.0.as_bytes(), &hash).is_ok();
        Ok(matches && account_exists)
    })
    .await?
}

/// True when `stored` was made with weaker settings than today's (an older version or
/// lower cost), so a successful login should store a fresh hash.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else { return true };
    let Ok(params) = Params::try_from(&hash) else { return true };
    hash.algorithm != ARGON2ID_IDENT
        || hash.version != Some(Version::V0x13.into())
        || params.m_cost() < MEMORY_KIB
        || params.t_cost() < ITERATIONS
        || params.p_cost() < PARALLELISM
}

fn check_acceptable(hash: &PasswordHash) -> Result<(), PasswordError> {
    if hash.algorithm != ARGON2ID_IDENT {
        return Err(PasswordError::StoredHashRefused(format!("algorithm {}", hash.algorithm)));
    }
    let params = Params::try_from(hash).map_err(|e| PasswordError::StoredHashRefused(format!("parameters: {e}")))?;
    if params.m_cost() > MAX_MEMORY_KIB || params.t_cost() > MAX_ITERATIONS || params.p_cost() > MAX_PARALLELISM {
        return Err(PasswordError::StoredHashRefused(format!(
            "parameters m={} t={} p={} exceed the cap",
            params.m_cost(),
            params.t_cost(),
            params.p_cost()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params_of(phc: &str) -> Params {
        Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap()
    }

    #[test]
    fn configured_parameters_are_valid_and_at_least_owasp() {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap();
        assert!(params.m_cost() >= 19_456 && params.t_cost() >= 2 && params.p_cost() >= 1);
    }

    #[tokio::test]
    async fn hash_is_argon2id_phc_with_current_parameters() {
        let phc = hash_password("correct horse battery staple".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        let params = params_of(&phc);
        assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (MEMORY_KIB, ITERATIONS, PARALLELISM));
    }

    #[tokio::test]
    async fn verify_accepts_right_and_rejects_wrong_password() {
        let phc = hash_password("correct horse battery staple".into()).await.unwrap();
        assert!(verify_password("correct horse battery staple".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify_password("correct horse battery stapl".into(), Some(phc.clone())).await.unwrap());
        // Checked exactly as sent: no trimming.
        assert!(!verify_password(" correct horse battery staple".into(), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        assert!(!verify_password("anything at all".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn weaker_hashes_need_rehashing_and_current_ones_do_not() {
        let current = hash_password("correct horse battery staple".into()).await.unwrap();
        assert!(!needs_rehash(&current));
        assert!(!needs_rehash(DUMMY_HASH));
        let weak = hash_with("correct horse battery staple", Params::new(8192, 1, 1, None).unwrap());
        assert!(needs_rehash(&weak));
        assert!(verify_password("correct horse battery staple".into(), Some(weak)).await.unwrap());
        assert!(needs_rehash("not a phc string"));
    }

    /// A hash with other parameters, as an older version of the service would have stored.
    fn hash_with(password: &str, params: Params) -> String {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password(password.as_bytes()).unwrap().to_string()
    }

    #[test]
    fn dummy_hash_uses_current_parameters() {
        let hash = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(hash.algorithm, ARGON2ID_IDENT);
        let params = params_of(DUMMY_HASH);
        assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), (MEMORY_KIB, ITERATIONS, PARALLELISM));
        assert!(check_acceptable(&hash).is_ok());
    }

    #[tokio::test]
    async fn hashes_beyond_the_cap_or_of_other_algorithms_are_refused() {
        let too_costly =
            "$argon2id$v=19$m=4194304,t=2,p=1$3Jd6D4PGtWYnQmr4HgHOPw$nCnFvDmGmkNe2r7eR0eJhQ1gQm4PyDXVR3eAgQqYkVg";
        let argon2i =
            "$argon2i$v=19$m=19456,t=2,p=1$3Jd6D4PGtWYnQmr4HgHOPw$nCnFvDmGmkNe2r7eR0eJhQ1gQm4PyDXVR3eAgQqYkVg";
        for stored in [too_costly, argon2i, "not a phc string"] {
            let result = verify_password("password123".into(), Some(stored.into())).await;
            assert!(matches!(result, Err(PasswordError::StoredHashRefused(_))), "{stored}: {result:?}");
        }
    }
}
