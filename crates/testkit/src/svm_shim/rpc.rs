//! The JSON-RPC 2.0 methods of the shim, in the shapes of Solana's RPC (`{context, value}`
//! wrappers, base64 account data, `-32002` for a failed preflight).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use super::chain::{Chain, Failure};

/// The `apiVersion` the shim reports.
const API_VERSION: &str = "2.2.0";
/// Solana devnet's genesis hash (the shim stands in for devnet).
const DEVNET_GENESIS: &str = "EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG";

/// A JSON-RPC error object.
#[derive(Debug)]
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    pub(crate) data: Option<Value>,
}

fn invalid_params(message: impl Into<String>) -> RpcError {
    RpcError { code: -32602, message: message.into(), data: None }
}

/// The methods the shim answers (the rest are `-32601`).
pub const METHODS: &[&str] = &[
    "getAccountInfo",
    "getMultipleAccounts",
    "getBalance",
    "getTokenAccountBalance",
    "getLatestBlockhash",
    "isBlockhashValid",
    "getBlockHeight",
    "getSlot",
    "getMinimumBalanceForRentExemption",
    "simulateTransaction",
    "sendTransaction",
    "getSignatureStatuses",
    "getHealth",
    "getVersion",
    "getGenesisHash",
];

/// Answers one call.
pub(crate) fn call(chain: &mut Chain, method: &str, params: &Value) -> Result<Value, RpcError> {
    let ctx = |value: Value, chain: &Chain| json!({"context": {"slot": chain.slot(), "apiVersion": API_VERSION}, "value": value});
    match method {
        "getAccountInfo" => {
            check_encoding(params.get(1))?;
            let key = pubkey(params.get(0))?;
            Ok(ctx(account_json(chain, &key), chain))
        }
        "getMultipleAccounts" => {
            check_encoding(params.get(1))?;
            let keys =
                params.get(0).and_then(Value::as_array).ok_or_else(|| invalid_params("expected an array of keys"))?;
            let values =
                keys.iter().map(|k| pubkey(Some(k)).map(|k| account_json(chain, &k))).collect::<Result<Vec<_>, _>>()?;
            Ok(ctx(Value::Array(values), chain))
        }
        "getBalance" => {
            let key = pubkey(params.get(0))?;
            Ok(ctx(json!(chain.balance(&key)), chain))
        }
        "getTokenAccountBalance" => {
            let key = pubkey(params.get(0))?;
            let account =
                chain.token_account(&key).ok_or_else(|| invalid_params("Invalid param: could not find account"))?;
            let (_, decimals) = chain.mint();
            let amount = account.amount.to_string();
            Ok(ctx(
                json!({"amount": amount, "decimals": decimals, "uiAmount": null, "uiAmountString": ui_amount(account.amount, decimals)}),
                chain,
            ))
        }
        "getLatestBlockhash" => {
            let (hash, last_valid) = chain.latest_blockhash();
            Ok(ctx(json!({"blockhash": hash.to_string(), "lastValidBlockHeight": last_valid}), chain))
        }
        "isBlockhashValid" => {
            let hash: Hash = string(params.get(0))?.parse().map_err(|_| invalid_params("invalid blockhash"))?;
            Ok(ctx(json!(chain.is_blockhash_valid(&hash)), chain))
        }
        "getBlockHeight" | "getSlot" => Ok(json!(chain.slot())),
        "getMinimumBalanceForRentExemption" => {
            let len = params.get(0).and_then(Value::as_u64).ok_or_else(|| invalid_params("expected a data length"))?;
            let len = usize::try_from(len).map_err(|_| invalid_params("data length too large"))?;
            Ok(json!(chain.rent_exempt(len)))
        }
        "simulateTransaction" => {
            let tx = transaction(params)?;
            let config = params.get(1).cloned().unwrap_or(Value::Null);
            if config.get("replaceRecentBlockhash").and_then(Value::as_bool) == Some(true) {
                return Err(invalid_params("replaceRecentBlockhash is not supported by the shim"));
            }
            let value = match chain.simulate(&tx) {
                Ok((units, logs)) => {
                    json!({"err": null, "logs": logs, "accounts": null, "unitsConsumed": units, "returnData": null})
                }
                Err(f) => {
                    json!({"err": error_json(&f.err), "logs": f.logs, "accounts": null, "unitsConsumed": 0, "returnData": null})
                }
            };
            Ok(ctx(value, chain))
        }
        "sendTransaction" => {
            let tx = transaction(params)?;
            let skip = params.get(1).and_then(|c| c.get("skipPreflight")).and_then(Value::as_bool).unwrap_or(false);
            match chain.send(tx, skip) {
                Ok(sig) => Ok(json!(sig.to_string())),
                Err(f) => Err(preflight_error(&f)),
            }
        }
        "getSignatureStatuses" => {
            let sigs = params
                .get(0)
                .and_then(Value::as_array)
                .ok_or_else(|| invalid_params("expected an array of signatures"))?;
            let values = sigs
                .iter()
                .map(|s| {
                    let sig: Signature = string(Some(s))?.parse().map_err(|_| invalid_params("invalid signature"))?;
                    Ok(chain.status(&sig).map_or(Value::Null, |l| {
                        let err = l.err.as_ref().map_or(Value::Null, error_json);
                        let status = if err.is_null() { json!({"Ok": null}) } else { json!({"Err": err}) };
                        json!({"slot": l.slot, "confirmations": null, "err": err, "status": status, "confirmationStatus": "finalized"})
                    }))
                })
                .collect::<Result<Vec<_>, RpcError>>()?;
            Ok(ctx(Value::Array(values), chain))
        }
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({"solana-core": API_VERSION, "feature-set": 0})),
        "getGenesisHash" => Ok(json!(DEVNET_GENESIS)),
        other => Err(RpcError { code: -32601, message: format!("Method not found: {other}"), data: None }),
    }
}

