//! A Solana JSON-RPC shim over LiteSVM (`litesvm =0.16.0`): enough of the RPC for the x402
//! `exact` SVM clients (@x402/svm 2.27, PyPI x402 2.25) to build payments and for
//! `compute_pay_solana::SolanaRail` to verify and settle them, offline on 127.0.0.1.
//!
//! Run it in-process with [`spawn`], or as the `svm-shim` binary, and point the clients'
//! `rpcUrl` and the rail's `rpc_url` at it. `POST /` takes JSON-RPC 2.0 (single or batch) for
//! the methods in [`rpc::METHODS`]. The chain holds a mint at the devnet USDC address (6
//! decimals, SPL Token), verifies signatures and accepts only the latest blockhash; every
//! executed transaction gets its own slot and is at once `finalized`.
//!
//! Test hooks (no authentication: loopback test double):
//! - `POST /__shim/fund {owner, amount}`: creates `owner`'s USDC associated token account if
//!   needed and mints `amount` base units to it (0 only creates it) → `{ata, balance}`;
//! - `POST /__shim/airdrop {pubkey, lamports}` → `{balance}`;
//! - `POST /__shim/expire-blockhash`: a new blockhash, the old one invalid → `{blockhash}`;
//! - `POST /__shim/hold {on}`: while on, `sendTransaction` accepts transactions without
//!   executing them (status unknown); `POST /__shim/release` executes them, `POST
//!   /__shim/drop-held` discards them → `{count}`;
//! - `GET /__shim/balances/{owner}` → `{lamports, ata, token}` (`token` null without an ATA);
//! - `GET /__shim/state` → `{mint, decimals, blockhash, slot, landed, held}`.

mod chain;
pub mod payment;
pub mod rpc;

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use solana_pubkey::Pubkey;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use chain::{BLOCKHASH_VALIDITY_BLOCKS, Chain, ChainConfig, Failure, Landed};

/// The devnet USDC mint, where the shim puts its mint by default.
pub const DEVNET_USDC: &str = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

/// The shim's shared state: cheap to clone.
#[derive(Clone)]
pub struct ShimState {
    chain: Arc<Mutex<Chain>>,
    log_requests: bool,
}

impl std::fmt::Debug for ShimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShimState").finish_non_exhaustive()
    }
}

impl ShimState {
    /// A fresh chain.
    pub fn new(config: ChainConfig) -> Self {
        ShimState { chain: Arc::new(Mutex::new(Chain::new(config))), log_requests: false }
    }

    /// Logs every JSON-RPC method called to stderr (the binary does unless `--quiet`).
    pub fn with_request_log(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// Runs `f` on the chain (tests read balances and change state this way).
    pub fn with_chain<R>(&self, f: impl FnOnce(&mut Chain) -> R) -> R {
        f(&mut self.chain.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The JSON-RPC endpoint and the test hooks.
pub fn router(state: ShimState) -> Router {
    Router::new()
        .route("/", post(json_rpc))
        .route("/__shim/fund", post(hook_fund))
        .route("/__shim/airdrop", post(hook_airdrop))
        .route("/__shim/expire-blockhash", post(hook_expire))
        .route("/__shim/hold", post(hook_hold))
        .route("/__shim/release", post(hook_release))
        .route("/__shim/drop-held", post(hook_drop_held))
        .route("/__shim/balances/{owner}", get(hook_balances))
        .route("/__shim/state", get(hook_state))
        .with_state(state)
}

fn rpc_answer(state: &ShimState, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32600, "message": "Invalid request"}});
    };
    let params = request.get("params").cloned().unwrap_or_else(|| json!([]));
    if state.log_requests {
        eprintln!("svm-shim: {method}");
    }
    match state.with_chain(|c| rpc::call(c, method, &params)) {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => {
            let mut error = json!({"code": e.code, "message": e.message});
            if let Some(data) = e.data {
                error["data"] = data;
            }
            json!({"jsonrpc": "2.0", "id": id, "error": error})
        }
    }
}

async fn json_rpc(State(state): State<ShimState>, body: Bytes) -> Json<Value> {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return Json(json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}));
    };
    Json(match &request {
        Value::Array(batch) => Value::Array(batch.iter().map(|r| rpc_answer(&state, r)).collect()),
        single => rpc_answer(&state, single),
    })
}

/// A refused hook call: 400 `{error}`.
struct BadRequest(String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, Json(json!({"error": self.0}))).into_response()
    }
}

fn bad_request(msg: impl Into<String>) -> BadRequest {
    BadRequest(msg.into())
}

