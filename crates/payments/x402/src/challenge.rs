//! Assembling one 402 from the [`Offer::X402`] offers of many rails.
//!
//! A single 402 can serve both protocol versions (and MPP, whose offers are skipped here):
//! - v2: the `PAYMENT-REQUIRED` header, [`payment_required_v2`], from every offer's `v2` entry;
//! - v1: the JSON body, [`payment_required_v1_body`], from the offers that have a `v1` entry
//!   (networks with a v1 name). Rails put `resource` (the full URL) and `description` in their
//!   v1 entries; a missing `mimeType` is filled with `application/json`.
//!
//! The v2 `extensions` are the union of the offers' own (e.g. `eip2612GasSponsoring` from an
//! EVM Permit2 rail), so the server adds nothing rail-specific; an entry that is the same on
//! every 402 of a resource (its `bazaar` declaration) is encoded once as an
//! [`EncodedExtension`] and spliced in by [`encode_payment_required`]. [`challenge_status`] is
//! the HTTP status of a challenge that answers a refused payment.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::payment::Offer;
use serde_json::{Map, Value, json};

use crate::v2::{self, PaymentRequired, ResourceInfo};
use crate::{MIME_JSON, Reason, encode_header};

/// A `PaymentRequired.extensions` entry encoded once: its key and its JSON text. Meant for an
/// entry that is the same on every 402 of a resource (the route's `bazaar` declaration), which
/// [`encode_payment_required`] then carries without cloning or re-serializing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedExtension {
    key: String,
    /// `"key":value`, as it appears inside the `extensions` object.
    member: Vec<u8>,
}

impl EncodedExtension {
    /// Encodes `value` under `key`.
    pub fn new(key: &str, value: &Value) -> Self {
        // Serialising a string and a `Value` cannot fail.
        let mut member = serde_json::to_vec(key).unwrap_or_default();
        member.push(b':');
        member.extend(serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec()));
        EncodedExtension { key: key.to_owned(), member }
    }

    /// The extension's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// The value of the `PAYMENT-REQUIRED` header for `required` with `more` extensions added to
/// its `extensions` (an entry whose key `required` already has is left out: the object's own
/// wins). The same as adding them to the object and calling [`encode_header`], without
/// touching their JSON again.
pub fn encode_payment_required(required: &PaymentRequired, more: &[&EncodedExtension]) -> String {
    let own = required.extensions.as_ref();
    let added: Vec<&EncodedExtension> =
        more.iter().copied().filter(|e| own.is_none_or(|m| !m.contains_key(&e.key))).collect();
    // Serialising our own type cannot fail.
    let mut json = serde_json::to_vec(required).unwrap_or_default();
    // `extensions` is the last field of `PaymentRequired`: its object closes just before the
    // outer one when present.
    let end: &[u8] = if own.is_some() { b"}}" } else { b"}" };
    if added.is_empty() || !json.ends_with(end) {
        return STANDARD.encode(json);
    }
    match own {
        Some(map) => {
            json.truncate(json.len() - 2);
            if !map.is_empty() {
                json.push(b',');
            }
        }
        None => {
            json.pop();
            json.extend_from_slice(br#","extensions":{"#);
        }
    }
    for (i, e) in added.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(&e.member);
    }
    json.extend_from_slice(b"}}");
    STANDARD.encode(json)
}

/// HTTP status of the challenge when an EVM Permit2 payer has not approved Permit2 and sent no
/// sponsoring permit (`permit2_allowance_required`): 412 Precondition Failed, still with a
/// fresh `PAYMENT-REQUIRED`, as the x402 `exact` EVM scheme specifies.
pub const PERMIT2_ALLOWANCE_REQUIRED_STATUS: u16 = 412;

/// The HTTP status of a payment challenge answering a payment refused with x402 `reason`:
/// [`PERMIT2_ALLOWANCE_REQUIRED_STATUS`] (412) for `permit2_allowance_required`, 402 for every
/// other reason and for none.
pub fn challenge_status(reason: Option<&str>) -> u16 {
    if reason == Some(Reason::Permit2AllowanceRequired.as_str()) { PERMIT2_ALLOWANCE_REQUIRED_STATUS } else { 402 }
}

