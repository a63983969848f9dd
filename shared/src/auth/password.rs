//! argon2id password hashing in PHC strings, always off the async executor and never more
//! at once than there are cores. The argon2 working areas (the crate's caller-provided
//! memory) are kept between hashes and handed to whichever thread hashes next: a fresh
//! 19 MiB one per hash is paid for in page faults every time, and one kept per thread
//! holds memory for threads that are not hashing.
use std::sync::{LazyLock, Mutex, PoisonError};

use tokio::sync::Semaphore;

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

/// Working areas between hashes, each as large as today's parameters need: at most one per
/// hash that ran at once, so no more than [`HASHING`] allows.
struct AreaPool(Mutex<Vec<Vec<Block>>>);

impl AreaPool {
    const fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    /// Runs `work` in a spare area of at least `blocks` blocks (a new one if none is
    /// spare), then keeps the area for the next hash.
    fn with_area<T>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        // A panic while the lock was held cannot leave the list half-changed.
        let spare = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut area = spare.unwrap_or_default();
        if area.len() < blocks {
            area.resize(blocks, Block::default());
        }
        let result = work(&mut area[..blocks]);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(area);
        result
    }
}

static WORKING_AREAS: AreaPool = AreaPool::new();

/// Hashes running at once. More than the cores only adds memory (a working area each) and
/// latency for all: a burst of logins to one local-api queues here instead.
static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |cores| cores.get())));

/// Runs the hashing `work` on a blocking thread once [`HASHING`] lets it.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
) -> Result<T, PasswordError> {
    let _turn = HASHING.acquire().await.map_err(|e| PasswordError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(work).await?
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
/// output's), computed in a working area of `areas`; a stored hash asking for more memory
/// than today's parameters gets a one-off area instead, so the kept ones never grow.
fn compute(
    areas: &AreaPool,
    argon2: &Argon2<'_>,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = params.block_count();
    if blocks > current_params().block_count() {
        return argon2.hash_password_into(password, salt, out);
    }
    areas.with_area(blocks, |area| argon2.hash_password_into_with_memory(password, salt, out, area))
}

/// Hashes `password` with argon2id and a random salt, returning a PHC string.
pub async fn hash_password(password: Secret) -> Result<String, PasswordError> {
    hashing(move || {
        let failed = |e: &dyn std::fmt::Display| PasswordError::Hashing(e.to_string());
        let mut salt = [0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
        let params = current_params();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = [0u8; OUTPUT_BYTES];
        compute(&WORKING_AREAS, &argon2, &params, password.0.as_bytes(), &salt, &mut out).map_err(|e| failed(&e))?;
        let hash = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
            salt: Some(Salt::new(&salt).map_err(|e| failed(&e))?),
            hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
        };
        Ok(hash.to_string())
    })
    .await
}

/// Checks `password` against a stored PHC string, or against [`DUMMY_HASH`] when there is
/// none (unknown account), so the caller's two failure cases take the same time.
pub async fn verify_password(password: Secret, stored: Option<String>) -> Result<bool, PasswordError> {
    let account_exists = stored.is_some();
    hashing(move || {
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
        compute(&WORKING_AREAS, &argon2, &params, password.0.as_bytes(), salt.as_ref(), &mut out)
            .map_err(|e| refused("hashing", &e))?;
        // Output's equality is constant-time.
        let matches = Output::new(&out).is_ok_and(|computed| computed == *expected);
        Ok(matches && account_exists)
    })
    .await
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
    use std::sync::Arc;

    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn a_hash_waits_while_every_core_is_hashing() {
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        let busy = HASHING.acquire_many(u32::try_from(cores).unwrap()).await.unwrap();
        let waiting = tokio::spawn(hash_password(Secret("a queued passphrase".into())));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "a hash ran beyond the cores");
        drop(busy);
        let hash = waiting.await.unwrap().unwrap();
        assert!(verify_password(Secret("a queued passphrase".into()), Some(hash)).await.unwrap());
    }

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
    fn a_working_area_is_kept_at_todays_size_and_reused_by_any_thread() {
        let areas = Arc::new(AreaPool::new());
        let kept = |areas: &AreaPool| -> Vec<(usize, usize)> {
            areas.0.lock().unwrap().iter().map(|area| (area.len(), area.as_ptr() as usize)).collect()
        };
        let hash_on_a_thread = |password: &'static [u8]| {
            let areas = Arc::clone(&areas);
            std::thread::spawn(move || {
                let mut out = [0u8; OUTPUT_BYTES];
                compute(&areas, &hasher(), &current_params(), password, b"saltsaltsaltsalt", &mut out).unwrap();
                out
            })
            .join()
            .unwrap()
        };
        hash_on_a_thread(b"one");
        let first = kept(&areas);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].0, current_params().block_count());
        let out = hash_on_a_thread(b"two");
        assert_eq!(kept(&areas), first, "another thread hashed in the same area");
        // A costlier stored hash gets an area of its own; the kept one stays as it was.
        let costly = Params::new(MEMORY_KIB * 2, 1, 1, Some(OUTPUT_BYTES)).unwrap();
        let costly_argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, costly.clone());
        let mut other = [0u8; OUTPUT_BYTES];
        compute(&areas, &costly_argon2, &costly, b"three", b"saltsaltsaltsalt", &mut other).unwrap();
        assert_eq!(kept(&areas), first);
        // And the output is what the crate computes with memory of its own.
        let mut expected = [0u8; OUTPUT_BYTES];
        hasher().hash_password_into(b"two", b"saltsaltsaltsalt", &mut expected).unwrap();
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
