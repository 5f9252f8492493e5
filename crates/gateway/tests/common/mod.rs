//! Helpers: an in-process app over a fresh SQLite file, one-shot requests, and a
//! deterministic test rail standing in for a chain.
#![allow(dead_code)] // Each test file uses a different part.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use compute_core::payment::{Charge, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
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

/// Credentials are `Payment test:<payer>:<nonce>:<usd>`; a nonce starting `unknown-` settles
/// with an unknown outcome, `reject-` is rejected.
#[derive(Debug)]
pub(crate) struct TestRail {
    info: RailInfo,
}

impl TestRail {
    pub(crate) fn new() -> Self {
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
        Ok(Verified {
            rail: self.info.clone(),
            payer: payer.parse()?,
            amount: TokenAmount::from_usd_ceil(usd, 6)?,
            amount_usd: usd,
            fingerprint: format!("test:{nonce}"),
            challenge_id: None,
            settlement: serde_json::json!({"nonce": nonce}),
        })
    }
    async fn settle(&self, v: &Verified) -> Result<SettleOutcome> {
        let nonce = v.settlement["nonce"].as_str().unwrap_or_default().to_owned();
        Ok(if nonce.starts_with("unknown-") {
            SettleOutcome::Unknown { reference: nonce }
        } else if nonce.starts_with("reject-") {
            SettleOutcome::Rejected { reason: "insufficient funds".into() }
        } else {
            SettleOutcome::Settled { reference: nonce }
        })
    }
    async fn reconcile(&self, reference: &str) -> Result<SettleOutcome> {
        Ok(SettleOutcome::Settled { reference: reference.to_owned() })
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
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) async fn harness() -> Harness {
    harness_with("").await
}

pub(crate) async fn harness_with(extra: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("g.toml");
    let fly = "[providers.fly]\ntoken = \"t\"\norg_slug = \"o\"\nbase_url = \"http://127.0.0.1:9\"\n";
    std::fs::write(&toml, format!("[server]\ndata_dir = \"{}\"\n{extra}\n{fly}", dir.path().display())).unwrap();
    let config = Config::load_from(Some(&toml), Vec::new()).unwrap();
    let store = compute_gateway::server::open_store(&config).await.unwrap();
    let composed = compute_gateway::compose::compose(&config, &store).unwrap();
    let rails = Rails::new(vec![Arc::new(TestRail::new()) as Arc<dyn Payment>]);
    let books = compute_gateway::pricing::books(&config).unwrap();
    let state = AppState::new(config, store, composed.providers, rails, Vec::new(), books);
    Harness { app: compute_gateway::server::app_with_state(state.clone()), state, dir }
}
