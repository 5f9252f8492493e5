//! `verify-bench`: x402 EIP-3009 verification throughput per core (issue 11 § 4), run by
//! `cargo xtask bench`.
//!
//! ```text
//! verify-bench [--count N] [--concurrency K]
//! ```
//! Signs `N` v2 `PAYMENT-SIGNATURE` payloads beforehand (USDC on Base Sepolia, one payer,
//! distinct nonces), then on **one thread** (a current-thread tokio runtime) runs the
//! gateway's path for each: `compute_pay_x402::decode_header`, `Payment::accepts`, then
//! `Payment::verify` of an [`EvmRail`] built with [`EvmRail::new`], `K` at a time. The rail's
//! chain reads (`balanceOf`, `authorizationState`, the `transferWithAuthorization` simulation)
//! go over HTTP, one JSON-RPC batch per verification, to a loopback JSON-RPC stub on other
//! threads, which stands in for the node; its CPU time is not counted. Also measured on the same thread: the EIP-712 hash and
//! signature recovery alone (the floor of any verification), and that a forged payment (a
//! nonce other than the signed one) is refused for its signature.
//!
//! Prints one JSON line: `{"verifications", "wall_s", "cpu_s", "per_core", "wall_rate",
//! "recover_per_core"}`; `per_core` is verifications per CPU-second of the process's threads
//! other than the stub (from `/proc/self/task/*/schedstat`, Linux only).

// Rates are measurements, not money: floats are right here.
#![allow(clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolCall, SolStruct, SolValue};
use compute_core::Usd;
use compute_core::payment::{Charge, Credential, Offer, Payment};
use compute_pay_evm::{EvmConfig, EvmRail};
use secrecy::SecretString;
use serde_json::{Value, json};

alloy::sol! {
    /// The EIP-712 struct an EIP-3009 payer signs (EIP-3009 `TransferWithAuthorization`).
    struct TransferWithAuthorization {
        address from; address to; uint256 value; uint256 validAfter; uint256 validBefore; bytes32 nonce;
    }

    /// The token reads the rail makes.
    interface Token {
        function balanceOf(address account) external view returns (uint256);
        function authorizationState(address authorizer, bytes32 nonce) external view returns (bool);
    }
}

const USAGE: &str = "usage: verify-bench [--count N] [--concurrency K]";
/// anvil dev account 9: the payTo.
const PAY_TO: &str = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720";
/// anvil dev account 0: the settlement key (never used to send anything here).
const SETTLER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// anvil dev account 1: the payer.
const PAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Thread name of the JSON-RPC stub (its CPU time is left out).
const STUB_THREAD: &str = "rpc-stub";

