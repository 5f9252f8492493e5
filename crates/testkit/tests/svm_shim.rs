//! The LiteSVM JSON-RPC shim over HTTP: the answers' shapes, the test hooks, preflight and
//! statuses of sent transactions, and the `svm-shim` binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_testkit::svm_shim::payment::{ExactSvmPayment, encode};
use compute_testkit::svm_shim::{ChainConfig, DEVNET_USDC, spawn};
use serde_json::{Value, json};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// POSTs `body` to `url` + `path` and returns the JSON answer.
async fn post(url: &str, path: &str, body: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap()
}

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    post(url, "/", json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})).await
}

#[tokio::test]
async fn the_mint_and_funded_accounts_read_like_solana_rpc() {
    let shim = spawn(ChainConfig::default()).await.unwrap();
    let url = shim.url();
    let mint = rpc(&url, "getAccountInfo", json!([DEVNET_USDC, {"encoding": "base64"}])).await;
    assert_eq!(mint["id"], 7);
    let value = &mint["result"]["value"];
    assert_eq!(value["owner"], "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    let data = STANDARD.decode(value["data"][0].as_str().unwrap()).unwrap();
    assert_eq!((data.len(), data[44], data[45]), (82, 6, 1), "an initialised 6-decimal mint");
    assert!(mint["result"]["context"]["slot"].as_u64().unwrap() > 0);

    let owner = Keypair::new().pubkey().to_string();
    let funded = post(&url, "/__shim/fund", json!({"owner": owner, "amount": "2500"})).await;
    assert_eq!(funded["balance"], "2500");
    let again = post(&url, "/__shim/fund", json!({"owner": owner, "amount": 500})).await;
    assert_eq!((again["balance"].clone(), again["ata"].clone()), (json!("3000"), funded["ata"].clone()));
    let balance = rpc(&url, "getTokenAccountBalance", json!([funded["ata"]])).await;
    assert_eq!(balance["result"]["value"]["amount"], "3000");
    assert_eq!(balance["result"]["value"]["uiAmountString"], "0.003");
    assert_eq!(post(&url, "/__shim/airdrop", json!({"pubkey": owner, "lamports": 7})).await["balance"], 7);
    assert_eq!(rpc(&url, "getBalance", json!([owner])).await["result"]["value"], 7);
    let balances: Value = serde_json::from_slice(
        &reqwest::get(format!("{url}/__shim/balances/{owner}")).await.unwrap().bytes().await.unwrap(),
    )
    .unwrap();
    assert_eq!(balances, json!({"lamports": 7, "ata": funded["ata"], "token": "3000"}));
    let missing = rpc(
        &url,
        "getMultipleAccounts",
        json!([[Keypair::new().pubkey().to_string(), DEVNET_USDC], {"encoding": "base64"}]),
    )
    .await;
    assert_eq!(missing["result"]["value"][0], Value::Null);
    assert!(missing["result"]["value"][1].is_object());

    let latest = rpc(&url, "getLatestBlockhash", json!([{"commitment": "confirmed"}])).await;
    let hash = latest["result"]["value"]["blockhash"].as_str().unwrap().to_owned();
    let height = rpc(&url, "getBlockHeight", json!([])).await["result"].as_u64().unwrap();
    assert_eq!(latest["result"]["value"]["lastValidBlockHeight"].as_u64(), Some(height + 150));
    assert_eq!(rpc(&url, "isBlockhashValid", json!([hash, {}])).await["result"]["value"], true);
    let expired = post(&url, "/__shim/expire-blockhash", json!({})).await;
    assert_ne!(expired["blockhash"], json!(hash));
    assert_eq!(rpc(&url, "isBlockhashValid", json!([hash, {}])).await["result"]["value"], false);

    let unknown = rpc(&url, "getProgramAccounts", json!([])).await;
    assert_eq!(unknown["error"]["code"], -32601);
    let batch = post(
        &url,
        "/",
        json!([{"jsonrpc": "2.0", "id": 1, "method": "getHealth"}, {"jsonrpc": "2.0", "id": 2, "method": "getSlot"}]),
    )
    .await;
    assert_eq!((batch[0]["result"].clone(), batch[1]["id"].clone()), (json!("ok"), json!(2)));
    let base58 = rpc(&url, "getAccountInfo", json!([DEVNET_USDC, {"encoding": "base58"}])).await;
    assert_eq!(base58["error"]["code"], -32602);
}

#[tokio::test]
async fn transactions_are_preflighted_sent_and_given_a_status() {
    let shim = spawn(ChainConfig::default()).await.unwrap();
    let url = shim.url();
    let fee_payer = Keypair::new();
    let merchant = Keypair::new().pubkey();
    let payer = Keypair::new();
    post(&url, "/__shim/airdrop", json!({"pubkey": fee_payer.pubkey().to_string(), "lamports": 1_000_000_000u64}))
        .await;
    post(&url, "/__shim/fund", json!({"owner": merchant.to_string(), "amount": 0})).await;
    post(&url, "/__shim/fund", json!({"owner": payer.pubkey().to_string(), "amount": 1000})).await;
    let latest = rpc(&url, "getLatestBlockhash", json!([])).await;
    let blockhash = latest["result"]["value"]["blockhash"].as_str().unwrap().parse().unwrap();
    let requirements = json!({"asset": DEVNET_USDC, "payTo": merchant.to_string(), "amount": "1000", "extra": {"feePayer": fee_payer.pubkey().to_string()}});
    let p = ExactSvmPayment::for_requirements(payer, &requirements, 6, blockhash);
    let mut tx = p.transaction();
    let config = json!({"encoding": "base64", "sigVerify": true});

    // Without the fee payer's signature: the signature check fails in simulation and preflight.
    let sim = rpc(&url, "simulateTransaction", json!([encode(&tx), config])).await;
    assert!(!sim["result"]["value"]["err"].is_null(), "{sim}");
    let refused = rpc(&url, "sendTransaction", json!([encode(&tx), config])).await;
    assert_eq!(refused["error"]["code"], -32002, "{refused}");

    tx.signatures[0] = fee_payer.sign_message(&tx.message.serialize());
    let sim = rpc(&url, "simulateTransaction", json!([encode(&tx), config])).await;
    assert_eq!(sim["result"]["value"]["err"], Value::Null, "{sim}");
    let sent = rpc(&url, "sendTransaction", json!([encode(&tx), config])).await;
    let signature = sent["result"].as_str().unwrap().to_owned();
    assert_eq!(signature, tx.signatures[0].to_string(), "the transaction id is the fee payer's signature");
    let status = rpc(
        &url,
        "getSignatureStatuses",
        json!([[signature, solana_signature::Signature::default().to_string()], {"searchTransactionHistory": true}]),
    )
    .await;
    let s = &status["result"]["value"][0];
    assert_eq!(
        (s["err"].clone(), s["confirmationStatus"].clone(), s["status"].clone()),
        (Value::Null, json!("finalized"), json!({"Ok": null}))
    );
    assert_eq!(status["result"]["value"][1], Value::Null, "an unknown signature");
    assert_eq!(shim.state().with_chain(|c| c.token_balance(&merchant)), Some(1000));
    let replay = rpc(&url, "sendTransaction", json!([encode(&tx), config])).await;
    assert_eq!(replay["error"]["data"]["err"], "AlreadyProcessed", "{replay}");
    assert!(replay["error"]["message"].as_str().unwrap().contains("already been processed"));
}

#[test]
fn the_binary_prints_its_address_and_answers_json_rpc() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svm-shim"))
        .args(["--listen", "127.0.0.1:0", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}")).to_owned();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"getHealth"}"#;
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains(r#""result":"ok""#), "{answer}");
    #[cfg(unix)]
    {
        assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(exit) = child.try_wait().unwrap() {
                assert!(exit.success(), "{exit:?}");
                break;
            }
            assert!(Instant::now() < deadline, "svm-shim did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    #[cfg(not(unix))]
    {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_svm-shim")).arg("--nope").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
