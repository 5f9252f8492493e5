//! x402 `X-PAYMENT` (v1) and `PAYMENT-SIGNATURE` (v2) header values on arbitrary bytes.
//!
//! Input: a header value; one that starts with `{` is a payload JSON, sent base64-encoded so
//! mutations reach the JSON. Properties:
//! - `decode_header` answers a JSON object or `invalid_payload`; `encode_header` of what it
//!   decoded is padded standard base64 that decodes to the same JSON;
//! - `decode_credential` agrees with `decode_header`, takes its version from `x402Version`
//!   (1 or 2) and fails with `invalid_x402_version` otherwise;
//! - the typed v1/v2 payloads, requirements, 402 bodies and the exact-EVM payload each decode
//!   to a value that survives serialise → decode unchanged; `from_json` checks the version;
//! - the gateway's `from_headers` takes the value as a v1 / v2 credential holding exactly the
//!   decoded JSON (`PAYMENT-SIGNATURE` first), or answers 400 naming the header;
//! - the gateway's idempotency key of such a credential is the x402 crate's
//!   `payment-identifier` (`x402:<id>`), absent and invalid alike.
#![no_main]

use std::fmt::Debug;

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::ErrorKind;
use compute_core::payment::Credential;
use compute_gateway::payments::credential::{from_headers, idempotency_key};
use compute_pay_x402::{decode_credential, decode_header, encode_header, exact_evm, v1, v2};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let value = if data.first() == Some(&b'{') { STANDARD.encode(data).into_bytes() } else { data.to_vec() };
    let decoded = std::str::from_utf8(&value).ok().and_then(check_decoding);
    if let Ok(header) = HeaderValue::from_bytes(&value) {
        check_gateway(&header, decoded.as_ref());
    }
});

/// Checks the x402 crate's decoders on `text`; the decoded JSON object, if any.
fn check_decoding(text: &str) -> Option<Value> {
    let decoded = decode_header(text);
    let credential = decode_credential(text);
    let json = match decoded {
        Ok(json) => json,
        Err(e) => {
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "{e}");
            let e = credential.expect_err("decode_credential accepted what decode_header refused");
            assert_eq!(e.reason(), Some("invalid_payload"));
            return None;
        }
    };
    assert!(json.is_object(), "decode_header answered a non-object");
    let encoded = encode_header(&json);
    assert!(encoded.len() % 4 == 0 && encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
    assert_eq!(decode_header(&encoded).expect("encode_header output decodes"), json, "encode/decode round trip");

    let version = json.get("x402Version").and_then(Value::as_u64);
    match credential {
        Ok(Credential::X402 { version: v, payload }) => {
            assert_eq!(Some(u64::from(v)), version);
            assert!(v == 1 || v == 2);
            assert_eq!(payload, json);
        }
        Ok(other) => panic!("decode_credential answered {other:?}"),
        Err(e) => {
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_x402_version")), "{e}");
            assert!(!matches!(version, Some(1 | 2)));
        }
    }

    check_payload(&json, version, 1, v1::PaymentPayload::from_json);
    check_payload(&json, version, 2, v2::PaymentPayload::from_json);
    typed::<v1::PaymentRequirements>(&json);
    typed::<v1::PaymentRequired>(&json);
    typed::<v2::PaymentRequired>(&json);
    for accepted in
        json.get("accepted").into_iter().chain(json.get("accepts").and_then(Value::as_array).into_iter().flatten())
    {
        typed::<v2::PaymentRequirements>(accepted);
        typed::<v1::PaymentRequirements>(accepted);
    }
    if let Some(payload) = json.get("payload") {
        typed::<exact_evm::ExactEvmPayload>(payload);
        if let Ok(p) = exact_evm::ExactEvmPayload::from_json(payload) {
            assert_eq!(exact_evm::ExactEvmPayload::from_json(&to_value(&p)).expect("re-decodes"), p);
        }
    }
    let _ = compute_pay_x402::payment_identifier(&json);
    Some(json)
}

/// A versioned `from_json`: succeeds only at its version, and its value round-trips.
fn check_payload<T: Serialize + PartialEq + Debug>(
    json: &Value,
    version: Option<u64>,
    expected: u64,
    from_json: impl Fn(&Value) -> compute_core::Result<T>,
) {
    match from_json(json) {
        Ok(p) => {
            assert_eq!(version, Some(expected), "from_json accepted x402Version {version:?}");
            let json = to_value(&p);
            assert_eq!(from_json(&json).expect("a serialised payload decodes"), p, "payload round trip");
            assert_eq!(decode_header(&encode_header(&p)).expect("decodes"), json);
        }
        Err(e) => {
            let reason = e.reason();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            if version == Some(expected) {
                assert_eq!(reason, Some("invalid_payload"), "{e}");
            } else {
                assert_eq!(reason, Some("invalid_x402_version"), "{e}");
            }
        }
    }
}

/// When `json` decodes as `T`, serialising and decoding again gives the same value.
fn typed<T: Serialize + DeserializeOwned + PartialEq + Debug>(json: &Value) {
    let Ok(t) = serde_json::from_value::<T>(json.clone()) else { return };
    let back = to_value(&t);
    let again: T = serde_json::from_value(back.clone())
        .unwrap_or_else(|e| panic!("{} does not decode its own JSON {back}: {e}", std::any::type_name::<T>()));
    assert_eq!(again, t, "{} round trip", std::any::type_name::<T>());
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).expect("x402 types serialise")
}

fn check_gateway(header: &HeaderValue, decoded: Option<&Value>) {
    for (name, version) in [("x-payment", 1), ("payment-signature", 2)] {
        let mut headers = HeaderMap::new();
        headers.insert(name, header.clone());
        check_one(&headers, name, version, decoded);
    }
    let mut both = HeaderMap::new();
    both.insert("x-payment", HeaderValue::from_static("e30="));
    both.insert("payment-signature", header.clone());
    check_one(&both, "payment-signature", 2, decoded);
}

fn check_one(headers: &HeaderMap, name: &str, version: u8, decoded: Option<&Value>) {
    let ascii = headers.get(name).is_some_and(|v| v.to_str().is_ok());
    match (from_headers(headers), decoded.filter(|_| ascii)) {
        (Ok(Some(Credential::X402 { version: v, payload })), Some(json)) => {
            assert_eq!(v, version, "{name} gave a v{v} credential");
            assert_eq!(&payload, json, "{name}: the gateway's payload differs from the decoded header");
            check_idempotency_key(&Credential::X402 { version: v, payload });
        }
        (Err(p), None) => {
            assert_eq!(p.status, 400, "{name}: {p:?}");
            assert!(p.detail.as_deref().is_some_and(|d| d.starts_with(&format!("{name}: "))), "{p:?}");
        }
        (found, decoded) => panic!("{name}: from_headers answered {found:?} for decoded {decoded:?}"),
    }
}

fn check_idempotency_key(credential: &Credential) {
    let Credential::X402 { payload, .. } = credential else { unreachable!() };
    let gateway = idempotency_key(&HeaderMap::new(), Some(credential));
    match compute_pay_x402::payment_identifier(payload) {
        Ok(Some(id)) => assert_eq!(gateway.ok().flatten(), Some(format!("x402:{id}"))),
        Ok(None) => assert!(
            matches!(gateway, Ok(None)),
            "the x402 crate finds no payment identifier, the gateway answers {gateway:?}"
        ),
        Err(e) => {
            assert!(gateway.is_err(), "the x402 crate refuses the payment identifier ({e}), the gateway takes it")
        }
    }
}