/// Account data is served base64 (what every client here asks for).
fn check_encoding(config: Option<&Value>) -> Result<(), RpcError> {
    match config.and_then(|c| c.get("encoding")).and_then(Value::as_str) {
        None | Some("base64") => Ok(()),
        Some(other) => Err(invalid_params(format!("encoding {other:?} is not supported by the shim (use base64)"))),
    }
}

fn account_json(chain: &Chain, key: &Pubkey) -> Value {
    chain.account(key).map_or(Value::Null, |a| {
        json!({
            "data": [STANDARD.encode(&a.data), "base64"],
            "executable": a.executable,
            "lamports": a.lamports,
            "owner": a.owner.to_string(),
            "rentEpoch": 0,
            "space": a.data.len(),
        })
    })
}

fn string(v: Option<&Value>) -> Result<&str, RpcError> {
    v.and_then(Value::as_str).ok_or_else(|| invalid_params("expected a string parameter"))
}

fn pubkey(v: Option<&Value>) -> Result<Pubkey, RpcError> {
    string(v)?.parse().map_err(|_| invalid_params("Invalid param: Invalid"))
}

/// `params[0]`: a base64 wire transaction (`encoding` must be base64).
fn transaction(params: &Value) -> Result<VersionedTransaction, RpcError> {
    match params.get(1).and_then(|c| c.get("encoding")).and_then(Value::as_str) {
        Some("base64") => {}
        _ => return Err(invalid_params("the shim takes transactions with encoding base64 only")),
    }
    let bytes = STANDARD.decode(string(params.get(0))?).map_err(|_| invalid_params("invalid base64 transaction"))?;
    wincode::deserialize_exact::<VersionedTransaction>(&bytes)
        .map_err(|_| invalid_params("failed to deserialize VersionedTransaction"))
}

/// A transaction error as Solana's RPC writes it (`"BlockhashNotFound"`,
/// `{"InstructionError":[2,{"Custom":1}]}`).
pub(crate) fn error_json(err: &TransactionError) -> Value {
    serde_json::to_value(err).unwrap_or_else(|_| Value::String(format!("{err:?}")))
}

fn preflight_error(f: &Failure) -> RpcError {
    RpcError {
        code: -32002,
        message: format!("Transaction simulation failed: {}", f.err),
        data: Some(json!({"err": error_json(&f.err), "logs": f.logs, "accounts": null, "unitsConsumed": 0})),
    }
}

/// `amount` with `decimals` as a decimal string, e.g. `1000` at 6 → `0.001`.
fn ui_amount(amount: u64, decimals: u8) -> String {
    let s = format!("{amount:0>width$}", width = usize::from(decimals) + 1);
    let (int, frac) = s.split_at(s.len() - usize::from(decimals));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { int.to_owned() } else { format!("{int}.{frac}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_amounts_are_exact_decimal_strings() {
        assert_eq!(ui_amount(1000, 6), "0.001");
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(0, 6), "0");
        assert_eq!(ui_amount(7, 0), "7");
    }

    #[test]
    fn errors_serialise_like_the_rpc() {
        assert_eq!(error_json(&TransactionError::BlockhashNotFound), json!("BlockhashNotFound"));
        assert_eq!(error_json(&TransactionError::AlreadyProcessed), json!("AlreadyProcessed"));
    }
}
