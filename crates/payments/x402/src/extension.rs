//! x402 v2 extensions the gateway speaks:
//! - `payment-identifier`: a client-chosen idempotency key carried in a v2 payload as
//!   `extensions["payment-identifier"].info.id` (16–128 characters of `[A-Za-z0-9_-]`). The
//!   server binds the id to a fingerprint of the request: same id and same request → the
//!   cached response; same id and another request → 409; `required: true` and no id → 400.
//! - `eip2612GasSponsoring`: the server's advertisement ([`eip2612_gas_sponsoring_advertisement`])
//!   that it pays the payer's Permit2 approval through an EIP-2612 `permit` the client signs
//!   (payments-x402.md §2 "EVM with Permit2"); chain crates parse and check the client's `info`.
//! - `bazaar`: the server's discovery declaration of an HTTP endpoint ([`bazaar_declaration`]:
//!   method, body, output type and the JSON schema of that `info`, x402 specs/extensions/bazaar.md),
//!   so facilitators and indexers can catalog it; v1 carries the same as each entry's
//!   `outputSchema` ([`bazaar_v1_output_schema`]).

use compute_core::{Error, ErrorKind, Result};
use serde_json::{Map, Value, json};

use crate::Reason;

/// The extension's key in `extensions`.
pub const PAYMENT_IDENTIFIER: &str = "payment-identifier";

/// Shortest accepted id.
pub const MIN_ID_LEN: usize = 16;
/// Longest accepted id.
pub const MAX_ID_LEN: usize = 128;

/// The payment identifier of a v2 payment payload JSON, `None` when the extension or its
/// `info.id` is absent.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] with reason `invalid_payload` when the id is present but is not
/// a string of 16–128 characters of `[A-Za-z0-9_-]`.
pub fn payment_identifier(payload: &Value) -> Result<Option<String>> {
    let Some(id) = payload
        .get("extensions")
        .and_then(|e| e.get(PAYMENT_IDENTIFIER))
        .and_then(|p| p.get("info"))
        .and_then(|i| i.get("id"))
    else {
        return Ok(None);
    };
    if id.is_null() {
        return Ok(None);
    }
    let id = id.as_str().ok_or_else(|| invalid("payment identifier is not a string"))?;
    validate_payment_identifier(id)?;
    Ok(Some(id.to_owned()))
}

/// Checks the id format: 16–128 characters, each alphanumeric ASCII, `-` or `_`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] with reason `invalid_payload`.
pub fn validate_payment_identifier(id: &str) -> Result<()> {
    if !(MIN_ID_LEN..=MAX_ID_LEN).contains(&id.len()) {
        return Err(invalid("payment identifier must be 16 to 128 characters"));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(invalid("payment identifier may only hold letters, digits, '-' and '_'"));
    }
    Ok(())
}

/// The `(key, value)` a server puts in `PaymentRequired.extensions` to advertise the
/// extension; `required` makes the id mandatory.
pub fn payment_identifier_advertisement(required: bool) -> (&'static str, Value) {
    let value = json!({
        "info": {"required": required},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "required": {"type": "boolean"},
                "id": {"type": "string", "minLength": MIN_ID_LEN, "maxLength": MAX_ID_LEN}
            },
            "required": ["required"]
        }
    });
    (PAYMENT_IDENTIFIER, value)
}

/// The key of the EIP-2612 gas-sponsoring extension in `extensions` (of the 402 and of the
/// payload).
pub const EIP2612_GAS_SPONSORING: &str = "eip2612GasSponsoring";

/// The server's `eip2612GasSponsoring` advertisement for `PaymentRequired.extensions`, as the
/// x402 extension spec and @x402/evm 2.27 shape it: `info` holds only `description` and
/// `version` (the client merges its own fields into this `info`, so a field declared here
/// would overwrite the client's), and `schema` is the JSON schema of the client's `info`.
/// @x402/evm signs the EIP-2612 `permit(owner, Permit2, amount)` only when the 402 carries
/// this entry (and the client can read the chain).
pub fn eip2612_gas_sponsoring_advertisement() -> (&'static str, Value) {
    let address = |what: &str| json!({"type": "string", "pattern": "^0x[a-fA-F0-9]{40}$", "description": what});
    let number = |what: &str| json!({"type": "string", "pattern": "^[0-9]+$", "description": what});
    let value = json!({
        "info": {
            "description": "The facilitator accepts EIP-2612 gasless Permit to `Permit2` canonical contract.",
            "version": "1"
        },
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "from": address("The address of the sender."),
                "asset": address("The address of the ERC-20 token contract."),
                "spender": address("The address of the spender (Canonical Permit2)."),
                "amount": number("The amount to approve (uint256), in token base units."),
                "nonce": number("The current EIP-2612 nonce of the sender."),
                "deadline": number("The timestamp (Unix seconds) at which the signature expires."),
                "signature": {"type": "string", "pattern": "^0x[a-fA-F0-9]+$",
                              "description": "The 65-byte concatenated signature (r, s, v) as a hex string."},
                "version": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)*$", "description": "Schema version identifier."}
            },
            "required": ["from", "asset", "spender", "amount", "nonce", "deadline", "signature", "version"]
        }
    });
    (EIP2612_GAS_SPONSORING, value)
}

