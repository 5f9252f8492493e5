//! Unit tests of a Permit2 rail (USDm on MegaETH, 18 decimals): offers, every verify refusal in
//! the order of [`crate::EvmRail`]'s Permit2 list, the happy paths with and without the
//! `eip2612GasSponsoring` permit, and settle / reconcile refusals, over a mocked JSON-RPC.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::RootProvider;
use alloy::rpc::client::RpcClient;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{Eip712Domain, SolCall, SolStruct, SolValue};
use alloy::transports::mock::Asserter;
use compute_core::payment::{Charge, Credential, Offer, Payment, SettleOutcome};
use compute_core::{ErrorKind, Usd};
use compute_pay_x402::decode_header;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::contracts::{IX402ExactPermit2Proxy, Permit, PermitWitnessTransferFrom, TokenPermissions, Witness};
use crate::permit2::Permit2Payment;
use crate::{EvmConfig, EvmRail, MEGAETH_USDM, PERMIT2, X402_EXACT_PERMIT2_PROXY};

const PAY_TO: &str = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C";
const SETTLER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// $0.001 in USDm base units (18 decimals).
const PRICE: u128 = 1_000_000_000_000_000;

fn rail_unseen() -> (EvmRail, Asserter) {
    let asserter = Asserter::new();
    let provider = RootProvider::new(RpcClient::mocked(asserter.clone()));
    let config = EvmConfig::megaeth(SecretString::from("http://127.0.0.1:9"), PAY_TO, SecretString::from(SETTLER_KEY));
    (EvmRail::with_provider(config, provider).unwrap(), asserter)
}

/// A rail that has already seen the proxy's code (most tests start at the nonce check).
fn rail() -> (EvmRail, Asserter) {
    let (rail, asserter) = rail_unseen();
    rail.proxy_seen.store(true, std::sync::atomic::Ordering::Relaxed);
    (rail, asserter)
}

