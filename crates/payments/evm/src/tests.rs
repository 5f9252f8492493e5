//! Unit tests of offers, routing, every verify failure that needs no chain, and the
//! chain-dependent checks over a mocked JSON-RPC transport (the anvil integration test runs
//! them against real USDC code).

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::RootProvider;
use alloy::rpc::client::RpcClient;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolStruct, SolValue};
use alloy::transports::mock::Asserter;
use compute_core::payment::{Charge, Credential, Offer, Payment, SettleOutcome};
use compute_core::{ErrorKind, Usd};
use compute_pay_x402::{decode_header, network};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::contracts::TransferWithAuthorization;
use crate::{EvmConfig, EvmRail, EvmToken};

const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const SETTLER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn config() -> EvmConfig {
    EvmConfig::base_sepolia(SecretString::from("http://127.0.0.1:9"), PAY_TO, SecretString::from(SETTLER_KEY))
}

fn rail_with(config: EvmConfig) -> (EvmRail, Asserter) {
    let asserter = Asserter::new();
    let provider = RootProvider::new(RpcClient::mocked(asserter.clone()));
    (EvmRail::with_provider(config, provider).unwrap(), asserter)
}

pub(crate) fn rail() -> (EvmRail, Asserter) {
    rail_with(config())
}

fn charge(usd: &str) -> Charge {
    Charge {
        amount: usd.parse::<Usd>().unwrap(),
        route: "POST /api/machines".into(),
        resource_url: "https://g.example/api/machines".into(),
        description: "Create a machine".into(),
        body: vec![],
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// An authorization of `value` from `payer` to PAY_TO, valid from 0 to now + 300 s.
fn authorization(payer: &PrivateKeySigner, value: u64) -> TransferWithAuthorization {
    TransferWithAuthorization {
        from: payer.address(),
        to: PAY_TO.parse().unwrap(),
        value: U256::from(value),
        validAfter: U256::ZERO,
        validBefore: U256::from(now() + 300),
        nonce: B256::from(rand::random::<[u8; 32]>()),
    }
}

fn sign(rail: &EvmRail, signer: &PrivateKeySigner, auth: &TransferWithAuthorization) -> String {
    let hash = auth.eip712_signing_hash(&rail.domain);
    Bytes::from(signer.sign_hash_sync(&hash).unwrap().as_bytes().to_vec()).to_string()
}

fn exact_payload(auth: &TransferWithAuthorization, signature: String) -> Value {
    json!({
        "signature": signature,
        "authorization": {
            "from": auth.from.to_checksum(None), "to": auth.to.to_checksum(None), "value": auth.value.to_string(),
            "validAfter": auth.validAfter.to_string(), "validBefore": auth.validBefore.to_string(),
            "nonce": auth.nonce.to_string()
        }
    })
}

/// A v2 credential answering the rail's offer for `charge`.
fn v2_credential(rail: &EvmRail, charge: &Charge, payload: Value) -> Credential {
    let Offer::X402 { v2, .. } = rail.offers(charge).unwrap().remove(0) else { panic!("not x402") };
    Credential::X402 {
        version: 2,
        payload: json!({
            "x402Version": 2,
            "resource": {"url": charge.resource_url, "description": charge.description, "mimeType": "application/json"},
            "accepted": v2,
            "payload": payload,
        }),
    }
}

fn v1_credential(payload: Value) -> Credential {
    Credential::X402 {
        version: 1,
        payload: json!({"x402Version": 1, "scheme": "exact", "network": "base-sepolia", "payload": payload}),
    }
}

fn signed_v2(rail: &EvmRail, payer: &PrivateKeySigner, value: u64) -> (Credential, TransferWithAuthorization) {
    let auth = authorization(payer, value);
    let sig = sign(rail, payer, &auth);
    (v2_credential(rail, &charge("0.01"), exact_payload(&auth, sig)), auth)
}

/// Queues the answers of checks 7–9: balance, authorizationState, simulation.
fn chain_answers(asserter: &Asserter, balance: u64, used: bool) {
    asserter.push_success(&Bytes::from(U256::from(balance).abi_encode()));
    asserter.push_success(&Bytes::from(used.abi_encode()));
    asserter.push_success(&Bytes::new());
}

async fn verify_err(rail: &EvmRail, credential: &Credential) -> (ErrorKind, String) {
    let e = rail.verify(credential, &charge("0.01")).await.unwrap_err();
    (e.kind(), e.reason().unwrap_or_default().to_owned())
}

#[test]
fn offers_round_up_and_carry_v1_only_with_a_v1_name() {
    let (rail, _) = rail();
    let offers = rail.offers(&charge("0.0100001")).unwrap();
    let [Offer::X402 { v2, v1: Some(v1), extensions }] = offers.as_slice() else { panic!("{offers:?}") };
    assert_eq!(
        v2,
        &json!({
            "scheme": "exact", "network": "eip155:84532", "amount": "10001",
            "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "payTo": PAY_TO,
            "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"}
        })
    );
    assert!(extensions.is_empty(), "EIP-3009 offers need no extension");
    assert_eq!(v1["network"], "base-sepolia");
    assert_eq!(v1["maxAmountRequired"], "10001");
    assert_eq!(v1["resource"], "https://g.example/api/machines");
    assert_eq!(v1["mimeType"], "application/json");
    assert!(rail.offers(&charge("0")).is_err(), "a zero charge is not offered");

    let mut other = config();
    other.network = network::evm_caip2(4326);
    other.chain_id = 4326;
    let (mega, _) = rail_with(other);
    let [Offer::X402 { v1: None, .. }] = mega.offers(&charge("0.01")).unwrap().as_slice() else { panic!() };
}

#[test]
fn config_is_checked_and_secrets_are_redacted() {
    let bad: [fn(&mut EvmConfig); 6] = [
        |c| c.chain_id = 8453,
        |c| c.pay_to = "0x1234".into(),
        |c| c.token.address = "USDC".into(),
        |c| c.signer_key = SecretString::from("not a key"),
        |c| c.max_timeout_seconds = 5,
        |c| c.token.decimals = 19,
    ];
    for (i, f) in bad.iter().enumerate() {
        let mut c = config();
        f(&mut c);
        let e = EvmRail::with_provider(c, RootProvider::new(RpcClient::mocked(Asserter::new()))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "case {i}");
    }
    let mut c = config();
    c.rpc_url = SecretString::from("ftp://key@example.invalid");
    assert_eq!(EvmRail::new(c).unwrap_err().kind(), ErrorKind::Config);
    let debug = format!("{:?}", config());
    assert!(!debug.contains("ac0974") && !debug.contains("127.0.0.1"), "{debug}");
    assert_eq!(
        EvmConfig::base_mainnet(SecretString::from("https://x"), PAY_TO, SecretString::from("k")).token,
        EvmToken::base_usdc()
    );
    let (rail, _) = rail();
    assert!(!format!("{rail:?}").contains("ac0974"));
    assert_eq!(rail.settler_address(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
}

#[test]
fn accepts_exact_on_this_network_only() {
    let (rail, _) = rail();
    let v2 = |scheme: &str, net: &str| Credential::X402 {
        version: 2,
        payload: json!({"x402Version": 2, "accepted": {"scheme": scheme, "network": net}}),
    };
    assert!(rail.accepts(&v2("exact", "eip155:84532")));
    assert!(!rail.accepts(&v2("exact", "eip155:8453")));
    assert!(!rail.accepts(&v2("upto", "eip155:84532")));
    assert!(rail.accepts(&v1_credential(json!({}))));
    let v1_base = Credential::X402 { version: 1, payload: json!({"scheme": "exact", "network": "base"}) };
    assert!(!rail.accepts(&v1_base));
    assert!(!rail.accepts(&Credential::Mpp { encoded: "x".into() }));
}

#[tokio::test]
async fn tampered_accepted_fields_are_rejected() {
    let (rail, _) = rail();
    let payer = PrivateKeySigner::random();
    let (credential, _) = signed_v2(&rail, &payer, 10_000);
    let cases = [
        ("scheme", json!("upto"), "invalid_scheme"),
        ("network", json!("eip155:8453"), "invalid_network"),
        ("amount", json!("9999"), "invalid_payment_requirements"),
        ("asset", json!("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"), "invalid_payment_requirements"),
        ("payTo", json!("0x857b06519E91e3A54538791bDbb0E22373e36b66"), "invalid_payment_requirements"),
        ("maxTimeoutSeconds", json!(3600), "invalid_payment_requirements"),
        ("extra", json!({"name": "USD Coin", "version": "2"}), "invalid_payment_requirements"),
        ("extra", json!({"name": "USDC", "version": "1"}), "invalid_payment_requirements"),
        (
            "extra",
            json!({"name": "USDC", "version": "2", "assetTransferMethod": "permit2"}),
            "invalid_payment_requirements",
        ),
        ("extra", json!(null), "invalid_payment_requirements"),
    ];
    for (field, value, reason) in cases {
        let Credential::X402 { mut payload, .. } = credential.clone() else { unreachable!() };
        payload["accepted"][field] = value;
        let got = verify_err(&rail, &Credential::X402 { version: 2, payload }).await;
        assert_eq!(got, (ErrorKind::PaymentRequired, reason.to_owned()), "{field}");
    }
    // Another spelling of the same addresses is the same offer: only the asserter stops it.
    let Credential::X402 { mut payload, .. } = credential.clone() else { unreachable!() };
    payload["accepted"]["payTo"] = json!(PAY_TO.to_ascii_lowercase());
    assert_eq!(verify_err(&rail, &Credential::X402 { version: 2, payload }).await.0, ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_v2_payment_is_bound_to_its_resource_and_route() {
    let (rail, _) = rail();
    let payer = PrivateKeySigner::random();
    let (credential, _) = signed_v2(&rail, &payer, 10_000);
    let Credential::X402 { payload, .. } = credential else { unreachable!() };
    // Paid for another URL, for another route of the same URL (same price), or with no resource.
    let mut other_url = payload.clone();
    other_url["resource"]["url"] = json!("https://g.example/api/volumes");
    let mut other_route = payload.clone();
    other_route["resource"]["description"] = json!("Destroy a machine");
    let mut none = payload;
    none.as_object_mut().unwrap().remove("resource");
    for (case, payload) in [("url", other_url), ("route", other_route), ("none", none)] {
        let got = verify_err(&rail, &Credential::X402 { version: 2, payload }).await;
        assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_payment_requirements".to_owned()), "{case}");
    }
}

#[tokio::test]
async fn terms_are_checked_before_any_chain_call() {
    let (rail, _) = rail();
    let payer = PrivateKeySigner::random();
    type Tamper = fn(&mut TransferWithAuthorization);
    let cases: [(Tamper, &str); 6] = [
        (|a| a.to = Address::repeat_byte(1), "invalid_exact_evm_payload_recipient_mismatch"),
        (|a| a.value = U256::from(9_999), "invalid_exact_evm_payload_authorization_value_mismatch"),
        (|a| a.value = U256::from(10_001), "invalid_exact_evm_payload_authorization_value_mismatch"),
        (|a| a.validBefore = U256::from(now() - 1), "invalid_exact_evm_payload_authorization_valid_before"),
        (|a| a.validBefore = U256::from(now() + 3), "invalid_exact_evm_payload_authorization_valid_before"),
        (|a| a.validAfter = U256::from(now() + 60), "invalid_exact_evm_payload_authorization_valid_after"),
    ];
    for (tamper, reason) in cases {
        let mut auth = authorization(&payer, 10_000);
        tamper(&mut auth);
        let sig = sign(&rail, &payer, &auth);
        let cred = v2_credential(&rail, &charge("0.01"), exact_payload(&auth, sig));
        assert_eq!(verify_err(&rail, &cred).await, (ErrorKind::PaymentRequired, reason.to_owned()));
    }
    // v1 uses its own value reason, and checks scheme and network.
    let mut auth = authorization(&payer, 20_000);
    let sig = sign(&rail, &payer, &auth);
    let got = verify_err(&rail, &v1_credential(exact_payload(&auth, sig))).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_exact_evm_payload_authorization_value".to_owned()));
    auth.value = U256::from(10_000);
    let sig = sign(&rail, &payer, &auth);
    let Credential::X402 { mut payload, .. } = v1_credential(exact_payload(&auth, sig)) else { unreachable!() };
    payload["network"] = json!("base");
    let got = verify_err(&rail, &Credential::X402 { version: 1, payload: payload.clone() }).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_network".to_owned()));
    payload["scheme"] = json!("upto");
    let got = verify_err(&rail, &Credential::X402 { version: 1, payload }).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_scheme".to_owned()));
}

#[tokio::test]
async fn undecodable_credentials_are_invalid_input() {
    let (rail, _) = rail();
    let payer = PrivateKeySigner::random();
    let (credential, _) = signed_v2(&rail, &payer, 10_000);
    let Credential::X402 { payload, .. } = credential else { unreachable!() };
    let mut no_sig = payload.clone();
    no_sig["payload"].as_object_mut().unwrap().remove("signature");
    let mut bad_nonce = payload.clone();
    bad_nonce["payload"]["authorization"]["nonce"] = json!("0x01");
    for (version, p, reason) in [
        (2, no_sig, "invalid_payload"),
        (2, bad_nonce, "invalid_payload"),
        (2, json!({"x402Version": 1}), "invalid_x402_version"),
        (3, payload.clone(), "invalid_x402_version"),
    ] {
        let got = verify_err(&rail, &Credential::X402 { version, payload: p }).await;
        assert_eq!(got, (ErrorKind::InvalidInput, reason.to_owned()));
    }
    let got = verify_err(&rail, &Credential::Mpp { encoded: "e30".into() }).await;
    assert_eq!(got.0, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_signature_by_another_key_is_rejected() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let auth = authorization(&payer, 10_000);
    let sig = sign(&rail, &PrivateKeySigner::random(), &auth);
    asserter.push_success(&Bytes::new()); // eth_getCode(from): an EOA
    let cred = v2_credential(&rail, &charge("0.01"), exact_payload(&auth, sig));
    assert_eq!(
        verify_err(&rail, &cred).await,
        (ErrorKind::PaymentRequired, "invalid_exact_evm_payload_signature".into())
    );
    // A signature over another domain (the mainnet name) does not recover to `from` either.
    let mut other = config();
    other.token.name = "USD Coin".into();
    let (other, _) = rail_with(other);
    let sig = sign(&other, &payer, &auth);
    asserter.push_success(&Bytes::new());
    let cred = v2_credential(&rail, &charge("0.01"), exact_payload(&auth, sig));
    assert_eq!(verify_err(&rail, &cred).await.1, "invalid_exact_evm_payload_signature");
}

#[tokio::test]
async fn eip1271_wallets_are_asked() {
    let (rail, asserter) = rail();
    let owner = PrivateKeySigner::random();
    let mut auth = authorization(&owner, 10_000);
    auth.from = Address::repeat_byte(0x42); // a contract wallet
    let sig = sign(&rail, &owner, &auth);
    let cred = v2_credential(&rail, &charge("0.01"), exact_payload(&auth, sig));
    asserter.push_success(&Bytes::from_static(&[0x60, 0x80])); // eth_getCode: has code
    let mut wrong = [0u8; 32];
    wrong[..4].copy_from_slice(&[0xff; 4]);
    asserter.push_success(&Bytes::from(wrong.to_vec())); // isValidSignature: not the magic value
    assert_eq!(verify_err(&rail, &cred).await.1, "invalid_exact_evm_payload_signature");
    asserter.push_success(&Bytes::from_static(&[0x60, 0x80]));
    let mut magic = [0u8; 32];
    magic[..4].copy_from_slice(&crate::contracts::ERC1271_MAGIC);
    asserter.push_success(&Bytes::from(magic.to_vec()));
    chain_answers(&asserter, 10_000, false);
    let v = rail.verify(&cred, &charge("0.01")).await.unwrap();
    assert_eq!(v.payer.as_str(), "0x4242424242424242424242424242424242424242");
}

#[tokio::test]
async fn chain_state_checks_map_to_their_reasons() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let (cred, _) = signed_v2(&rail, &payer, 10_000);

    // The three reads go in one batch; the first failing check, in order, decides.
    asserter.push_success(&Bytes::from(U256::from(9_999).abi_encode()));
    asserter.push_success(&Bytes::from(true.abi_encode()));
    asserter.push_failure_msg("execution reverted: ERC20: transfer amount exceeds balance");
    assert_eq!(verify_err(&rail, &cred).await, (ErrorKind::PaymentRequired, "insufficient_funds".into()));

    chain_answers(&asserter, 10_000, true);
    assert_eq!(
        verify_err(&rail, &cred).await,
        (ErrorKind::PermissionDenied, "invalid_exact_evm_nonce_already_used".into())
    );
    assert!(asserter.pop_response().is_none(), "every read was in the one batch");

    asserter.push_success(&Bytes::from(U256::from(10_000).abi_encode()));
    asserter.push_success(&Bytes::from(false.abi_encode()));
    asserter.push_failure_msg("execution reverted: FiatTokenV2: invalid signature");
    asserter.push_success(&Bytes::from(false.abi_encode()));
    let got = verify_err(&rail, &cred).await;
    assert_eq!(got, (ErrorKind::PaymentRequired, "invalid_exact_evm_transaction_simulation_failed".into()));

    // Settled by a concurrent request between the nonce check and the simulation: a replay.
    asserter.push_success(&Bytes::from(U256::from(10_000).abi_encode()));
    asserter.push_success(&Bytes::from(false.abi_encode()));
    asserter.push_failure_msg("execution reverted: FiatTokenV2: authorization is used or canceled");
    asserter.push_success(&Bytes::from(true.abi_encode()));
    assert_eq!(
        verify_err(&rail, &cred).await,
        (ErrorKind::PermissionDenied, "invalid_exact_evm_nonce_already_used".into())
    );

    // No answer at all: a temporary error, not a fresh 402.
    let e = rail.verify(&cred, &charge("0.01")).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.is_temporary(), e.reason()),
        (ErrorKind::Unavailable, true, Some("unexpected_verify_error"))
    );
    assert_eq!(e.component(), Some("pay-evm"));
}

#[tokio::test]
async fn success_gives_the_signer_and_a_semantic_fingerprint() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let auth = authorization(&payer, 10_000);
    let sig = sign(&rail, &payer, &auth);
    chain_answers(&asserter, 1_000_000, false);
    let v2 = rail
        .verify(&v2_credential(&rail, &charge("0.01"), exact_payload(&auth, sig.clone())), &charge("0.01"))
        .await
        .unwrap();
    assert_eq!(v2.payer.as_str(), format!("{:#x}", payer.address()));
    assert_eq!((v2.amount.base_units, v2.amount.decimals), (10_000, 6));
    assert_eq!(v2.amount_usd, "0.01".parse::<Usd>().unwrap());
    assert_eq!(v2.fingerprint.len(), 64);
    assert_eq!(v2.rail.network, "eip155:84532");

    // The same authorization as v1, with lower-case addresses: same fingerprint.
    let mut p = exact_payload(&auth, sig);
    p["authorization"]["from"] = json!(format!("{:#x}", auth.from));
    p["authorization"]["to"] = json!(PAY_TO.to_ascii_lowercase());
    chain_answers(&asserter, 1_000_000, false);
    let v1 = rail.verify(&v1_credential(p), &charge("0.01")).await.unwrap();
    assert_eq!(v1.fingerprint, v2.fingerprint);
    assert_eq!(v1.payer, v2.payer);

    let [(name, value)] = rail.receipt_headers(&v2, "0xabc").try_into().unwrap();
    assert_eq!(name, "PAYMENT-RESPONSE");
    let body = decode_header(&value).unwrap();
    assert_eq!(
        body,
        json!({"success": true, "transaction": "0xabc", "network": "eip155:84532", "payer": v2.payer.as_str(), "amount": "10000"})
    );
    let [(name, value)] = rail.receipt_headers(&v1, "0xabc").try_into().unwrap();
    assert_eq!(name, "X-PAYMENT-RESPONSE");
    assert_eq!(decode_header(&value).unwrap()["network"], "base-sepolia");
}

#[tokio::test]
async fn settle_refuses_a_second_concurrent_settlement_and_reconcile_reads_receipts() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let (cred, _) = signed_v2(&rail, &payer, 10_000);
    chain_answers(&asserter, 10_000, false);
    let verified = rail.verify(&cred, &charge("0.01")).await.unwrap();
    let (signed, _) = crate::auth::SignedAuthorization::from_settlement(&verified.settlement).unwrap();
    let key = signed.replay_key(rail.chain_id, rail.asset);
    rail.in_flight.lock().unwrap().insert(key);
    let e = rail.settle(&verified).await.unwrap_err();
    assert_eq!((e.kind(), e.reason()), (ErrorKind::PermissionDenied, Some("invalid_exact_evm_nonce_already_used")));
    rail.in_flight.lock().unwrap().clear();

    // estimateGas reverts: refused before broadcast, nothing moved.
    asserter.push_failure_msg("execution reverted: FiatTokenV2: authorization is used or canceled");
    asserter.push_success(&Bytes::from(true.abi_encode()));
    let out = rail.settle(&verified).await.unwrap();
    assert_eq!(out, SettleOutcome::Rejected { reason: "invalid_exact_evm_nonce_already_used".into() });
    assert!(rail.in_flight.lock().unwrap().is_empty(), "the claim is released");

    // Broadcast, no receipt yet and still valid: unknown.
    asserter.push_success(&Value::Null);
    let hash = B256::repeat_byte(0xab).to_string();
    let unknown = SettleOutcome::Unknown { reference: hash.clone() };
    assert_eq!(rail.reconcile(&verified, Some(&hash)).await.unwrap(), unknown);
    // No recorded settlement, the authorization used on chain: settled, whoever submitted it.
    asserter.push_success(&Bytes::from(true.abi_encode()));
    let out = rail.reconcile(&verified, None).await.unwrap();
    assert_eq!(out, SettleOutcome::Settled { reference: format!("authorization:{}", verified.fingerprint) });
    // Unused and expired: it can no longer land.
    let mut expired = verified.clone();
    let (mut signed, v) = crate::auth::SignedAuthorization::from_settlement(&expired.settlement).unwrap();
    signed.auth.validBefore = alloy::primitives::U256::from(1u64);
    expired.settlement = signed.to_settlement(v);
    asserter.push_success(&Bytes::from(false.abi_encode()));
    assert!(matches!(rail.reconcile(&expired, None).await.unwrap(), SettleOutcome::Rejected { .. }));
    assert_eq!(rail.reconcile(&verified, Some("0x12")).await.unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(rail.reconcile(&verified, Some(&hash)).await.unwrap_err().kind(), ErrorKind::Unavailable);
}