/// The key of the discovery extension in `PaymentRequired.extensions`.
pub const BAZAAR: &str = "bazaar";

/// An HTTP endpoint, as the `bazaar` extension declares it.
#[derive(Clone, Copy, Debug)]
pub struct HttpEndpoint<'a> {
    /// The method, upper case (`GET`, `POST`, …).
    pub method: &'a str,
    /// The path with `{name}` parameters, e.g. `/api/machines/{id}`.
    pub path: &'a str,
    /// An example JSON body, for the body methods (`POST`, `PUT`, `PATCH`); `{}` when `None`.
    pub body_example: Option<&'a Value>,
}

/// Whether `method` sends a body in the bazaar's terms: `Some(false)` for `GET`, `HEAD` and
/// `DELETE` (query methods), `Some(true)` for `POST`, `PUT` and `PATCH`, `None` for others.
fn body_method(method: &str) -> Option<bool> {
    match method {
        "GET" | "HEAD" | "DELETE" => Some(false),
        "POST" | "PUT" | "PATCH" => Some(true),
        _ => None,
    }
}

/// The path parameter names of a `{name}` template, in order.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// The server's `bazaar` declaration of `endpoint` for `PaymentRequired.extensions`, as the
/// x402 extension spec and @x402/extensions shape it, already narrowed to its method (what the
/// SDK's `enrichDeclaration` does per request), so it is the same on every 402 of the route:
/// - `info.input`: `{type: "http", method}`, plus `bodyType: "json"` and the example `body`
///   for a body method; `info.output`: `{type: "json"}`;
/// - `schema`: the JSON schema (draft 2020-12) of that `info`;
/// - `routeTemplate`: the path with `:name` parameters, only when it has any (the catalog key
///   of every concrete URL of the route). The concrete `pathParams` are left out.
///
/// `None` for a method the extension has no shape for (`OPTIONS`, …).
pub fn bazaar_declaration(endpoint: &HttpEndpoint<'_>) -> Option<Value> {
    let with_body = body_method(endpoint.method)?;
    let mut input = json!({"type": "http", "method": endpoint.method});
    let mut properties = json!({
        "type": {"type": "string", "const": "http"},
        "method": {"type": "string", "enum": [endpoint.method]}
    });
    let mut required = vec!["type", "method"];
    if with_body {
        input["bodyType"] = json!("json");
        input["body"] = endpoint.body_example.cloned().unwrap_or_else(|| json!({}));
        properties["bodyType"] = json!({"type": "string", "enum": ["json", "form-data", "text"]});
        properties["body"] = json!({"type": "object"});
        required.extend(["bodyType", "body"]);
    }
    let params: Map<String, Value> =
        path_params(endpoint.path).map(|p| (p.to_owned(), json!({"type": "string"}))).collect();
    let dynamic = !params.is_empty();
    if dynamic {
        properties["pathParams"] = json!({"type": "object", "properties": params});
    }
    let mut declaration = json!({
        "info": {"input": input, "output": {"type": "json"}},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "input": {"type": "object", "properties": properties, "required": required, "additionalProperties": false},
                "output": {"type": "object", "properties": {"type": {"type": "string"}, "example": {}}, "required": ["type"]}
            },
            "required": ["input"]
        }
    });
    if dynamic {
        let template: Vec<String> = endpoint
            .path
            .split('/')
            .map(|seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => format!(":{name}"),
                None => seg.to_owned(),
            })
            .collect();
        declaration["routeTemplate"] = json!(template.join("/"));
    }
    Some(declaration)
}

/// The v1 form of [`bazaar_declaration`], for each v1 `accepts` entry's `outputSchema` (the
/// pre-bazaar discovery field, specs/extensions/bazaar.md § Backwards Compatibility):
/// `{input: {type: "http", method, discoverable: true}}`, plus `bodyType: "json"` and the
/// example as `bodyFields` for a body method. `None` as for [`bazaar_declaration`].
pub fn bazaar_v1_output_schema(endpoint: &HttpEndpoint<'_>) -> Option<Value> {
    let mut input = json!({"type": "http", "method": endpoint.method, "discoverable": true});
    if body_method(endpoint.method)? {
        input["bodyType"] = json!("json");
        input["bodyFields"] = endpoint.body_example.cloned().unwrap_or_else(|| json!({}));
    }
    Some(json!({"input": input}))
}