fn charge() -> Charge {
    Charge {
        amount: "0.001".parse::<Usd>().unwrap(),
        route: "GET /api/machines".into(),
        resource_url: "https://g.example/api/machines".into(),
        description: "List machines".into(),
        body: vec![],
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

/// What @x402/evm 2.27 signs for the offer: PRICE of USDm to PAY_TO through the proxy.
fn permit(nonce: u64) -> PermitWitnessTransferFrom {
    PermitWitnessTransferFrom {
        permitted: TokenPermissions { token: addr(MEGAETH_USDM), amount: U256::from(PRICE) },
        spender: addr(X402_EXACT_PERMIT2_PROXY),
        nonce: U256::from(nonce),
        deadline: U256::from(now() + 300),
        witness: Witness { to: addr(PAY_TO), validAfter: U256::ZERO },
    }
}

fn hex_sig(signer: &PrivateKeySigner, hash: alloy::primitives::B256) -> String {
    Bytes::from(signer.sign_hash_sync(&hash).unwrap().as_bytes().to_vec()).to_string()
}

fn permit2_domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(Some("Permit2".into()), None, Some(U256::from(chain_id)), Some(addr(PERMIT2)), None)
}

fn payload(from: Address, p: &PermitWitnessTransferFrom, signature: String) -> Value {
    json!({
        "signature": signature,
        "permit2Authorization": {
            "from": from.to_checksum(None),
            "permitted": {"token": p.permitted.token.to_checksum(None), "amount": p.permitted.amount.to_string()},
            "spender": p.spender.to_checksum(None),
            "nonce": p.nonce.to_string(),
            "deadline": p.deadline.to_string(),
            "witness": {"to": p.witness.to.to_checksum(None), "validAfter": p.witness.validAfter.to_string()}
        }
    })
}

/// The payer's EIP-2612 `permit(Permit2, PRICE)` with token nonce `nonce`, as `info`.
fn sponsoring(rail: &EvmRail, payer: &PrivateKeySigner, tamper: impl FnOnce(&mut Permit)) -> Value {
    let mut permit = Permit {
        owner: payer.address(),
        spender: addr(PERMIT2),
        value: U256::from(PRICE),
        nonce: U256::ZERO,
        deadline: U256::from(now() + 300),
    };
    tamper(&mut permit);
    let signature = hex_sig(payer, permit.eip712_signing_hash(&rail.domain));
    json!({
        "description": "echoed from the advertisement", "version": "1",
        "from": permit.owner.to_checksum(None), "asset": MEGAETH_USDM, "spender": permit.spender.to_checksum(None),
        "amount": permit.value.to_string(), "nonce": permit.nonce.to_string(),
        "deadline": permit.deadline.to_string(), "signature": signature
    })
}

/// A v2 credential answering the rail's offer, with `info` as the sponsoring extension.
fn credential(rail: &EvmRail, payload: Value, info: Option<Value>) -> Credential {
    let Offer::X402 { v2, .. } = rail.offers(&charge()).unwrap().remove(0) else { panic!("not x402") };
    let c = charge();
    let mut body = json!({
        "x402Version": 2,
        "resource": {"url": c.resource_url, "description": c.description, "mimeType": "application/json"},
        "accepted": v2,
        "payload": payload,
    });
    if let Some(info) = info {
        body["extensions"] = json!({"eip2612GasSponsoring": {"info": info, "schema": {}}});
    }
    Credential::X402 { version: 2, payload: body }
}

/// A correctly signed payment of `payer` (nonce 7), without sponsoring.
fn signed(rail: &EvmRail, payer: &PrivateKeySigner) -> Credential {
    let p = permit(7);
    let sig = hex_sig(payer, p.eip712_signing_hash(&permit2_domain(4326)));
    credential(rail, payload(payer.address(), &p, sig), None)
}

fn word(v: U256) -> Bytes {
    Bytes::from(v.abi_encode())
}

/// Queues nonceBitmap, balanceOf, then allowance (or nonces) and the simulation.
fn answers(asserter: &Asserter, bitmap: U256, balance: u128, allowance_or_nonce: u128) {
    asserter.push_success(&word(bitmap));
    asserter.push_success(&word(U256::from(balance)));
    asserter.push_success(&word(U256::from(allowance_or_nonce)));
    asserter.push_success(&Bytes::new());
}

async fn verify_err(rail: &EvmRail, credential: &Credential) -> (ErrorKind, String) {
    let e = rail.verify(credential, &charge()).await.unwrap_err();
    (e.kind(), e.reason().unwrap_or_default().to_owned())
}

fn refused(reason: &str) -> (ErrorKind, String) {
    (ErrorKind::PaymentRequired, reason.to_owned())
}

#[test]
fn offers_are_v2_permit2_in_18_decimal_base_units() {
    let (rail, _) = rail();
    let offers = rail.offers(&charge()).unwrap();
    let [Offer::X402 { v2, v1: None, extensions }] = offers.as_slice() else { panic!("{offers:?}") };
    assert_eq!(extensions["eip2612GasSponsoring"], compute_pay_x402::eip2612_gas_sponsoring_advertisement().1);
    assert_eq!(
        v2,
        &json!({
            "scheme": "exact", "network": "eip155:4326", "amount": "1000000000000000",
            "asset": MEGAETH_USDM, "payTo": PAY_TO, "maxTimeoutSeconds": 300,
            "extra": {"name": "MegaUSD", "version": "1", "assetTransferMethod": "permit2"}
        })
    );
    let mut tiny = charge();
    tiny.amount = "0.0000000000000000001".parse().unwrap();
    let [Offer::X402 { v2, .. }]: [Offer; 1] = rail.offers(&tiny).unwrap().try_into().unwrap() else { panic!() };
    assert_eq!(v2["amount"], "1", "a fraction of a base unit rounds up to one");

    let payer = PrivateKeySigner::random();
    let cred = signed(&rail, &payer);
    assert!(rail.accepts(&cred));
    let v1 = Credential::X402 { version: 1, payload: json!({"scheme": "exact", "network": "eip155:4326"}) };
    assert!(!rail.accepts(&v1));
    let claim = rail.claims(&cred).unwrap();
    assert_eq!(claim.payer.unwrap().as_str(), format!("{:#x}", payer.address()));
    assert_eq!(claim.amount, Some("0.001".parse().unwrap()));
}

#[tokio::test]
async fn the_offer_and_the_signed_terms_are_checked_before_any_chain_call() {
    let (rail, _) = rail();
    let payer = PrivateKeySigner::random();
    let Credential::X402 { payload: good, .. } = signed(&rail, &payer) else { unreachable!() };
    let mut no_method = good.clone();
    no_method["accepted"]["extra"].as_object_mut().unwrap().remove("assetTransferMethod");
    assert_eq!(
        verify_err(&rail, &Credential::X402 { version: 2, payload: no_method }).await,
        refused("invalid_payment_requirements")
    );
    let v1 = Credential::X402 { version: 1, payload: good.clone() };
    assert_eq!(verify_err(&rail, &v1).await, (ErrorKind::InvalidInput, "invalid_x402_version".into()));

    type Tamper = fn(&mut PermitWitnessTransferFrom);
    let cases: [(Tamper, &str); 8] = [
        (|p| p.spender = Address::repeat_byte(1), "invalid_permit2_spender"),
        (|p| p.witness.to = Address::repeat_byte(2), "invalid_permit2_recipient_mismatch"),
        (|p| p.deadline = U256::from(now() - 1), "permit2_deadline_expired"),
        (|p| p.deadline = U256::from(now() + 3), "permit2_deadline_expired"),
        (|p| p.witness.validAfter = U256::from(now() + 60), "permit2_not_yet_valid"),
        (|p| p.permitted.amount = U256::from(PRICE - 1), "permit2_amount_mismatch"),
        (|p| p.permitted.amount = U256::from(PRICE * 10), "permit2_amount_mismatch"),
        (|p| p.permitted.token = Address::repeat_byte(3), "permit2_token_mismatch"),
    ];
    for (tamper, reason) in cases {
        let mut p = permit(1);
        tamper(&mut p);
        let sig = hex_sig(&payer, p.eip712_signing_hash(&permit2_domain(4326)));
        let cred = credential(&rail, payload(payer.address(), &p, sig), None);
        assert_eq!(verify_err(&rail, &cred).await, refused(reason), "{reason}");
    }
}

#[tokio::test]
async fn a_signature_by_another_key_or_for_another_chain_is_refused() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let p = permit(1);
    for (signer, domain) in [(PrivateKeySigner::random(), permit2_domain(4326)), (payer.clone(), permit2_domain(6343))]
    {
        let sig = hex_sig(&signer, p.eip712_signing_hash(&domain));
        asserter.push_success(&Bytes::new()); // eth_getCode(from): an EOA
        let cred = credential(&rail, payload(payer.address(), &p, sig), None);
        assert_eq!(verify_err(&rail, &cred).await, refused("invalid_permit2_signature"));
    }
}

