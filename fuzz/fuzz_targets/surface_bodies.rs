//! Every route of the route table with arbitrary path parameters, query, headers and JSON body,
//! sent in process to one gateway app (built once: in-memory SQLite, a test payment rail, Fly
//! enabled at a closed port, other providers absent).
//!
//! Input: a first line `METHOD /template/{param} [p=VALUE]... [q=QUERY] [CREDENTIAL]`, the
//! body after it. A template not in the table picks a route by hash of the line; a method
//! other than GET/POST/PUT/DELETE/PATCH keeps the route's. `CREDENTIAL` is one of `wrong` (a
//! test-rail credential for $0, which no charge equals), `mpp=X`, `v1=X`, `v2=X`, `credits`,
//! `apikey=X`.
//!
//! No input pays: a paying credential would settle, act against the closed port and refund,
//! so each run would grow the store and depend on earlier runs (unreproducible findings, and
//! the connection retries cost seconds); the paid path is covered by `tests/paid_flow.rs`.
//! Properties, for every answer:
//! - no 5xx but 503, and 503 only for a route this gateway cannot serve (provider or
//!   capability absent, no handler);
//! - every 4xx/5xx is `application/problem+json` whose `status` member is the HTTP status;
//! - every 402 carries an offer (`WWW-Authenticate` or `PAYMENT-REQUIRED`), and a priced one
//!   asks at least the minimum charge, with the same amount in the body and each test offer;
//! - 2xx only from a free route that needs no wallet.
#![no_main]

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd};
use compute_gateway::config::Config;
use compute_gateway::payments::Rails;
use compute_gateway::routes::{Auth, PriceRule, RouteSpec, unavailable_reason};
use compute_gateway::state::AppState;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tower::ServiceExt;

/// Fly at a closed port (as `crates/gateway/tests/common/mod.rs`), SQLite in memory.
const CONFIG: &str = r#"
[database]
url = "sqlite::memory:"

[providers.fly]
token = "t"
org_slug = "o"
base_url = "http://127.0.0.1:9"
"#;

/// Never equal to a charge: every paid route asks at least the minimum charge.
const WRONG_AMOUNT: &str = "Payment test:0x1111111111111111111111111111111111111111:fuzz:0";

const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];

struct Gateway {
    rt: tokio::runtime::Runtime,
    app: Router,
    state: AppState,
    minimum_charge: Usd,
}

fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let state = rt.block_on(async {
            let config = Config::load_from_str(CONFIG, std::iter::empty()).expect("fuzz config");
            let store = compute_store::Store::connect("sqlite::memory:").await.expect("in-memory store");
            store.migrate().await.expect("migrations");
            let composed = compute_gateway::compose::compose(&config, &store).expect("compose");
            let books = compute_gateway::pricing::books(&config).expect("price books");
            let rails = Rails::new(vec![Arc::new(TestRail::new()) as Arc<dyn Payment>]);
            AppState::new(config, store, composed.providers, rails, Vec::new(), books)
        });
        let minimum_charge = state.config().pricing.minimum_charge_usd;
        Gateway { rt, app: compute_gateway::server::app_with_state(state.clone()), state, minimum_charge }
    })
}

fuzz_target!(|data: &[u8]| {
    let g = gateway();
    let (request, method, path) = build(data, g.state.routes());
    let (status, headers, body) = g.rt.block_on(async {
        let resp = g.app.clone().oneshot(request).await.expect("the router is infallible");
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("response body").to_bytes();
        (parts.status, parts.headers, bytes)
    });
    let what = format!("{method} {path} -> {status}: {}", String::from_utf8_lossy(&body));
    let matching: Vec<&RouteSpec> =
        g.state.routes().iter().map(AsRef::as_ref).filter(|r| r.method == method && matches(r.path, &path)).collect();

    assert!(!status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE, "{what}");
    if status == StatusCode::SERVICE_UNAVAILABLE {
        assert!(
            matching.iter().any(|r| unavailable_reason(g.state.providers(), r).is_some()),
            "503 from a route this gateway serves: {what}"
        );
    }
    if status.is_success() {
        assert!(
            matching.iter().any(|r| r.price == PriceRule::Free && r.auth == Auth::None),
            "2xx without payment or wallet: {what}"
        );
    }
    if status.is_client_error() || status.is_server_error() {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(ct.starts_with("application/problem+json"), "content-type {ct:?}: {what}");
        let problem: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {what}"));
        assert_eq!(problem["status"].as_u64(), Some(u64::from(status.as_u16())), "{what}");
        assert!(problem["title"].is_string() && problem["type"].is_string(), "{what}");
        if status == StatusCode::PAYMENT_REQUIRED {
            check_offers(g, &headers, &problem, &what);
        }
    }
});

