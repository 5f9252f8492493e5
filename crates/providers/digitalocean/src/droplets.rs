//! Droplets as [`Machines`]: create (sent once, reconciled by name and tag), list by tag, get,
//! power actions, destroy, wait, and [`MachineResize`]. Every call on one droplet first checks
//! that it carries the tenant's tag: another tenant's droplet is treated exactly like an
//! absent one.

use std::time::Duration;

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{Machine, MachineResize, MachineSize, MachineSpec, MachineState, Machines, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::Method;
use serde_json::Value;

use crate::actions::Poll;
use crate::check::{check_machine, is_size_slug};
use crate::client::{DoClient, decode};
use crate::convert::machine_from_value;
use crate::types::{ActionRequest, CreateDropletRequest, DoImage, Droplet, ImageRef, KeyRef};
use crate::{COMPONENT, DoProvider};

/// How many times a create whose outcome is unknown looks for the droplet before giving up.
pub const RECONCILE_LOOKUPS: u32 = 3;

fn not_found(id: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("droplet {id} not found")).with_component(COMPONENT)
}

/// A droplet id: a positive integer written in decimal digits only.
fn droplet_id(id: &str) -> Option<u64> {
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.parse().ok()).flatten().filter(|n| *n > 0)
}

fn tagged(d: &Droplet, tag: &str) -> bool {
    d.tags.iter().any(|t| t == tag)
}

fn droplet_of(op: &str, v: &Value) -> Result<(Droplet, Machine)> {
    let raw = v.get("droplet").cloned().ok_or_else(|| {
        Error::new(ErrorKind::Provider, format!("{op}: DigitalOcean's answer has no droplet")).with_component(COMPONENT)
    })?;
    machine_from_value(raw)
}