#[tokio::test]
async fn chain_state_checks_map_to_their_reasons() {
    let (rail, asserter) = rail_unseen();
    let payer = PrivateKeySigner::random();
    let cred = signed(&rail, &payer);

    // No proxy code: the gateway's chain is wrong, not the payment (503, no challenge).
    asserter.push_success(&Bytes::new());
    let e = rail.verify(&cred, &charge()).await.unwrap_err();
    assert_eq!((e.kind(), e.reason()), (ErrorKind::Unavailable, Some("permit2_proxy_not_deployed")));
    // Code seen once: not asked again.
    asserter.push_success(&Bytes::from_static(&[0x60, 0x80]));
    answers(&asserter, U256::ZERO, PRICE, PRICE);
    rail.verify(&cred, &charge()).await.unwrap();

    // Nonce 7 used (bit 7 of word 0): a replay; other bits do not matter.
    asserter.push_success(&word(U256::from(1u8) << 7));
    assert_eq!(verify_err(&rail, &cred).await, (ErrorKind::PermissionDenied, "permit2_invalid_nonce".into()));
    answers(&asserter, !(U256::from(1u8) << 7u8), PRICE, PRICE);
    rail.verify(&cred, &charge()).await.unwrap();

    asserter.push_success(&word(U256::ZERO));
    asserter.push_success(&word(U256::from(PRICE - 1)));
    assert_eq!(verify_err(&rail, &cred).await, refused("permit2_insufficient_balance"));

    // No allowance and no sponsoring permit: 412 with a fresh challenge.
    asserter.push_success(&word(U256::ZERO));
    asserter.push_success(&word(U256::from(PRICE)));
    asserter.push_success(&word(U256::from(PRICE - 1)));
    assert_eq!(verify_err(&rail, &cred).await, refused("permit2_allowance_required"));
    assert_eq!(compute_pay_x402::challenge_status(Some("permit2_allowance_required")), 412);

    // The simulation reverts: refused, unless the nonce got used meanwhile (a replay).
    for (bitmap_after, expected) in [
        (U256::ZERO, refused("permit2_simulation_failed")),
        (U256::from(1u8) << 7, (ErrorKind::PermissionDenied, "permit2_invalid_nonce".to_owned())),
    ] {
        asserter.push_success(&word(U256::ZERO));
        asserter.push_success(&word(U256::from(PRICE)));
        asserter.push_success(&word(U256::from(PRICE)));
        asserter.push_failure_msg("execution reverted: InvalidSigner()");
        asserter.push_success(&word(bitmap_after));
        assert_eq!(verify_err(&rail, &cred).await, expected);
    }

    // No answer: temporary, no fresh 402.
    let e = rail.verify(&cred, &charge()).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.is_temporary(), e.reason()),
        (ErrorKind::Unavailable, true, Some("unexpected_verify_error"))
    );
}