fn parse_key(s: &str) -> Result<Pubkey, BadRequest> {
    s.parse().map_err(|_| bad_request(format!("{s:?} is not a base58 public key")))
}

/// An amount as a JSON number or a decimal string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Number(u64),
    Text(String),
}

impl Amount {
    fn value(&self) -> Result<u64, BadRequest> {
        match self {
            Amount::Number(n) => Ok(*n),
            Amount::Text(s) => s.parse().map_err(|_| bad_request(format!("{s:?} is not a u64"))),
        }
    }
}

#[derive(Deserialize)]
struct Fund {
    owner: String,
    amount: Amount,
}

async fn hook_fund(State(state): State<ShimState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let run = || -> Result<Value, BadRequest> {
        let f: Fund = serde_json::from_slice(&body).map_err(|e| bad_request(format!("invalid body: {e}")))?;
        let owner = parse_key(&f.owner)?;
        let amount = f.amount.value()?;
        let (ata, balance) = state.with_chain(|c| c.fund(&owner, amount)).map_err(bad_request)?;
        Ok(json!({"ata": ata.to_string(), "balance": balance.to_string()}))
    };
    run().map(Json)
}

#[derive(Deserialize)]
struct Airdrop {
    pubkey: String,
    lamports: Amount,
}

async fn hook_airdrop(State(state): State<ShimState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let run = || -> Result<Value, BadRequest> {
        let a: Airdrop = serde_json::from_slice(&body).map_err(|e| bad_request(format!("invalid body: {e}")))?;
        let key = parse_key(&a.pubkey)?;
        let lamports = a.lamports.value()?;
        let balance = state.with_chain(|c| c.airdrop(&key, lamports)).map_err(bad_request)?;
        Ok(json!({"balance": balance}))
    };
    run().map(Json)
}

async fn hook_expire(State(state): State<ShimState>) -> Json<Value> {
    let hash = state.with_chain(Chain::expire_blockhash);
    Json(json!({"blockhash": hash.to_string()}))
}

#[derive(Deserialize)]
struct Hold {
    on: bool,
}

async fn hook_hold(State(state): State<ShimState>, body: Bytes) -> Result<Json<Value>, BadRequest> {
    let h: Hold = serde_json::from_slice(&body).map_err(|e| bad_request(format!("invalid body: {e}")))?;
    state.with_chain(|c| c.set_hold(h.on));
    Ok(Json(json!({"hold": h.on})))
}

async fn hook_release(State(state): State<ShimState>) -> Json<Value> {
    Json(json!({"count": state.with_chain(Chain::release)}))
}

async fn hook_drop_held(State(state): State<ShimState>) -> Json<Value> {
    Json(json!({"count": state.with_chain(Chain::drop_held)}))
}

async fn hook_balances(State(state): State<ShimState>, Path(owner): Path<String>) -> Result<Json<Value>, BadRequest> {
    let owner = parse_key(&owner)?;
    let (lamports, ata, token) = state.with_chain(|c| (c.balance(&owner), c.ata(&owner), c.token_balance(&owner)));
    Ok(Json(json!({"lamports": lamports, "ata": ata.to_string(), "token": token.map(|t| t.to_string())})))
}

async fn hook_state(State(state): State<ShimState>) -> Json<Value> {
    Json(state.with_chain(|c| {
        let (mint, decimals) = c.mint();
        json!({
            "mint": mint.to_string(), "decimals": decimals, "blockhash": c.latest_blockhash().0.to_string(),
            "slot": c.slot(), "landed": c.landed(), "held": c.held(),
        })
    }))
}

/// Serves `state` on `listener` until `shutdown` completes.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve_with(
    listener: TcpListener,
    state: ShimState,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    tokio::select! {
        r = axum::serve(listener, router(state)).into_future() => r,
        () = shutdown => Ok(()),
    }
}

/// A shim running in a background task of the current runtime; dropping it stops it.
#[derive(Debug)]
pub struct RunningShim {
    addr: SocketAddr,
    state: ShimState,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningShim {
    /// `http://127.0.0.1:PORT`: the RPC URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shim's state (to fund accounts or read balances directly).
    pub fn state(&self) -> &ShimState {
        &self.state
    }
}

impl Drop for RunningShim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a shim with a fresh chain on `127.0.0.1:0` in the current runtime.
///
/// # Errors
/// When the listener cannot bind.
pub async fn spawn(config: ChainConfig) -> std::io::Result<RunningShim> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = ShimState::new(config);
    let task = tokio::spawn(serve_with(listener, state.clone(), std::future::pending()));
    Ok(RunningShim { addr, state, task })
}
