//! TinyCompute surface (`/api/*`), from `tinycompute-llms.txt`: Fly machines, volumes and
//! apps; DigitalOcean droplets; Vercel projects, deployments, domains and DNS; Upstash KV.

mod common;
#[cfg(feature = "fly")]
mod machines;
#[cfg(feature = "fly")]
mod volumes;

use axum::http::Method;
use axum::routing::MethodRouter;
use compute_core::provider::ProviderId::{Digitalocean, Fly, Upstash, Vercel};

use crate::routes::{Price, Route, RouteSpec, Surface, usd};
use crate::state::AppState;

const MACHINE_CREATE: &str = r#"{"name":"my-server","region":"sjc","ttl_minutes":60,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#;

fn spec(method: Method, path: &'static str, summary: &'static str, price: Price) -> RouteSpec {
    RouteSpec::new(Surface::TinyCompute, method, path, summary, price).wallet()
}

/// Every TinyCompute route with its published price.
pub fn routes() -> Vec<Route> {
    use Method as M;
    let machine_price =
        Price::Dynamic { formula: "size-scaled setup fee + per-minute rate × ttl_minutes (docs/API.md)" };
    let session = Price::Dynamic { formula: "per-minute rate of the machine size × ttl_minutes" };
    let droplet = Price::Dynamic { formula: "size setup fee + per-minute rate × ttl_minutes" };
    let market = Price::Dynamic { formula: "registrar price + margin" };
    [
        spec(M::POST, "/api/machines", "Create a Fly machine", machine_price).provider(Fly).example(MACHINE_CREATE),
        spec(M::GET, "/api/machines", "List my machines", usd("0.001")).provider(Fly),
        spec(M::GET, "/api/machines/{id}", "Get a machine", usd("0.001")).provider(Fly),
        spec(M::POST, "/api/machines/{id}/start", "Start a machine (buys a new paid period)", session.clone())
            .provider(Fly),
        spec(M::POST, "/api/machines/{id}/stop", "Stop a machine", usd("0.001")).provider(Fly),
        spec(M::POST, "/api/machines/{id}/restart", "Restart a machine (buys a new paid period)", session.clone())
            .provider(Fly),
        spec(M::DELETE, "/api/machines/{id}", "Destroy a machine", usd("0.001")).provider(Fly),
        spec(M::POST, "/api/machines/{id}/exec", "Run a command", usd("0.01"))
            .provider(Fly)
            .example(r#"{"command":["ls","-la","/"],"timeout":30}"#),
        spec(M::POST, "/api/machines/{id}/wait", "Wait for a state (?state=started&timeout=60)", usd("0.001"))
            .provider(Fly),
        spec(M::GET, "/api/machines/{id}/events", "Machine events", usd("0.001")).provider(Fly),
        spec(M::POST, "/api/machines/{id}/suspend", "Suspend a machine", usd("0.001")).provider(Fly),
        spec(M::GET, "/api/machines/{id}/ps", "List processes", usd("0.001")).provider(Fly),
        spec(M::GET, "/api/machines/{id}/billing", "Billing of a machine", usd("0.001")).provider(Fly),
        spec(M::POST, "/api/volumes", "Create a volume", usd("0.05"))
            .provider(Fly)
            .example(r#"{"name":"my_data","region":"sjc","size_gb":1}"#),
        spec(M::GET, "/api/volumes", "List volumes", usd("0.001")).provider(Fly),
        spec(M::GET, "/api/volumes/{id}", "Get a volume", usd("0.001")).provider(Fly),
        spec(M::DELETE, "/api/volumes/{id}", "Delete a volume", usd("0.001")).provider(Fly),
        spec(M::PUT, "/api/volumes/{id}/extend", "Extend a volume", usd("0.05"))
            .provider(Fly)
            .example(r#"{"size_gb":5}"#),
        spec(M::POST, "/api/apps", "Create an app", usd("0.001")).provider(Fly),
        spec(M::DELETE, "/api/apps/{name}", "Delete an app", usd("0.001")).provider(Fly),
        spec(M::GET, "/api/apps/{name}/ips", "List an app's IPs", Price::Free).provider(Fly),
        spec(M::POST, "/api/apps/{name}/ips", "Allocate an IP", usd("0.01")).provider(Fly),
        spec(M::POST, "/api/do/droplets", "Create a droplet", droplet)
            .provider(Digitalocean)
            .example(r#"{"name":"my-droplet","region":"nyc1","size":"s-1vcpu-1gb","image":"ubuntu-24-04-x64"}"#),
        spec(M::GET, "/api/do/droplets", "List droplets", usd("0.001")).provider(Digitalocean),
        spec(M::GET, "/api/do/droplets/{id}", "Get a droplet", usd("0.001")).provider(Digitalocean),
        spec(M::POST, "/api/do/droplets/{id}/start", "Power on (buys a new paid period)", session)
            .provider(Digitalocean),
        spec(M::POST, "/api/do/droplets/{id}/stop", "Power off", usd("0.001")).provider(Digitalocean),
        spec(M::DELETE, "/api/do/droplets/{id}", "Destroy a droplet", usd("0.001")).provider(Digitalocean),
        spec(M::POST, "/api/vercel/projects", "Create a project", usd("0.10")).provider(Vercel),
        spec(M::GET, "/api/vercel/projects", "List projects", usd("0.001")).provider(Vercel),
        spec(M::GET, "/api/vercel/projects/{id}", "Get a project", usd("0.001")).provider(Vercel),
        spec(M::DELETE, "/api/vercel/projects/{id}", "Delete a project", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/vercel/projects/{id}/env", "Add an env var", usd("0.01"))
            .provider(Vercel)
            .example(r#"{"key":"NODE_ENV","value":"production","target":["production","preview"]}"#),
        spec(M::POST, "/api/vercel/projects/{id}/domains", "Add a domain to a project", usd("0.01"))
            .provider(Vercel)
            .example(r#"{"domain":"example.com"}"#),
        spec(M::POST, "/api/vercel/deployments", "Create a deployment", usd("0.10"))
            .provider(Vercel)
            .example(r#"{"name":"my-app","project":"prj_xxx","target":"production"}"#),
        spec(M::GET, "/api/vercel/deployments", "List deployments", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/vercel/domains/check", "Check domain availability", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/vercel/domains/buy", "Buy a domain", market.clone()).provider(Vercel),
        spec(M::GET, "/api/vercel/domains", "List domains", usd("0.001")).provider(Vercel),
        spec(M::GET, "/api/vercel/domains/{name}", "Get a domain", usd("0.001")).provider(Vercel),
        spec(M::DELETE, "/api/vercel/domains/{name}", "Get the transfer auth code", usd("0.001")).provider(Vercel),
        spec(M::GET, "/api/vercel/domains/{name}/price", "Get a domain's price", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/vercel/domains/{name}/renew", "Renew a domain", market).provider(Vercel),
        spec(M::GET, "/api/vercel/domains/{name}/dns", "List DNS records", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/vercel/domains/{name}/dns", "Add a DNS record", usd("0.01"))
            .provider(Vercel)
            .example(r#"{"type":"A","name":"@","value":"1.2.3.4"}"#),
        spec(M::DELETE, "/api/vercel/domains/{name}/dns/{id}", "Delete a DNS record", usd("0.001")).provider(Vercel),
        spec(M::POST, "/api/kv/databases", "Create a KV database", usd("0.05"))
            .provider(Upstash)
            .example(r#"{"name":"my-cache","region":"us-east-1"}"#),
        spec(M::GET, "/api/kv/databases", "List KV databases", usd("0.001")).provider(Upstash),
        spec(M::DELETE, "/api/kv/databases/{id}", "Delete a KV database", usd("0.001")).provider(Upstash),
        spec(M::POST, "/api/kv/{db}/set", "Set a key", usd("0.001"))
            .provider(Upstash)
            .example(r#"{"key":"mykey","value":"myval","ex":3600}"#),
        spec(M::POST, "/api/kv/{db}/get", "Get a key", usd("0.001")).provider(Upstash).example(r#"{"key":"mykey"}"#),
        spec(M::POST, "/api/kv/{db}/del", "Delete a key", usd("0.001")).provider(Upstash).example(r#"{"key":"mykey"}"#),
        spec(M::POST, "/api/kv/{db}/keys", "List keys", usd("0.001"))
            .provider(Upstash)
            .example(r#"{"pattern":"user:*"}"#),
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
    #[cfg(feature = "fly")]
    {
        use axum::routing::{delete, get, post};
        let h = match (method.as_str(), path) {
            ("POST", "/api/machines") => post(machines::create),
            ("GET", "/api/machines") => get(machines::list),
            ("GET", "/api/machines/{id}") => get(machines::get),
            ("POST", "/api/machines/{id}/start") => post(machines::start),
            ("POST", "/api/machines/{id}/stop") => post(machines::stop),
            ("POST", "/api/machines/{id}/restart") => post(machines::restart),
            ("DELETE", "/api/machines/{id}") => delete(machines::destroy),
            ("POST", "/api/machines/{id}/exec") => post(machines::exec),
            ("POST", "/api/machines/{id}/wait") => post(machines::wait),
            ("GET", "/api/machines/{id}/events") => get(machines::events),
            ("POST", "/api/machines/{id}/suspend") => post(machines::suspend),
            ("GET", "/api/machines/{id}/ps") => get(machines::ps),
            ("GET", "/api/machines/{id}/billing") => get(machines::billing),
            ("POST", "/api/volumes") => post(volumes::create),
            ("GET", "/api/volumes") => get(volumes::list),
            ("GET", "/api/volumes/{id}") => get(volumes::get),
            ("DELETE", "/api/volumes/{id}") => delete(volumes::delete),
            ("PUT", "/api/volumes/{id}/extend") => axum::routing::put(volumes::extend),
            ("POST", "/api/apps") => post(volumes::create_app),
            ("DELETE", "/api/apps/{name}") => delete(volumes::delete_app),
            ("GET", "/api/apps/{name}/ips") => get(volumes::list_ips),
            ("POST", "/api/apps/{name}/ips") => post(volumes::allocate_ip),
            _ => return None,
        };
        Some(h)
    }
    #[cfg(not(feature = "fly"))]
    {
        let _ = (method, path);
        None
    }
}
