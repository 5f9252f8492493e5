//! Droplet actions (`POST /v2/droplets/{id}/actions`, `droplets/dropletActions_post.yml`) and
//! polling them (`GET /v2/actions/{id}`, `actions/actions_get.yml`) until they complete.

use std::time::Duration;

use compute_core::http::{Idempotency, RetryPolicy};
use compute_core::{Error, ErrorKind, Result};
use http::Method;
use serde_json::Value;
use tokio::time::Instant;

use crate::COMPONENT;
use crate::client::{DoClient, decode};
use crate::types::{Action, ActionRequest};

/// Longest pause between two polls of an action or a droplet.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Pauses between polls: the policy's initial backoff, doubling up to `max_backoff` (at most
/// [`MAX_POLL_INTERVAL`]), never past a deadline. Never a hot loop.
pub(crate) struct Poll {
    delay: Duration,
    max: Duration,
    deadline: Instant,
}

impl Poll {
    pub(crate) fn new(policy: &RetryPolicy, budget: Duration) -> Self {
        let max = policy.max_backoff.min(MAX_POLL_INTERVAL).max(Duration::from_millis(10));
        let delay = policy.initial_backoff.clamp(Duration::from_millis(10), max);
        Poll { delay, max, deadline: Instant::now() + budget }
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Sleeps until the next poll; `false` when the deadline has passed.
    pub(crate) async fn pause(&mut self) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        tokio::time::sleep(self.delay.min(left)).await;
        self.delay = self.delay.saturating_mul(2).min(self.max);
        true
    }
}

/// The operation name used in errors for an action type.
fn op_name(kind: &str) -> &'static str {
    match kind {
        "power_on" => "power on droplet",
        "power_off" => "power off droplet",
        "shutdown" => "shut down droplet",
        "reboot" => "reboot droplet",
        "resize" => "resize droplet",
        "snapshot" => "snapshot droplet",
        _ => "droplet action",
    }
}

impl DoClient {
    /// `POST /v2/droplets/{id}/actions` with `body`; answers `201 {action}`.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`] (a locked droplet's "pending
    /// event" is [`ErrorKind::Conflict`]).
    pub async fn post_action(&self, droplet_id: u64, body: &ActionRequest, idempotency: Idempotency) -> Result<Action> {
        let op = op_name(body.kind);
        let url = self.url(&["droplets", &droplet_id.to_string(), "actions"])?;
        let v: Value = self.send_json(op, Method::POST, url, body, idempotency).await?.json()?;
        decode(op, v.get("action").cloned().unwrap_or(Value::Null))
    }

    /// `GET /v2/actions/{id}`.
    ///
    /// # Errors
    /// DigitalOcean errors mapped by [`crate::parse_error`].
    pub async fn get_action(&self, action_id: u64) -> Result<Action> {
        let url = self.url(&["actions", &action_id.to_string()])?;
        let v: Value = self.send("get action", Method::GET, url, Idempotency::Idempotent).await?.json()?;
        decode("get action", v.get("action").cloned().unwrap_or(Value::Null))
    }

    /// Polls `action` until it is `completed` or `errored`, within `budget`, and returns it as
    /// it is then.
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] (temporary) when it is still running after `budget`; errors of the
    /// polls other than temporary ones (which are polled over).
    pub async fn poll_action(&self, action: Action, budget: Duration) -> Result<Action> {
        let mut poll = Poll::new(self.policy(), budget);
        let mut current = action;
        loop {
            if matches!(current.status.as_str(), "completed" | "errored") {
                return Ok(current);
            }
            if !poll.pause().await {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{}: DigitalOcean action {} ({}) is still {} after {budget:?}",
                        op_name(&current.kind),
                        current.id,
                        current.kind,
                        current.status
                    ),
                )
                .with_component(COMPONENT));
            }
            match self.get_action(current.id).await {
                Ok(a) => current = a,
                Err(e) if e.is_temporary() && !poll.expired() => {
                    tracing::debug!(component = COMPONENT, action = current.id, error = %e, "action poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Polls `action` until it is `completed`, within `budget`.
    ///
    /// # Errors
    /// [`ErrorKind::Provider`] when the action is `errored`; as [`DoClient::poll_action`].
    pub async fn wait_action(&self, action: Action, budget: Duration) -> Result<Action> {
        let done = self.poll_action(action, budget).await?;
        if done.status == "completed" {
            return Ok(done);
        }
        Err(Error::new(
            ErrorKind::Provider,
            format!("{}: DigitalOcean action {} ({}) errored", op_name(&done.kind), done.id, done.kind),
        )
        .with_component(COMPONENT))
    }

    /// Posts an action and waits for it to complete within `budget`.
    ///
    /// # Errors
    /// As [`DoClient::post_action`] and [`DoClient::wait_action`].
    pub async fn run_action(
        &self,
        droplet_id: u64,
        body: &ActionRequest,
        idempotency: Idempotency,
        budget: Duration,
    ) -> Result<Action> {
        let started = Instant::now();
        let action = self.post_action(droplet_id, body, idempotency).await?;
        self.wait_action(action, budget.saturating_sub(started.elapsed())).await
    }
}
