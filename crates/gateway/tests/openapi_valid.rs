//! `/openapi.json` is checked by a real OpenAPI 3.1 validator (`openapi-spec-validator`,
//! installed pinned by `cargo xtask tools` into `.tools/venv`; `OPENAPI_SPEC_VALIDATOR` may
//! point elsewhere).

mod common;

use std::path::PathBuf;
use std::process::Command;

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