impl DoClient {
    /// `GET /v2/droplets/{id}` (`droplets/droplets_get.yml`); `None` on 404.
    async fn fetch_droplet(&self, id: u64) -> Result<Option<(Droplet, Machine)>> {
        let url = self.url(&["droplets", &id.to_string()])?;
        let reply = self.send("get droplet", Method::GET, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() {
            return Ok(None);
        }
        droplet_of("get droplet", &reply.json()?).map(Some)
    }

    /// The droplet `id` if it carries `tag`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`], with the same message, when the id is not a droplet id, the
    /// droplet is absent, or it belongs to another tenant; DigitalOcean errors otherwise.
    pub async fn tenant_droplet(&self, tag: &str, id: &str) -> Result<(Droplet, Machine)> {
        let n = droplet_id(id).ok_or_else(|| not_found(id))?;
        match self.fetch_droplet(n).await? {
            Some((d, m)) if tagged(&d, tag) => Ok((d, m)),
            _ => Err(not_found(id)),
        }
    }

    /// The tenant's droplets: `GET /v2/droplets?tag_name={tag}` (`droplets/droplets_list.yml`),
    /// every page.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn list_droplets(&self, tag: &str) -> Result<Vec<Machine>> {
        let values = self.list_values("list droplets", &["droplets"], &[("tag_name", tag)], "droplets").await?;
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let (d, m) = machine_from_value(v)?;
            if tagged(&d, tag) {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// A numeric `image` may be a public image or one of the tenant's own snapshots (named
    /// `<tag>:…`), never another tenant's snapshot or a private image of the account:
    /// `GET /v2/images/{id}` (`images/images_get.yml`).
    async fn check_image(&self, tag: &str, id: u64) -> Result<()> {
        let url = self.url(&["images", &id.to_string()])?;
        let reply = self.send("get image", Method::GET, url, Idempotency::Idempotent).await?;
        let missing = || Error::new(ErrorKind::NotFound, format!("image {id} not found")).with_component(COMPONENT);
        if reply.is_not_found() {
            return Err(missing());
        }
        let v: Value = reply.json()?;
        let image: DoImage = decode("get image", v.get("image").cloned().unwrap_or(Value::Null))?;
        if image.public || image.name.starts_with(&format!("{tag}:")) { Ok(()) } else { Err(missing()) }
    }

    /// Creates a droplet for `spec` in `region`, tagged `tag`: `POST /v2/droplets`
    /// (`droplets/droplets_create.yml`, "Single Droplet Request") with `name`, `region`, `size`,
    /// `image` (a numeric string is sent as an integer id, which restores a snapshot),
    /// `ssh_keys` (ids as integers, fingerprints as strings), `user_data` and `tags: [tag]`.
    ///
    /// The name must be free within the tenant (checked first, so a lost answer can be
    /// reconciled unambiguously). The create is sent **once**: when its outcome is unknown (a
    /// timeout, a broken connection, a 5xx), the tenant's droplets are listed up to
    /// [`RECONCILE_LOOKUPS`] times and a live droplet with the spec's name is returned;
    /// otherwise the original error is. DigitalOcean has no field for `labels` and tags are
    /// account-wide, so labels are not sent and reconciliation is by name and tag only.
    ///
    /// # Errors
    /// [`ErrorKind::AlreadyExists`] for a name already used in the tenant;
    /// [`ErrorKind::NotFound`] for a numeric image that is neither public nor the tenant's
    /// snapshot; DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn create_droplet(&self, tag: &str, spec: &MachineSpec, region: &str) -> Result<Machine> {
        let image = match droplet_id(&spec.image) {
            Some(n) => {
                self.check_image(tag, n).await?;
                ImageRef::Id(n)
            }
            None => ImageRef::Slug(spec.image.clone()),
        };
        let live = |m: &Machine| m.name == spec.name && m.state != MachineState::Destroyed;
        if self.list_droplets(tag).await?.iter().any(live) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("a droplet named {:?} already exists in this tenant", spec.name),
            )
            .with_component(COMPONENT));
        }
        let body = CreateDropletRequest {
            name: spec.name.clone(),
            region: region.to_owned(),
            size: spec.size.key(),
            image,
            ssh_keys: spec
                .ssh_keys
                .iter()
                .map(|k| droplet_id(k).map_or_else(|| KeyRef::Fingerprint(k.clone()), KeyRef::Id))
                .collect(),
            user_data: spec.user_data.clone(),
            tags: vec![tag.to_owned()],
        };
        let url = self.url(&["droplets"])?;
        let original =
            match self.send_json("create droplet", Method::POST, url, &body, Idempotency::NotIdempotent).await {
                Ok(reply) if reply.is_success() => {
                    match reply.json::<Value>().and_then(|v| droplet_of("create droplet", &v)) {
                        Ok((_, m)) => return Ok(m),
                        Err(e) => e,
                    }
                }
                Ok(reply) if reply.status.is_server_error() => reply.error(),
                Ok(reply) => return Err(reply.error()),
                Err(e) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Provider) => e,
                Err(e) => return Err(e),
            };
        tracing::warn!(component = COMPONENT, tag, name = %spec.name, error = %original,
            "droplet create outcome unknown; reconciling by name and tag");
        let mut poll = Poll::new(self.policy(), self.policy().total_timeout);
        for lookup in 1..=RECONCILE_LOOKUPS {
            match self.list_droplets(tag).await {
                Ok(list) => {
                    if let Some(m) = list.into_iter().filter(live).max_by_key(|m| m.id.parse::<u64>().unwrap_or(0)) {
                        tracing::info!(component = COMPONENT, tag, id = %m.id, "droplet create reconciled");
                        return Ok(m);
                    }
                }
                Err(e) => tracing::warn!(component = COMPONENT, tag, error = %e, "reconciliation lookup failed"),
            }
            if lookup < RECONCILE_LOOKUPS && !poll.pause().await {
                break;
            }
        }
        Err(original)
    }

    /// Destroys the droplet `id` of `tag`: `DELETE /v2/droplets/{id}` (`droplets/droplets_destroy.yml`,
    /// 204). An absent droplet (or a 404 on delete) is success.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for another tenant's droplet; DigitalOcean errors otherwise.
    pub async fn destroy_droplet(&self, tag: &str, id: &str) -> Result<()> {
        let Some(n) = droplet_id(id) else { return Ok(()) };
        match self.fetch_droplet(n).await? {
            None => return Ok(()),
            Some((d, _)) if !tagged(&d, tag) => return Err(not_found(id)),
            Some(_) => {}
        }
        let url = self.url(&["droplets", id])?;
        let reply = self.send("destroy droplet", Method::DELETE, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() { Ok(()) } else { reply.done() }
    }

    /// Powers the droplet on (`power_on` action) unless it is already `active`, and waits for
    /// the action within the policy's total timeout.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] as [`DoClient::tenant_droplet`]; action errors.
    pub async fn start_droplet(&self, tag: &str, id: &str) -> Result<()> {
        let (d, _) = self.tenant_droplet(tag, id).await?;
        if d.status == "active" {
            return Ok(());
        }
        let budget = self.policy().total_timeout;
        self.run_action(d.id, &ActionRequest::plain("power_on"), Idempotency::Idempotent, budget).await.map(drop)
    }

    /// Stops the droplet unless it is already `off`: a graceful `shutdown` (the OS stops
    /// cleanly, so no data is lost), and a hard `power_off` only when DigitalOcean reports the
    /// shutdown `errored` (the OS did not respond). Each action is waited for within the
    /// policy's total timeout.
    pub(crate) async fn power_down(&self, droplet_id: u64) -> Result<()> {
        let budget = self.policy().total_timeout;
        let shutdown = self.post_action(droplet_id, &ActionRequest::plain("shutdown"), Idempotency::Idempotent).await?;
        let done = self.poll_action(shutdown, budget).await?;
        if done.status == "completed" {
            return Ok(());
        }
        tracing::warn!(component = COMPONENT, droplet_id, "shutdown errored; powering off");
        self.run_action(droplet_id, &ActionRequest::plain("power_off"), Idempotency::Idempotent, budget).await.map(drop)
    }

    /// Stops the droplet (see the crate docs: `shutdown`, then `power_off` if it errored).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] as [`DoClient::tenant_droplet`]; action errors.
    pub async fn stop_droplet(&self, tag: &str, id: &str) -> Result<()> {
        let (d, _) = self.tenant_droplet(tag, id).await?;
        if d.status == "off" {
            return Ok(());
        }
        self.power_down(d.id).await
    }

    /// Reboots the droplet (`reboot` action, sent once: a second reboot is a second reboot) and
    /// waits for it within the policy's total timeout.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] as [`DoClient::tenant_droplet`]; action errors.
    pub async fn reboot_droplet(&self, tag: &str, id: &str) -> Result<()> {
        let (d, _) = self.tenant_droplet(tag, id).await?;
        let budget = self.policy().total_timeout;
        self.run_action(d.id, &ActionRequest::plain("reboot"), Idempotency::NotIdempotent, budget).await.map(drop)
    }

    /// Polls `GET /v2/droplets/{id}` until the droplet is in `state` or `timeout` passes. A 404
    /// while waiting for [`MachineState::Destroyed`] is success.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] as [`DoClient::tenant_droplet`]; [`ErrorKind::Timeout`] naming
    /// the last state seen.
    pub async fn wait_droplet(&self, tag: &str, id: &str, state: &MachineState, timeout: Duration) -> Result<Machine> {
        let n = droplet_id(id).ok_or_else(|| not_found(id))?;
        let mut poll = Poll::new(self.policy(), timeout);
        let mut last: Option<Machine> = None;
        loop {
            match self.fetch_droplet(n).await {
                Ok(Some((d, m))) if tagged(&d, tag) => {
                    if m.state == *state {
                        return Ok(m);
                    }
                    last = Some(m);
                }
                Ok(Some(_)) => return Err(not_found(id)),
                Ok(None) if *state == MachineState::Destroyed => {
                    let gone = last.unwrap_or_else(|| Machine {
                        id: id.to_owned(),
                        name: String::new(),
                        state: MachineState::Destroyed,
                        region: String::new(),
                        size: None,
                        public_ips: vec![],
                        private_ip: None,
                        created_at: None,
                        raw: Value::Null,
                    });
                    return Ok(Machine { state: MachineState::Destroyed, ..gone });
                }
                Ok(None) => return Err(not_found(id)),
                Err(e) if e.is_temporary() => {
                    tracing::debug!(component = COMPONENT, id, error = %e, "droplet poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
            if !poll.pause().await {
                let seen = last.map_or_else(|| "unknown".to_owned(), |m| format!("{:?}", m.state));
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("droplet {id} did not reach {state:?} within {timeout:?}; last state {seen}"),
                )
                .with_component(COMPONENT));
            }
        }
    }

    /// Resizes the droplet to the size slug in `size` without growing its disk (`resize`
    /// action with `disk: false`, so the resize can be undone). A resize needs the droplet off:
    /// an `active` droplet is shut down first ([`DoClient::stop_droplet`]'s rules) and powered
    /// on again afterwards. Each action is waited for within the policy's total timeout.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a size that is not a slug; [`ErrorKind::NotFound`] as
    /// [`DoClient::tenant_droplet`]; action errors.
    pub async fn resize_droplet(&self, tag: &str, id: &str, size: &MachineSize) -> Result<Machine> {
        let slug = match size {
            MachineSize::Plan(slug) if is_size_slug(slug) => slug.clone(),
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "size must be a DigitalOcean size slug like s-2vcpu-4gb",
                )
                .with_component(COMPONENT));
            }
        };
        let (d, m) = self.tenant_droplet(tag, id).await?;
        if d.size_slug == slug {
            return Ok(m);
        }
        let was_on = d.status == "active";
        if was_on {
            self.power_down(d.id).await?;
        }
        let budget = self.policy().total_timeout;
        let resize = ActionRequest { kind: "resize", name: None, size: Some(slug), disk: Some(false) };
        self.run_action(d.id, &resize, Idempotency::NotIdempotent, budget).await?;
        if was_on {
            self.run_action(d.id, &ActionRequest::plain("power_on"), Idempotency::Idempotent, budget).await?;
        }
        Ok(self.tenant_droplet(tag, id).await?.1)
    }
}

