//! Droplet snapshots as [`Snapshots`]: taken with the droplet `snapshot` action, read through
//! `/v2/snapshots` (`snapshots/snapshots_list.yml`, `snapshots_get.yml`, `snapshots_delete.yml`).
//!
//! DigitalOcean's snapshot objects have a `tags` list, but the `snapshot` action cannot set it
//! (tagging the snapshot image afterwards through `/v2/tags/{tag}/resources` would be a second
//! call that can fail and leave a snapshot no tenant owns), so the adapter scopes snapshots by
//! **name**, which the action sets atomically: it names every snapshot `<tag>:<name>` and
//! lists, gets and deletes only snapshots with the tenant's prefix. Another tenant's snapshot
//! is [`ErrorKind::NotFound`].

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use compute_core::http::Idempotency;
use compute_core::provider::{Snapshot, SnapshotSpec, Snapshots, Tenant};
use compute_core::{Error, ErrorKind, Result};
use http::Method;
use serde_json::Value;

use crate::client::{DoClient, decode};
use crate::convert::snapshot;
use crate::tenancy::name_prefix;
use crate::types::{ActionRequest, DoSnapshot};
use crate::{COMPONENT, DoProvider};

/// Longest snapshot name a caller may give (the tenant prefix is added to it).
pub const MAX_SNAPSHOT_NAME_LEN: usize = 180;

fn not_found(id: &str) -> Error {
    Error::new(ErrorKind::NotFound, format!("snapshot {id} not found")).with_component(COMPONENT)
}

/// A droplet snapshot id: a positive integer (volume snapshots, with UUID ids, are never a
/// tenant's here).
fn snapshot_id(id: &str) -> Option<&str> {
    (!id.is_empty()
        && id.len() <= 20
        && id.bytes().all(|b| b.is_ascii_digit())
        && id.parse::<u64>().is_ok_and(|n| n > 0))
    .then_some(id)
}

