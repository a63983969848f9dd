//! Per-account login throttling. Failed attempts are counted per normalised email in the
//! store, whether or not the account exists (so a lockout tells nothing about
//! registration), and never per IP: a spoofed `X-Forwarded-For` changes nothing.
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Failures count together until this long passes without one…
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// …and this many of them lock the account…
pub const MAX_FAILURES: u32 = 5;
/// …for this long after the last one, doubling with each further failure…
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
/// …up to this (never longer than the window, so a lockout always ends).
pub const MAX_LOCKOUT: Duration = FAILURE_WINDOW;

/// The failed logins recorded for one email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginFailures {
    pub count: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub last_failure_at: OffsetDateTime,
}

impl LoginFailures {
    /// The record after one more failure at `at`: counting on if the last failure is
    /// within the window, from one otherwise.
    pub fn after_failure(previous: Option<Self>, at: OffsetDateTime) -> Self {
        match previous {
            Some(previous) if !previous.expired(at) => {
                Self { count: previous.count.saturating_add(1), last_failure_at: at }
            }
            _ => Self { count: 1, last_failure_at: at },
        }
    }

    /// True when the window has passed since the last failure: the count no longer holds.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        now - self.last_failure_at > FAILURE_WINDOW
    }

    /// How long after the last failure further attempts are refused, if at all.
    pub fn lockout(&self) -> Option<Duration> {
        let over = self.count.checked_sub(MAX_FAILURES)?;
        let factor = 1u32.checked_shl(over.min(16)).unwrap_or(u32::MAX);
        Some(FIRST_LOCKOUT.saturating_mul(factor).min(MAX_LOCKOUT))
    }

    /// Whole seconds to wait before the next attempt is heard, or `None` if it may go ahead.
    pub fn retry_after(&self, now: OffsetDateTime) -> Option<u64> {
        let remaining = (self.last_failure_at + self.lockout()?) - now;
        let seconds = remaining.as_seconds_f64().ceil();
        (seconds > 0.0).then_some(seconds as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: OffsetDateTime = time::macros::datetime!(2026-06-01 12:00:00 UTC);

    fn failures(count: u32, last_failure_secs_ago: i64) -> LoginFailures {
        LoginFailures { count, last_failure_at: NOW - time::Duration::seconds(last_failure_secs_ago) }
    }

    #[test]
    fn below_the_threshold_nothing_is_refused() {
        assert_eq!(failures(MAX_FAILURES - 1, 0).retry_after(NOW), None);
    }

    #[test]
    fn lockout_doubles_up_to_the_cap() {
        let lockouts: Vec<u64> = (5..=12).map(|n| failures(n, 0).lockout().unwrap().as_secs()).collect();
        assert_eq!(lockouts, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(failures(u32::MAX, 0).lockout(), Some(MAX_LOCKOUT));
    }

    #[test]
    fn retry_after_counts_down_from_the_last_failure() {
        assert_eq!(failures(MAX_FAILURES, 10).retry_after(NOW), Some(20));
        assert_eq!(failures(MAX_FAILURES, 30).retry_after(NOW), None);
        assert_eq!(failures(MAX_FAILURES + 1, 30).retry_after(NOW), Some(30));
    }

    #[test]
    fn counting_restarts_after_a_quiet_window() {
        let window = time::Duration::try_from(FAILURE_WINDOW).unwrap();
        let recent = failures(7, 60);
        assert_eq!(LoginFailures::after_failure(Some(recent), NOW).count, 8);
        let old = LoginFailures { count: 7, last_failure_at: NOW - window - time::Duration::SECOND };
        assert_eq!(LoginFailures::after_failure(Some(old), NOW), LoginFailures { count: 1, last_failure_at: NOW });
        assert_eq!(LoginFailures::after_failure(None, NOW).count, 1);
    }
}
