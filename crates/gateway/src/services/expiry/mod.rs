//! The expiry worker: enforces paid time on any provider. Its schedule is the database
//! (`resources.paid_until`), so it survives restarts. It runs every `[expiry] interval_ms`
//! (default 500 ms), and each pass runs these sweeps:
//!
//! 1. machines `running` or `suspended` past their paid time are **stopped**;
//! 2. on a provider whose stopped machines bill like running ones
//!    ([`compute_core::provider::Catalog::stopped_machines_billed`], e.g. DigitalOcean), machines
//!    past their paid time — running, suspended or stopped by their owner — are **retired**
//!    instead: snapshot, then destroy ([`crate::services::snapshots::retire`]), and the
//!    snapshot is kept for the retention;
//! 3. machines `stopped` past their paid time plus the grace period (`[expiry] grace_hours`)
//!    are **destroyed** (a stopped machine still bills its root filesystem);
//! 4. volumes and dedicated IPs past their paid time plus the grace period are **deleted** or
//!    **released**;
//! 5. snapshots past their retention (`paid_until`) are **deleted**.
//!
//! Stops and removals claim a batch of due rows at once, earliest first, by moving them to
//! their new state in one statement ([`compute_store::Store::claim_due`]): replicas on one
//! PostgreSQL database claim disjoint rows (`FOR UPDATE SKIP LOCKED`), and an owner who renewed
//! before the claim keeps the row. The batch's provider calls then run `[expiry] concurrency`
//! at a time. A stop that raced a renewal is undone by starting the machine again. One row's
//! error gives the row back, is logged, and never ends the pass; the row then waits (5 s,
//! doubling up to 5 min, [`retries`]) before it is tried again. A backlog is drained batch by
//! batch within [`PASS_BUDGET`].
//!
//! A crash between a claim and its provider calls leaves at most one batch ([`BATCH`] rows)
//! recorded stopped while still running at the provider, until the grace-period sweep
//! destroys them.

mod act;
pub mod retries;

use std::time::{Duration, Instant};

use chrono::Utc;
use compute_core::Result;
use compute_core::provider::ProviderId;
use compute_store::{Claim, DueCursor, DueQuery, ResourceKind, ResourceRecord, ResourceState};
use futures::StreamExt;

use self::act::Action;
use crate::state::AppState;

/// Rows claimed (or, for retiring, read) at once.
pub const BATCH: u64 = 128;

/// Longest one pass keeps claiming batches; what is left is the next pass's.
pub const PASS_BUDGET: Duration = Duration::from_secs(30);

/// Which enabled providers a sweep covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Every,
    Retiring,
    NotRetiring,
}

/// One sweep: which rows are due, and what is done to them.
struct Sweep {
    kinds: &'static [ResourceKind],
    states: &'static [ResourceState],
    /// Due only once the grace period after `paid_until` is over.
    after_grace: bool,
    action: Action,
    scope: Scope,
}

const SWEEPS: [Sweep; 5] = [
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Running, ResourceState::Suspended],
        after_grace: false,
        action: Action::Stop,
        scope: Scope::NotRetiring,
    },
    // A machine its owner powered off still bills where stopped machines bill: it is retired
    // when its paid time ends, like a running one.
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Running, ResourceState::Suspended, ResourceState::Stopped],
        after_grace: false,
        action: Action::Retire,
        scope: Scope::Retiring,
    },
    Sweep {
        kinds: &[ResourceKind::Machine],
        states: &[ResourceState::Stopped],
        after_grace: true,
        action: Action::Remove,
        scope: Scope::Every,
    },
    Sweep {
        kinds: &[ResourceKind::Volume, ResourceKind::Ip],
        states: &[ResourceState::Active],
        after_grace: true,
        action: Action::Remove,
        scope: Scope::Every,
    },
    Sweep {
        kinds: &[ResourceKind::Snapshot],
        states: &[ResourceState::Active],
        after_grace: false,
        action: Action::Remove,
        scope: Scope::Every,
    },
];

/// What one pass did.
#[derive(Debug, Default)]
struct Tally {
    handled: usize,
    max_lag: Duration,
}

impl Tally {
    /// Counts a row acted on, `due` being when it became due.
    fn acted(&mut self, due: Option<chrono::DateTime<Utc>>) {
        self.handled += 1;
        let lag = due.and_then(|d| (Utc::now() - d).to_std().ok()).unwrap_or_default();
        self.max_lag = self.max_lag.max(lag);
    }
}

