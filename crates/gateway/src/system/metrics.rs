//! `GET /metrics`: the gateway's counters in the Prometheus text exposition format
//! (OpenMetrics 1.0, as `prometheus-client` writes it). One [`Metrics`] registry per
//! [`crate::state::AppState`]: no global recorder, so several gateways in one process (tests,
//! embedding) keep their own figures.
//!
//! | metric | type | labels | unit |
//! |---|---|---|---|
//! | `gateway_requests` | counter | `route` (the route's path template, or `unmatched`), `method`, `status` | requests |
//! | `gateway_request_duration_seconds` | histogram | `route` | seconds |
//! | `gateway_payment_required` | counter | `route` | 402 answers |
//! | `gateway_payments` | counter | `rail`, `outcome` (`settled`, `rejected`, `unknown`, `failed`, `replayed`) | settlement attempts |
//! | `gateway_settlement_duration_seconds` | histogram | `rail` | seconds |
//! | `gateway_credit_grants` / `gateway_credits_granted_micro_usd` | counter | — | grants / millionths of a USD |
//! | `gateway_worker_lag_seconds` | gauge | `worker` | seconds between a resource falling due and the worker acting, the largest of the last pass |
//! | `gateway_provider_calls` | counter | `provider`, `operation` (the adapter's name, spaces as `_`: `create_machine`, …), `status` (the final HTTP status, or `error` / `timeout` when no answer came) | provider API calls |
//! | `gateway_provider_call_duration_seconds` | histogram | `provider`, `operation` | seconds from the first attempt to the final outcome, retries included |
//!
//! Counters carry the `_total` suffix on the wire. Provider calls reach the registry through
//! [`Metrics::provider_observer`], the [`CallObserver`] the composition point gives every
//! provider crate's configuration.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use compute_core::http::{CallObserver, ProviderCall};
use compute_core::money::Usd;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// 1 ms to about 33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The gateway's metrics registry and its families (see the module docs for names and units).
pub struct Metrics {
    registry: Registry,
    requests: Family<Labels, Counter>,
    request_seconds: Histograms,
    payment_required: Family<Labels, Counter>,
    payments: Family<Labels, Counter>,
    settlement_seconds: Histograms,
    credit_grants: Counter,
    credits_micro_usd: Counter,
    worker_lag: Family<Labels, Gauge<f64, AtomicU64>>,
    provider: ProviderCalls,
}

/// The provider-call families, shared with the observer the provider clients hold.
#[derive(Clone)]
struct ProviderCalls {
    calls: Family<Labels, Counter>,
    seconds: Histograms,
}

