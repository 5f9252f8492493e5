//! `GET /llms.txt`: the API for agents, generated from the route table with live prices and
//! what is enabled on this gateway.

use std::fmt::Write;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;
use crate::routes::{Auth, Call, Surface, describe_price, unavailable_reason};
use crate::state::AppState;

pub(super) async fn llms_txt(call: Call) -> Result<Response, Problem> {
    let rates = super::rates::recurring_rates(&call.state).await;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], render(&call.state, &rates)).into_response())
}

/// Renders `llms.txt` with the recurring `rates` of the enabled providers.
pub fn render(state: &AppState, rates: &[super::rates::RecurringRates]) -> String {
    let base = state.config().server.public_base();
    let mut out = String::new();
    let _ = writeln!(out, "# compute-gateway\n");
    let _ = writeln!(
        out,
        "> Cloud compute for autonomous agents: Fly.io machines, DigitalOcean droplets, Vultr (GPU) instances, \
         Vercel projects and domains, Upstash KV. No accounts, no API keys: pay per request with a stablecoin; \
         your wallet address is your identity.\n"
    );
    let _ = writeln!(out, "Base URL: {base}\n");
    let _ = writeln!(out, "## How to pay\n");
    let _ = writeln!(
        out,
        "Call a paid route. The gateway answers `402 Payment Required` with every enabled offer: MPP \
         (`WWW-Authenticate: Payment`, e.g. `mppx {base}/api/machines`) and x402 (`PAYMENT-REQUIRED` header, v1 JSON body). \
         Retry with the credential; a `Payment-Receipt` (MPP) or `PAYMENT-RESPONSE` (x402) header comes back with the result. \
         Prices are validated and quoted before the 402; if a paid action then fails, the amount is credited to your \
         wallet's balance and the error says so. Send `Idempotency-Key` to make retries safe.\n"
    );
    let _ = writeln!(out, "Payment rails enabled here (rail: network, asset):\n");
    for rail in state.rails().all() {
        let info = rail.rail();
        let _ = writeln!(out, "- {}: {}, {} ({} decimals)", info.rail, info.network, info.asset, info.decimals);
    }
    let _ = writeln!(out, "- credits: your prepaid balance, with `X-Use-Credits: true`\n");
    let _ = writeln!(out, "All amounts are USD. Errors are RFC 9457 `application/problem+json`.\n");
    out.push_str(&super::rates::render(state, rates));
    for surface in Surface::ALL {
        let _ = writeln!(out, "## {}\n", surface.title());
        for spec in state.routes().iter().filter(|r| r.surface == surface) {
            let price = describe_price(spec, state.books());
            let mut line = format!("{} {} — {} ({price})", spec.method, spec.path, spec.summary);
            if spec.auth != Auth::None && !spec.price.is_paid() {
                line.push_str(" [wallet auth]");
            }
            if let Some(reason) = unavailable_reason(state.providers(), spec) {
                let _ = write!(line, " [unavailable here: {reason}]");
            }
            let _ = writeln!(out, "{line}");
            if let Some(example) = spec.example {
                let _ = writeln!(out, "  Body: {example}");
            }
        }
        let _ = writeln!(out);
    }
    out
}