fn main() -> ExitCode {
    let printed = run().and_then(|line| writeln!(std::io::stdout(), "{line}").map_err(|e| e.to_string()));
    let failed = printed.map_err(|e| eprintln!("verify-bench: {e}")).is_err();
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn run() -> Result<String, String> {
    let (count, concurrency) = parse_args()?;
    let rpc = start_stub()?;
    let config = EvmConfig::base_sepolia(SecretString::from(rpc), PAY_TO, SecretString::from(SETTLER_KEY.to_owned()));
    let domain = Eip712Domain::new(
        Some(config.token.name.clone().into()),
        Some(config.token.version.clone().into()),
        Some(U256::from(config.chain_id)),
        Some(config.token.address.parse().map_err(|e| format!("token address: {e}"))?),
        None,
    );
    let rail = Arc::new(EvmRail::new(config).map_err(|e| e.to_string())?);
    let charge = Charge {
        amount: "0.01".parse::<Usd>().map_err(|e| e.to_string())?,
        route: "POST /api/machines".into(),
        resource_url: "https://gateway.example/api/machines".into(),
        description: "Create a machine".into(),
        body: Vec::new(),
    };
    let warmup = concurrency;
    let signed = sign_all(&rail, &charge, &domain, count + warmup)?;
    let (warm, measured) = signed.split_at(warmup);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let charge = Arc::new(charge);
    runtime.block_on(verify_all(&rail, &charge, warm, concurrency))?;
    let (cpu0, wall0) = (cpu_ns()?, Instant::now());
    runtime.block_on(verify_all(&rail, &charge, measured, concurrency))?;
    let (cpu_s, wall_s) = (cpu_ns()?.saturating_sub(cpu0) as f64 / 1e9, wall0.elapsed().as_secs_f64());

    let recover_cpu0 = cpu_ns()?;
    for p in measured {
        let sig = Signature::from_raw(&p.signature).map_err(|e| e.to_string())?;
        let from = sig.recover_address_from_prehash(&p.auth.eip712_signing_hash(&domain)).map_err(|e| e.to_string())?;
        if from != p.auth.from {
            return Err("recovered the wrong signer".into());
        }
    }
    let recover_s = cpu_ns()?.saturating_sub(recover_cpu0) as f64 / 1e9;
    runtime.block_on(refuses_a_forgery(&rail, &charge, &measured[0]))?;
    let n = measured.len() as f64;
    Ok(json!({
        "verifications": measured.len(),
        "wall_s": wall_s,
        "cpu_s": cpu_s,
        "per_core": n / cpu_s,
        "wall_rate": n / wall_s,
        "recover_per_core": n / recover_s,
    })
    .to_string())
}

fn parse_args() -> Result<(usize, usize), String> {
    let (mut count, mut concurrency) = (2000, 16);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value =
            || it.next().ok_or(format!("{flag} needs a value"))?.parse::<usize>().map_err(|e| e.to_string());
        match flag.as_str() {
            "--count" => count = value()?,
            "--concurrency" => concurrency = value()?,
            _ => return Err(USAGE.to_owned()),
        }
    }
    if count == 0 || concurrency == 0 {
        return Err(USAGE.to_owned());
    }
    Ok((count, concurrency))
}

/// One payment, signed beforehand: its header value and what the floor measurement needs.
struct Signed {
    header: String,
    auth: TransferWithAuthorization,
    signature: Bytes,
}

/// `n` v2 payloads answering the rail's offer for `charge`, signed on every core.
fn sign_all(rail: &EvmRail, charge: &Charge, domain: &Eip712Domain, n: usize) -> Result<Vec<Signed>, String> {
    let payer: PrivateKeySigner = PAYER_KEY.parse().map_err(|e| format!("payer key: {e}"))?;
    let Some(Offer::X402 { v2: accepted, .. }) = rail.offers(charge).map_err(|e| e.to_string())?.into_iter().next()
    else {
        return Err("the rail made no x402 offer".into());
    };
    let value: U256 = accepted["amount"].as_str().and_then(|a| a.parse().ok()).ok_or("offer without an amount")?;
    let valid_before = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|e| e.to_string())?.as_secs() + 3600;
    let sign = |_: usize| -> Result<Signed, String> {
        let auth = TransferWithAuthorization {
            from: payer.address(),
            to: PAY_TO.parse::<Address>().map_err(|e| e.to_string())?,
            value,
            validAfter: U256::ZERO,
            validBefore: U256::from(valid_before),
            nonce: B256::from(rand::random::<[u8; 32]>()),
        };
        let sig = payer.sign_hash_sync(&auth.eip712_signing_hash(domain)).map_err(|e| e.to_string())?;
        let signature = Bytes::from(sig.as_bytes().to_vec());
        let payload = json!({
            "x402Version": 2,
            "resource": {"url": charge.resource_url, "description": charge.description, "mimeType": "application/json"},
            "accepted": accepted,
            "payload": {
                "signature": signature.to_string(),
                "authorization": {
                    "from": auth.from.to_checksum(None), "to": auth.to.to_checksum(None),
                    "value": auth.value.to_string(), "validAfter": auth.validAfter.to_string(),
                    "validBefore": auth.validBefore.to_string(), "nonce": auth.nonce.to_string(),
                },
            },
        });
        Ok(Signed { header: compute_pay_x402::encode_header(&payload), auth, signature })
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let chunks: Vec<Vec<Result<Signed, String>>> = std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..threads).map(|t| s.spawn(move || (t..n).step_by(threads).map(sign).collect::<Vec<_>>())).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| vec![Err("a signing thread panicked".into())]))
            .collect()
    });
    chunks.into_iter().flatten().collect()
}

