//! Backoff for due rows whose last action failed (the provider refused or was down), so a
//! pass every fraction of a second does not call a failing provider for the same rows each
//! time. Kept in memory per process: after a restart every due row is tried at once again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The first wait after a failure; it doubles with each further failure of the same row.
pub const FIRST_WAIT: Duration = Duration::from_secs(5);

/// The longest wait between two attempts on one row.
pub const LONGEST_WAIT: Duration = Duration::from_secs(300);

/// At most this many rows are left out of one claim (the ids go into the query).
pub const MAX_SKIPPED: usize = 256;

/// Rows above this count make [`Retries::failed`] drop the entries whose wait is over.
const PRUNE_ABOVE: usize = 10_000;

/// Rows waiting to be retried, by gateway resource id.
#[derive(Debug, Default)]
pub struct Retries {
    rows: Mutex<HashMap<String, Wait>>,
}

#[derive(Clone, Copy, Debug)]
struct Wait {
    until: Instant,
    last: Duration,
}

impl Retries {
    /// Records that acting on row `id` failed at `now`: it waits [`FIRST_WAIT`], or twice its
    /// previous wait, at most [`LONGEST_WAIT`].
    pub fn failed(&self, id: &str, now: Instant) {
        let mut rows = self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if rows.len() > PRUNE_ABOVE {
            rows.retain(|_, w| w.until > now);
        }
        let last = rows.get(id).map_or(FIRST_WAIT, |w| (w.last * 2).min(LONGEST_WAIT));
        rows.insert(id.to_owned(), Wait { until: now + last, last });
    }

    /// Row `id` was acted on: it no longer waits.
    pub fn succeeded(&self, id: &str) {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }

    /// The rows still waiting at `now`, at most [`MAX_SKIPPED`] (those waiting longest first).
    pub fn waiting(&self, now: Instant) -> Vec<String> {
        let rows = self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut waiting: Vec<(&String, Instant)> =
            rows.iter().filter(|(_, w)| w.until > now).map(|(id, w)| (id, w.until)).collect();
        waiting.sort_by_key(|w| std::cmp::Reverse(w.1));
        waiting.into_iter().take(MAX_SKIPPED).map(|(id, _)| id.clone()).collect()
    }

    /// Whether row `id` is waiting at `now`.
    pub fn is_waiting(&self, id: &str, now: Instant) -> bool {
        self.rows.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).is_some_and(|w| w.until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_row_waits_longer_each_time_and_is_freed_by_success() {
        let r = Retries::default();
        let t0 = Instant::now();
        r.failed("a", t0);
        assert!(r.is_waiting("a", t0 + Duration::from_secs(4)));
        assert!(!r.is_waiting("a", t0 + FIRST_WAIT));
        r.failed("a", t0);
        assert!(r.is_waiting("a", t0 + Duration::from_secs(9)), "the second wait is 10 s");
        for _ in 0..20 {
            r.failed("a", t0);
        }
        assert!(!r.is_waiting("a", t0 + LONGEST_WAIT), "waits are capped");
        assert_eq!(r.waiting(t0), vec!["a".to_owned()]);
        r.succeeded("a");
        assert!(r.waiting(t0).is_empty());
    }

    #[test]
    fn at_most_max_skipped_rows_are_left_out_of_a_claim() {
        let r = Retries::default();
        let t0 = Instant::now();
        for n in 0..(MAX_SKIPPED + 10) {
            r.failed(&n.to_string(), t0);
        }
        assert_eq!(r.waiting(t0).len(), MAX_SKIPPED);
    }
}
