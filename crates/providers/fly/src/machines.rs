//! Machines: create (reconciled by name), list, get, start, stop, restart, suspend, destroy,
//! wait (looping over Fly's 60 s long-poll), events, exec, ps and resize.

use std::time::Duration;

use async_trait::async_trait;
use compute_core::http::Idempotency;
use compute_core::provider::{
    ExecRequest, ExecResult, Machine, MachineEvent, MachineEvents, MachineExec, MachineResize, MachineSize,
    MachineSpec, MachineState, MachineSuspend, Machines, Tenant,
};
use compute_core::{Error, ErrorKind, Result};
use http::{Method, StatusCode};
use tokio::time::Instant;

use crate::client::FlyClient;
use crate::convert::{create_request, event_from_value, guest_for_size, machine_from_value, wait_state};
use crate::types::{ExecBody, ExecResponse, FlyMachine, WaitResponse};
use crate::{COMPONENT, FlyProvider};

/// Fly's limit for one `wait` call.
pub const MAX_WAIT_PER_CALL: Duration = Duration::from_secs(60);

/// Most events Fly returns at once.
pub const MAX_EVENTS: u32 = 50;

fn err(kind: ErrorKind, msg: impl Into<String>) -> Error {
    Error::new(kind, msg).with_component(COMPONENT)
}

/// What one `wait` call said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The state was reached.
    Reached(WaitResponse),
    /// Fly's long-poll ended first (HTTP 408).
    TimedOut,
}

impl FlyClient {
    async fn machine_value(&self, app: &str, id: &str) -> Result<(FlyMachine, Machine)> {
        let url = self.url(&["apps", app, "machines", id])?;
        let reply = self.send("get machine", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        machine_from_value(reply.json()?)
    }

    /// `GET /v1/apps/{app}/machines/{id}`; [`ErrorKind::NotFound`] when absent.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn get_machine(&self, app: &str, id: &str) -> Result<Machine> {
        Ok(self.machine_value(app, id).await?.1)
    }

    /// `GET /v1/apps/{app}/machines`.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn list_machines(&self, app: &str) -> Result<Vec<Machine>> {
        let url = self.url(&["apps", app, "machines"])?;
        let reply = self.send("list machines", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        let values: Vec<serde_json::Value> = reply.json()?;
        values.into_iter().map(|v| machine_from_value(v).map(|(_, m)| m)).collect()
    }

