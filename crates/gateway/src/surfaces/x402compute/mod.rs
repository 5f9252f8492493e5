//! x402Compute surface (`/compute/*`), from `x402compute-docs.txt`: Vultr (and `do:`-prefixed
//! DigitalOcean) instances with prepaid hours, credits and API keys.

mod account;

use axum::http::Method;
use axum::routing::{MethodRouter, delete, get, post};
use compute_core::provider::ProviderId::Vultr;

use crate::routes::{Price, Route, RouteSpec, Surface};
use crate::state::AppState;

fn spec(method: Method, path: &'static str, summary: &'static str, price: Price) -> RouteSpec {
    RouteSpec::new(Surface::X402Compute, method, path, summary, price)
}

/// Every x402Compute route with its published price.
pub fn routes() -> Vec<Route> {
    use Method as M;
    let hours =
        Price::Dynamic { formula: "hourly rate (provider monthly cost + margin) × prepaid_hours, at least 24 h" };
    let extend = Price::Dynamic { formula: "hourly rate × extend_hours" };
    let topup = Price::Dynamic { formula: "the amount bought, at least $1" };
    [
        spec(M::GET, "/compute/plans", "Plans with pricing", Price::Free).provider(Vultr),
        spec(M::GET, "/compute/regions", "Regions", Price::Free).provider(Vultr),
        spec(M::GET, "/compute/os", "OS images", Price::Free).provider(Vultr),
        spec(M::POST, "/compute/provision", "Provision an instance (x402, MPP or credits)", hours).provider(Vultr).wallet().example(
            r#"{"plan":"vc2-1c-1gb","region":"ewr","os_id":2284,"label":"my-vps","prepaid_hours":24,"ssh_public_key":"ssh-ed25519 AAAA... agent"}"#,
        ),
        spec(M::GET, "/compute/credits/balance", "Credit balance", Price::Free).wallet(),
        spec(M::POST, "/compute/credits/topup", "Top up credits", topup).wallet().example(r#"{"amount":"5"}"#),
        spec(M::POST, "/compute/api-keys", "Create an API key", Price::Free).wallet(),
        spec(M::GET, "/compute/api-keys", "List API keys", Price::Free).wallet(),
        spec(M::DELETE, "/compute/api-keys/{id}", "Revoke an API key", Price::Free).wallet(),
        spec(M::GET, "/compute/instances", "List my instances", Price::Free).provider(Vultr).wallet(),
        spec(M::GET, "/compute/instances/{id}", "Get an instance", Price::Free).provider(Vultr).wallet(),
        spec(M::DELETE, "/compute/instances/{id}", "Destroy an instance", Price::Free).provider(Vultr).wallet(),
        spec(M::POST, "/compute/instances/{id}/password", "One-time root password", Price::Free).provider(Vultr).wallet(),
        spec(M::POST, "/compute/instances/{id}/extend", "Extend prepaid time", extend).provider(Vultr).wallet().example(r#"{"extend_hours":24}"#),
        spec(M::POST, "/compute/instances/{id}/resize", "Resize in place, keeping prepaid dollars", Price::Free)
            .provider(Vultr)
            .wallet()
            .example(r#"{"plan":"vc2-2c-4gb"}"#),
    ]
    .into_iter()
    .map(|s| {
        let h = handler(&s.method, s.path);
        Route::new(s, h)
    })
    .collect()
}

/// The handler this build has for a route.
fn handler(method: &Method, path: &str) -> Option<MethodRouter<AppState>> {
    Some(match (method.as_str(), path) {
        ("GET", "/compute/credits/balance") => get(account::balance),
        ("POST", "/compute/api-keys") => post(account::create_key),
        ("GET", "/compute/api-keys") => get(account::list_keys),
        ("DELETE", "/compute/api-keys/{id}") => delete(account::revoke_key),
        _ => return None,
    })
}