/// The v2 `PaymentRequired` object for `resource_url`, with every offer's `v2` entry in
/// `accepts` (in the given order) and the union of the offers' `extensions` (the first offer
/// to name a key wins; `None` when no offer has any), before encoding. Add `error` or more
/// `extensions` to it, then encode it with [`encode_header`].
pub fn payment_required_v2_object(resource_url: &str, description: &str, offers: &[Offer]) -> PaymentRequired {
    let mut accepts = Vec::new();
    let mut extensions = Map::new();
    for offer in offers {
        if let Offer::X402 { v2, extensions: own, .. } = offer {
            accepts.push(v2.clone());
            for (key, value) in own {
                extensions.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    PaymentRequired {
        x402_version: v2::VERSION,
        error: None,
        resource: ResourceInfo {
            url: resource_url.to_owned(),
            description: Some(description.to_owned()),
            mime_type: Some(MIME_JSON.to_owned()),
        },
        accepts,
        extensions: (!extensions.is_empty()).then_some(extensions),
    }
}

/// The value of the `PAYMENT-REQUIRED` header for `resource_url`: base64 of the v2
/// `PaymentRequired` built by [`payment_required_v2_object`].
pub fn payment_required_v2(resource_url: &str, description: &str, offers: &[Offer]) -> String {
    encode_header(&payment_required_v2_object(resource_url, description, offers))
}

/// The v1 402 JSON body `{x402Version: 1, error, accepts}`, with the `v1` entry of every offer
/// that has one (`accepts` is empty when no rail speaks v1), and `output_schema` (the
/// resource's discovery data, [`crate::extension::bazaar_v1_output_schema`]) as the
/// `outputSchema` of each entry that has none.
pub fn payment_required_v1_body(error: &str, offers: &[Offer], output_schema: Option<&Value>) -> Value {
    let accepts: Vec<Value> = offers
        .iter()
        .filter_map(|o| match o {
            Offer::X402 { v1: Some(v1), .. } => Some(with_defaults(v1.clone(), output_schema)),
            _ => None,
        })
        .collect();
    json!({"x402Version": 1, "error": error, "accepts": accepts})
}

/// Fills a missing `mimeType` with `application/json` and a missing `outputSchema`.
fn with_defaults(mut entry: Value, output_schema: Option<&Value>) -> Value {
    if let Some(map) = entry.as_object_mut() {
        map.entry("mimeType").or_insert_with(|| Value::String(MIME_JSON.to_owned()));
        if let Some(schema) = output_schema {
            map.entry("outputSchema").or_insert_with(|| schema.clone());
        }
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_header;

    fn offers() -> Vec<Offer> {
        let base_v2 = json!({
            "scheme": "exact", "network": "eip155:8453", "amount": "10000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 300,
            "extra": {"name": "USD Coin", "version": "2"}
        });
        let base_v1 = json!({
            "scheme": "exact", "network": "base", "maxAmountRequired": "10000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
            "resource": "https://g.example/api/machines", "description": "Create a machine",
            "maxTimeoutSeconds": 300, "extra": {"name": "USD Coin", "version": "2"}
        });
        let megaeth_v2 = json!({
            "scheme": "exact", "network": "eip155:4326", "amount": "10000000000000000",
            "asset": "0xFAfDdbb3FC7688494971a79cc65DCa3EF82079E7",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 300,
            "extra": {"name": "MegaUSD", "version": "1", "assetTransferMethod": "permit2"}
        });
        let (key, ad) = crate::extension::eip2612_gas_sponsoring_advertisement();
        vec![
            Offer::Mpp { www_authenticate: "Payment id=\"x\"".into() },
            Offer::X402 { v2: base_v2, v1: Some(base_v1), extensions: Map::new() },
            Offer::X402 { v2: megaeth_v2, v1: None, extensions: Map::from_iter([(key.to_owned(), ad)]) },
        ]
    }

    #[test]
    fn v2_header_carries_every_x402_offer() {
        let h = payment_required_v2("https://g.example/api/machines", "Create a machine", &offers());
        let pr = decode_header(&h).unwrap();
        assert_eq!(pr["x402Version"], 2);
        assert_eq!(
            pr["resource"],
            json!({"url": "https://g.example/api/machines", "description": "Create a machine", "mimeType": "application/json"})
        );
        let networks: Vec<_> = pr["accepts"].as_array().unwrap().iter().map(|a| a["network"].clone()).collect();
        assert_eq!(networks, [json!("eip155:8453"), json!("eip155:4326")]);
        assert!(pr.get("error").is_none());
        // The Permit2 offer brings its extension; without it there is none.
        assert_eq!(pr["extensions"]["eip2612GasSponsoring"]["info"]["version"], "1");
        assert_eq!(pr["extensions"].as_object().unwrap().len(), 1);
        let typed: PaymentRequired = serde_json::from_value(pr).unwrap();
        assert_eq!(typed.accepts.len(), 2);
        let base_only = payment_required_v2_object("https://g.example/x", "x", &offers()[..2]);
        assert!(base_only.extensions.is_none());
    }

    #[test]
    fn allowance_required_is_answered_with_412() {
        assert_eq!(challenge_status(Some("permit2_allowance_required")), 412);
        assert_eq!(challenge_status(Some("invalid_permit2_signature")), 402);
        assert_eq!(challenge_status(Some("payment-required")), 402);
        assert_eq!(challenge_status(None), 402);
    }

    #[test]
    fn v1_body_only_has_networks_with_a_v1_name() {
        let body = payment_required_v1_body("X-PAYMENT header is required", &offers(), None);
        assert_eq!(body["x402Version"], 1);
        assert_eq!(body["error"], "X-PAYMENT header is required");
        let accepts = body["accepts"].as_array().unwrap();
        assert_eq!(accepts.len(), 1);
        assert_eq!(accepts[0]["network"], "base");
        assert_eq!(accepts[0]["mimeType"], "application/json");
        assert_eq!(accepts[0]["resource"], "https://g.example/api/machines");
        let typed: crate::v1::PaymentRequirements = serde_json::from_value(accepts[0].clone()).unwrap();
        assert_eq!(typed.max_amount_required, "10000");
        assert!(accepts[0].get("outputSchema").is_none());
        let empty = payment_required_v1_body("e", &[], None);
        assert_eq!(empty["accepts"], json!([]));
    }

    #[test]
    fn the_object_can_carry_an_error_and_extensions() {
        let mut pr = payment_required_v2_object("https://g.example/x", "x", &offers());
        pr.error = Some("invalid_exact_evm_payload_signature".into());
        let (name, value) = crate::extension::payment_identifier_advertisement(false);
        pr.extensions.get_or_insert_with(Map::new).insert(name.to_owned(), value);
        let back = decode_header(&encode_header(&pr)).unwrap();
        assert_eq!(back["error"], "invalid_exact_evm_payload_signature");
        assert_eq!(back["extensions"]["payment-identifier"]["info"]["required"], false);
        assert_eq!(back["extensions"]["eip2612GasSponsoring"]["info"]["version"], "1");
    }

    #[test]
    fn encoded_extensions_are_spliced_in_as_if_added_to_the_object() {
        let get = crate::extension::HttpEndpoint { method: "GET", path: "/api/machines/{id}", body_example: None };
        let bazaar_value = crate::extension::bazaar_declaration(&get).unwrap();
        let bazaar = EncodedExtension::new(crate::extension::BAZAAR, &bazaar_value);
        assert_eq!(bazaar.key(), "bazaar");
        let (key, other) = crate::extension::payment_identifier_advertisement(false);
        let other = EncodedExtension::new(key, &other);
        let all = offers();
        let mut with_empty_map = payment_required_v2_object("https://g.example/x", "x", &all[..2]);
        with_empty_map.extensions = Some(Map::new());
        for (name, required) in [
            ("an offer's extension", payment_required_v2_object("https://g.example/x", "x", &all)),
            ("no extension", payment_required_v2_object("https://g.example/x", "x", &all[..2])),
            ("an empty map", with_empty_map),
        ] {
            let mut expected = required.clone();
            let map = expected.extensions.get_or_insert_with(Map::new);
            map.insert("bazaar".into(), bazaar_value.clone());
            map.insert(key.to_owned(), crate::extension::payment_identifier_advertisement(false).1);
            let spliced = decode_header(&encode_payment_required(&required, &[&bazaar, &other])).unwrap();
            assert_eq!(spliced, serde_json::to_value(&expected).unwrap(), "{name}");
            assert_eq!(
                decode_header(&encode_payment_required(&required, &[])).unwrap(),
                serde_json::to_value(&required).unwrap()
            );
        }
        // The object's own entry wins over an encoded one of the same key.
        let mut own = payment_required_v2_object("https://g.example/x", "x", &all);
        own.extensions.get_or_insert_with(Map::new).insert("bazaar".into(), json!({"info": "own"}));
        let back = decode_header(&encode_payment_required(&own, &[&bazaar])).unwrap();
        assert_eq!(back["extensions"]["bazaar"], json!({"info": "own"}));
        assert_eq!(back["extensions"]["eip2612GasSponsoring"]["info"]["version"], "1");
    }

    #[test]
    fn v1_entries_carry_the_output_schema() {
        let post = crate::extension::HttpEndpoint { method: "POST", path: "/api/machines", body_example: None };
        let schema = crate::extension::bazaar_v1_output_schema(&post).unwrap();
        let body = payment_required_v1_body("e", &offers(), Some(&schema));
        assert_eq!(body["accepts"][0]["outputSchema"], schema);
        assert_eq!(body["accepts"][0]["outputSchema"]["input"]["method"], "POST");
    }
}