#[tokio::test]
async fn every_sponsoring_permit_refusal_has_its_reason() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let Credential::X402 { payload: base, .. } = signed(&rail, &payer) else { unreachable!() };
    let with = |info: Value| {
        let mut p = base.clone();
        p["extensions"] = json!({"eip2612GasSponsoring": {"info": info}});
        Credential::X402 { version: 2, payload: p }
    };
    type Tamper = fn(&mut Permit);
    let cases: [(Tamper, &str); 4] = [
        (|p| p.spender = Address::repeat_byte(9), "eip2612_spender_not_permit2"),
        (|p| p.value = U256::from(PRICE + 1), "permit2_2612_amount_mismatch"),
        (|p| p.value = U256::from(PRICE - 1), "permit2_2612_amount_mismatch"),
        (|p| p.deadline = U256::from(now() + 2), "eip2612_deadline_expired"),
    ];
    let mut infos: Vec<(Value, &str)> = cases.into_iter().map(|(t, r)| (sponsoring(&rail, &payer, t), r)).collect();
    let mut other_from = sponsoring(&rail, &payer, |_| {});
    other_from["from"] = json!(Address::repeat_byte(4).to_checksum(None));
    infos.push((other_from, "eip2612_from_mismatch"));
    let mut other_asset = sponsoring(&rail, &payer, |_| {});
    other_asset["asset"] = json!(Address::repeat_byte(5).to_checksum(None));
    infos.push((other_asset, "eip2612_asset_mismatch"));
    let mut forged = sponsoring(&rail, &PrivateKeySigner::random(), |_| {});
    forged["from"] = json!(payer.address().to_checksum(None));
    infos.push((forged, "invalid_eip2612_signature"));
    let mut other_domain = rail_unseen().0;
    other_domain.domain.name = Some("USD Coin".into());
    infos.push((sponsoring(&other_domain, &payer, |_| {}), "invalid_eip2612_signature"));
    for (info, reason) in infos {
        asserter.push_success(&word(U256::ZERO));
        asserter.push_success(&word(U256::from(PRICE)));
        assert_eq!(verify_err(&rail, &with(info)).await, refused(reason), "{reason}");
    }
    // Signed with token nonce 0 while the token is at 1.
    asserter.push_success(&word(U256::ZERO));
    asserter.push_success(&word(U256::from(PRICE)));
    asserter.push_success(&word(U256::from(1u8)));
    let cred = with(sponsoring(&rail, &payer, |_| {}));
    assert_eq!(verify_err(&rail, &cred).await, refused("invalid_eip2612_nonce"));
}

#[tokio::test]
async fn a_sponsored_payment_verifies_and_settles_with_permit() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    let p = permit(7);
    let sig = hex_sig(&payer, p.eip712_signing_hash(&permit2_domain(4326)));
    let cred = credential(&rail, payload(payer.address(), &p, sig.clone()), Some(sponsoring(&rail, &payer, |_| {})));
    answers(&asserter, U256::ZERO, PRICE, 0); // nonces(from) == 0: no allowance needed
    let v = rail.verify(&cred, &charge()).await.unwrap();
    assert_eq!(v.payer.as_str(), format!("{:#x}", payer.address()));
    assert_eq!((v.amount.base_units, v.amount.decimals), (PRICE, 18));
    assert_eq!(v.amount_usd, "0.001".parse::<Usd>().unwrap());
    assert_eq!(v.rail.network, "eip155:4326");
    assert_eq!(v.valid_until.unwrap().timestamp(), i64::try_from(p.deadline).unwrap());
    assert_eq!(v.fingerprint.len(), 64);
    let payment = Permit2Payment::from_settlement(&v.settlement).unwrap();
    assert_eq!(payment.proxy_calldata()[..4], IX402ExactPermit2Proxy::settleWithPermitCall::SELECTOR);

    // The same payment with lower-case addresses and no sponsoring: the same fingerprint.
    let mut lower = payload(payer.address(), &p, sig);
    lower["permit2Authorization"]["from"] = json!(format!("{:#x}", payer.address()));
    lower["permit2Authorization"]["witness"]["to"] = json!(PAY_TO.to_ascii_lowercase());
    answers(&asserter, U256::ZERO, PRICE, PRICE); // allowance already there
    let plain = rail.verify(&credential(&rail, lower, None), &charge()).await.unwrap();
    assert_eq!(plain.fingerprint, v.fingerprint);
    let payment = Permit2Payment::from_settlement(&plain.settlement).unwrap();
    assert_eq!(payment.proxy_calldata()[..4], IX402ExactPermit2Proxy::settleCall::SELECTOR);

    let [(name, value)] = rail.receipt_headers(&v, "0xabc").try_into().unwrap();
    assert_eq!(name, "PAYMENT-RESPONSE");
    assert_eq!(
        decode_header(&value).unwrap(),
        json!({"success": true, "transaction": "0xabc", "network": "eip155:4326", "payer": v.payer.as_str(),
               "amount": "1000000000000000"})
    );
}

