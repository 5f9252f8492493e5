//! SiloVPS surface (`/v1/*`), from `silovps-llms.txt`: prepaid per-minute DigitalOcean servers,
//! snapshots and SSH keys, priced from the `silovps` book. Free calls identify the wallet with
//! a wallet-authentication method (the seed's zero-amount MPP proof among them).

mod keys;
mod servers;
mod shapes;

use axum::http::Method;
use compute_core::provider::Capability::{Machines, Snapshots, SshKeys};
use compute_core::provider::ProviderId::Digitalocean;

use crate::handler;
use crate::routes::PriceRule::{Fixed, Free, Metered, Renewal};
use crate::routes::{RouteSpec, Routes, Surface};

/// Every SiloVPS route with its published price.
pub fn routes() -> Vec<RouteSpec> {
    use Method as M;
    let r = Routes::new(Surface::SiloVps, "silovps");
    let catalog = |path, summary| r.route(M::GET, path, summary, Free).needs(Digitalocean, Machines);
    let route = |m, path, summary, price| r.route(m, path, summary, price).wallet().needs(Digitalocean, Machines);
    vec![
        catalog("/v1/catalog/sizes", "Sizes with pricing").handler(handler!(keys::sizes)),
        catalog("/v1/catalog/regions", "Regions").handler(handler!(keys::regions)),
        catalog("/v1/catalog/images", "Images").handler(handler!(keys::images)),
        route(M::POST, "/v1/servers", "Create a server with prepaid minutes", Metered("server"))
            .example(r#"{"size":"small","region":"nyc1","image":"ubuntu-24-04-x64","minutes":60}"#)
            .handler(handler!(servers::create)),
        route(M::POST, "/v1/servers/{id}/extend", "Add prepaid minutes", Renewal("server"))
            .example(r#"{"minutes":120}"#)
            .handler(handler!(servers::extend)),
        route(M::GET, "/v1/servers", "List my servers", Free).handler(handler!(servers::list)),
        route(M::GET, "/v1/servers/snapshots/list", "List my snapshots", Free)
            .needs(Digitalocean, Snapshots)
            .handler(handler!(servers::snapshots)),
        route(M::GET, "/v1/servers/{id}", "Get a server (IP, root password, remaining time)", Free)
            .handler(handler!(servers::get)),
        route(M::DELETE, "/v1/servers/{id}", "Destroy a server (snapshot kept 72 h)", Free)
            .needs(Digitalocean, Snapshots)
            .handler(handler!(servers::delete)),
        route(M::POST, "/v1/servers/{id}/reboot", "Reboot", Fixed("server.reboot")).handler(handler!(servers::reboot)),
        route(M::POST, "/v1/servers/{id}/power", "Power on or off", Fixed("server.power"))
            .example(r#"{"action":"off"}"#)
            .handler(handler!(servers::power)),
        route(M::POST, "/v1/keys", "Register an SSH key", Fixed("key.register"))
            .needs(Digitalocean, SshKeys)
            .example(r#"{"name":"my-key","public_key":"ssh-ed25519 AAAA..."}"#)
            .handler(handler!(keys::create)),
        route(M::GET, "/v1/keys", "List my SSH keys", Free).needs(Digitalocean, SshKeys).handler(handler!(keys::list)),
        route(M::DELETE, "/v1/keys/{id}", "Remove an SSH key", Free)
            .needs(Digitalocean, SshKeys)
            .handler(handler!(keys::delete)),
    ]
}
