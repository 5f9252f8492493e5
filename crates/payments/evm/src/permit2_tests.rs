//! Parsing, hashing and the settlement data of Permit2 payments, checked against a payload
//! that @x402/evm 2.27's `ExactEvmScheme` produced (tests/fixtures/x402-evm-2.27-permit2-payload.json,
//! made by the client with anvil dev key 9 and `eip2612GasSponsoring` advertised).

use alloy::primitives::{Address, Signature, U256};
use alloy::sol_types::{Eip712Domain, SolCall};
use compute_core::ErrorKind;
use serde_json::{Value, json};

use super::*;
use crate::contracts::IX402ExactPermit2Proxy;

const FIXTURE: &str = include_str!("../tests/fixtures/x402-evm-2.27-permit2-payload.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn parse(v: &Value) -> Result<Permit2Payment> {
    Permit2Payment::parse(&v["payload"], v["extensions"].as_object())
}

fn usdm_domain() -> Eip712Domain {
    let usdm: Address = crate::MEGAETH_USDM.parse().unwrap();
    Eip712Domain::new(Some("MegaUSD".into()), Some("1".into()), Some(U256::from(4326u64)), Some(usdm), None)
}

#[test]
fn the_reference_client_payload_parses_and_both_signatures_recover_to_the_payer() {
    let v = fixture();
    let p = parse(&v).unwrap();
    let payer: Address = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720".parse().unwrap();
    assert_eq!(p.signed.from, payer);
    assert_eq!(p.signed.permit.spender, crate::X402_EXACT_PERMIT2_PROXY.parse::<Address>().unwrap());
    assert_eq!(p.signed.permit.permitted.amount, U256::from(10u64).pow(U256::from(15u8)));

    let permit2: Address = crate::PERMIT2.parse().unwrap();
    let hash = p.signed.signing_hash(4326, permit2);
    let sig = Signature::from_raw(&p.signed.signature).unwrap();
    assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), payer, "Permit2 witness type strings match viem's");
    assert_ne!(p.signed.signing_hash(6343, permit2), hash, "the chain id is in the domain");

    let s = p.sponsoring.as_ref().expect("the client signed the EIP-2612 permit");
    assert_eq!((s.permit.owner, s.permit.spender, s.permit.nonce), (payer, permit2, U256::ZERO));
    assert_eq!(s.permit.value, p.signed.permit.permitted.amount, "signed for exactly the amount");
    assert_eq!(s.version, "1");
    let hash = s.signing_hash(&usdm_domain());
    assert_eq!(s.signature.recover_address_from_prehash(&hash).unwrap(), payer, "EIP-2612 Permit matches viem's");
}

#[test]
fn settlement_data_round_trips_and_picks_the_proxy_call() {
    let v = fixture();
    let with = parse(&v).unwrap();
    assert_eq!(Permit2Payment::from_settlement(&with.to_settlement()).unwrap(), with);
    let data = with.proxy_calldata();
    assert_eq!(data[..4], IX402ExactPermit2Proxy::settleWithPermitCall::SELECTOR);
    let call = IX402ExactPermit2Proxy::settleWithPermitCall::abi_decode(&data).unwrap();
    let s = with.sponsoring.as_ref().unwrap();
    assert_eq!((call.permit2612.value, call.permit2612.deadline), (s.permit.value, s.permit.deadline));
    assert!(call.permit2612.v == 27 || call.permit2612.v == 28);
    assert_eq!((call.owner, call.witness.to), (with.signed.from, with.signed.permit.witness.to));
    assert_eq!(call.signature, with.signed.signature);

    let mut no_ext = v.clone();
    no_ext.as_object_mut().unwrap().remove("extensions");
    let without = parse(&no_ext).unwrap();
    assert!(without.sponsoring.is_none());
    assert_eq!(Permit2Payment::from_settlement(&without.to_settlement()).unwrap(), without);
    let data = without.proxy_calldata();
    let call = IX402ExactPermit2Proxy::settleCall::abi_decode(&data).unwrap();
    assert_eq!(
        (call.permit.nonce, call.permit.deadline),
        (without.signed.permit.nonce, without.signed.permit.deadline)
    );

    // Data of an EIP-3009 payment is not a Permit2 payment's.
    let e = Permit2Payment::from_settlement(&json!({"x402Version": 2, "payload": {}})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
}

#[test]
fn the_replay_key_is_semantic_and_the_nonce_maps_to_its_bitmap_bit() {
    let v = fixture();
    let a = parse(&v).unwrap();
    let mut re = v.clone();
    let auth = &mut re["payload"]["permit2Authorization"];
    auth["from"] = json!(auth["from"].as_str().unwrap().to_ascii_lowercase());
    auth["permitted"]["token"] = json!(auth["permitted"]["token"].as_str().unwrap().to_ascii_lowercase());
    re["extensions"].as_object_mut().unwrap().clear();
    let b = parse(&re).unwrap();
    assert_eq!(a.signed.replay_key(4326), b.signed.replay_key(4326));
    assert_ne!(a.signed.replay_key(4326), a.signed.replay_key(6343));
    let mut other = a.signed.clone();
    other.permit.nonce += U256::from(1u8);
    assert_ne!(other.replay_key(4326), a.signed.replay_key(4326));

    let mut s = a.signed.clone();
    s.permit.nonce = U256::from(0x1_05u64);
    assert_eq!(s.nonce_position(), (U256::from(1u8), U256::from(1u8) << 5));
    s.permit.nonce = U256::MAX;
    assert_eq!(s.nonce_position(), (U256::MAX >> 8, U256::from(1u8) << 255));
}

#[test]
fn malformed_payloads_and_extensions_are_invalid_input() {
    let v = fixture();
    let payload_cases: [(&str, Value); 5] = [
        ("/payload/permit2Authorization/nonce", json!("0x01")),
        ("/payload/permit2Authorization/from", json!("0x1234")),
        ("/payload/permit2Authorization/witness/validAfter", json!(0)),
        ("/payload/signature", json!("0x")),
        ("/payload/permit2Authorization/permitted", json!(null)),
    ];
    for (at, value) in payload_cases {
        let mut bad = v.clone();
        *bad.pointer_mut(at).unwrap() = value;
        let e = parse(&bad).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "{at}");
    }
    // A complete but malformed sponsoring `info` is refused.
    for (field, value) in [("from", "0x12"), ("amount", "1e18"), ("signature", "0x1234"), ("version", "v1")] {
        let mut bad = v.clone();
        bad["extensions"]["eip2612GasSponsoring"]["info"][field] = json!(value);
        let e = parse(&bad).unwrap_err();
        assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some(reasons::EIP2612_FORMAT)), "{field}");
    }
    // The advertisement echoed back (no signature) is no sponsoring.
    let mut echoed = v.clone();
    echoed["extensions"]["eip2612GasSponsoring"]["info"] = json!({"description": "x", "version": "1"});
    assert!(parse(&echoed).unwrap().sponsoring.is_none());
}