    /// `POST /v1/apps/{app}/machines` for `spec`, sent **once**. When the outcome is unknown
    /// (a timeout, a broken connection or a 5xx other than a capacity refusal), the app's
    /// machines are listed and a live machine with the spec's name (and labels) is returned;
    /// otherwise the original error is.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for a spec Fly cannot take; Fly errors mapped by
    /// [`crate::parse_error`] (`insufficient_capacity` is [`ErrorKind::Unavailable`]).
    pub async fn create_machine(&self, app: &str, spec: &MachineSpec) -> Result<Machine> {
        let body = create_request(spec)?;
        let url = self.url(&["apps", app, "machines"])?;
        let original = match self
            .send("create machine", Method::POST, url, Some(&body), Idempotency::NotIdempotent, false)
            .await
        {
            Ok(reply) if reply.is_success() => return Ok(machine_from_value(reply.json()?)?.1),
            Ok(reply) => {
                let capacity = matches!(
                    reply.fly_status().as_deref(),
                    Some("insufficient_capacity" | "volume_placement_capacity")
                );
                let e = reply.error();
                if !reply.status.is_server_error() || capacity {
                    return Err(e);
                }
                e
            }
            Err(e) if matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Provider) => e,
            Err(e) => return Err(e),
        };
        tracing::warn!(component = COMPONENT, app, name = %spec.name, error = %original, "machine create outcome unknown; reconciling by name");
        match self.list_machines(app).await {
            Ok(machines) => {
                let found = machines.into_iter().find(|m| {
                    m.name == spec.name
                        && !matches!(m.state, MachineState::Destroying | MachineState::Destroyed)
                        && spec.labels.iter().all(|(k, v)| {
                            m.raw
                                .get("config")
                                .and_then(|c| c.get("metadata"))
                                .and_then(|md| md.get(k))
                                .and_then(|x| x.as_str())
                                == Some(v.as_str())
                        })
                });
                match found {
                    Some(m) => {
                        tracing::info!(component = COMPONENT, app, id = %m.id, "machine create reconciled");
                        Ok(m)
                    }
                    None => Err(original),
                }
            }
            Err(lookup) => {
                tracing::warn!(component = COMPONENT, app, error = %lookup, "reconciliation lookup failed");
                Err(original)
            }
        }
    }

    async fn machine_action(
        &self,
        op: &'static str,
        app: &str,
        id: &str,
        action: &str,
        idempotency: Idempotency,
    ) -> Result<()> {
        let url = self.url(&["apps", app, "machines", id, action])?;
        self.send(op, Method::POST, url, None, idempotency, false).await?.done()
    }

    /// `POST …/{id}/start` (also resumes a suspended machine).
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn start_machine(&self, app: &str, id: &str) -> Result<()> {
        self.machine_action("start machine", app, id, "start", Idempotency::Idempotent).await
    }

    /// `POST …/{id}/stop`.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn stop_machine(&self, app: &str, id: &str) -> Result<()> {
        self.machine_action("stop machine", app, id, "stop", Idempotency::Idempotent).await
    }

    /// `POST …/{id}/restart` (not retried on 5xx: a second restart is a second restart).
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn restart_machine(&self, app: &str, id: &str) -> Result<()> {
        self.machine_action("restart machine", app, id, "restart", Idempotency::NotIdempotent).await
    }

    /// `POST …/{id}/suspend`.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn suspend_machine(&self, app: &str, id: &str) -> Result<()> {
        self.machine_action("suspend machine", app, id, "suspend", Idempotency::Idempotent).await
    }

    /// `DELETE …/{id}?force=true`; an absent machine is not an error.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn destroy_machine(&self, app: &str, id: &str) -> Result<()> {
        let url = self.url_query(&["apps", app, "machines", id], &[("force", "true")])?;
        let reply = self.send("destroy machine", Method::DELETE, url, None, Idempotency::Idempotent, false).await?;
        if reply.status == StatusCode::NOT_FOUND { Ok(()) } else { reply.done() }
    }

    /// One `GET …/{id}/wait?state=…&timeout=…[&version=…]` call (`timeout_secs` is capped at 60).
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`], except 408, which is
    /// [`WaitOutcome::TimedOut`].
    pub async fn wait_machine_once(
        &self,
        app: &str,
        id: &str,
        state: &str,
        timeout_secs: u64,
        version: Option<&str>,
    ) -> Result<WaitOutcome> {
        let timeout = timeout_secs.clamp(1, MAX_WAIT_PER_CALL.as_secs()).to_string();
        let mut query = vec![("state", state), ("timeout", timeout.as_str())];
        if let Some(v) = version {
            query.push(("version", v));
        }
        let url = self.url_query(&["apps", app, "machines", id, "wait"], &query)?;
        let reply = self.send("wait for machine", Method::GET, url, None, Idempotency::Idempotent, true).await?;
        if reply.status == StatusCode::REQUEST_TIMEOUT {
            return Ok(WaitOutcome::TimedOut);
        }
        let body: serde_json::Value = reply.value()?;
        Ok(WaitOutcome::Reached(serde_json::from_value(body).unwrap_or_default()))
    }

    /// Waits until the machine is in `state` or `timeout` passes, calling Fly's `wait` as often
    /// as needed (each call at most 60 s, 408 answers and temporary errors looped over). For
    /// `stopped` it waits on the machine's current version, as Fly's docs require. Returns the
    /// machine as it is afterwards.
    ///
    /// # Errors
    /// [`ErrorKind::Timeout`] when `timeout` passes; [`ErrorKind::InvalidInput`] for a state
    /// Fly cannot wait for; permanent Fly errors as they come.
    pub async fn wait_machine(&self, app: &str, id: &str, state: &MachineState, timeout: Duration) -> Result<Machine> {
        let target = wait_state(state)?;
        let deadline = Instant::now() + timeout;
        let (fly, current) = self.machine_value(app, id).await?;
        if current.state == *state {
            return Ok(current);
        }
        let version = if target == "stopped" { fly.version_id().map(str::to_owned) } else { None };
        let mut backoff = self.policy().initial_backoff;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(err(ErrorKind::Timeout, format!("machine {id} did not reach {target} within {timeout:?}")));
            }
            let secs = u64::try_from(remaining.min(MAX_WAIT_PER_CALL).as_millis().div_ceil(1000)).unwrap_or(60);
            let started = Instant::now();
            let pause = match self.wait_machine_once(app, id, target, secs, version.as_deref()).await {
                Ok(WaitOutcome::Reached(_)) => break,
                // A 408 well before the requested timeout would make this loop spin: slow down.
                Ok(WaitOutcome::TimedOut) => started.elapsed() < Duration::from_secs(secs) / 2,
                Err(e) if e.is_temporary() => {
                    tracing::debug!(component = COMPONENT, id, error = %e, "wait call failed; trying again");
                    true
                }
                Err(e) => return Err(e),
            };
            if pause {
                let left = deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(backoff.min(left)).await;
                backoff = backoff.saturating_mul(2).min(self.policy().max_backoff);
            }
        }
        match self.get_machine(app, id).await {
            Err(e) if e.kind() == ErrorKind::NotFound && *state == MachineState::Destroyed => {
                Ok(Machine { state: MachineState::Destroyed, ..current })
            }
            other => other,
        }
    }

    /// `GET …/{id}/events?limit=…`: at most `limit` (≤ 50) events, newest first.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn machine_events(&self, app: &str, id: &str, limit: u32) -> Result<Vec<MachineEvent>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = limit.min(MAX_EVENTS);
        let n = limit.to_string();
        let url = self.url_query(&["apps", app, "machines", id, "events"], &[("limit", n.as_str())])?;
        let reply = self.send("machine events", Method::GET, url, None, Idempotency::Idempotent, false).await?;
        let values: Vec<serde_json::Value> = reply.json()?;
        let mut events = values.into_iter().map(event_from_value).collect::<Result<Vec<_>>>()?;
        events.sort_by_key(|e| std::cmp::Reverse(e.timestamp));
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(events)
    }

    /// `POST …/{id}/exec` with `{command, timeout, stdin?}`; sent once, never retried.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an empty command or a timeout outside 1–60 s; Fly errors
    /// mapped by [`crate::parse_error`].
    pub async fn exec_machine(&self, app: &str, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        if request.command.is_empty() || request.command[0].is_empty() {
            return Err(err(ErrorKind::InvalidInput, "exec needs a command"));
        }
        if !(1..=60).contains(&request.timeout_secs) {
            return Err(err(
                ErrorKind::InvalidInput,
                format!("exec timeout must be 1–60 s, not {}", request.timeout_secs),
            ));
        }
        let body =
            ExecBody { command: request.command.clone(), timeout: request.timeout_secs, stdin: request.stdin.clone() };
        let url = self.url(&["apps", app, "machines", id, "exec"])?;
        let reply = self.send("exec", Method::POST, url, Some(&body), Idempotency::NotIdempotent, true).await?;
        let r: ExecResponse = reply.json()?;
        Ok(ExecResult {
            exit_code: r.exit_code,
            exit_signal: r.exit_signal.filter(|s| *s != 0),
            stdout: r.stdout.unwrap_or_default(),
            stderr: r.stderr.unwrap_or_default(),
        })
    }

    /// `GET …/{id}/ps`: the process list as Fly returns it.
    ///
    /// # Errors
    /// Fly errors mapped by [`crate::parse_error`].
    pub async fn machine_processes(&self, app: &str, id: &str) -> Result<serde_json::Value> {
        let url = self.url(&["apps", app, "machines", id, "ps"])?;
        self.send("machine ps", Method::GET, url, None, Idempotency::Idempotent, false).await?.value()
    }

    /// Resizes a machine: reads its full config, changes only `guest.cpu_kind`, `guest.cpus` and
    /// `guest.memory_mb`, and sends the whole config back (`POST …/{id}`; Fly replaces the VM).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an invalid size; [`ErrorKind::Unavailable`] when Fly
    /// cannot report the machine's full config (its host is unreachable); Fly errors mapped by
    /// [`crate::parse_error`].
    pub async fn resize_machine(&self, app: &str, id: &str, size: &MachineSize) -> Result<Machine> {
        let guest = guest_for_size(size)?;
        let (fly, _) = self.machine_value(app, id).await?;
        let Some(mut config) = fly.config.filter(serde_json::Value::is_object) else {
            return Err(err(
                ErrorKind::Unavailable,
                format!("Fly reports no full config for machine {id}; try again later"),
            ));
        };
        let entry = config
            .as_object_mut()
            .map(|c| c.entry("guest").or_insert_with(|| serde_json::json!({})))
            .ok_or_else(|| err(ErrorKind::Internal, "config is not an object"))?;
        if !entry.is_object() {
            *entry = serde_json::json!({});
        }
        if let Some(g) = entry.as_object_mut() {
            g.insert("cpu_kind".into(), guest.cpu_kind.into());
            g.insert("cpus".into(), guest.cpus.into());
            g.insert("memory_mb".into(), guest.memory_mb.into());
        }
        let url = self.url(&["apps", app, "machines", id])?;
        let body = serde_json::json!({ "config": config });
        let reply = self.send("update machine", Method::POST, url, Some(&body), Idempotency::Idempotent, false).await?;
        Ok(machine_from_value(reply.json()?)?.1)
    }
}

#[async_trait]
impl Machines for FlyProvider {
    fn check(&self, spec: &MachineSpec) -> Result<()> {
        crate::check::check_machine(&self.offering, spec)
    }

    async fn create(&self, tenant: &Tenant, spec: &MachineSpec) -> Result<Machine> {
        self.client.create_machine(&self.client.app_name(tenant)?, spec).await
    }

    async fn get(&self, tenant: &Tenant, id: &str) -> Result<Machine> {
        self.client.get_machine(&self.client.app_name(tenant)?, id).await
    }

    async fn list(&self, tenant: &Tenant) -> Result<Vec<Machine>> {
        self.client.list_machines(&self.client.app_name(tenant)?).await
    }

    async fn start(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.start_machine(&self.client.app_name(tenant)?, id).await
    }

    async fn stop(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.stop_machine(&self.client.app_name(tenant)?, id).await
    }

    async fn reboot(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.restart_machine(&self.client.app_name(tenant)?, id).await
    }

    async fn destroy(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.destroy_machine(&self.client.app_name(tenant)?, id).await
    }

    async fn wait(&self, tenant: &Tenant, id: &str, state: &MachineState, timeout: Duration) -> Result<Machine> {
        self.client.wait_machine(&self.client.app_name(tenant)?, id, state, timeout).await
    }
}

#[async_trait]
impl MachineExec for FlyProvider {
    async fn exec(&self, tenant: &Tenant, id: &str, request: &ExecRequest) -> Result<ExecResult> {
        self.client.exec_machine(&self.client.app_name(tenant)?, id, request).await
    }

    async fn processes(&self, tenant: &Tenant, id: &str) -> Result<serde_json::Value> {
        self.client.machine_processes(&self.client.app_name(tenant)?, id).await
    }
}

#[async_trait]
impl MachineEvents for FlyProvider {
    async fn events(&self, tenant: &Tenant, id: &str, limit: u32) -> Result<Vec<MachineEvent>> {
        self.client.machine_events(&self.client.app_name(tenant)?, id, limit).await
    }
}

#[async_trait]
impl MachineSuspend for FlyProvider {
    async fn suspend(&self, tenant: &Tenant, id: &str) -> Result<()> {
        self.client.suspend_machine(&self.client.app_name(tenant)?, id).await
    }
}

#[async_trait]
impl MachineResize for FlyProvider {
    async fn resize(&self, tenant: &Tenant, id: &str, size: &MachineSize) -> Result<Machine> {
        self.client.resize_machine(&self.client.app_name(tenant)?, id, size).await
    }
}
