//! Load-test hooks: seeding many started machines at once, and the log of stop calls with
//! their arrival times (the expiry benchmark of `cargo xtask bench` seeds 100k machines and
//! reads when each one was stopped).

use axum::body::Bytes;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::machines::check_config;
use super::world::{App, MAX_RECORDED_STOPS, Machine, StopCall, World};
use super::{ApiError, ApiResult, FakeState, ok_json, parse_body, query};

/// Most machines one `seed-machines` call creates.
const MAX_SEED: usize = 100_000;

/// `POST /__fake/seed-machines` body.
#[derive(Debug, Deserialize)]
struct Seed {
    app: String,
    count: usize,
    #[serde(default = "default_org")]
    org_slug: String,
    #[serde(default = "default_image")]
    image: String,
}

fn default_org() -> String {
    "fake".to_owned()
}

fn default_image() -> String {
    "nginx".to_owned()
}

/// `POST /__fake/seed-machines {app, count, org_slug?, image?}`: `count` started machines in
/// `app` (created when missing), as many `POST …/machines` would leave them; `{app, ids}`.
pub(crate) async fn hook_seed_machines(State(s): State<FakeState>, body: Bytes) -> ApiResult {
    let req: Seed = parse_body(&body)?;
    if req.app.is_empty() {
        return Err(ApiError::bad_request("app is required"));
    }
    if !(1..=MAX_SEED).contains(&req.count) {
        return Err(ApiError::bad_request(format!("count must be 1 to {MAX_SEED}")));
    }
    let config = check_config(Some(json!({"image": req.image})))?;
    let region = s.config().default_region.clone();
    let ids = s.write(|w| {
        let World { apps, ids, .. } = w;
        let app = apps
            .entry(req.app.clone())
            .or_insert_with(|| App::new(req.app.clone(), req.org_slug.clone(), ids.app_number()));
        let mut created = Vec::with_capacity(req.count);
        for _ in 0..req.count {
            let id = ids.machine();
            let mut m = Machine::new(app, ids, id.clone(), format!("machine-{id}"), region.clone(), config.clone());
            let generation = m.begin(ids, "launch", "created", "started", "start");
            m.finish(ids, generation);
            app.machines.push(m);
            created.push(id);
        }
        created
    });
    ok_json(json!({"app": req.app, "ids": ids}))
}

/// `GET /__fake/stops[?since=N]`: `{total, stops}`, the recorded stop calls from the `N`th on.
pub(crate) async fn hook_stops(State(s): State<FakeState>, Query(q): Query<Vec<(String, String)>>) -> ApiResult {
    let since = match query(&q, "since") {
        Some(n) => n.parse::<usize>().map_err(|_| ApiError::bad_request("since must be a count"))?,
        None => 0,
    };
    s.read(|w| {
        let stops: Vec<Value> =
            w.stops.iter().skip(since).map(|c| json!({"app": c.app, "machine": c.machine, "at_ms": c.at_ms})).collect();
        ok_json(json!({"total": w.stops.len(), "stops": stops}))
    })
}

/// Records a stop call on `app`/`machine` that arrived at `at_ms` (Unix milliseconds).
pub(crate) fn record_stop(s: &FakeState, app: &str, machine: &str, at_ms: i64) {
    s.write(|w| {
        if w.stops.len() < MAX_RECORDED_STOPS {
            w.stops.push(StopCall { app: app.to_owned(), machine: machine.to_owned(), at_ms });
        }
    });
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::world::now_ms;
    use crate::fly_fake::{FakeConfig, RunningFake, spawn};

    async fn call(fake: &RunningFake, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", fake.url())).bearer_auth("tok");
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn seeded_machines_are_started_and_stops_are_logged_with_their_time() {
        let fake = spawn(FakeConfig::new("tok")).await.unwrap();
        let (status, seeded) =
            call(&fake, "POST", "/__fake/seed-machines", Some(json!({"app": "cg-t1", "count": 3}))).await;
        assert_eq!(status, 200, "{seeded}");
        let ids: Vec<String> =
            seeded["ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 3);
        let (_, listed) = call(&fake, "GET", "/v1/apps/cg-t1/machines", None).await;
        let states: Vec<&str> = listed.as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["started"; 3]);

        let before = now_ms();
        for id in [&ids[0], &ids[1], &ids[1]] {
            let (status, _) = call(&fake, "POST", &format!("/v1/apps/cg-t1/machines/{id}/stop"), None).await;
            assert_eq!(status, 200);
        }
        let (status, _) = call(&fake, "POST", "/v1/apps/cg-t1/machines/00000000000000/stop", None).await;
        assert_eq!(status, 404, "a stop of an unknown machine is not recorded");
        let (_, started) = call(&fake, "POST", &format!("/v1/apps/cg-t1/machines/{}/start", ids[2]), None).await;
        assert_eq!(started["previous_state"], "started", "other actions are not stops");
        let after = now_ms();

        let (_, log) = call(&fake, "GET", "/__fake/stops", None).await;
        assert_eq!(log["total"], 3);
        let stops = log["stops"].as_array().unwrap();
        let machines: Vec<&str> = stops.iter().map(|s| s["machine"].as_str().unwrap()).collect();
        assert_eq!(machines, [ids[0].as_str(), ids[1].as_str(), ids[1].as_str()]);
        for s in stops {
            assert_eq!(s["app"], "cg-t1");
            let at = s["at_ms"].as_i64().unwrap();
            assert!((before..=after).contains(&at), "{at} not within {before}..={after}");
        }
        let (_, tail) = call(&fake, "GET", "/__fake/stops?since=2", None).await;
        assert_eq!((tail["total"].as_u64(), tail["stops"].as_array().unwrap().len()), (Some(3), 1));

        call(&fake, "POST", "/__fake/reset", None).await;
        let (_, log) = call(&fake, "GET", "/__fake/stops", None).await;
        assert_eq!(log["total"], 0);
    }

    #[tokio::test]
    async fn seeding_refuses_bad_counts() {
        let fake = spawn(FakeConfig::new("tok")).await.unwrap();
        for count in [0, 100_001] {
            let (status, _) =
                call(&fake, "POST", "/__fake/seed-machines", Some(json!({"app": "a", "count": count}))).await;
            assert_eq!(status, 400, "count {count}");
        }
        let (status, _) = call(&fake, "GET", "/__fake/stops?since=x", None).await;
        assert_eq!(status, 400);
    }
}
