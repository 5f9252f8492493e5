//! A small Solana JSON-RPC 2.0 client over reqwest (rustls): the methods the rail needs.
//! Messages never carry the RPC URL (it often embeds an API key): transport errors are
//! described by their class only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::{Error, ErrorKind};
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;

use crate::COMPONENT;

/// Why a JSON-RPC request failed.
#[derive(Debug)]
pub(crate) enum RpcFailure {
    /// The node answered with a JSON-RPC error object.
    Node {
        /// JSON-RPC error code (e.g. -32002 for a failed preflight simulation).
        code: i64,
        /// The node's message.
        message: String,
        /// The error's `data` (for -32002, the simulation result with `err` and `logs`).
        data: Value,
    },
    /// No usable answer. `maybe_sent`: the request may have reached the node (it was not a
    /// connection failure or a 4xx refusal).
    Transport {
        /// What happened, without the URL.
        detail: String,
        /// Whether the node may have processed the request.
        maybe_sent: bool,
    },
}

impl RpcFailure {
    /// A temporary [`ErrorKind::Unavailable`] for a failed `method`, tagged with `reason`.
    pub(crate) fn unavailable(&self, method: &str, reason: &str) -> Error {
        let detail = match self {
            RpcFailure::Node { code, message, .. } => format!("node answered {code}: {message}"),
            RpcFailure::Transport { detail, .. } => detail.clone(),
        };
        Error::new(ErrorKind::Unavailable, format!("Solana RPC {method} failed: {detail}"))
            .with_reason(reason)
            .with_component(COMPONENT)
    }
}

/// An account as `getAccountInfo` / `getMultipleAccounts` return it (base64 data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RpcAccount {
    /// The program that owns it.
    pub(crate) owner: Pubkey,
    /// Its data.
    pub(crate) data: Vec<u8>,
}

/// A `getSignatureStatuses` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignatureStatus {
    /// The transaction error, `None` when it succeeded.
    pub(crate) err: Option<Value>,
    /// `processed`, `confirmed` or `finalized` (`None` from old nodes: rooted).
    pub(crate) confirmation: Option<String>,
}

impl SignatureStatus {
    /// Confirmed by a supermajority (or finalized).
    pub(crate) fn is_confirmed(&self) -> bool {
        matches!(self.confirmation.as_deref(), Some("confirmed" | "finalized") | None)
    }
}

/// The JSON-RPC client: one URL, one reqwest client with a per-request timeout.
pub(crate) struct RpcClient {
    http: reqwest::Client,
    url: reqwest::Url,
    next_id: AtomicU64,
}

fn malformed(method: &str) -> RpcFailure {
    RpcFailure::Transport { detail: format!("malformed {method} answer"), maybe_sent: true }
}

impl RpcClient {
    /// A client for `url`; nothing is sent.
    pub(crate) fn new(url: reqwest::Url, timeout: Duration) -> Result<Self, Error> {
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(|_| {
            Error::new(ErrorKind::Config, "cannot build the Solana RPC HTTP client").with_component(COMPONENT)
        })?;
        Ok(RpcClient { http, url, next_id: AtomicU64::new(1) })
    }

    /// Calls `method` with `params` and returns its `result`.
    pub(crate) async fn call(&self, method: &str, params: Value) -> Result<Value, RpcFailure> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let response = self.http.post(self.url.clone()).json(&body).send().await.map_err(|e| {
            let detail = if e.is_timeout() {
                "request timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "transport error"
            };
            RpcFailure::Transport { detail: detail.to_owned(), maybe_sent: !e.is_connect() && !e.is_builder() }
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(RpcFailure::Transport {
                detail: format!("HTTP {}", status.as_u16()),
                maybe_sent: status.is_server_error(),
            });
        }
        let answer: Value = response.json().await.map_err(|_| malformed(method))?;
        if let Some(err) = answer.get("error").filter(|e| !e.is_null()) {
            return Err(RpcFailure::Node {
                code: err.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: err.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
                data: err.get("data").cloned().unwrap_or(Value::Null),
            });
        }
        answer.get("result").cloned().ok_or_else(|| malformed(method))
    }

    /// `getMultipleAccounts` (base64, `confirmed`): one entry per key, `None` when absent.
    pub(crate) async fn get_multiple_accounts(&self, keys: &[Pubkey]) -> Result<Vec<Option<RpcAccount>>, RpcFailure> {
        let keys: Vec<String> = keys.iter().map(Pubkey::to_string).collect();
        let n = keys.len();
        let result =
            self.call("getMultipleAccounts", json!([keys, {"encoding": "base64", "commitment": "confirmed"}])).await?;
        let values = result.get("value").and_then(Value::as_array).ok_or_else(|| malformed("getMultipleAccounts"))?;
        if values.len() != n {
            return Err(malformed("getMultipleAccounts"));
        }
        values.iter().map(|v| parse_account(v).ok_or_else(|| malformed("getMultipleAccounts"))).collect()
    }

    /// `getAccountInfo` (base64, `confirmed`), `None` when the account does not exist.
    pub(crate) async fn get_account_info(&self, key: &Pubkey) -> Result<Option<RpcAccount>, RpcFailure> {
        let result = self
            .call("getAccountInfo", json!([key.to_string(), {"encoding": "base64", "commitment": "confirmed"}]))
            .await?;
        parse_account(result.get("value").unwrap_or(&Value::Null)).ok_or_else(|| malformed("getAccountInfo"))
    }

