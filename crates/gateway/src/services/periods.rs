//! Resources sold per paid period (volumes, dedicated IP addresses): the per-wallet cap
//! checked before settlement, renewal of the period, and what a period still has left.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::resources::Scope;
use crate::payments::flow::ForWallet;
use crate::problem::Problem;
use crate::routes::Call;

/// A check for [`crate::payments::flow::Terms::check`]: the verified payer holds fewer than
/// `cap` live resources of the scope's kind at its provider, or 409 (nothing is settled).
pub fn under_cap(scope: &Scope, cap: usize, what: &'static str) -> ForWallet<()> {
    let scope = scope.clone();
    Arc::new(move |wallet| {
        let scope = scope.clone();
        Box::pin(async move {
            let held = scope.state.store().count_live(&wallet, scope.kind, scope.handle.id()).await?;
            if held < cap {
                Ok(())
            } else {
                Err(Problem::new(StatusCode::CONFLICT, "limit_reached", "Limit reached")
                    .with_detail(format!("this wallet already holds {held} {what}, the most allowed ({cap})")))
            }
        })
    })
}

/// Where a period ending `current` ends once renewed for `units` of the route's renewal
/// item: at most the item's longest purchase ahead of now.
///
/// # Errors
/// 400 past that limit; 500 when the route is not metered.
pub fn renewal_end(call: &Call, current: Option<DateTime<Utc>>, units: u64) -> Result<DateTime<Utc>, Problem> {
    let (item, _) = call.metered_item()?;
    let longest = call.state.books().metered(call.spec.book, item)?.max_units;
    renewed_until(current, call.paid_time_of(item, units)?, call.paid_time_of(item, longest)?)
}

/// The new end of a period extended by `paid_for`: from the current end, or from now when
/// it is over. At most `longest` ahead of now.
///
/// # Errors
/// 400 when the period would reach further than `longest`.
pub fn renewed_until(
    current: Option<DateTime<Utc>>,
    paid_for: Duration,
    longest: Duration,
) -> Result<DateTime<Utc>, Problem> {
    let now = Utc::now();
    let from = current.filter(|t| *t > now).unwrap_or(now);
    let until = from + chrono::Duration::from_std(paid_for).unwrap_or_default();
    let limit = now + chrono::Duration::from_std(longest).unwrap_or_default();
    if until > limit {
        return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "Invalid request")
            .with_detail(format!("paid time may reach at most {} days ahead", longest.as_secs() / 86_400)));
    }
    Ok(until)
}

/// Whole days left in a period ending `paid_until` (rounded up, at least 1); `None` for a
/// resource without a period.
pub fn days_left(paid_until: Option<DateTime<Utc>>) -> Option<u64> {
    let left = (paid_until? - Utc::now()).num_seconds().max(0).unsigned_abs();
    Some(left.div_ceil(86_400).max(1))
}

/// `raw` (a provider's JSON object) with `paid_until` added.
pub fn with_paid_until(mut raw: Value, paid_until: DateTime<Utc>) -> Value {
    if let Value::Object(m) = &mut raw {
        m.insert("paid_until".into(), Value::String(paid_until.to_rfc3339()));
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn renewal_starts_at_the_current_end_or_now_and_is_bounded() {
        let ahead = Utc::now() + chrono::Duration::days(10);
        let t = renewed_until(Some(ahead), DAY * 5, DAY * 365).unwrap();
        assert_eq!((t - ahead).num_days(), 5);
        let lapsed = Utc::now() - chrono::Duration::days(3);
        let t = renewed_until(Some(lapsed), DAY, DAY * 365).unwrap();
        assert!((t - Utc::now()).num_hours() >= 23, "a lapsed period restarts from now");
        assert!(renewed_until(Some(ahead), DAY * 360, DAY * 365).is_err(), "370 days ahead is over the limit");
    }

    #[test]
    fn days_left_round_up() {
        assert_eq!(days_left(None), None);
        assert_eq!(days_left(Some(Utc::now() + chrono::Duration::hours(25))), Some(2));
        assert_eq!(days_left(Some(Utc::now() - chrono::Duration::hours(5))), Some(1));
    }
}