/// One pass over every sweep; returns how many resources were stopped, retired or removed.
///
/// # Errors
/// A database error claiming or reading a batch (errors acting on one row are logged, the row
/// is given back and waits before it is retried).
pub async fn run_once(state: &AppState) -> Result<usize> {
    let started = Instant::now();
    let now = Utc::now();
    let grace = state.config().expiry.grace();
    let (mut retiring, mut others) = (Vec::new(), Vec::new());
    for handle in state.providers().values() {
        if act::retires(state, handle).await { &mut retiring } else { &mut others }.push(handle.id());
    }
    let every: Vec<ProviderId> = state.providers().keys().copied().collect();
    let mut tally = Tally::default();
    for sweep in &SWEEPS {
        let providers = match sweep.scope {
            Scope::Every => &every,
            Scope::Retiring => &retiring,
            Scope::NotRetiring => &others,
        };
        if providers.is_empty() {
            continue; // An empty list would mean every provider.
        }
        let at = if sweep.after_grace { now - grace } else { now };
        let due = DueQuery { kinds: sweep.kinds, states: sweep.states, at, providers };
        let offset = if sweep.after_grace { grace } else { chrono::Duration::zero() };
        match sweep.action.claimed_state() {
            Some(to) => claim_and_act(state, sweep.action, &due, to, offset, started, &mut tally).await?,
            None => retire_all(state, &due, started, &mut tally).await?,
        }
    }
    state.metrics().worker_lag("expiry", tally.max_lag);
    Ok(tally.handled)
}

/// Claims the rows of `due` batch by batch, moving them to `to`, and acts on each batch's rows
/// concurrently. `offset` is how long after `paid_until` a row becomes due.
async fn claim_and_act(
    state: &AppState,
    action: Action,
    due: &DueQuery<'_>,
    to: ResourceState,
    offset: chrono::Duration,
    started: Instant,
    tally: &mut Tally,
) -> Result<()> {
    let retries = state.expiry_retries();
    let skip = retries.waiting(Instant::now());
    let mut cursor = None;
    loop {
        let claim = Claim { due: *due, to, after: cursor.as_ref(), skip: &skip, limit: BATCH };
        let batch = state.store().claim_due(&claim).await?;
        let outcomes = concurrently(state, batch.iter().map(|r| act::claimed(state, action, to, r)).collect()).await;
        let mut stopped = Vec::new();
        for (r, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(()) => {
                    retries.succeeded(&r.id);
                    tally.acted(r.paid_until.map(|t| t + offset));
                    stopped.push(r);
                }
                Err(e) => failed(state, r, action, &e),
            }
        }
        if action == Action::Stop {
            act::restart_renewed(state, &stopped).await?;
        }
        if batch.len() < BATCH as usize || started.elapsed() > PASS_BUDGET {
            return Ok(());
        }
        cursor = batch.last().and_then(DueCursor::after);
    }
}

/// Retires the rows of `due` page by page (each retirement claims its own row).
async fn retire_all(state: &AppState, due: &DueQuery<'_>, started: Instant, tally: &mut Tally) -> Result<()> {
    let retries = state.expiry_retries();
    let mut cursor = None;
    loop {
        let page = state.store().resources_due(due, cursor.as_ref(), BATCH).await?;
        let now = Instant::now();
        let ready: Vec<ResourceRecord> = page.iter().filter(|r| !retries.is_waiting(&r.id, now)).cloned().collect();
        let outcomes = concurrently(state, ready.iter().map(|r| act::retire(state, r)).collect()).await;
        for (r, outcome) in ready.iter().zip(outcomes) {
            match outcome {
                Ok(true) => {
                    retries.succeeded(&r.id);
                    tally.acted(r.paid_until);
                }
                Ok(false) => {}
                Err(e) => failed(state, r, Action::Retire, &e),
            }
        }
        if page.len() < BATCH as usize || started.elapsed() > PASS_BUDGET {
            return Ok(());
        }
        cursor = page.last().and_then(DueCursor::after);
    }
}

/// Runs `calls`, `[expiry] concurrency` at a time; their outcomes in order.
async fn concurrently<F: std::future::Future>(state: &AppState, calls: Vec<F>) -> Vec<F::Output> {
    let width = state.config().expiry.concurrency.max(1);
    futures::stream::iter(calls).buffered(width).collect().await
}

/// Logs a row's failure; the row waits before it is tried again.
fn failed(state: &AppState, r: &ResourceRecord, action: Action, e: &compute_core::Error) {
    state.expiry_retries().failed(&r.id, Instant::now());
    tracing::warn!(
        resource = %r.id, kind = r.kind.as_str(), ?action, error = %e,
        "expiry could not act on a due resource; it is retried after a wait"
    );
}