    /// `getBalance` at `confirmed`, in lamports.
    pub(crate) async fn get_balance(&self, key: &Pubkey) -> Result<u64, RpcFailure> {
        let result = self.call("getBalance", json!([key.to_string(), {"commitment": "confirmed"}])).await?;
        result.get("value").and_then(Value::as_u64).ok_or_else(|| malformed("getBalance"))
    }

    /// `isBlockhashValid` at `confirmed`.
    pub(crate) async fn is_blockhash_valid(&self, hash: &Hash) -> Result<bool, RpcFailure> {
        let result = self.call("isBlockhashValid", json!([hash.to_string(), {"commitment": "confirmed"}])).await?;
        result.get("value").and_then(Value::as_bool).ok_or_else(|| malformed("isBlockhashValid"))
    }

    /// `simulateTransaction` of the wire bytes with signature verification, at `confirmed`:
    /// `Ok(None)` when it succeeds, `Ok(Some((err, logs)))` when it fails.
    pub(crate) async fn simulate(&self, wire: &[u8]) -> Result<Option<(Value, Vec<String>)>, RpcFailure> {
        let config = json!({"encoding": "base64", "sigVerify": true, "replaceRecentBlockhash": false, "commitment": "confirmed"});
        let result = self.call("simulateTransaction", json!([STANDARD.encode(wire), config])).await?;
        let value = result.get("value").ok_or_else(|| malformed("simulateTransaction"))?;
        Ok(match value.get("err") {
            None | Some(Value::Null) => None,
            Some(err) => Some((err.clone(), logs(value))),
        })
    }

    /// `sendTransaction` of the wire bytes with preflight at `confirmed`; the signature the
    /// node reports.
    pub(crate) async fn send(&self, wire: &[u8]) -> Result<String, RpcFailure> {
        let config = json!({"encoding": "base64", "skipPreflight": false, "preflightCommitment": "confirmed"});
        let result = self.call("sendTransaction", json!([STANDARD.encode(wire), config])).await?;
        result.as_str().map(str::to_owned).ok_or_else(|| malformed("sendTransaction"))
    }

    /// `getSignatureStatuses` of one signature; `search_history` asks the node to look past
    /// its recent status cache (for replays of old transactions).
    pub(crate) async fn signature_status(
        &self,
        signature: &Signature,
        search_history: bool,
    ) -> Result<Option<SignatureStatus>, RpcFailure> {
        let result = self
            .call(
                "getSignatureStatuses",
                json!([[signature.to_string()], {"searchTransactionHistory": search_history}]),
            )
            .await?;
        let entry = result
            .get("value")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
            .ok_or_else(|| malformed("getSignatureStatuses"))?;
        if entry.is_null() {
            return Ok(None);
        }
        Ok(Some(SignatureStatus {
            err: entry.get("err").filter(|e| !e.is_null()).cloned(),
            confirmation: entry.get("confirmationStatus").and_then(Value::as_str).map(str::to_owned),
        }))
    }
}

/// The `logs` of a simulation result.
pub(crate) fn logs(value: &Value) -> Vec<String> {
    value
        .get("logs")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `Some(None)` for `null`, `Some(Some(account))` for a base64 account, `None` when malformed.
fn parse_account(v: &Value) -> Option<Option<RpcAccount>> {
    if v.is_null() {
        return Some(None);
    }
    let owner = v.get("owner")?.as_str()?.parse().ok()?;
    let data = v.get("data")?.as_array()?;
    if data.get(1).and_then(Value::as_str) != Some("base64") {
        return None;
    }
    let data = STANDARD.decode(data.first()?.as_str()?).ok()?;
    Some(Some(RpcAccount { owner, data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_parse_from_base64_answers() {
        let owner = crate::programs::TOKEN_PROGRAM;
        let v = json!({"data": [STANDARD.encode([1, 2, 3]), "base64"], "owner": owner.to_string(), "lamports": 1, "executable": false, "rentEpoch": 0, "space": 3});
        assert_eq!(parse_account(&v), Some(Some(RpcAccount { owner, data: vec![1, 2, 3] })));
        assert_eq!(parse_account(&Value::Null), Some(None));
        assert_eq!(parse_account(&json!({"data": ["AQID", "base58"], "owner": owner.to_string()})), None);
        let processed = SignatureStatus { err: None, confirmation: Some("processed".into()) };
        assert!(!processed.is_confirmed());
        assert!(SignatureStatus { err: None, confirmation: Some("finalized".into()) }.is_confirmed());
    }

    #[tokio::test]
    async fn transport_errors_never_show_the_url() {
        let url: reqwest::Url = "http://127.0.0.1:9/secret-api-key".parse().unwrap();
        let client = RpcClient::new(url, Duration::from_secs(2)).unwrap();
        let failure = client.call("getHealth", json!([])).await.unwrap_err();
        assert!(matches!(failure, RpcFailure::Transport { maybe_sent: false, .. }), "{failure:?}");
        let e = failure.unavailable("getHealth", "unexpected_verify_error");
        assert!(e.is_temporary());
        assert!(!format!("{e} {e:?}").contains("secret-api-key"), "{e:?}");
    }
}
