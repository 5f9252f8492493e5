//! MPP `Authorization: Payment …` on arbitrary bytes: the `mpp` crate's parser (what the Tempo
//! rail runs) and the gateway's header reading.
//!
//! Input: a header value; one that starts with `{` is a credential JSON, sent as
//! `Payment <base64url(JSON)>` so mutations reach the JSON. Properties:
//! - nothing panics;
//! - a parsed credential formats; the formatted header parses to the same credential (equal
//!   JSON) and formats to the same header again;
//! - the gateway never fails on these headers; under `Authorization` and
//!   `Payment-Authorization` a `Payment ` value mpp accepts reaches the rail unchanged (it parses
//!   to the same credential), and a value without the `Payment` scheme is no credential.
#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use compute_core::payment::Credential;
use compute_gateway::payments::credential::from_headers;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let value = if data.first() == Some(&b'{') {
        format!("Payment {}", URL_SAFE_NO_PAD.encode(data)).into_bytes()
    } else {
        data.to_vec()
    };
    let parsed = std::str::from_utf8(&value).ok().and_then(round_trip);
    if let Ok(header) = HeaderValue::from_bytes(&value) {
        for name in ["authorization", "payment-authorization"] {
            check_gateway(name, &header, parsed.as_ref());
        }
    }
});

/// The credential's JSON when mpp parses `text`, after checking the format/parse round trip.
fn round_trip(text: &str) -> Option<Value> {
    let credential = mpp::parse_authorization(text).ok()?;
    let json = serde_json::to_value(&credential).expect("a parsed credential serialises");
    let header = mpp::format_authorization(&credential).expect("a parsed credential formats");
    let again = mpp::parse_authorization(&header)
        .unwrap_or_else(|e| panic!("the formatted credential {header:?} does not parse: {e}"));
    assert_eq!(serde_json::to_value(&again).expect("serialises"), json, "parse(format(c)) != c");
    assert_eq!(mpp::format_authorization(&again).expect("formats"), header, "formatting is not stable");
    // What the rail reads next must not panic either.
    let _ = credential.charge_payload();
    let _ = credential.challenge.request.decode_value();
    Some(json)
}

fn check_gateway(name: &'static str, header: &HeaderValue, parsed: Option<&Value>) {
    let mut headers = HeaderMap::new();
    headers.insert(name, header.clone());
    let found = from_headers(&headers).unwrap_or_else(|p| panic!("{name} made from_headers fail: {p:?}"));
    let Ok(text) = header.to_str() else {
        assert!(found.is_none(), "a non-ASCII {name} header was taken as a credential");
        return;
    };
    let payment_scheme = text.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("payment "));
    if !text.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("payment")) {
        assert!(found.is_none(), "{name}: {text:?} is not the Payment scheme but was taken as a credential");
    }
    if let (Some(json), true) = (parsed, payment_scheme) {
        let Some(Credential::Mpp { encoded }) = found else {
            panic!("{name}: a credential mpp accepts was not taken as an MPP credential");
        };
        let handed = mpp::parse_authorization(&encoded).expect("the rail cannot parse what the gateway handed it");
        assert_eq!(&serde_json::to_value(&handed).expect("serialises"), json, "the gateway altered the credential");
    }
}
