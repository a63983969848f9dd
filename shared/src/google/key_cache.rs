//! Google's signing keys as a sandbox holds them: fresh for the `max-age` Google's answer
//! gave, and refetched early, at most once per [`UNKNOWN_KID_REFETCH_INTERVAL`], when a
//! token names a key the cache does not know (Google rotates its keys; no restart needed).
use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;

/// However many tokens name unknown keys, they cause at most one fetch per interval.
pub const UNKNOWN_KID_REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// A key set as fetched, and how long Google said it stays fresh.
pub struct FetchedKeys {
    pub keys: HashMap<String, DecodingKey>,
    pub max_age: Duration,
}

#[derive(Default)]
pub struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fresh_until: Option<Instant>,
    /// When a token's unknown `kid` last caused a fetch.
    unknown_kid_fetch_at: Option<Instant>,
}

/// What to do for a token signed by `kid`.
pub enum Lookup {
    Found(DecodingKey),
    /// Not a key of Google's as far as the cache can tell: refuse the token.
    Unknown,
    /// Fetch the keys first (none yet, stale, or an unknown `kid` may be a new key).
    Fetch,
}

impl KeyCache {
    pub fn lookup(&self, kid: &str, now: Instant) -> Lookup {
        if self.fresh_until.is_none_or(|until| now >= until) {
            return Lookup::Fetch;
        }
        match self.keys.get(kid) {
            Some(key) => Lookup::Found(key.clone()),
            None if self.unknown_kid_fetch_at.is_some_and(|at| now < at + UNKNOWN_KID_REFETCH_INTERVAL) => {
                Lookup::Unknown
            }
            None => Lookup::Fetch,
        }
    }

    /// Replaces the keys with a fetch made at `now` for a token signed by `kid`.
    pub fn store(&mut self, fetched: FetchedKeys, kid: &str, now: Instant) {
        if !fetched.keys.contains_key(kid) {
            self.unknown_kid_fetch_at = Some(now);
        }
        self.keys = fetched.keys;
        self.fresh_until = Some(now + fetched.max_age);
    }

    /// [`Self::lookup`] after a fetch: the key, or refusal.
    pub fn get(&self, kid: &str) -> Lookup {
        self.keys.get(kid).map_or(Lookup::Unknown, |key| Lookup::Found(key.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(kids: &[&str], max_age_seconds: u64) -> FetchedKeys {
        let key = || DecodingKey::from_rsa_raw_components(&[0xc5; 256], &[1, 0, 1]);
        FetchedKeys {
            keys: kids.iter().map(|kid| (kid.to_string(), key())).collect(),
            max_age: Duration::from_secs(max_age_seconds),
        }
    }

    fn is(lookup: Lookup) -> &'static str {
        match lookup {
            Lookup::Found(_) => "found",
            Lookup::Unknown => "unknown",
            Lookup::Fetch => "fetch",
        }
    }

    #[test]
    fn keys_are_fresh_for_their_max_age() {
        let start = Instant::now();
        let mut cache = KeyCache::default();
        assert_eq!(is(cache.lookup("a", start)), "fetch", "nothing fetched yet");
        cache.store(fetched(&["a"], 300), "a", start);
        assert_eq!(is(cache.lookup("a", start + Duration::from_secs(299))), "found");
        assert_eq!(is(cache.lookup("a", start + Duration::from_secs(300))), "fetch", "stale");
        cache.store(fetched(&["a"], 0), "a", start);
        assert_eq!(is(cache.lookup("a", start)), "fetch", "max-age=0 is never fresh");
    }

    #[test]
    fn an_unknown_kid_refetches_at_most_once_per_interval() {
        let start = Instant::now();
        let mut cache = KeyCache::default();
        cache.store(fetched(&["a"], 3_600), "a", start);
        let later = start + Duration::from_secs(1);
        assert_eq!(is(cache.lookup("b", later)), "fetch", "a new key may have been published");
        cache.store(fetched(&["a"], 3_600), "b", later);
        assert_eq!(is(cache.get("b")), "unknown");
        let within = later + UNKNOWN_KID_REFETCH_INTERVAL - Duration::from_secs(1);
        assert_eq!(is(cache.lookup("c", within)), "unknown", "no second fetch within the interval");
        assert_eq!(is(cache.lookup("a", within)), "found");
        let after = later + UNKNOWN_KID_REFETCH_INTERVAL;
        assert_eq!(is(cache.lookup("c", after)), "fetch");
        cache.store(fetched(&["a", "c"], 3_600), "c", after);
        assert_eq!(is(cache.get("c")), "found", "a rotated-in key is used at once");
    }
}