#[tokio::test]
async fn readiness_reports_missing_contracts_and_gas() {
    let (rail, asserter) = rail();
    asserter.push_success(&Bytes::from_static(&[0x60, 0x80])); // Permit2
    asserter.push_success(&Bytes::from_static(&[0x60, 0x80])); // proxy
    asserter.push_success(&U256::from(10u64).pow(U256::from(18u8))); // 1 ETH
    assert_eq!(rail.readiness().await, Vec::<String>::new());
    asserter.push_success(&Bytes::new());
    asserter.push_success(&Bytes::new());
    asserter.push_success(&U256::ZERO);
    let problems = rail.readiness().await;
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].starts_with("Permit2 has no code") && problems[1].starts_with("x402ExactPermit2Proxy has no code")
    );
    assert!(problems[2].contains("no native gas"), "{problems:?}");
    assert!(!problems.iter().any(|p| p.contains("127.0.0.1")), "no RPC URL in messages");
    let (eip3009, _) = crate::tests::rail();
    assert!(eip3009.readiness().await.is_empty(), "EIP-3009 rails report nothing");
}

#[tokio::test]
async fn settle_refusals_and_reconcile_read_the_permit2_nonce() {
    let (rail, asserter) = rail();
    let payer = PrivateKeySigner::random();
    answers(&asserter, U256::ZERO, PRICE, PRICE);
    let verified = rail.verify(&signed(&rail, &payer), &charge()).await.unwrap();

    // A second concurrent settlement of one payment is refused before any RPC.
    let key = Permit2Payment::from_settlement(&verified.settlement).unwrap().signed.replay_key(4326);
    rail.in_flight.lock().unwrap().insert(key);
    let e = rail.settle(&verified).await.unwrap_err();
    assert_eq!((e.kind(), e.reason()), (ErrorKind::PermissionDenied, Some("permit2_invalid_nonce")));
    rail.in_flight.lock().unwrap().clear();

    // estimateGas reverts: refused before broadcast, the reason read from the bitmap.
    for (bitmap, reason) in [(U256::from(1u8) << 7, "permit2_invalid_nonce"), (U256::ZERO, "permit2_simulation_failed")]
    {
        asserter.push_failure_msg("execution reverted: InvalidNonce()");
        asserter.push_success(&word(bitmap));
        assert_eq!(rail.settle(&verified).await.unwrap(), SettleOutcome::Rejected { reason: reason.into() });
    }
    assert!(rail.in_flight.lock().unwrap().is_empty());

    // Broadcast, no receipt, still valid: unknown. No record and the nonce used: settled.
    let hash = alloy::primitives::B256::repeat_byte(0xcd).to_string();
    asserter.push_success(&Value::Null);
    assert_eq!(rail.reconcile(&verified, Some(&hash)).await.unwrap(), SettleOutcome::Unknown { reference: hash });
    asserter.push_success(&word(U256::from(1u8) << 7));
    assert_eq!(
        rail.reconcile(&verified, None).await.unwrap(),
        SettleOutcome::Settled { reference: format!("authorization:{}", verified.fingerprint) }
    );
    // Unused and past its deadline: it can no longer land.
    let mut expired = verified.clone();
    let mut payment = Permit2Payment::from_settlement(&expired.settlement).unwrap();
    payment.signed.permit.deadline = U256::from(1u8);
    expired.settlement = payment.to_settlement();
    asserter.push_success(&word(U256::ZERO));
    assert!(matches!(rail.reconcile(&expired, None).await.unwrap(), SettleOutcome::Rejected { .. }));
    // The EIP-3009 settlement data is not this rail's.
    let mut foreign = verified.clone();
    foreign.settlement = json!({"x402Version": 2, "payload": {"signature": "0x01", "authorization": {}}});
    assert_eq!(rail.settle(&foreign).await.unwrap_err().kind(), ErrorKind::Internal);
}
