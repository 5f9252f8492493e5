//! The published rates of recurring provider costs (storage, dedicated IPv4 addresses) on this
//! gateway: each enabled provider's catalog cost, marked up by the configured margin, per day,
//! with the expiry and cap policy that goes with them. Rendered into `llms.txt`.

use std::fmt::Write;

use compute_core::provider::{ProviderCost, RatePeriod};

use crate::state::AppState;

/// One provider's recurring sale rates, USD per **day**.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecurringRates {
    /// Provider id.
    pub provider: &'static str,
    /// Storage, USD per GB per day.
    pub storage_per_gb_day: Option<String>,
    /// A dedicated IPv4 address, USD per day.
    pub dedicated_ipv4_day: Option<String>,
}

/// The rates of every enabled provider that sells storage or dedicated addresses (a provider
/// whose catalog cannot be read is left out).
pub async fn recurring_rates(state: &AppState) -> Vec<RecurringRates> {
    let per_day = |cost: Option<ProviderCost>| {
        cost.and_then(|c| state.margin().sale_rate(&c.rate, RatePeriod::Day).ok()).map(|r| r.amount.to_string())
    };
    let mut out = Vec::new();
    for handle in state.providers().values() {
        let Ok(catalog) = state.catalogs().get(handle).await else { continue };
        let rates = RecurringRates {
            provider: handle.id().as_str(),
            storage_per_gb_day: per_day(catalog.storage_per_gb),
            dedicated_ipv4_day: per_day(catalog.dedicated_ipv4),
        };
        if rates.storage_per_gb_day.is_some() || rates.dedicated_ipv4_day.is_some() {
            out.push(rates);
        }
    }
    out
}

/// The `## Recurring costs` section of `llms.txt`.
pub fn render(state: &AppState, rates: &[RecurringRates]) -> String {
    let mut out = String::new();
    if rates.is_empty() {
        return out;
    }
    let (expiry, limits) = (&state.config().expiry, &state.config().limits);
    let _ = writeln!(out, "## Recurring costs\n");
    let _ = writeln!(
        out,
        "Volumes and dedicated IPv4 addresses cost the provider money while they exist, so they are sold per \
         paid period: `days` (default 30) at the rates below plus each route's one-off fee, renewed with \
         `POST .../renew {{\"days\": N}}`; every answer carries `paid_until`. When paid time ends a machine is stopped \
         at once and destroyed {grace} h later; volumes are deleted and dedicated addresses released {grace} h later \
         unless renewed first. At most {v} volumes and {i} dedicated IPv4 addresses per wallet (409 beyond, nothing charged).\n",
        grace = expiry.grace_hours,
        v = limits.max_volumes_per_wallet,
        i = limits.max_dedicated_ips_per_wallet,
    );
    for r in rates {
        let mut line = format!("- {}:", r.provider);
        if let Some(s) = &r.storage_per_gb_day {
            let _ = write!(line, " storage ${s} per GB per day;");
        }
        if let Some(ip) = &r.dedicated_ipv4_day {
            let _ = write!(line, " dedicated IPv4 ${ip} per day;");
        }
        let _ = writeln!(out, "{}", line.trim_end_matches(';'));
    }
    let _ = writeln!(out);
    out
}
