//! Integration test against a real local chain: anvil with Circle's FiatTokenV2_2 installed at
//! the Base Sepolia USDC address. The payer signs like an x402 client would, from the offer
//! alone (no rail internals).

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolStruct};
use compute_core::payment::{Charge, Credential, Offer, Payment, SettleOutcome, Verified};
use compute_core::{ErrorKind, Usd};
use compute_pay_evm::{EvmConfig, EvmRail};
use compute_pay_x402::decode_header;
use secrecy::SecretString;
use serde_json::{Value, json};
use support::{ANVIL_KEY_0, Anvil, Usdc, random_nonce, start_anvil};

alloy::sol! {
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

struct Chain {
    anvil: Anvil,
    usdc: Usdc,
    pay_to: Address,
}

async fn chain() -> Chain {
    let anvil = start_anvil().await;
    let usdc = Usdc::install(&anvil.url).await;
    Chain { anvil, usdc, pay_to: PrivateKeySigner::random().address() }
}

fn config(chain: &Chain) -> EvmConfig {
    let mut c = EvmConfig::base_sepolia(
        SecretString::from(chain.anvil.url.clone()),
        chain.pay_to.to_checksum(None),
        SecretString::from(ANVIL_KEY_0),
    );
    c.receipt_poll_interval = Duration::from_millis(50);
    c
}

fn charge() -> Charge {
    Charge {
        amount: "0.25".parse::<Usd>().unwrap(),
        route: "POST /api/machines".into(),
        resource_url: "http://127.0.0.1/api/machines".into(),
        description: "Create a machine".into(),
        body: vec![],
    }
}

/// What an x402 v2 client does with the offer: sign `TransferWithAuthorization` for exactly
/// the requirement, valid from 0 until now + maxTimeoutSeconds.
fn pay(rail: &EvmRail, payer: &PrivateKeySigner) -> Credential {
    let Offer::X402 { v2: offer, .. } = rail.offers(&charge()).unwrap().remove(0) else { panic!("not x402") };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let auth = TransferWithAuthorization {
        from: payer.address(),
        to: offer["payTo"].as_str().unwrap().parse().unwrap(),
        value: offer["amount"].as_str().unwrap().parse().unwrap(),
        validAfter: U256::ZERO,
        validBefore: U256::from(now + offer["maxTimeoutSeconds"].as_u64().unwrap()),
        nonce: random_nonce(),
    };
    let domain = Eip712Domain::new(
        Some(offer["extra"]["name"].as_str().unwrap().to_owned().into()),
        Some(offer["extra"]["version"].as_str().unwrap().to_owned().into()),
        Some(U256::from(84532)),
        Some(offer["asset"].as_str().unwrap().parse().unwrap()),
        None,
    );
    let signature = payer.sign_hash_sync(&auth.eip712_signing_hash(&domain)).unwrap();
    let payload = json!({
        "x402Version": 2,
        "resource": {"url": charge().resource_url, "description": charge().description, "mimeType": "application/json"},
        "accepted": offer,
        "payload": {
            "signature": Bytes::from(signature.as_bytes().to_vec()).to_string(),
            "authorization": {
                "from": auth.from.to_checksum(None), "to": auth.to.to_checksum(None), "value": auth.value.to_string(),
                "validAfter": "0", "validBefore": auth.validBefore.to_string(), "nonce": auth.nonce.to_string()
            }
        }
    });
    Credential::X402 { version: 2, payload }
}

async fn verify_err(rail: &EvmRail, credential: &Credential) -> (ErrorKind, String) {
    let e = rail.verify(credential, &charge()).await.unwrap_err();
    (e.kind(), e.reason().unwrap_or_default().to_owned())
}

fn settled(outcome: &SettleOutcome) -> &str {
    match outcome {
        SettleOutcome::Settled { reference } => reference,
        other => panic!("not settled: {other:?}"),
    }
}

#[tokio::test]
async fn settles_a_real_authorization_once_and_refuses_its_replay() {
    let chain = chain().await;
    let rail = EvmRail::new(config(&chain)).unwrap();
    let payer = PrivateKeySigner::random();
    chain.usdc.mint(payer.address(), 1_000_000).await;
    let credential = pay(&rail, &payer);

    let verified = rail.verify(&credential, &charge()).await.unwrap();
    assert_eq!(verified.payer.as_str(), format!("{:#x}", payer.address()));
    assert_eq!(verified.amount.base_units, 250_000);
    assert_eq!(chain.usdc.balance(chain.pay_to).await, U256::ZERO);

    let outcome = rail.settle(&verified).await.unwrap();
    let hash = settled(&outcome).to_owned();
    assert_eq!(rail.reconcile(&verified, Some(&hash)).await.unwrap(), outcome);
    assert_eq!(chain.usdc.balance(chain.pay_to).await, U256::from(250_000));
    assert_eq!(chain.usdc.balance(payer.address()).await, U256::from(750_000));

    let [(name, value)] = rail.receipt_headers(&verified, &hash).try_into().unwrap();
    assert_eq!(name, "PAYMENT-RESPONSE");
    let receipt: Value = decode_header(&value).unwrap();
    assert_eq!((receipt["success"].clone(), receipt["transaction"].clone()), (json!(true), json!(hash)));
    assert_eq!(receipt["payer"], verified.payer.as_str());

    // The same authorization again: the nonce is used on chain.
    let replay = verify_err(&rail, &credential).await;
    assert_eq!(replay, (ErrorKind::PermissionDenied, "invalid_exact_evm_nonce_already_used".to_owned()));
    // Settling the old verification again moves nothing.
    let again = rail.settle(&verified).await.unwrap();
    assert_eq!(again, SettleOutcome::Rejected { reason: "invalid_exact_evm_nonce_already_used".into() });
    assert_eq!(chain.usdc.balance(chain.pay_to).await, U256::from(250_000));
}

#[tokio::test]
async fn two_concurrent_settles_of_one_authorization_settle_once() {
    let chain = chain().await;
    let rail = EvmRail::new(config(&chain)).unwrap();
    let payer = PrivateKeySigner::random();
    chain.usdc.mint(payer.address(), 1_000_000).await;
    let credential = pay(&rail, &payer);
    // Both requests pass verification before either settles.
    let price = charge();
    let (a, b) = tokio::join!(rail.verify(&credential, &price), rail.verify(&credential, &price));
    let (a, b): (Verified, Verified) = (a.unwrap(), b.unwrap());
    assert_eq!(a.fingerprint, b.fingerprint);

    let (x, y) = tokio::join!(rail.settle(&a), rail.settle(&b));
    let outcomes = [x, y];
    let wins = outcomes.iter().filter(|o| matches!(o, Ok(SettleOutcome::Settled { .. }))).count();
    assert_eq!(wins, 1, "{outcomes:?}");
    for o in &outcomes {
        match o {
            Ok(SettleOutcome::Settled { .. } | SettleOutcome::Rejected { .. }) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e:?}"),
            Ok(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(chain.usdc.balance(chain.pay_to).await, U256::from(250_000));
}

#[tokio::test]
async fn chain_checks_reject_and_a_slow_receipt_is_unknown_then_reconciled() {
    let chain = chain().await;
    let rail = EvmRail::new(config(&chain)).unwrap();

    // (7) a payer without USDC.
    let broke = PrivateKeySigner::random();
    assert_eq!(verify_err(&rail, &pay(&rail, &broke)).await, (ErrorKind::PaymentRequired, "insufficient_funds".into()));

    let payer = PrivateKeySigner::random();
    chain.usdc.mint(payer.address(), 1_000_000).await;

    // (6) signed by someone else on behalf of `payer` (an EOA: no code, no EIP-1271).
    let Credential::X402 { payload: mut forged, .. } = pay(&rail, &broke) else { unreachable!() };
    forged["payload"]["authorization"]["from"] = json!(payer.address().to_checksum(None));
    let got = verify_err(&rail, &Credential::X402 { version: 2, payload: forged }).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_exact_evm_payload_signature".into()));

    // (9) a rail configured with the wrong EIP-712 name: the signature matches the offer but
    // not the token's real domain, so only the simulation catches it.
    let mut wrong = config(&chain);
    wrong.token.name = "USD Coin".into();
    let wrong = EvmRail::new(wrong).unwrap();
    let got = verify_err(&wrong, &pay(&wrong, &payer)).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_exact_evm_transaction_simulation_failed".into()));

    // No block within the receipt timeout: `Unknown`, never a failure; then reconciled.
    let mut slow = config(&chain);
    slow.receipt_timeout = Duration::from_secs(1);
    let slow = EvmRail::new(slow).unwrap();
    let verified = slow.verify(&pay(&slow, &payer), &charge()).await.unwrap();
    chain.usdc.provider.anvil_set_auto_mine(false).await.unwrap();
    let SettleOutcome::Unknown { reference } = slow.settle(&verified).await.unwrap() else {
        panic!("expected Unknown")
    };
    let pending = slow.reconcile(&verified, Some(&reference)).await;
    assert!(matches!(pending, Ok(SettleOutcome::Unknown { .. })), "{pending:?}");
    chain.usdc.provider.anvil_mine(Some(1), None).await.unwrap();
    let settled = SettleOutcome::Settled { reference: reference.clone() };
    assert_eq!(slow.reconcile(&verified, Some(&reference)).await.unwrap(), settled);
    assert_eq!(chain.usdc.balance(chain.pay_to).await, U256::from(250_000));
    assert!(chain.usdc.provider.get_transaction_receipt(reference.parse().unwrap()).await.unwrap().is_some());
}
