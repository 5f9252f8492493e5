//! TinyCompute surface (`/api/*`), from `tinycompute-llms.txt`: Fly machines, volumes and
//! apps; DigitalOcean droplets; Vercel projects, deployments, domains and DNS; Upstash KV.
//! Each route names the provider the contract names and the capability it needs; prices are
//! items of the `tinycompute` price book (`pricing/tinycompute.toml`).

mod apps;
mod droplets;
mod machines;
mod shapes;
mod volumes;

use axum::http::Method;
use compute_core::provider::Capability::{
    Dns, Domains, Events, Exec, Hosting, Ips, KeyValue, Machines, Suspend, Tenancy, Volumes,
};
use compute_core::provider::ProviderId::{Digitalocean, Fly, Upstash, Vercel};

use crate::handler;
use crate::routes::PriceRule::{Fixed, Free, Metered, Quoted, Renewal};
use crate::routes::{RouteSpec, Routes, Surface};

const MACHINE_CREATE: &str = r#"{"name":"my-server","region":"sjc","ttl_minutes":60,"config":{"image":"ubuntu:latest","init":{"cmd":["sleep","infinity"]},"guest":{"cpu_kind":"shared","cpus":1,"memory_mb":512}}}"#;

/// Every TinyCompute route.
pub fn routes() -> Vec<RouteSpec> {
    use Method as M;
    let r = Routes::new(Surface::TinyCompute, "tinycompute");
    let route = |m, path, summary, price| r.route(m, path, summary, price).wallet();
    let market = Quoted("registrar price + margin");
    vec![
        route(M::POST, "/api/machines", "Create a Fly machine", Metered("fly.machine"))
            .needs(Fly, Machines)
            .example(MACHINE_CREATE)
            .handler(handler!(machines::create)),
        route(M::GET, "/api/machines", "List my machines", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::list)),
        route(M::GET, "/api/machines/{id}", "Get a machine", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::get)),
        route(M::POST, "/api/machines/{id}/start", "Start a machine (buys a new paid period)", Renewal("fly.machine"))
            .needs(Fly, Machines)
            .handler(handler!(machines::start)),
        route(M::POST, "/api/machines/{id}/stop", "Stop a machine", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::stop)),
        route(
            M::POST,
            "/api/machines/{id}/restart",
            "Restart a machine (buys a new paid period)",
            Renewal("fly.machine"),
        )
        .needs(Fly, Machines)
        .handler(handler!(machines::restart)),
        route(M::DELETE, "/api/machines/{id}", "Destroy a machine", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::destroy)),
        route(M::POST, "/api/machines/{id}/exec", "Run a command", Fixed("machine.exec"))
            .needs(Fly, Exec)
            .example(r#"{"command":["ls","-la","/"],"timeout":30}"#)
            .handler(handler!(machines::exec)),
        route(M::POST, "/api/machines/{id}/wait", "Wait for a state (?state=started&timeout=60)", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::wait)),
        route(M::GET, "/api/machines/{id}/events", "Machine events", Fixed("call"))
            .needs(Fly, Events)
            .handler(handler!(machines::events)),
        route(M::POST, "/api/machines/{id}/suspend", "Suspend a machine", Fixed("call"))
            .needs(Fly, Suspend)
            .handler(handler!(machines::suspend)),
        route(M::GET, "/api/machines/{id}/ps", "List processes", Fixed("call"))
            .needs(Fly, Exec)
            .handler(handler!(machines::ps)),
        route(M::GET, "/api/machines/{id}/billing", "Billing of a machine", Fixed("call"))
            .needs(Fly, Machines)
            .handler(handler!(machines::billing)),
        route(M::POST, "/api/volumes", "Create a volume (paid per GB-day)", Metered("volume.storage"))
            .needs(Fly, Volumes)
            .example(r#"{"name":"my_data","region":"sjc","size_gb":1,"days":30}"#)
            .handler(handler!(volumes::create)),
        route(M::GET, "/api/volumes", "List volumes", Fixed("call"))
            .needs(Fly, Volumes)
            .handler(handler!(volumes::list)),
        route(M::GET, "/api/volumes/{id}", "Get a volume", Fixed("call"))
            .needs(Fly, Volumes)
            .handler(handler!(volumes::get)),
        route(M::DELETE, "/api/volumes/{id}", "Delete a volume", Fixed("call"))
            .needs(Fly, Volumes)
            .handler(handler!(volumes::delete)),
        route(
            M::PUT,
            "/api/volumes/{id}/extend",
            "Extend a volume",
            Quoted("volume.storage: its one-off fee + the per-GB-day rate × GB added × whole days of paid time left"),
        )
        .needs(Fly, Volumes)
        .example(r#"{"size_gb":5}"#)
        .handler(handler!(volumes::extend)),
        route(M::POST, "/api/volumes/{id}/renew", "Buy more paid time for a volume", Renewal("volume.storage"))
            .needs(Fly, Volumes)
            .example(r#"{"days":30}"#)
            .handler(handler!(volumes::renew)),
        route(M::POST, "/api/apps", "Create an app", Fixed("call")).needs(Fly, Tenancy).handler(handler!(apps::create)),
        route(M::DELETE, "/api/apps/{name}", "Delete an app", Fixed("call"))
            .needs(Fly, Tenancy)
            .handler(handler!(apps::delete)),
        route(M::GET, "/api/apps/{name}/ips", "List an app's IPs", Free)
            .needs(Fly, Ips)
            .handler(handler!(apps::list_ips)),
        route(
            M::POST,
            "/api/apps/{name}/ips",
            "Allocate an IP",
            Quoted("shared_v4 and v6: ip.allocate, once; a dedicated v4: ip.dedicated_v4, its one-off fee + the per-day rate × days (default 30)"),
        )
        .needs(Fly, Ips)
        .example(r#"{"type":"v4","days":30}"#)
        .handler(handler!(apps::allocate_ip)),
        route(M::POST, "/api/apps/{name}/ips/{id}/renew", "Buy more paid time for a dedicated IPv4", Renewal("ip.dedicated_v4"))
            .needs(Fly, Ips)
            .example(r#"{"days":30}"#)
            .handler(handler!(apps::renew_ip)),
        route(M::DELETE, "/api/apps/{name}/ips/{id}", "Release a dedicated IPv4", Fixed("call"))
            .needs(Fly, Ips)
            .handler(handler!(apps::release_ip)),
        route(M::POST, "/api/do/droplets", "Create a droplet", Metered("do.droplet"))
            .needs(Digitalocean, Machines)
            .example(r#"{"name":"my-droplet","region":"nyc1","size":"s-1vcpu-1gb","image":"ubuntu-24-04-x64"}"#)
            .handler(handler!(droplets::create)),
        route(M::GET, "/api/do/droplets", "List droplets", Fixed("call"))
            .needs(Digitalocean, Machines)
            .handler(handler!(machines::list)),
        route(M::GET, "/api/do/droplets/{id}", "Get a droplet", Fixed("call"))
            .needs(Digitalocean, Machines)
            .handler(handler!(machines::get)),
        route(M::POST, "/api/do/droplets/{id}/start", "Power on (buys a new paid period)", Renewal("do.droplet"))
            .needs(Digitalocean, Machines)
            .handler(handler!(machines::start)),
        route(M::POST, "/api/do/droplets/{id}/stop", "Power off", Fixed("call"))
            .needs(Digitalocean, Machines)
            .handler(handler!(machines::stop)),
        route(M::DELETE, "/api/do/droplets/{id}", "Destroy a droplet", Fixed("call"))
            .needs(Digitalocean, Machines)
            .handler(handler!(machines::destroy)),
        route(M::POST, "/api/vercel/projects", "Create a project", Fixed("vercel.project.create"))
            .needs(Vercel, Hosting),
        route(M::GET, "/api/vercel/projects", "List projects", Fixed("call")).needs(Vercel, Hosting),
        route(M::GET, "/api/vercel/projects/{id}", "Get a project", Fixed("call")).needs(Vercel, Hosting),
        route(M::DELETE, "/api/vercel/projects/{id}", "Delete a project", Fixed("call")).needs(Vercel, Hosting),
        route(M::POST, "/api/vercel/projects/{id}/env", "Add an env var", Fixed("vercel.env.add"))
            .needs(Vercel, Hosting)
            .example(r#"{"key":"NODE_ENV","value":"production","target":["production","preview"]}"#),
        route(
            M::POST,
            "/api/vercel/projects/{id}/domains",
            "Add a domain to a project",
            Fixed("vercel.project_domain.add"),
        )
        .needs(Vercel, Hosting)
        .example(r#"{"domain":"example.com"}"#),
        route(M::POST, "/api/vercel/deployments", "Create a deployment", Fixed("vercel.deployment.create"))
            .needs(Vercel, Hosting)
            .example(r#"{"name":"my-app","project":"prj_xxx","target":"production"}"#),
        route(M::GET, "/api/vercel/deployments", "List deployments", Fixed("call")).needs(Vercel, Hosting),
        route(M::POST, "/api/vercel/domains/check", "Check domain availability", Fixed("vercel.domain.check"))
            .needs(Vercel, Domains),
        route(M::POST, "/api/vercel/domains/buy", "Buy a domain", market).needs(Vercel, Domains),
        route(M::GET, "/api/vercel/domains", "List domains", Fixed("call")).needs(Vercel, Domains),
        route(M::GET, "/api/vercel/domains/{name}", "Get a domain", Fixed("call")).needs(Vercel, Domains),
        route(M::DELETE, "/api/vercel/domains/{name}", "Get the transfer auth code", Fixed("call"))
            .needs(Vercel, Domains),
        route(M::GET, "/api/vercel/domains/{name}/price", "Get a domain's price", Fixed("call")).needs(Vercel, Domains),
        route(M::POST, "/api/vercel/domains/{name}/renew", "Renew a domain", market).needs(Vercel, Domains),
        route(M::GET, "/api/vercel/domains/{name}/dns", "List DNS records", Fixed("call")).needs(Vercel, Dns),
        route(M::POST, "/api/vercel/domains/{name}/dns", "Add a DNS record", Fixed("vercel.dns.add"))
            .needs(Vercel, Dns)
            .example(r#"{"type":"A","name":"@","value":"1.2.3.4"}"#),
        route(M::DELETE, "/api/vercel/domains/{name}/dns/{id}", "Delete a DNS record", Fixed("call"))
            .needs(Vercel, Dns),
        route(M::POST, "/api/kv/databases", "Create a KV database", Fixed("kv.database.create"))
            .needs(Upstash, KeyValue)
            .example(r#"{"name":"my-cache","region":"us-east-1"}"#),
        route(M::GET, "/api/kv/databases", "List KV databases", Fixed("call")).needs(Upstash, KeyValue),
        route(M::DELETE, "/api/kv/databases/{id}", "Delete a KV database", Fixed("call")).needs(Upstash, KeyValue),
        route(M::POST, "/api/kv/{db}/set", "Set a key", Fixed("kv.command"))
            .needs(Upstash, KeyValue)
            .example(r#"{"key":"mykey","value":"myval","ex":3600}"#),
        route(M::POST, "/api/kv/{db}/get", "Get a key", Fixed("kv.command"))
            .needs(Upstash, KeyValue)
            .example(r#"{"key":"mykey"}"#),
        route(M::POST, "/api/kv/{db}/del", "Delete a key", Fixed("kv.command"))
            .needs(Upstash, KeyValue)
            .example(r#"{"key":"mykey"}"#),
        route(M::POST, "/api/kv/{db}/keys", "List keys", Fixed("kv.command"))
            .needs(Upstash, KeyValue)
            .example(r#"{"pattern":"user:*"}"#),
    ]
}
