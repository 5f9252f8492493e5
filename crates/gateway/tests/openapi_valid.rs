//! `/openapi.json` is checked by a real OpenAPI 3.1 validator (`openapi-spec-validator`,
//! installed pinned by `cargo xtask tools` into `.tools/venv`; `OPENAPI_SPEC_VALIDATOR` may
//! point elsewhere).

mod common;

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn validator() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENAPI_SPEC_VALIDATOR") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join(".tools/venv/bin/openapi-spec-validator")
}

#[tokio::test]
async fn openapi_document_passes_a_real_validator() {
    let exe = validator();
    assert!(exe.is_file(), "{} is missing: run `cargo xtask tools` (the README's test command does)", exe.display());
    let app = common::test_app().await;
    let (resp, body) = app.get("/openapi.json").await;
    assert_eq!(resp.status(), 200);
    let file = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), &body).unwrap();
    let out = Command::new(&exe).arg(file.path()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "validator rejected the document:\n{text}");
    assert!(text.contains("OK"), "{text}");

    // The validator really validates: a broken document fails.
    let mut broken: serde_json::Value = serde_json::from_slice(&body).unwrap();
    broken["paths"]["/health"]["get"]["responses"] = serde_json::json!("not an object");
    std::fs::write(file.path(), serde_json::to_vec(&broken).unwrap()).unwrap();
    assert!(!Command::new(&exe).arg(file.path()).output().unwrap().status.success());
}

/// The document's response entry for `status`: the exact code, else its class (`4XX`), with
/// `$ref`s into `components.responses` resolved.
fn documented<'a>(doc: &'a Value, op: &'a Value, status: u16) -> Option<&'a Value> {
    let responses = &op["responses"];
    let entry = responses.get(status.to_string()).or_else(|| responses.get(format!("{}XX", status / 100)))?;
    match entry["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/responses/")) {
        Some(name) => doc["components"]["responses"].get(name),
        None => Some(entry),
    }
}

/// Every operation, its path parameters filled with `x`.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri: String =
            path.split('/').map(|s| if s.starts_with('{') { "x" } else { s }).collect::<Vec<_>>().join("/");
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.to_ascii_uppercase(), uri.clone(), op.clone()));
        }
    }
    ops
}

async fn document(app: &axum::Router) -> Value {
    let a = common::call_with(app, "GET", "/openapi.json", &[], "").await;
    serde_json::from_slice(&a.body).unwrap()
}

/// What schemathesis checks in `cargo xtask e2e` (e2e/schema.py), in process: every operation,
/// sent its documented example (or no body) without payment, answers a status its document
/// lists, with the media type documented for it: `text/plain` for `/llms.txt`, OpenMetrics for
/// `/metrics`, `application/problem+json` for a 402 challenge and every error.
#[tokio::test]
async fn answers_have_a_documented_status_and_media_type() {
    let h = common::harness().await;
    let doc = document(&h.app).await;
    let mut seen = std::collections::BTreeSet::new();
    for (method, uri, op) in operations(&doc) {
        let body = op["requestBody"]["content"]["application/json"]["example"].to_string();
        let body = if op.get("requestBody").is_some() { body } else { String::new() };
        let a = common::call_with(&h.app, &method, &uri, &[], &body).await;
        let label = format!("{method} {uri} answered {}", a.status);
        let entry = documented(&doc, &op, a.status.as_u16()).unwrap_or_else(|| panic!("{label}: undocumented"));
        let got = a.headers.get("content-type").map(|v| v.to_str().unwrap()).unwrap_or_default();
        let media = got.split(';').next().unwrap().trim();
        assert!(entry["content"].get(media).is_some(), "{label} as {got:?}; documented: {}", entry["content"]);
        if a.status.is_client_error() {
            assert_eq!(media, "application/problem+json", "{label}");
        }
        seen.insert((a.status.as_u16(), media.to_owned()));
    }
    // The run covers the answers the fixes were about.
    for want in [(200, "text/plain"), (200, "application/openmetrics-text"), (402, "application/problem+json")] {
        assert!(seen.contains(&(want.0, want.1.to_owned())), "no {want:?} answer among {seen:?}");
    }
}

/// A body the document marks optional may be left out (no 400), and leaving out a required one
/// is refused before any challenge (a 4xx other than 402), as schemathesis's
/// `negative_data_rejection` expects; every listed exception names a declared route.
#[tokio::test]
async fn documented_request_bodies_are_required_exactly_when_the_gateway_needs_them() {
    use compute_gateway::system::openapi::{OPTIONAL_BODIES, SUCCESS_EXCEPTIONS};
    let routes: Vec<String> = compute_gateway::routes::all_routes().iter().map(|r| r.route()).collect();
    for route in OPTIONAL_BODIES.iter().copied().chain(SUCCESS_EXCEPTIONS.iter().map(|(r, ..)| *r)) {
        assert!(routes.iter().any(|r| r == route), "{route} is not a declared route");
    }
    let h = common::harness().await;
    let doc = document(&h.app).await;
    let mut optional = 0;
    for (method, uri, op) in operations(&doc) {
        let Some(required) = op["requestBody"]["required"].as_bool() else { continue };
        if op["x-unavailable"] == true {
            continue;
        }
        let a = common::call_with(&h.app, &method, &uri, &[], "").await;
        let label = format!("{method} {uri} without a body answered {}", a.status);
        if required {
            assert!(a.status.is_client_error() && a.status.as_u16() != 402, "{label}");
        } else {
            optional += 1;
            assert!(a.status.as_u16() != 400, "{label}: {}", String::from_utf8_lossy(&a.body));
        }
    }
    assert_eq!(optional, OPTIONAL_BODIES.len());
}
