//! SiloVPS surface (`/v1/*`), from `silovps-llms.txt`: prepaid per-minute DigitalOcean servers,
//! snapshots and SSH keys. Free calls identify the wallet with a zero-amount MPP proof.

use axum::http::Method;
use compute_core::provider::ProviderId::Digitalocean;

use crate::routes::{Price, Route, RouteSpec, Surface, usd};

fn spec(method: Method, path: &'static str, summary: &'static str, price: Price) -> RouteSpec {
    RouteSpec::new(Surface::SiloVps, method, path, summary, price).provider(Digitalocean)
}

/// Every SiloVPS route with its published price.
pub fn routes() -> Vec<Route> {
    use Method as M;
    let create = Price::Dynamic { formula: "create fee + hourly rate × minutes / 60, at least $0.01" };
    let extend = Price::Dynamic { formula: "hourly rate × minutes / 60, at least $0.01" };
    [
        spec(M::GET, "/v1/catalog/sizes", "Sizes with pricing", Price::Free),
        spec(M::GET, "/v1/catalog/regions", "Regions", Price::Free),
        spec(M::GET, "/v1/catalog/images", "Images", Price::Free),
        spec(M::POST, "/v1/servers", "Create a server with prepaid minutes", create)
            .wallet()
            .example(r#"{"size":"small","region":"nyc1","image":"ubuntu-24-04-x64","minutes":60}"#),
        spec(M::POST, "/v1/servers/{id}/extend", "Add prepaid minutes", extend).wallet().example(r#"{"minutes":120}"#),
        spec(M::GET, "/v1/servers", "List my servers", Price::Free).wallet(),
        spec(M::GET, "/v1/servers/{id}", "Get a server", Price::Free).wallet(),
        spec(M::DELETE, "/v1/servers/{id}", "Destroy a server (snapshot kept 72 h)", Price::Free).wallet(),
        spec(M::POST, "/v1/servers/{id}/reboot", "Reboot", usd("0.005")).wallet(),
        spec(M::POST, "/v1/servers/{id}/power", "Power on or off", usd("0.005"))
            .wallet()
            .example(r#"{"action":"off"}"#),
        spec(M::GET, "/v1/servers/snapshots/list", "List my snapshots", Price::Free).wallet(),
        spec(M::POST, "/v1/keys", "Register an SSH key", usd("0.001"))
            .wallet()
            .example(r#"{"name":"my-key","public_key":"ssh-ed25519 AAAA..."}"#),
        spec(M::GET, "/v1/keys", "List my SSH keys", Price::Free).wallet(),
        spec(M::DELETE, "/v1/keys/{id}", "Remove an SSH key", Price::Free).wallet(),
    ]
    .into_iter()
    .map(Route::listed)
    .collect()
}