fn invalid(msg: &str) -> Error {
    Error::new(ErrorKind::InvalidInput, msg.to_owned()).with_reason(Reason::InvalidPayload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_with(id: Value) -> Value {
        json!({
            "x402Version": 2,
            "accepted": {},
            "payload": {},
            "extensions": {"payment-identifier": {"info": {"required": false, "id": id}, "schema": {}}}
        })
    }

    #[test]
    fn extracts_a_valid_id() {
        let id = "pay_7d5d747be160e280504c099d984bcfe0";
        assert_eq!(payment_identifier(&payload_with(json!(id))).unwrap().as_deref(), Some(id));
        for ok in ["a".repeat(16), "Z-_9".repeat(32)] {
            assert_eq!(payment_identifier(&payload_with(json!(ok))).unwrap(), Some(ok.clone()));
        }
    }

    #[test]
    fn absent_is_none() {
        assert_eq!(payment_identifier(&json!({"x402Version": 2})).unwrap(), None);
        assert_eq!(payment_identifier(&json!({"extensions": {}})).unwrap(), None);
        let no_id = json!({"extensions": {"payment-identifier": {"info": {"required": true}}}});
        assert_eq!(payment_identifier(&no_id).unwrap(), None);
        assert_eq!(payment_identifier(&payload_with(Value::Null)).unwrap(), None);
    }

    #[test]
    fn malformed_ids_are_invalid_input() {
        for bad in [
            json!("a".repeat(15)),
            json!("a".repeat(129)),
            json!("pay 7d5d747be160e280504c"),
            json!("pay.7d5d747be160e280504c"),
            json!("päy_7d5d747be160e280504c"),
            json!(1234567890123456789u64),
            json!(["pay_7d5d747be160e280504c"]),
        ] {
            let e = payment_identifier(&payload_with(bad.clone())).unwrap_err();
            assert_eq!((e.kind(), e.reason()), (ErrorKind::InvalidInput, Some("invalid_payload")), "{bad}");
        }
    }

    #[test]
    fn advertisement_shape() {
        let (key, v) = payment_identifier_advertisement(true);
        assert_eq!(key, "payment-identifier");
        assert_eq!(v["info"], json!({"required": true}));
        assert_eq!(v["schema"]["properties"]["id"]["minLength"], 16);

        let (key, v) = eip2612_gas_sponsoring_advertisement();
        assert_eq!(key, "eip2612GasSponsoring");
        assert_eq!(v["info"]["version"], "1");
        assert_eq!(v["info"].as_object().unwrap().len(), 2, "only description and version: the client fills the rest");
        assert_eq!(v["schema"]["required"].as_array().unwrap().len(), 8);
        assert_eq!(v["schema"]["properties"]["version"]["pattern"], "^[0-9]+(\\.[0-9]+)*$");
    }

    #[test]
    fn bazaar_declares_query_and_body_endpoints() {
        let get = HttpEndpoint { method: "GET", path: "/api/machines", body_example: None };
        let d = bazaar_declaration(&get).unwrap();
        assert_eq!(d["info"], json!({"input": {"type": "http", "method": "GET"}, "output": {"type": "json"}}));
        assert_eq!(d["schema"]["properties"]["input"]["properties"]["method"]["enum"], json!(["GET"]));
        assert_eq!(d["schema"]["properties"]["input"]["required"], json!(["type", "method"]));
        assert!(d.get("routeTemplate").is_none(), "a static route has none");

        let example = json!({"name": "m", "size_gb": 1});
        let post =
            HttpEndpoint { method: "POST", path: "/api/machines/{id}/volumes/{vid}", body_example: Some(&example) };
        let d = bazaar_declaration(&post).unwrap();
        assert_eq!(d["info"]["input"], json!({"type": "http", "method": "POST", "bodyType": "json", "body": example}));
        let input = &d["schema"]["properties"]["input"];
        assert_eq!(input["required"], json!(["type", "method", "bodyType", "body"]));
        assert_eq!(input["additionalProperties"], false);
        assert_eq!(
            input["properties"]["pathParams"]["properties"],
            json!({"id": {"type": "string"}, "vid": {"type": "string"}})
        );
        assert_eq!(d["routeTemplate"], "/api/machines/:id/volumes/:vid");
        assert_eq!(d["schema"]["required"], json!(["input"]));

        let no_example = HttpEndpoint { method: "PUT", path: "/v1/x", body_example: None };
        assert_eq!(bazaar_declaration(&no_example).unwrap()["info"]["input"]["body"], json!({}));
        assert!(bazaar_declaration(&HttpEndpoint { method: "OPTIONS", path: "/x", body_example: None }).is_none());
    }

    #[test]
    fn bazaar_v1_output_schema_shape() {
        let get = HttpEndpoint { method: "DELETE", path: "/api/machines/{id}", body_example: None };
        assert_eq!(
            bazaar_v1_output_schema(&get).unwrap(),
            json!({"input": {"type": "http", "method": "DELETE", "discoverable": true}})
        );
        let example = json!({"days": 30});
        let post = HttpEndpoint { method: "POST", path: "/x", body_example: Some(&example) };
        let v1 = bazaar_v1_output_schema(&post).unwrap();
        assert_eq!((&v1["input"]["bodyType"], &v1["input"]["bodyFields"]), (&json!("json"), &example));
    }
}
