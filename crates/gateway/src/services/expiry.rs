//! The expiry worker: enforces paid time on any provider. Its schedule is the database
//! (`resources.paid_until`), so it survives restarts. Each pass runs three sweeps:
//!
//! 1. machines `running` or `suspended` past their paid time are **stopped**;
//! 2. machines `stopped` past their paid time plus the grace period (`[expiry] grace_hours`)
//!    are **destroyed** (a stopped machine still bills its root filesystem);
//! 3. volumes and dedicated IPs past their paid time plus the grace period are **deleted** or
//!    **released**;
//! 4. snapshots past their retention (`paid_until`) are **deleted**.
//!
//! On a provider whose stopped machines bill like running ones
//! ([`compute_core::provider::Catalog::stopped_machines_billed`], e.g. DigitalOcean), sweep 1
//! **retires** the machine instead — snapshot, then destroy
//! ([`crate::services::snapshots::retire`]) — and the snapshot is kept for the retention.
//!
//! Every action first moves the row by compare-and-set on its state and `paid_until`
//! ([`compute_store::Store::transition_resource`]): one replica acts on a row, and an owner who
//! renewed since the row was read wins. A stop that raced a renewal is undone by starting the
//! machine again. One row's error is logged and never ends the pass; a backlog is drained page
//! by page, within [`PASS_BUDGET`].

use std::time::{Duration, Instant};

use chrono::Utc;
use compute_core::provider::{ProviderHandle, ProviderId, Tenant};
use compute_core::{Error, ErrorKind, Result};
use compute_store::{DueCursor, DueQuery, ResourceKind, ResourceRecord, ResourceState, ResourceUpdate};

use crate::state::AppState;

/// Rows read per page.
const PAGE: u64 = 100;

/// Longest one pass keeps reading pages; what is left is the next pass's.
pub const PASS_BUDGET: Duration = Duration::from_secs(30);

/// What a sweep does to a due row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Stop the machine.
    Stop,
    /// Destroy the machine, delete the volume, release the address.
    Remove,
}

/// One sweep: which rows are due, and what is done to them.
struct Sweep {
    kinds: &'static [ResourceKind],
    states: &'static [ResourceState],
    /// Due only once the grace period after `paid_until` is over.
    after_grace: bool,
    action: Action,
    /// Only on providers whose lapsed machines are retired (snapshot, destroy).
    retiring_only: bool,
}

const SWEEPS: [Sweep; 5] = [
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Running, ResourceState::Suspended],
        after_grace: false,
        action: Action::Stop,
        retiring_only: false,
    },
    // A machine its owner powered off still bills where stopped machines bill: it is retired
    // when its paid time ends, like a running one.
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Stopped],
        after_grace: false,
        action: Action::Stop,
        retiring_only: true,
    },
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Stopped],
        after_grace: true,
        action: Action::Remove,
        retiring_only: false,
    },
    Sweep {
        kinds: &[ResourceKind::Volume, ResourceKind::Ip],
        states: &[ResourceState::Active],
        after_grace: true,
        action: Action::Remove,
        retiring_only: false,
    },
    Sweep {
        kinds: &[ResourceKind::Snapshot],
        states: &[ResourceState::Active],
        after_grace: false,
        action: Action::Remove,
        retiring_only: false,
    },
];

