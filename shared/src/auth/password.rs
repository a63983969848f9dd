//! argon2id password hashing in PHC strings, always off the async executor. Each blocking
//! thread keeps one argon2 working area between hashes (the crate's caller-provided
//! memory): a fresh 19 MiB one per hash is paid for in page faults every time.
use std::cell::RefCell;

use crate::model::Secret;
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, PasswordHash, Version};

/// OWASP's minimum for argon2id: 19 MiB of memory, two passes, one lane.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;
/// Bytes of random salt and of output in a new hash (argon2's recommended sizes).
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;

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

thread_local! {
    /// This thread's argon2 working area, as large as today's parameters need: kept
    /// between hashes. A stored hash asking for more gets a one-off area instead.
    static WORKING_AREA: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("stored password hash refused: {0}")]
    StoredHashRefused(String),
    #[error("password task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn current_params() -> Params {
    // The constants are within argon2's limits, which a unit test proves.
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES)).unwrap_or_default()
}

/// argon2's output for `password` and `salt` under `argon2`, in `out` (its length is the
/// output's), computed in this thread's working area when it is large enough.
fn compute(argon2: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let blocks = params.block_count();
    if blocks > current_params().block_count() {
        return argon2.hash_password_into(password, salt, out);
    }
    WORKING_AREA.with_borrow_mut(|area| {
        if area.len() < blocks {
            area.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut area[..blocks])
    })
}

/// Hashes `password` with argon2id and a random salt, returning a PHC string.
pub async fn hash_password(password: Secret) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || {
        let failed = |e: &dyn std::fmt::Display| PasswordError::Hashing(e.to_string());
        let mut salt = [0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
        let params = current_params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; OUTPUT_BYTES];
        compute(&argon2, &params, password.0.as_bytes(), &salt, &mut out).map_err(|e| failed(&e))?;
        let hash = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(hash.to_string())
    })
    .await?
}

/// Checks `password` against a stored PHC string, or against [`DUMMY_HASH`] when there is
/// none (unknown account), so the caller's two failure cases take the same time.
pub async fn verify_password(password: Secret, stored: Option<String>) -> Result<bool, PasswordError> {
    let account_exists = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
        let refused = |what: &str, e: &dyn std::fmt::Display| PasswordError::StoredHashRefused(format!("{what}: {e}"));
        let hash = PasswordHash::new(stored).map_err(|e| refused("unparseable", &e))?;
        check_acceptable(&hash)?;
        let params = Params::try_from(&hash).map_err(|e| refused("parameters", &e))?;
        let version = hash.version.map(Version::try_from).transpose().map_err(|e| refused("version", &e))?;
        let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
            return Err(PasswordError::StoredHashRefused("no salt or no output".to_owned()));
        };
        let argon2 = Argon2::new(Algorithm::Argon2id, version.unwrap_or_default(), params.clone());
        let mut out = vec![0u8; expected.len()];
        compute(&argon2, &params, password.0.as_bytes(), salt.as_ref(), &mut out)
            .map_err(|e| refused("hashing", &e))?;
        // Output's equality is constant-time.
        let matches = Output::new(&out).is_ok_and(|computed| computed == *expected);
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
    use argon2::{PasswordHasher, PasswordVerifier};

    /// Hashes made by another implementation, argon2-cffi 25.1.0 (the reference C code),
    /// with various parameters, salt and output lengths: (password, PHC string).
    const REFERENCE_HASHES: [(&str, &str); 4] = [
        (
            "correct horse battery staple",
            "$argon2id$v=19$m=19456,t=2,p=1$IJvmkYGSbD9YwSXYNknVig$ur32CG3VvG2BKV0wUR0Lvpb7+auKg23SY5aVgYlCBnk",
        ),
        (
            "pässwörd ünïcödé",
            "$argon2id$v=19$m=65536,t=3,p=4$X99+togZVuBs3RRYMjis9Q$hVTnOakN9KCmlbf9dmBWK0rQDxkoCWpLcrabkAIaAHE",
        ),
        ("short", "$argon2id$v=19$m=8,t=1,p=1$tUA8gBdVsEk0Lbw2UvdujQ$Zr6D+NxdAUmMQ58ZtmU7c2Ravzl3qPLpkYXVTvwEjDs"),
        ("odd lengths", "$argon2id$v=19$m=4096,t=2,p=2$5L1ManqtnEwfNMgN$dczabrBtcWQjP1I5nOb8fD4ydLXHaEye"),
    ];

    #[tokio::test]
    async fn hashes_made_elsewhere_verify_and_wrong_passwords_do_not() {
        for (password, stored) in REFERENCE_HASHES {
            assert!(verify_password(password.into(), Some(stored.into())).await.unwrap(), "{stored}");
            let wrong = format!("{password}!");
            assert!(!verify_password(wrong.as_str().into(), Some(stored.into())).await.unwrap(), "{stored}");
        }
    }

    #[tokio::test]
    async fn our_hashes_and_the_crates_own_agree_both_ways() {
        let ours = hash_password("correct horse battery staple".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher().verify_password(b"correct horse battery staple", &parsed).is_ok());
        assert!(hasher().verify_password(b"correct horse battery stapler", &parsed).is_err());
        assert_eq!((parsed.salt.unwrap().len(), parsed.hash.unwrap().len()), (SALT_BYTES, OUTPUT_BYTES));
        let theirs = hasher().hash_password(b"correct horse battery staple").unwrap().to_string();
        assert!(verify_password("correct horse battery staple".into(), Some(theirs)).await.unwrap());
    }

    #[test]
    fn the_working_area_is_kept_at_todays_size_and_reused() {
        let area = || WORKING_AREA.with_borrow(|area| (area.len(), area.as_ptr() as usize));
        let params = current_params();
        let argon2 = hasher();
        let mut out = [0u8; OUTPUT_BYTES];
        compute(&argon2, &params, b"one", b"saltsaltsaltsalt", &mut out).unwrap();
        let first = area();
        assert_eq!(first.0, params.block_count());
        compute(&argon2, &params, b"two", b"saltsaltsaltsalt", &mut out).unwrap();
        assert_eq!(area(), first, "the same area, not a new one");
        // A costlier stored hash gets an area of its own; this thread's stays as it was.
        let costly = Params::new(MEMORY_KIB * 2, 1, 1, Some(OUTPUT_BYTES)).unwrap();
        let costly_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, costly.clone());
        compute(&costly_argon2, &costly, b"three", b"saltsaltsaltsalt", &mut out).unwrap();
        assert_eq!(area(), first);
        // And the output is what the crate computes with memory of its own.
        let mut expected = [0u8; OUTPUT_BYTES];
        argon2.hash_password_into(b"two", b"saltsaltsaltsalt", &mut expected).unwrap();
        compute(&argon2, &params, b"two", b"saltsaltsaltsalt", &mut out).unwrap();
        assert_eq!(out, expected);
    }

    /// Today's hasher, as the crate builds it.
    fn hasher() -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, current_params())
    }

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