impl CallObserver for ProviderCalls {
    fn observe(&self, call: &ProviderCall) {
        // Adapters name operations in words ("create machine"); labels use `create_machine`.
        let operation = call.operation.replace(' ', "_");
        let labels = vec![
            ("provider", call.provider.to_owned()),
            ("operation", operation.clone()),
            ("status", call.status.label().into_owned()),
        ];
        self.calls.get_or_create(&labels).inc();
        let labels = vec![("provider", call.provider.to_owned()), ("operation", operation)];
        self.seconds.get_or_create(&labels).observe(call.elapsed.as_secs_f64());
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry with every family registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gateway");
        let m = Metrics {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            payment_required: Family::default(),
            payments: Family::default(),
            settlement_seconds: Family::new_with_constructor(latency_histogram),
            credit_grants: Counter::default(),
            credits_micro_usd: Counter::default(),
            worker_lag: Family::default(),
            provider: ProviderCalls {
                calls: Family::default(),
                seconds: Family::new_with_constructor(latency_histogram),
            },
            registry: Registry::default(),
        };
        registry.register("requests", "HTTP requests by route, method and status", m.requests.clone());
        registry.register("request_duration_seconds", "HTTP request latency by route", m.request_seconds.clone());
        registry.register("payment_required", "402 Payment Required answers by route", m.payment_required.clone());
        registry.register("payments", "Settlement attempts by rail and outcome", m.payments.clone());
        registry.register("settlement_duration_seconds", "Settlement latency by rail", m.settlement_seconds.clone());
        registry.register(
            "credit_grants",
            "Credits granted to payers (refunds of failed paid actions)",
            m.credit_grants.clone(),
        );
        registry.register(
            "credits_granted_micro_usd",
            "Credits granted, in millionths of a USD",
            m.credits_micro_usd.clone(),
        );
        registry.register(
            "worker_lag_seconds",
            "Largest delay between a resource falling due and the worker acting, last pass",
            m.worker_lag.clone(),
        );
        registry.register(
            "provider_calls",
            "Provider API calls by provider, operation and final status",
            m.provider.calls.clone(),
        );
        registry.register(
            "provider_call_duration_seconds",
            "Provider API call latency across retries, by provider and operation",
            m.provider.seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The observer that counts provider calls into this registry: give it to every provider
    /// client (`FlyConfig::with_observer`, …).
    pub fn provider_observer(&self) -> Arc<dyn CallObserver> {
        Arc::new(self.provider.clone())
    }

    /// One answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let labels = vec![("route", route.to_owned()), ("method", method.to_owned()), ("status", status.to_string())];
        self.requests.get_or_create(&labels).inc();
        self.request_seconds.get_or_create(&vec![("route", route.to_owned())]).observe(took.as_secs_f64());
        if status == 402 {
            self.payment_required.get_or_create(&vec![("route", route.to_owned())]).inc();
        }
    }

    /// One settlement attempt on `rail` and how it ended.
    pub fn settlement(&self, rail: &str, outcome: &'static str, took: Duration) {
        self.payments.get_or_create(&vec![("rail", rail.to_owned()), ("outcome", outcome.to_owned())]).inc();
        self.settlement_seconds.get_or_create(&vec![("rail", rail.to_owned())]).observe(took.as_secs_f64());
    }

    /// `usd` credited to a payer (rounded up to the millionth).
    pub fn credit_granted(&self, usd: Usd) {
        self.credit_grants.inc();
        let micros = usd.to_base_units_ceil(6).ok().and_then(|m| u64::try_from(m).ok()).unwrap_or(u64::MAX);
        self.credits_micro_usd.inc_by(micros);
    }

    /// The largest lag of `worker`'s last pass.
    pub fn worker_lag(&self, worker: &str, lag: Duration) {
        self.worker_lag.get_or_create(&vec![("worker", worker.to_owned())]).set(lag.as_secs_f64());
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use compute_core::http::CallStatus;

    use super::*;

    #[test]
    fn renders_counters_with_their_labels() {
        let m = Metrics::new();
        m.request("/api/machines", "GET", 402, Duration::from_millis(2));
        m.settlement("base", "settled", Duration::from_millis(40));
        m.credit_granted(Usd::from_parts(11, 7)); // $0.0000011: 2 millionths, rounded up
        m.worker_lag("expiry", Duration::from_millis(1500));
        let observer = m.provider_observer();
        for status in [CallStatus::Answered(http::StatusCode::OK), CallStatus::Timeout] {
            let elapsed = Duration::from_millis(30);
            observer.observe(&ProviderCall { provider: "fly", operation: "create machine", status, elapsed });
        }
        let text = m.render();
        for line in [
            r#"gateway_requests_total{route="/api/machines",method="GET",status="402"} 1"#,
            r#"gateway_payment_required_total{route="/api/machines"} 1"#,
            r#"gateway_payments_total{rail="base",outcome="settled"} 1"#,
            r#"gateway_settlement_duration_seconds_count{rail="base"} 1"#,
            "gateway_credit_grants_total 1",
            "gateway_credits_granted_micro_usd_total 2",
            r#"gateway_worker_lag_seconds{worker="expiry"} 1.5"#,
            r#"gateway_provider_calls_total{provider="fly",operation="create_machine",status="200"} 1"#,
            r#"gateway_provider_calls_total{provider="fly",operation="create_machine",status="timeout"} 1"#,
            r#"gateway_provider_call_duration_seconds_count{provider="fly",operation="create_machine"} 2"#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