/// One pass over every sweep; returns how many resources were stopped or removed.
///
/// # Errors
/// A database error reading a page (errors acting on one row are logged and skipped).
pub async fn run_once(state: &AppState) -> Result<usize> {
    let started = Instant::now();
    let now = Utc::now();
    let grace = state.config().expiry.grace();
    let mut retiring = Vec::new();
    for handle in state.providers().values() {
        if retires(state, handle).await {
            retiring.push(handle.id());
        }
    }
    let mut handled = 0;
    let mut max_lag = std::time::Duration::ZERO;
    for sweep in &SWEEPS {
        if sweep.retiring_only && retiring.is_empty() {
            continue;
        }
        let at = if sweep.after_grace { now - grace } else { now };
        let providers: &[ProviderId] = if sweep.retiring_only { &retiring } else { &[] };
        let query = DueQuery { kinds: sweep.kinds, states: sweep.states, at, providers };
        let mut cursor = None;
        loop {
            let page = state.store().resources_due(&query, cursor.as_ref(), PAGE).await?;
            for r in &page {
                let due = r.paid_until.map(|t| if sweep.after_grace { t + grace } else { t });
                match act(state, sweep.action, r).await {
                    Ok(true) => {
                        handled += 1;
                        let lag = due.and_then(|d| (Utc::now() - d).to_std().ok()).unwrap_or_default();
                        max_lag = max_lag.max(lag);
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(
                        resource = %r.id, kind = r.kind.as_str(), action = ?sweep.action, error = %e,
                        "expiry could not act on a due resource; the next pass retries"
                    ),
                }
            }
            if page.len() < PAGE as usize || started.elapsed() > PASS_BUDGET {
                break;
            }
            cursor = page.last().and_then(DueCursor::after);
        }
    }
    state.metrics().worker_lag("expiry", max_lag);
    Ok(handled)
}

/// Acts on one due row; whether it moved.
async fn act(state: &AppState, action: Action, r: &ResourceRecord) -> Result<bool> {
    let Some(handle) = state.providers().get(&r.provider) else {
        return Ok(false); // The provider is not enabled here; another deployment owns it.
    };
    let tenant = Tenant::new(r.tenant.clone().unwrap_or_default())?;
    let store = state.store();
    if action == Action::Stop && retires(state, handle).await {
        return retire_due(state, handle, r, &tenant).await;
    }
    let to = match action {
        Action::Stop => ResourceState::Stopped,
        Action::Remove => ResourceState::Destroyed,
    };
    // The claim: only the caller whose compare-and-set moves the row acts on it.
    if !store.transition_resource(&r.id, r.paid_until, &[r.state], to).await? {
        return Ok(false);
    }
    let Some(pid) = r.provider_id.as_deref() else {
        return Ok(true); // Nothing at the provider to act on.
    };
    let result = match action {
        Action::Stop => stop(handle, &tenant, pid).await,
        Action::Remove => remove(handle, r.kind, &tenant, pid).await,
    };
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {
            store.update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
        }
        Err(e) => {
            // Give the row back so the next pass retries it.
            store.transition_resource(&r.id, r.paid_until, &[to], r.state).await?;
            return Err(e);
        }
    }
    if action == Action::Stop {
        restart_if_renewed(state, handle, r, &tenant, pid).await?;
    }
    Ok(true)
}

/// Whether lapsed machines of `handle` are retired (snapshot, destroy) rather than stopped.
async fn retires(state: &AppState, handle: &ProviderHandle) -> bool {
    handle.snapshots().is_some() && state.catalogs().get(handle).await.is_ok_and(|c| c.stopped_machines_billed)
}

/// Retires a lapsed machine ([`crate::services::snapshots::retire`] claims the row first).
async fn retire_due(state: &AppState, handle: &ProviderHandle, r: &ResourceRecord, tenant: &Tenant) -> Result<bool> {
    match crate::services::snapshots::retire(state, handle, r, tenant).await {
        Ok(Some((snapshot, _))) => {
            tracing::info!(resource = %r.id, snapshot = %snapshot.id, "lapsed machine snapshotted and destroyed");
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            state.store().update_resource(&r.id, ResourceUpdate::state(ResourceState::Destroyed)).await?;
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// An owner who paid for more time while the machine was being stopped gets it running.
async fn restart_if_renewed(
    state: &AppState,
    handle: &ProviderHandle,
    r: &ResourceRecord,
    tenant: &Tenant,
    pid: &str,
) -> Result<()> {
    let now = state.store().resource(&r.id).await?;
    let renewed = now.paid_until > r.paid_until && now.paid_until.is_some_and(|t| t > Utc::now());
    if renewed && now.state == ResourceState::Running {
        tracing::info!(resource = %r.id, "renewed while being stopped; starting it again");
        machines(handle)?.start(tenant, pid).await?;
    }
    Ok(())
}

async fn stop(handle: &ProviderHandle, tenant: &Tenant, pid: &str) -> Result<()> {
    machines(handle)?.stop(tenant, pid).await
}

async fn remove(handle: &ProviderHandle, kind: ResourceKind, tenant: &Tenant, pid: &str) -> Result<()> {
    match kind {
        ResourceKind::Machine => machines(handle)?.destroy(tenant, pid).await,
        ResourceKind::Volume => missing(handle.volumes(), "volumes")?.delete_volume(tenant, pid).await,
        ResourceKind::Ip => missing(handle.ips(), "ip addresses")?.release_ip(tenant, pid).await,
        ResourceKind::Snapshot => missing(handle.snapshots(), "snapshots")?.delete_snapshot(tenant, pid).await,
        other => Err(Error::new(ErrorKind::Internal, format!("expiry does not remove {}", other.as_str()))),
    }
}

fn machines(handle: &ProviderHandle) -> Result<&std::sync::Arc<dyn compute_core::provider::Machines>> {
    missing(handle.machines(), "machines")
}

fn missing<'a, T: ?Sized>(c: Option<&'a std::sync::Arc<T>>, what: &str) -> Result<&'a std::sync::Arc<T>> {
    c.ok_or_else(|| Error::new(ErrorKind::Unavailable, format!("the provider no longer offers {what}")))
}
