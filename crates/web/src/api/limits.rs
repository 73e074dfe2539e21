//! Request budgets per token and per address: a generic cell rate (GCRA) limiter that keeps
//! one instant per key, so a million idle keys cost a few dozen megabytes at worst and a
//! check is one map lookup. Budgets are per instance: behind a balancer of N instances a
//! client gets up to N times the rate, which the documentation says.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys kept before expired ones are swept; a sweep runs only when the map reaches this.
const KEYS_BEFORE_SWEEP: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct RateLimiter {
    /// Per key, the instant at which its budget is whole again ("theoretical arrival time").
    whole_at: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// Counts one request against `key`'s budget of `per_minute`, which may be spent all at
    /// once. `Err(seconds)` says when the next request would be allowed.
    pub fn check(&self, key: &str, per_minute: u32, now: Instant) -> Result<(), u64> {
        let interval = WINDOW / per_minute.max(1);
        let Ok(mut map) = self.whole_at.lock() else {
            // A poisoned lock means a panic elsewhere; refusing every request would turn it
            // into an outage, so let this one through.
            return Ok(());
        };
        if map.len() >= KEYS_BEFORE_SWEEP {
            map.retain(|_, whole_at| *whole_at > now);
        }
        let whole_at = map.get(key).copied().unwrap_or(now).max(now);
        let spent = whole_at - now;
        if spent + interval > WINDOW {
            let wait = spent + interval - WINDOW;
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        map.insert(key.to_owned(), whole_at + interval);
        Ok(())
    }

    /// Gives back one request `check` counted against `key` (it turned out not to be one the
    /// budget is for).
    pub fn refund(&self, key: &str, per_minute: u32) {
        let interval = WINDOW / per_minute.max(1);
        if let Ok(mut map) = self.whole_at.lock()
            && let Some(whole_at) = map.get_mut(key)
        {
            *whole_at = whole_at.checked_sub(interval).unwrap_or(*whole_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refunded_request_leaves_the_budget_whole() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for _ in 0..100 {
            assert!(limiter.check("k", 10, start).is_ok());
            limiter.refund("k", 10);
        }
        for i in 0..10 {
            assert!(limiter.check("k", 10, start).is_ok(), "request {i}");
        }
        assert!(limiter.check("k", 10, start).is_err(), "the 11th kept one");
        limiter.refund("unknown", 10);
    }

    #[test]
    fn a_budget_is_spent_to_its_edge_then_refills() {
        let limiter = RateLimiter::default();
        let start = Instant::now();
        for i in 0..60 {
            assert!(limiter.check("a", 60, start).is_ok(), "request {i}");
        }
        let wait = limiter.check("a", 60, start).expect_err("61st");
        assert_eq!(wait, 1);
        assert!(limiter.check("b", 60, start).is_ok(), "keys are apart");
        assert!(
            limiter
                .check("a", 60, start + Duration::from_secs(1))
                .is_ok()
        );
        assert!(
            limiter
                .check("a", 60, start + Duration::from_secs(1))
                .is_err()
        );
        assert!(
            limiter
                .check("a", 60, start + Duration::from_secs(61))
                .is_ok()
        );
    }
}
