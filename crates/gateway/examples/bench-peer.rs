//! `bench-peer`: the ceilings `cargo xtask bench` measures the gateway against (issue 11 § 1);
//! an example of this crate, so it builds with the gateway's own dependencies only.
//!
//! ```text
//! bench-peer --listen ADDR hello              # (b) a bare axum "hello"
//! bench-peer --listen ADDR replay FILE        # (c) a bare axum answering one captured response
//! ```
//! `FILE` is JSON `{"status": 402, "headers": [["name", "value"], …], "body": "…"}`: the
//! gateway's own 402, captured once, answered verbatim to every request (the practical ceiling
//! for that response). The first stdout line is `listening on http://HOST:PORT`.

use std::io::Write;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;

const USAGE: &str = "usage: bench-peer --listen ADDR (hello | replay FILE)";

#[derive(Deserialize)]
struct Captured {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn app(args: &[String]) -> Result<Router, String> {
    match args {
        [mode] if mode == "hello" => Ok(Router::new().fallback(|| async { "hello" })),
        [mode, file] if mode == "replay" => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let c: Captured = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
            let status = StatusCode::from_u16(c.status).map_err(|e| e.to_string())?;
            let mut headers = HeaderMap::new();
            for (k, v) in &c.headers {
                let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| format!("{k}: {e}"))?;
                headers.append(name, HeaderValue::from_str(v).map_err(|e| format!("{k}: {e}"))?);
            }
            let body = Bytes::from(c.body);
            Ok(Router::new().fallback(move || {
                let (headers, body) = (headers.clone(), body.clone());
                async move { (status, headers, body).into_response() }
            }))
        }
        _ => Err(USAGE.to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (listen, rest) = match args.as_slice() {
        [flag, addr, rest @ ..] if flag == "--listen" => (addr.clone(), rest.to_vec()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let router = match app(&rest) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    if writeln!(out, "listening on http://{addr}").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    drop(out);
    match axum::serve(listener, router).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
