//! Login throttling that an attacker cannot turn against the account's owner.
//!
//! Unsuccessful logins are counted per account *and client address* (one guesser is
//! slowed down without locking anyone else out), and per account across addresses, with
//! a much higher limit (a botnet). A login from a trusted device (a `device_token` an
//! earlier successful login returned) answers only to its own small counter, so the owner
//! gets in even while the account's other limits are exhausted. Each attempt is reserved
//! on its counters before the password is checked, atomically, so racing guesses cannot
//! pass a limit; a successful login gives its reservation back. Counters exist per
//! normalised email whether or not an account has it: a refusal says nothing about
//! registration. The client address is the TCP peer API Gateway saw, never a header.
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How many unsuccessful attempts a counter allows, and what follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit {
    /// Attempts count together until this long passes without one…
    pub window: Duration,
    /// …and this many of them lock the counter…
    pub max: u32,
    /// …for this long after the last one, doubling with each further attempt…
    pub first_lockout: Duration,
    /// …up to this (never longer than the window, so a lockout always ends).
    pub max_lockout: Duration,
}

/// One account from one client address: a single guesser.
pub const PER_ADDRESS: AttemptLimit = AttemptLimit {
    window: Duration::from_secs(15 * 60),
    max: 5,
    first_lockout: Duration::from_secs(30),
    max_lockout: Duration::from_secs(15 * 60),
};

/// One account from every address together: a botnet, each of whose addresses stays
/// under [`PER_ADDRESS`]. At most 100 guesses an hour; then only trusted devices get in.
pub const PER_ACCOUNT: AttemptLimit = AttemptLimit {
    window: Duration::from_secs(60 * 60),
    max: 100,
    first_lockout: Duration::from_secs(15 * 60),
    max_lockout: Duration::from_secs(60 * 60),
};

// The account's limit is far above one address's and at most 100 guesses an hour, and every
// lockout ends within its window.
const _: () = assert!(PER_ACCOUNT.max >= 10 * PER_ADDRESS.max && PER_ACCOUNT.max <= 100);
const _: () = assert!(PER_ACCOUNT.window.as_secs() >= 60 * 60);
const _: () = assert!(PER_ADDRESS.max_lockout.as_secs() <= PER_ADDRESS.window.as_secs());
const _: () = assert!(PER_ACCOUNT.max_lockout.as_secs() <= PER_ACCOUNT.window.as_secs());
const _: () = assert!(PER_DEVICE.max_lockout.as_secs() <= PER_DEVICE.window.as_secs());

/// Password-reset requests from one client address, whatever the emails: each one mails
/// someone, so one client may not make the API mail many (each email also has its own
/// interval, `model::MAIL_INTERVAL`).
pub const RESET_REQUESTS_PER_ADDRESS: AttemptLimit = AttemptLimit {
    window: Duration::from_secs(60 * 60),
    max: 10,
    first_lockout: Duration::from_secs(5 * 60),
    max_lockout: Duration::from_secs(60 * 60),
};
const _: () = assert!(RESET_REQUESTS_PER_ADDRESS.max_lockout.as_secs() <= RESET_REQUESTS_PER_ADDRESS.window.as_secs());

/// One trusted device: exempt from the two limits above, so it has its own.
pub const PER_DEVICE: AttemptLimit = AttemptLimit {
    window: Duration::from_secs(15 * 60),
    max: 10,
    first_lockout: Duration::from_secs(30),
    max_lockout: Duration::from_secs(15 * 60),
};

/// Where a client's address is unknown, its attempts all count as from this one address.
const UNKNOWN_ADDRESS: &str = "unknown";

/// A client address as counters name it.
pub fn address_name(address: Option<std::net::IpAddr>) -> String {
    address.map_or_else(|| UNKNOWN_ADDRESS.to_owned(), |ip| ip.to_string())
}

/// What one counter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptCounter {
    /// Logins to one account (by normalised email) from one client address.
    AccountFromAddress { email: String, address: String },
    /// Logins to one account from anywhere, trusted devices aside.
    Account { email: String },
    /// Logins presenting one trusted device token (by its hash).
    Device { token_hash: String },
    /// Password-reset requests from one client address.
    ResetRequestsFrom { address: String },
}

impl AttemptCounter {
    /// The counter's key in the store. The address goes last: it never holds a `#`, so no
    /// two counters share a key whatever an email holds.
    pub fn key(&self) -> String {
        match self {
            Self::AccountFromAddress { email, address } => format!("ADDRESS#{email}#{address}"),
            Self::Account { email } => format!("ACCOUNT#{email}"),
            Self::Device { token_hash } => format!("DEVICE#{token_hash}"),
            Self::ResetRequestsFrom { address } => format!("RESET#{address}"),
        }
    }

    pub fn limit(&self) -> &'static AttemptLimit {
        match self {
            Self::AccountFromAddress { .. } => &PER_ADDRESS,
            Self::Account { .. } => &PER_ACCOUNT,
            Self::Device { .. } => &PER_DEVICE,
            Self::ResetRequestsFrom { .. } => &RESET_REQUESTS_PER_ADDRESS,
        }
    }
}