#[async_trait]
impl Machines for DoProvider {
    fn check(&self, spec: &MachineSpec) -> Result<()> {
        check_machine(&self.offering, spec)
    }

    async fn create(&self, tenant: &Tenant, spec: &MachineSpec) -> Result<Machine> {
        self.check(spec)?;
        self.client.create_droplet(&self.tag(tenant)?, spec, self.offering.region_for(spec)).await
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Machine> {
        Ok(self.client.tenant_droplet(&self.tag(tenant)?, id).await?.1)
    }

    async fn list(&self, tenant: &Tenant) -> Result<Vec<Machine>> {
        self.client.list_droplets(&self.tag(tenant)?).await
    }

    async fn start(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.start_droplet(&self.tag(tenant)?, id).await
    }

    async fn stop(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.stop_droplet(&self.tag(tenant)?, id).await
    }

    async fn reboot(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.reboot_droplet(&self.tag(tenant)?, id).await
    }

    async fn destroy(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.destroy_droplet(&self.tag(tenant)?, id).await
    }

    async fn wait(&self, tenant: &Tenant, id: &str, state: &MachineState, timeout: Duration) -> Result<Machine> {
        self.client.wait_droplet(&self.tag(tenant)?, id, state, timeout).await
    }
}

#[async_trait]
impl MachineResize for DoProvider {
    async fn resize(&self, tenant: &Tenant, id: &str, size: &MachineSize) -> Result<Machine> {
        self.client.resize_droplet(&self.tag(tenant)?, id, size).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn droplet_ids_are_positive_integers() {
        assert_eq!(droplet_id("3164444"), Some(3_164_444));
        for bad in ["", "0", "-1", "+1", "12a", "../1", "1.5", "99999999999999999999999"] {
            assert_eq!(droplet_id(bad), None, "{bad}");
        }
    }
}
