//! The gateway's HTTP behaviour, in process (no socket): system routes, problem+json errors,
//! CORS, body limit and unavailable providers.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{json, test_app};

fn content_type(resp: &axum::http::Response<()>) -> String {
    resp.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn health_reports_database_providers_and_rails() {
    let app = test_app().await;
    let (resp, body) = app.get("/health").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = json(&body);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"]["backend"], "sqlite");
    assert_eq!(h["database"]["reachable"], true);
    let ids: Vec<&str> = h["providers"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["fly", "digitalocean", "vultr", "vercel", "upstash"]);
    assert!(h["providers"].as_array().unwrap().iter().all(|p| p["enabled"] == false));
    assert!(h["rails"].is_array());
}

#[tokio::test]
async fn llms_txt_covers_the_three_surfaces_with_prices() {
    let app = test_app().await;
    let (resp, body) = app.get("/llms.txt").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(content_type(&resp).starts_with("text/plain"));
    let text = String::from_utf8(body).unwrap();
    for needle in [
        "## TinyCompute (/api)",
        "## SiloVPS (/v1)",
        "## x402Compute (/compute)",
        "POST /api/machines/{id}/exec — Run a command ($0.01)",
        "POST /v1/servers/{id}/reboot — Reboot ($0.005)",
        "POST /compute/provision",
        "GET /health — Health: database, enabled providers and rails (free)",
        "[unavailable here: provider `fly` is not enabled on this gateway]",
    ] {
        assert!(text.contains(needle), "llms.txt lacks {needle:?}");
    }
}

#[tokio::test]
async fn openapi_lists_every_route_with_payment_info_on_paid_ones() {
    let app = test_app().await;
    let (resp, body) = app.get("/openapi.json").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let doc = json(&body);
    assert_eq!(doc["openapi"], "3.1.0");
    let exec = &doc["paths"]["/api/machines/{id}/exec"]["post"];
    assert_eq!(exec["x-payment-info"]["price"]["amount"], "0.01");
    assert_eq!(exec["responses"]["402"]["$ref"], "#/components/responses/PaymentRequired");
    assert_eq!(exec["parameters"][0]["name"], "id");
    let create = &doc["paths"]["/api/machines"]["post"];
    assert_eq!(create["x-payment-info"]["price"]["mode"], "dynamic");
    assert!(create["requestBody"]["content"]["application/json"]["example"]["config"].is_object());
    let health = &doc["paths"]["/health"]["get"];
    assert!(health.get("x-payment-info").is_none());
    // Every operation id is unique.
    let mut ids: Vec<String> = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(n > 80, "{n} operations");
}

#[tokio::test]
async fn unknown_routes_are_404_problem_json() {
    let app = test_app().await;
    let (resp, body) = app.get("/nope").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(content_type(&resp), "application/problem+json");
    let p = json(&body);
    assert_eq!(p["status"], 404);
    assert_eq!(p["type"], "about:blank");
    assert!(p["detail"].as_str().unwrap().contains("/nope"));
}

#[tokio::test]
async fn routes_of_disabled_providers_answer_503_without_a_challenge() {
    let app = test_app().await;
    let req =
        Request::post("/api/machines").header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap();
    let (resp, body) = app.send(req).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_none());
    assert!(resp.headers().get("payment-required").is_none());
    assert_eq!(content_type(&resp), "application/problem+json");
    assert!(json(&body)["detail"].as_str().unwrap().contains("provider `fly` is not enabled"));
}

#[tokio::test]
async fn wrong_methods_and_oversized_bodies_get_problem_json() {
    let app = test_app().await;
    let (resp, body) = app.send(Request::delete("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(content_type(&resp), "application/problem+json");
    assert_eq!(json(&body)["status"], 405);

    let big = vec![b'x'; 2 * 1024 * 1024];
    let req = Request::post("/api/machines").header(header::CONTENT_LENGTH, big.len()).body(Body::from(big)).unwrap();
    let (resp, body) = app.send(req).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type(&resp), "application/problem+json");
    assert_eq!(json(&body)["status"], 413);
}

#[tokio::test]
async fn cors_exposes_the_payment_headers() {
    let app = test_app().await;
    let req = Request::get("/health").header(header::ORIGIN, "https://agent.example").body(Body::empty()).unwrap();
    let (resp, _) = app.send(req).await;
    let exposed =
        resp.headers().get(header::ACCESS_CONTROL_EXPOSE_HEADERS).unwrap().to_str().unwrap().to_ascii_lowercase();
    for h in ["www-authenticate", "payment-receipt", "payment-required", "payment-response"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    let pre = Request::options("/api/machines")
        .header(header::ORIGIN, "https://agent.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .body(Body::empty())
        .unwrap();
    let (resp, _) = app.send(pre).await;
    assert!(resp.status().is_success());
    assert!(resp.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_some());
}

#[tokio::test]
async fn index_links_the_surfaces() {
    let app = test_app().await;
    let (resp, body) = app.get("/").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(json(&body)["surfaces"]["tinycompute"], "http://127.0.0.1:8402/api");
}