impl DoClient {
    /// `GET /v2/snapshots/{id}`; `None` on 404.
    async fn fetch_snapshot(&self, id: &str) -> Result<Option<DoSnapshot>> {
        let url = self.url(&["snapshots", id])?;
        let reply = self.send("get snapshot", Method::GET, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() {
            return Ok(None);
        }
        let v: Value = reply.json()?;
        decode("get snapshot", v.get("snapshot").cloned().unwrap_or(Value::Null)).map(Some)
    }

    /// The snapshot `id` if it is one of `tag`'s (named `<tag>:…`).
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`], with the same message, when it is absent, another tenant's, or
    /// not a droplet snapshot id; DigitalOcean errors otherwise.
    pub async fn tenant_snapshot(&self, tag: &str, id: &str) -> Result<DoSnapshot> {
        let n = snapshot_id(id).ok_or_else(|| not_found(id))?;
        match self.fetch_snapshot(n).await? {
            Some(s) if s.name.starts_with(&name_prefix(tag)) => Ok(s),
            _ => Err(not_found(id)),
        }
    }

    /// The tenant's droplet snapshots: `GET /v2/snapshots?resource_type=droplet`, every page,
    /// filtered by the `<tag>:` name prefix.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn list_tenant_snapshots(&self, tag: &str) -> Result<Vec<DoSnapshot>> {
        let values =
            self.list_values("list snapshots", &["snapshots"], &[("resource_type", "droplet")], "snapshots").await?;
        let prefix = name_prefix(tag);
        let mut out = Vec::new();
        for v in values {
            let s: DoSnapshot = decode("list snapshots", v)?;
            if s.name.starts_with(&prefix) {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Takes a snapshot of the tenant's droplet `spec.source_id` named `<tag>:<name>` (the
    /// name defaults to `<droplet name>-<unix seconds>`): the `snapshot` action
    /// (`droplets/dropletActions_post.yml`, sent once), polled within `timeout`, then the new
    /// snapshot found in `GET /v2/droplets/{id}/snapshots` (`droplets/droplets_list_snapshots.yml`)
    /// by name among the ids the droplet did not have before.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a name that is empty, longer than
    /// [`MAX_SNAPSHOT_NAME_LEN`] or has control characters; [`ErrorKind::NotFound`] for a
    /// droplet that is not the tenant's; [`ErrorKind::Timeout`] when the snapshot is still
    /// being taken after `timeout` (it then appears in the tenant's list once done);
    /// [`ErrorKind::Provider`] when the action errored.
    pub async fn snapshot_droplet(&self, tag: &str, spec: &SnapshotSpec, timeout: Duration) -> Result<Snapshot> {
        if let Some(name) = &spec.name
            && (name.trim().is_empty() || name.len() > MAX_SNAPSHOT_NAME_LEN || name.chars().any(char::is_control))
        {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("snapshot name must be 1–{MAX_SNAPSHOT_NAME_LEN} characters without control characters"),
            )
            .with_component(COMPONENT));
        }
        let (d, _) = self.tenant_droplet(tag, &spec.source_id).await?;
        let short = spec.name.clone().unwrap_or_else(|| format!("{}-{}", d.name, Utc::now().timestamp()));
        let full = format!("{}{short}", name_prefix(tag));
        let body = ActionRequest { kind: "snapshot", name: Some(full.clone()), size: None, disk: None };
        let action = self.post_action(d.id, &body, Idempotency::NotIdempotent).await?;
        self.wait_action(action, timeout).await.map_err(|e| {
            e.with_context(format!("snapshot {short:?} of droplet {}: once taken it is listed for the tenant", d.id))
        })?;
        let id = d.id.to_string();
        let listed =
            self.list_values("list droplet snapshots", &["droplets", &id, "snapshots"], &[], "snapshots").await?;
        let mut found: Option<DoSnapshot> = None;
        for v in listed {
            let s: DoSnapshot = decode("list droplet snapshots", v)?;
            let new = s.id.parse::<u64>().is_ok_and(|n| !d.snapshot_ids.contains(&n));
            let newer = found.as_ref().is_none_or(|f| f.id.parse::<u64>().unwrap_or(0) < s.id.parse().unwrap_or(0));
            if s.name == full && new && newer {
                found = Some(s);
            }
        }
        let s = found.ok_or_else(|| {
            Error::new(
                ErrorKind::Provider,
                format!("snapshot of droplet {id} completed but DigitalOcean does not list a snapshot named {full:?}"),
            )
            .with_temporary(true)
            .with_component(COMPONENT)
        })?;
        Ok(snapshot(&s, &name_prefix(tag), &id))
    }

    /// Deletes the tenant's snapshot `id`: `DELETE /v2/snapshots/{id}` (204). An absent
    /// snapshot (or a 404 on delete) is success.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] for another tenant's snapshot; DigitalOcean errors otherwise.
    pub async fn delete_tenant_snapshot(&self, tag: &str, id: &str) -> Result<()> {
        let Some(n) = snapshot_id(id) else { return Ok(()) };
        match self.fetch_snapshot(n).await? {
            None => return Ok(()),
            Some(s) if !s.name.starts_with(&name_prefix(tag)) => return Err(not_found(id)),
            Some(_) => {}
        }
        let url = self.url(&["snapshots", n])?;
        let reply = self.send("delete snapshot", Method::DELETE, url, Idempotency::Idempotent).await?;
        if reply.is_not_found() { Ok(()) } else { reply.done() }
    }
}

#[async_trait]
impl Snapshots for DoProvider {
    async fn create_snapshot(&self, tenant: &Tenant, spec: &SnapshotSpec) -> Result<Snapshot> {
        self.client.snapshot_droplet(&self.tag(tenant)?, spec, self.snapshot_timeout).await
    }

    async fn get_snapshot(&self, tenant: &Tenant, id: &str) -> Result<Snapshot> {
        let tag = self.tag(tenant)?;
        let s = self.client.tenant_snapshot(&tag, id).await?;
        Ok(snapshot(&s, &name_prefix(&tag), ""))
    }

    async fn list_snapshots(&self, tenant: &Tenant) -> Result<Vec<Snapshot>> {
        let tag = self.tag(tenant)?;
        let prefix = name_prefix(&tag);
        Ok(self.client.list_tenant_snapshots(&tag).await?.iter().map(|s| snapshot(s, &prefix, "")).collect())
    }

    /// Deletes one of the tenant's snapshots; deleting an absent one is not an error.
    async fn delete_snapshot(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.delete_tenant_snapshot(&self.tag(tenant)?, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ids_are_numeric() {
        assert_eq!(snapshot_id("6372321"), Some("6372321"));
        for bad in ["", "0", "fbe805e8-866b-11e6-96bf-000f53315a41", "1/2", "..", "123456789012345678901"] {
            assert_eq!(snapshot_id(bad), None, "{bad}");
        }
    }
}
