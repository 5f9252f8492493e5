//! Helpers: an in-process app over a fresh SQLite file, one-shot requests, and a
//! deterministic test rail standing in for a chain.
#![allow(dead_code)] // Each test file uses a different part.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd};
use compute_gateway::config::Config;
use compute_gateway::payments::Rails;
use compute_gateway::state::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub(crate) struct TestApp {
    pub(crate) app: Router,
    _dir: tempfile::TempDir,
}

pub(crate) async fn test_app() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let env = vec![("COMPUTE_GATEWAY_SERVER__DATA_DIR".to_owned(), dir.path().display().to_string())];
    let config = Config::load_from(None, env).unwrap();
    let store = compute_gateway::server::open_store(&config).await.unwrap();
    let app = compute_gateway::server::app(config, store).unwrap();
    TestApp { app, _dir: dir }
}

/// Sends one request to `app`; the response head and the whole body.
pub(crate) async fn send(app: &Router, req: Request<Body>) -> (Response<()>, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, ()), bytes)
}

impl TestApp {
    pub(crate) async fn send(&self, req: Request<Body>) -> (Response<()>, Vec<u8>) {
        send(&self.app, req).await
    }

    pub(crate) async fn get(&self, path: &str) -> (Response<()>, Vec<u8>) {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }
}

pub(crate) fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Credentials are `Payment test:<payer>:<nonce>:<usd>`. Like a real rail, a nonce that
/// settled is refused on a second verify (`PermissionDenied`). A nonce starting `unknown-`
/// settles with an unknown outcome, its reference being the part before any `~` (so two
/// encodings of one on-chain payment share it); `reject-` is rejected; `slow-` takes 3 s to
/// settle; a `stuck-` reference never resolves; `noallowance-` is refused as an EVM Permit2
/// payment without approval (`permit2_allowance_required`). `reconciles` counts reconcile
/// calls.
#[derive(Debug)]
pub(crate) struct TestRail {
    info: RailInfo,
    settled: Mutex<HashSet<String>>,
    pub(crate) reconciles: AtomicUsize,
}

impl TestRail {
    pub(crate) fn new() -> Self {
        TestRail {
            info: RailInfo { rail: "test".into(), network: "test:1".into(), asset: "TUSD".into(), decimals: 6 },
            settled: Mutex::default(),
            reconciles: AtomicUsize::new(0),
        }
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
        let Credential::Mpp { encoded } = c else { return None };
        let parts: Vec<&str> = encoded.strip_prefix("Payment test:")?.split(':').collect();
        let [payer, _, usd] = parts[..] else { return None };
        Some(Claim { payer: payer.parse().ok(), amount: usd.parse().ok() })
    }
    async fn verify(&self, c: &Credential, charge: &Charge) -> Result<Verified> {
        let Credential::Mpp { encoded } = c else { unreachable!() };
        let parts: Vec<&str> = encoded.trim_start_matches("Payment test:").split(':').collect();
        let [payer, nonce, usd] = parts[..] else {
            return Err(Error::new(ErrorKind::PaymentRequired, "bad").with_reason("malformed-credential"));
        };
        let usd: Usd = usd.parse()?;
        if usd != charge.amount {
            return Err(Error::new(ErrorKind::PaymentRequired, "amount mismatch").with_reason("invalid-challenge"));
        }
        if nonce.starts_with("noallowance-") {
            return Err(Error::new(ErrorKind::PaymentRequired, "Permit2 is not approved")
                .with_reason("permit2_allowance_required"));
        }
        if self.settled.lock().unwrap().contains(nonce) {
            return Err(
                Error::new(ErrorKind::PermissionDenied, "nonce already used").with_reason("verification-failed")
            );
        }
        Ok(Verified {
            rail: self.info.clone(),
            payer: payer.parse()?,
            amount: TokenAmount::from_usd_ceil(usd, 6)?,
            amount_usd: usd,
            fingerprint: format!("test:{nonce}"),
            challenge_id: None,
            valid_until: None,
            settlement: serde_json::json!({"nonce": nonce}),
        })
    }
    async fn settle(&self, v: &Verified) -> Result<SettleOutcome> {
        let nonce = v.settlement["nonce"].as_str().unwrap_or_default().to_owned();
        if nonce.starts_with("slow-") {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        }
        self.settled.lock().unwrap().insert(nonce.clone());
        let reference = nonce.split('~').next().unwrap_or_default().to_owned();
        Ok(if nonce.starts_with("unknown-") || nonce.starts_with("stuck-") {
            SettleOutcome::Unknown { reference }
        } else if nonce.starts_with("reject-") {
            SettleOutcome::Rejected { reason: "insufficient funds".into() }
        } else {
            SettleOutcome::Settled { reference }
        })
    }
    async fn reconcile(&self, v: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        self.reconciles.fetch_add(1, Ordering::SeqCst);
        let nonce = v.settlement["nonce"].as_str().unwrap_or_default();
        let reference = reference.unwrap_or_else(|| nonce.split('~').next().unwrap_or_default());
        Ok(if reference.starts_with("stuck-") {
            SettleOutcome::Unknown { reference: reference.to_owned() }
        } else {
            SettleOutcome::Settled { reference: reference.to_owned() }
        })
    }
    fn receipt_headers(&self, _: &Verified, reference: &str) -> Vec<(String, String)> {
        vec![("Payment-Receipt".into(), format!("test-receipt-{reference}"))]
    }
}

/// An app over the test rail, with Fly enabled at a closed port (creates fail after payment,
/// which is what the refund cases need) and `extra` TOML appended to the configuration.
pub(crate) struct Harness {
    pub(crate) app: axum::Router,
    pub(crate) state: AppState,
    pub(crate) rail: Arc<TestRail>,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) async fn harness() -> Harness {
    harness_with("").await
}

pub(crate) async fn harness_with(extra: &str) -> Harness {
    harness_at("http://127.0.0.1:9", extra).await
}

/// As [`harness_with`], with Fly at `fly_url` (a fake, or a closed port).
pub(crate) async fn harness_at(fly_url: &str, extra: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("g.toml");
    let fly = format!("[providers.fly]\ntoken = \"fly-test\"\norg_slug = \"o\"\nbase_url = \"{fly_url}\"\n");
    std::fs::write(&toml, format!("[server]\ndata_dir = \"{}\"\n{extra}\n{fly}", dir.path().display())).unwrap();
    let config = Config::load_from(Some(&toml), Vec::new()).unwrap();
    let store = compute_gateway::server::open_store(&config).await.unwrap();
    let composed = compute_gateway::compose::compose(&config, &store).unwrap();
    let rail = Arc::new(TestRail::new());
    let rails = Rails::new(vec![rail.clone() as Arc<dyn Payment>]);
    let books = compute_gateway::pricing::books(&config).unwrap();
    let state = AppState::new(config, store, composed.providers, rails, Vec::new(), books);
    Harness { app: compute_gateway::server::app_with_state(state.clone()), state, rail, dir }
}

/// A whole response.
pub(crate) struct Answer {
    pub(crate) status: axum::http::StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Sends `req` to `app`.
pub(crate) async fn answer(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let (parts, b) = resp.into_parts();
    Answer { status: parts.status, headers: parts.headers, body: b.collect().await.unwrap().to_bytes().to_vec() }
}

/// `method path` with a JSON `body` and extra `headers`.
pub(crate) async fn call_with(app: &Router, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut req = Request::builder().method(method).uri(path).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(app, req.body(Body::from(body.to_owned())).unwrap()).await
}