/// The attempts one counter holds: reserved ones not given back, i.e. the unsuccessful
/// ones and any still being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempts {
    pub count: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub last_at: OffsetDateTime,
}

/// What asking a counter for one more attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt may go ahead; the counter now holds this.
    Granted(Attempts),
    /// Locked: retry after this many whole seconds.
    Refused { retry_after_seconds: u64 },
}

impl Reservation {
    /// The wait a refusal asks for; `None` when granted.
    pub fn retry_after_seconds(&self) -> Option<u64> {
        match self {
            Self::Granted(_) => None,
            Self::Refused { retry_after_seconds } => Some(*retry_after_seconds),
        }
    }
}

impl Attempts {
    /// One more attempt at `at` on a counter that held `previous`, if `limit` allows it.
    pub fn reserve(previous: Option<Self>, limit: &AttemptLimit, at: OffsetDateTime) -> Reservation {
        if let Some(retry_after_seconds) = previous.and_then(|p| p.retry_after(limit, at)) {
            return Reservation::Refused { retry_after_seconds };
        }
        Reservation::Granted(match previous {
            Some(previous) if !previous.expired(limit, at) => {
                Self { count: previous.count.saturating_add(1), last_at: at }
            }
            _ => Self { count: 1, last_at: at },
        })
    }

    /// True when the window has passed since the last attempt: the count no longer holds.
    pub fn expired(&self, limit: &AttemptLimit, now: OffsetDateTime) -> bool {
        now - self.last_at > limit.window
    }

    /// How long after the last attempt further ones are refused, if at all.
    pub fn lockout(&self, limit: &AttemptLimit) -> Option<Duration> {
        let over = self.count.checked_sub(limit.max)?;
        let factor = 1u32.checked_shl(over.min(16)).unwrap_or(u32::MAX);
        Some(limit.first_lockout.saturating_mul(factor).min(limit.max_lockout))
    }

    /// Whole seconds to wait before the next attempt is heard, or `None` if it may go ahead.
    pub fn retry_after(&self, limit: &AttemptLimit, now: OffsetDateTime) -> Option<u64> {
        let remaining = (self.last_at + self.lockout(limit)?) - now;
        let seconds = remaining.as_seconds_f64().ceil();
        (seconds > 0.0).then_some(seconds as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-06-01 12:00:00 UTC);

    fn attempts(count: u32, last_secs_ago: i64) -> Attempts {
        Attempts { count, last_at: NOW - time::Duration::seconds(last_secs_ago) }
    }

    #[test]
    fn below_the_limit_every_attempt_is_granted_and_counted() {
        assert_eq!(
            Attempts::reserve(Some(attempts(PER_ADDRESS.max - 1, 0)), &PER_ADDRESS, NOW),
            Reservation::Granted(attempts(PER_ADDRESS.max, 0))
        );
        assert_eq!(Attempts::reserve(None, &PER_ADDRESS, NOW), Reservation::Granted(attempts(1, 0)));
    }

    #[test]
    fn at_the_limit_attempts_are_refused_with_the_wait() {
        let refused = Attempts::reserve(Some(attempts(PER_ADDRESS.max, 10)), &PER_ADDRESS, NOW);
        assert_eq!(refused, Reservation::Refused { retry_after_seconds: 20 });
        let after_wait = Attempts::reserve(Some(attempts(PER_ADDRESS.max, 30)), &PER_ADDRESS, NOW);
        assert_eq!(after_wait, Reservation::Granted(attempts(PER_ADDRESS.max + 1, 0)));
    }

    #[test]
    fn lockout_doubles_up_to_the_cap() {
        let lockouts: Vec<u64> = (5..=12).map(|n| attempts(n, 0).lockout(&PER_ADDRESS).unwrap().as_secs()).collect();
        assert_eq!(lockouts, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(attempts(u32::MAX, 0).lockout(&PER_ADDRESS), Some(PER_ADDRESS.max_lockout));
        assert_eq!(attempts(PER_ACCOUNT.max - 1, 0).lockout(&PER_ACCOUNT), None);
    }

    #[test]
    fn counting_restarts_after_a_quiet_window() {
        let window = time::Duration::try_from(PER_ADDRESS.window).unwrap();
        let old = Attempts { count: 7, last_at: NOW - window - time::Duration::SECOND };
        assert_eq!(Attempts::reserve(Some(old), &PER_ADDRESS, NOW), Reservation::Granted(attempts(1, 0)));
    }

    #[test]
    fn counters_have_distinct_keys() {
        let keys = [
            AttemptCounter::AccountFromAddress { email: "a#b@x.co".into(), address: "1.2.3.4".into() }.key(),
            AttemptCounter::AccountFromAddress { email: "a#b@x.co".into(), address: "1.2.3.5".into() }.key(),
            AttemptCounter::Account { email: "a#b@x.co".into() }.key(),
            AttemptCounter::Device { token_hash: "a#b@x.co".into() }.key(),
        ];
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }
}