fn check_offers(g: &Gateway, headers: &axum::http::HeaderMap, problem: &Value, what: &str) {
    let challenges: Vec<&str> =
        headers.get_all(header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(!challenges.is_empty() || headers.contains_key("payment-required"), "a 402 without offers: {what}");
    let Some(amount) = problem.get("amount_usd") else { return };
    let amount: Usd = amount.as_str().and_then(|a| a.parse().ok()).unwrap_or_else(|| panic!("amount_usd: {what}"));
    assert!(amount >= g.minimum_charge, "charge below the minimum: {what}");
    for c in challenges.iter().filter(|c| c.contains("method=\"test\"")) {
        assert!(c.ends_with(&format!("amount=\"{amount}\"")), "offer {c:?} differs from the body: {what}");
    }
}

/// The request an input describes, with its method and (percent-encoded) path.
fn build(data: &[u8], routes: &[Arc<RouteSpec>]) -> (Request<Body>, Method, String) {
    let (line, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let line = String::from_utf8_lossy(line);
    let mut words = line.split(' ');
    let method_word = words.next().unwrap_or_default();
    let template = words.next().unwrap_or_default();
    let spec = routes
        .iter()
        .find(|r| r.path == template)
        .unwrap_or_else(|| &routes[fnv(line.as_bytes()) as usize % routes.len()]);
    let method = METHODS.iter().find(|m| m.as_str() == method_word).unwrap_or(&spec.method).clone();

    let mut params = Vec::new();
    let mut query = None;
    let mut extra: Vec<(&str, String)> = Vec::new();
    for word in words {
        let (key, value) = word.split_once('=').unwrap_or((word, ""));
        match key {
            "p" => params.push(value),
            "q" => query = Some(encode(value, b"=&")),
            "wrong" => extra.push(("authorization", WRONG_AMOUNT.to_owned())),
            // Never a test-rail credential: one with the right amount would pay.
            "mpp" if !value.starts_with("test:") => extra.push(("authorization", format!("Payment {value}"))),
            "v1" => extra.push(("x-payment", value.to_owned())),
            "v2" => extra.push(("payment-signature", value.to_owned())),
            "credits" => extra.push(("x-use-credits", "true".to_owned())),
            "apikey" => extra.push((compute_gateway::auth::API_KEY_HEADER, value.to_owned())),
            _ => {}
        }
    }
    let mut path = String::new();
    let mut next = params.into_iter();
    for segment in spec.path.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        if segment.starts_with('{') {
            path.push_str(&encode(next.next().filter(|p| !p.is_empty()).unwrap_or("x"), b""));
        } else {
            path.push_str(segment);
        }
    }
    if path.is_empty() {
        path.push('/');
    }
    let uri = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let mut req = Request::builder().method(method.clone()).uri(uri).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in extra {
        if let Ok(v) = HeaderValue::from_str(&value) {
            req = req.header(name, v);
        }
    }
    (req.body(Body::from(body.to_vec())).expect("a valid request"), method, path)
}

/// Percent-encodes every byte but unreserved ones and `keep`.
fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `path` (percent-encoded) fits `template` (`{param}` = one non-empty segment).
fn matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return false;
                }
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The test rail of `crates/gateway/tests/common/mod.rs`: credentials are
/// `Payment test:<payer>:<nonce>:<usd>`, valid when `<usd>` is the charge.
#[derive(Debug)]
struct TestRail {
    info: RailInfo,
}

impl TestRail {
    fn new() -> Self {
        TestRail { info: RailInfo { rail: "test".into(), network: "test:1".into(), asset: "TUSD".into(), decimals: 6 } }
    }
}

#[async_trait]
impl Payment for TestRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        Ok(vec![Offer::Mpp {
            www_authenticate: format!("Payment id=\"t\", method=\"test\", amount=\"{}\"", charge.amount),
        }])
    }

    fn accepts(&self, c: &Credential) -> bool {
        matches!(c, Credential::Mpp { encoded } if encoded.starts_with("Payment test:"))
    }

    fn claims(&self, c: &Credential) -> Option<Claim> {
        let [payer, _, usd] = parts(c)?;
        Some(Claim { payer: payer.parse().ok(), amount: usd.parse().ok() })
    }

    async fn verify(&self, c: &Credential, charge: &Charge) -> Result<Verified> {
        let Some([payer, nonce, usd]) = parts(c) else {
            return Err(Error::new(ErrorKind::PaymentRequired, "bad").with_reason("malformed-credential"));
        };
        let usd: Usd = usd.parse()?;
        if usd != charge.amount {
            return Err(Error::new(ErrorKind::PaymentRequired, "amount mismatch").with_reason("invalid-challenge"));
        }
        Ok(Verified {
            rail: self.info.clone(),
            payer: payer.parse()?,
            amount: TokenAmount::from_usd_ceil(usd, 6)?,
            amount_usd: usd,
            fingerprint: format!("test:{nonce}"),
            challenge_id: None,
            settlement: serde_json::json!({ "nonce": nonce }),
            valid_until: None,
        })
    }

    async fn settle(&self, v: &Verified) -> Result<SettleOutcome> {
        Ok(SettleOutcome::Settled { reference: v.settlement["nonce"].as_str().unwrap_or_default().to_owned() })
    }

    async fn reconcile(&self, v: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        let reference = reference.map(str::to_owned).unwrap_or_else(|| v.fingerprint.clone());
        Ok(SettleOutcome::Settled { reference })
    }

    fn receipt_headers(&self, _: &Verified, reference: &str) -> Vec<(String, String)> {
        vec![("Payment-Receipt".into(), format!("test-receipt-{reference}"))]
    }
}

/// `[payer, nonce, usd]` of a test credential.
fn parts(c: &Credential) -> Option<[&str; 3]> {
    let Credential::Mpp { encoded } = c else { return None };
    let parts: Vec<&str> = encoded.strip_prefix("Payment test:")?.split(':').collect();
    parts.try_into().ok()
}