/// Decodes and verifies every payment, `concurrency` at a time on the current thread; fails
/// on the first refusal.
async fn verify_all(
    rail: &Arc<EvmRail>,
    charge: &Arc<Charge>,
    all: &[Signed],
    concurrency: usize,
) -> Result<(), String> {
    let headers: Arc<Vec<String>> = Arc::new(all.iter().map(|s| s.header.clone()).collect());
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..concurrency.min(headers.len()) {
        let (rail, charge, headers) = (rail.clone(), charge.clone(), headers.clone());
        tasks.spawn(async move {
            for header in headers.iter().skip(lane).step_by(concurrency) {
                let payload = compute_pay_x402::decode_header(header).map_err(|e| e.to_string())?;
                let credential = Credential::X402 { version: 2, payload };
                if !rail.accepts(&credential) {
                    return Err("the rail does not accept its own payment".to_owned());
                }
                rail.verify(&credential, &charge).await.map_err(|e| format!("verify refused: {e}"))?;
            }
            Ok::<(), String>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// The same payment with another nonce than the one signed must be refused for its signature:
/// the measured path checks signatures, whatever the stub answers.
async fn refuses_a_forgery(rail: &EvmRail, charge: &Charge, signed: &Signed) -> Result<(), String> {
    let mut payload = compute_pay_x402::decode_header(&signed.header).map_err(|e| e.to_string())?;
    payload["payload"]["authorization"]["nonce"] = json!(B256::from(rand::random::<[u8; 32]>()).to_string());
    match rail.verify(&Credential::X402 { version: 2, payload }, charge).await {
        Err(e) if e.reason() == Some("invalid_exact_evm_payload_signature") => Ok(()),
        other => Err(format!("a forged payment was not refused for its signature: {other:?}")),
    }
}

/// CPU time of this process's threads except the stub's, nanoseconds.
fn cpu_ns() -> Result<u64, String> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").map_err(|e| format!("/proc/self/task: {e}"))?.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.trim() == STUB_THREAD {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += stat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
    }
    Ok(total)
}

/// Serves the JSON-RPC stub on `127.0.0.1` (a thread per connection); returns its URL.
fn start_stub() -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    std::thread::Builder::new()
        .name(STUB_THREAD.into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = std::thread::Builder::new().name(STUB_THREAD.into()).spawn(move || serve(conn));
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(url)
}

/// HTTP/1.1 keep-alive: one JSON-RPC request or batch per message.
fn serve(conn: TcpStream) {
    let _ = conn.set_nodelay(true);
    let Ok(write) = conn.try_clone() else { return };
    let (mut reader, mut writer) = (BufReader::new(conn), write);
    loop {
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Array(batch)) => Value::Array(batch.iter().map(answer).collect()),
            Ok(request) => answer(&request),
            Err(_) => json!({"error": "bad json"}),
        };
        let text = answer.to_string();
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", text.len());
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(text.as_bytes())).is_err() {
            return;
        }
    }
}

/// The node's answer: a funded payer without code, unused nonces, and a simulation that
/// succeeds.
fn answer(request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let result = match request["method"].as_str().unwrap_or_default() {
        "eth_call" => {
            let data = request["params"][0]["input"].as_str().or(request["params"][0]["data"].as_str()).unwrap_or("");
            let selector = data.strip_prefix("0x").and_then(|d| d.get(..8)).and_then(|s| hex::decode(s).ok());
            let out = match selector.as_deref() {
                Some(s) if s == Token::balanceOfCall::SELECTOR => U256::from(u64::MAX).abi_encode(),
                Some(s) if s == Token::authorizationStateCall::SELECTOR => false.abi_encode(),
                _ => Vec::new(),
            };
            json!(Bytes::from(out).to_string())
        }
        "eth_chainId" => json!("0x14a34"),
        "eth_getCode" => json!("0x"),
        other => {
            return json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("{other} not stubbed")}});
        }
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
