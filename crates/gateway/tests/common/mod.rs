//! Helpers: an in-process app over a fresh SQLite file, and one-shot requests.
#![allow(dead_code)] // Each test file uses a different part.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use compute_gateway::config::Config;
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

impl TestApp {
    pub(crate) async fn send(&self, req: Request<Body>) -> (Response<()>, Vec<u8>) {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (Response::from_parts(parts, ()), bytes)
    }

    pub(crate) async fn get(&self, path: &str) -> (Response<()>, Vec<u8>) {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }
}

pub(crate) fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}
