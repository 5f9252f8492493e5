//! x402Compute surface (`/compute/*`), from `x402compute-docs.txt`: Vultr (and `do:`-prefixed
//! DigitalOcean) instances with prepaid hours priced from the `x402compute` book, credits and
//! API keys.

mod account;

use axum::http::Method;
use compute_core::provider::Capability::{Machines, Resize};
use compute_core::provider::ProviderId::Vultr;

use crate::handler;
use crate::routes::PriceRule::{Free, Metered, Quoted, Renewal};
use crate::routes::{RouteSpec, Routes, Surface};

/// Every x402Compute route with its published price.
pub fn routes() -> Vec<RouteSpec> {
    use Method as M;
    let r = Routes::new(Surface::X402Compute, "x402compute");
    let vultr = |m, path, summary, price| r.route(m, path, summary, price).needs(Vultr, Machines);
    vec![
        vultr(M::GET, "/compute/plans", "Plans with pricing", Free),
        vultr(M::GET, "/compute/regions", "Regions", Free),
        vultr(M::GET, "/compute/os", "OS images", Free),
        vultr(M::POST, "/compute/provision", "Provision an instance (x402, MPP or credits)", Metered("instance")).wallet().example(
            r#"{"plan":"vc2-1c-1gb","region":"ewr","os_id":2284,"label":"my-vps","prepaid_hours":24,"ssh_public_key":"ssh-ed25519 AAAA... agent"}"#,
        ),
        r.route(M::GET, "/compute/credits/balance", "Credit balance", Free).wallet().handler(handler!(account::balance)),
        r.route(M::POST, "/compute/credits/topup", "Top up credits", Quoted("the amount bought, at least $1"))
            .wallet()
            .example(r#"{"amount":"5"}"#),
        r.route(M::POST, "/compute/api-keys", "Create an API key", Free).signature().handler(handler!(account::create_key)),
        r.route(M::GET, "/compute/api-keys", "List API keys", Free).wallet().handler(handler!(account::list_keys)),
        r.route(M::DELETE, "/compute/api-keys/{id}", "Revoke an API key", Free)
            .signature()
            .handler(handler!(account::revoke_key)),
        vultr(M::GET, "/compute/instances", "List my instances", Free).wallet(),
        vultr(M::GET, "/compute/instances/{id}", "Get an instance", Free).wallet(),
        vultr(M::DELETE, "/compute/instances/{id}", "Destroy an instance", Free).wallet(),
        vultr(M::POST, "/compute/instances/{id}/password", "One-time root password", Free).wallet(),
        vultr(M::POST, "/compute/instances/{id}/extend", "Extend prepaid time", Renewal("instance.extend"))
            .wallet()
            .example(r#"{"extend_hours":24}"#),
        r.route(M::POST, "/compute/instances/{id}/resize", "Resize in place, keeping prepaid dollars", Free)
            .needs(Vultr, Resize)
            .wallet()
            .example(r#"{"plan":"vc2-2c-4gb"}"#),
    ]
}
