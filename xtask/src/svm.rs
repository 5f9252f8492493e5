//! Solana for `cargo xtask e2e`: starts the LiteSVM JSON-RPC shim (`svm-shim`, built from
//! crates/testkit) and prepares its accounts through the shim's `/__shim/*` test endpoints,
//! so that the gateway's `[payments.solana]` rail and the real clients (e2e/svm.mjs with
//! @x402/svm 2.27, e2e/svm_pay.py with PyPI `x402[svm]` 2.25) can run on it.
//!
//! `e2e.rs` calls [`start_svm_shim`], then [`fund_svm_accounts`], gives the gateway
//! [`gateway_solana_settings`] and the suites [`svm_env`].
//!
//! The keys are test-only and public: each keypair is the ed25519 key of the 32-byte seed
//! named beside it (`solders.Keypair.from_seed(bytes([b] * 32))`, Rust
//! `Keypair::new_from_array([b; 32])`), written as the base58 of its 64 bytes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::procs::{Proc, free_port, wait_http};

/// The gateway's fee payer (seed `[0x11; 32]`): its keypair and public key.
pub(crate) const FEE_PAYER_KEY: &str =
    "LnrbZDPq59Ywk2Ddy9zVxg7KVaDBPRpikn7V7A3ZWgEotm9hQFuDxUQNFJ3GeHgLmsPzqGTDYnamP5E5wHxq8DL";
pub(crate) const FEE_PAYER: &str = "F25s3DdjXdCxYBhh2z8FBusVEMT4b9bGNFVKJi3wFoF4";
/// The merchant wallet (`pay_to`, seed `[0x22; 32]`); only its public key is needed.
pub(crate) const PAY_TO: &str = "Bow1CGKGDB9mNxeWdw85E2aCthQ1oZX4oFEe7fYT17ew";
/// The payers (seeds `[0x31; 32]`, `[0x32; 32]`, `[0x33; 32]`): `(keypair, public key)`. The
/// first two are e2e/svm.mjs's, the last e2e/svm_pay.py's.
pub(crate) const PAYERS: [(&str, &str); 3] = [
    (
        "z3XN8ZK368b5Fps5CjyZJBNdF81zEUCJzwyDn3BnwqGJiiDSTnwrsHFmLiJdGaaK9NCtAVP3198cdxuLoMnUZkQ",
        "5rArie7XKukPCaEwq5XGQJnM9Fc5aZE3M9HAPVfMU2xC",
    ),
    (
        "21D3aQ6kG9ncxEwkzZ6yXb6rHrvKmCNqEde9qYkfEjvz55jGh6oPuHnbNsUtWszZFWbAih6F6pZzMHbtYr8LrEyn",
        "7LSfLv2S6K7zMPrgmJDkZoJNhWvWRzpU7qt9uMR5yz8G",
    ),
    (
        "22NZnfeBVDSeqE4euuTyVt2KxUidYAHUAGLLTKU8gY2hjDvCGi366RrHatLbLUTU6yjaBqzsukmPcfinQmsWHt3X",
        "2btLJAAb1S3x6hZYdVyAePjqtQYi2ZBSRGy4569RZu8h",
    ),
];
/// The payer of e2e/mixed.mjs (seed `[0x34; 32]`): `(keypair, public key)`.
pub(crate) const MIXED_PAYER: (&str, &str) = (
    "23Y5zwBciH6giDBYqFpyUAwod6WwK8C75u2X56Bc8L8RiKofrwSUDXdZCYSKZwKC1tcPPviVL7Q5BSHQEfrWmU2E",
    "Gq2ZG2URrWhVFeWRua7PnRuipDytEXyh26VgCo7cBm46",
);
/// USDC base units each payer gets (1 USDC: hundreds of $0.001 payments).
pub(crate) const PAYER_UNITS: u64 = 1_000_000;
/// Lamports the fee payer gets (10 SOL: thousands of 10 001-lamport fees).
pub(crate) const FEE_PAYER_LAMPORTS: u64 = 10_000_000_000;
/// The network the shim stands in for (the x402 clients only know the three real ids).
pub(crate) const NETWORK: &str = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";

/// Starts `svm-shim` from `bin` on a free port, logging its JSON-RPC calls to
/// `work/svm-shim.log`, and waits until it answers. Returns the process and its URL.
pub(crate) fn start_svm_shim(bin: &Path, work: &Path) -> Result<(Proc, String), String> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let proc = Proc::spawn(
        "svm-shim",
        Command::new(bin.join("svm-shim")).args(["--listen", &format!("127.0.0.1:{port}")]),
        &work.join("svm-shim.log"),
    )?;
    // Requests wait in the listen backlog until the chain (LiteSVM with the SPL programs) is built.
    wait_http(&format!("{url}/__shim/state"), Duration::from_secs(60))?;
    Ok((proc, url))
}

/// POSTs the JSON `body` to the shim's `path` and returns the answer; fails unless it is a 200.
fn shim_post(url: &str, path: &str, body: &str) -> Result<String, String> {
    let out = Command::new("curl")
        .args(["-s", "-f", "-m", "10", "-H", "content-type: application/json", "-d", body])
        .arg(format!("{url}{path}"))
        .output()
        .map_err(|e| format!("cannot run curl: {e}"))?;
    if !out.status.success() {
        return Err(format!("svm-shim {path} {body} failed: {}", String::from_utf8_lossy(&out.stdout)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Gives the fee payer SOL, creates the merchant's USDC account (the clients never create
/// it) and funds every payer with USDC and no SOL.
pub(crate) fn fund_svm_accounts(url: &str) -> Result<(), String> {
    shim_post(url, "/__shim/airdrop", &format!(r#"{{"pubkey":"{FEE_PAYER}","lamports":{FEE_PAYER_LAMPORTS}}}"#))?;
    shim_post(url, "/__shim/fund", &format!(r#"{{"owner":"{PAY_TO}","amount":0}}"#))?;
    for (_, payer) in PAYERS.iter().chain([&MIXED_PAYER]) {
        shim_post(url, "/__shim/fund", &format!(r#"{{"owner":"{payer}","amount":{PAYER_UNITS}}}"#))?;
    }
    Ok(())
}

/// The keys of the gateway's `[payments.solana]` section for the shim at `url` (the rest keep
/// their defaults: devnet USDC, 6 decimals); the caller spells them as its configuration
/// source wants (TOML table or environment variables).
pub(crate) fn gateway_solana_settings(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("network", NETWORK.to_owned()),
        ("rpc_url", url.to_owned()),
        ("pay_to", PAY_TO.to_owned()),
        ("fee_payer_key", FEE_PAYER_KEY.to_owned()),
    ]
}

/// The environment of e2e/svm.mjs, e2e/svm_pay.py and e2e/mixed.mjs.
pub(crate) fn svm_env(c: &mut Command, url: &str) {
    let keys: Vec<&str> = PAYERS.iter().map(|(k, _)| *k).collect();
    c.env("SVM_RPC_URL", url)
        .env("SVM_PAY_TO", PAY_TO)
        .env("SVM_PAYER_KEYS", keys.join(","))
        .env("MIXED_SVM_KEY", MIXED_PAYER.0);
}
