//! What the Tempo rail reads from MPP credentials without a chain call: the transaction hash
//! (the fingerprint of a payment), the payer and amount a credential claims, the challenge's
//! expiry, and the route scope every challenge is bound to.

use chrono::{DateTime, Utc};
use compute_core::payment::{Charge, Claim};
use compute_core::{Result, TokenAmount, WalletAddress};
use mpp::PaymentCredential;
use sha2::{Digest, Sha256};

use crate::errors::internal;

/// `did:pkh:eip155:<chain>:<address>` or a bare address → the address.
pub(crate) fn payer_address(payer: &str) -> Result<WalletAddress> {
    payer.rsplit(':').next().unwrap_or(payer).parse().map_err(|_| internal(format!("unusable payer {payer:?}")))
}

fn payload(credential: &PaymentCredential) -> Option<serde_json::Value> {
    serde_json::to_value(&credential.payload).ok()
}

/// The transaction hash of a pull-mode credential (keccak-256 of the signed envelope, however
/// its hex is spelled), or the hash a push-mode credential carries (lowercase).
pub(crate) fn tx_reference(credential: &PaymentCredential) -> Option<String> {
    let payload = payload(credential)?;
    match payload.get("type")?.as_str()? {
        "transaction" => {
            let raw = payload.get("signature")?.as_str()?;
            let hex = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")).unwrap_or(raw);
            let bytes = hex::decode(hex).ok()?;
            Some(format!("{:#x}", alloy_primitives::keccak256(bytes)))
        }
        "hash" => payload.get("hash").and_then(|h| h.as_str()).map(str::to_ascii_lowercase),
        _ => None,
    }
}

/// The replay key of a credential, derived from the payment itself: the transaction hash
/// (one signed transaction sent as many credentials is one payment); for a zero-amount proof,
/// its challenge and its signer (a challenge names no payer, so wallets answering one
/// challenge in the same second each get one use; the signer's address, not the signature,
/// so a re-encoded or malleated signature is the same proof).
pub(crate) fn fingerprint(credential: &PaymentCredential) -> Result<String> {
    if let Some(hash) = tx_reference(credential) {
        return Ok(hash);
    }
    let signer = credential.source.as_deref().and_then(|s| payer_address(s).ok()).map(|a| a.to_string());
    let mut h = Sha256::new();
    h.update(b"mpp-proof\n");
    h.update(credential.challenge.id.as_bytes());
    h.update(b"\n");
    h.update(signer.unwrap_or_default().as_bytes());
    Ok(format!("proof:{}", hex::encode(h.finalize())))
}

/// When the challenge the credential answers expires.
pub(crate) fn expires(credential: &PaymentCredential) -> Option<DateTime<Utc>> {
    let text = serde_json::to_value(&credential.challenge).ok()?.get("expires")?.as_str()?.to_owned();
    DateTime::parse_from_rfc3339(&text).ok().map(|t| t.with_timezone(&Utc))
}

/// The payer the credential names (`source`) and the amount of the challenge it answers, as
/// sent: unverified.
pub(crate) fn claims(credential: &PaymentCredential, decimals: u8) -> Claim {
    let source = serde_json::to_value(credential).ok().and_then(|v| v.get("source")?.as_str().map(str::to_owned));
    let request = serde_json::to_value(&credential.challenge)
        .ok()
        .and_then(|c| c.get("request")?.as_str().map(str::to_owned))
        .and_then(|r| mpp::base64url_decode(&r).ok())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok());
    let amount = request
        .as_ref()
        .and_then(|r| r.get("amount")?.as_str()?.parse::<u128>().ok())
        .and_then(|base_units| TokenAmount { base_units, decimals }.to_usd().ok());
    Claim { payer: source.and_then(|s| payer_address(&s).ok()), amount }
}

/// The route scope a challenge for `charge` carries (`_mppx_scope` in its request, under the
/// challenge's HMAC): the route template (with its method) and the request path with its ids,
/// so a credential bought for one route or resource is refused on another of the same price.
/// The path, not the whole URL: replicas behind one load balancer share challenges whatever
/// host each one thinks it has.
pub(crate) fn scope(charge: &Charge) -> serde_json::Value {
    serde_json::json!({"route": charge.route, "path": path_of(&charge.resource_url)})
}

/// The path (and query) of an absolute URL; the input itself when it has no scheme.
fn path_of(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scope_keeps_the_path_and_drops_the_host() {
        assert_eq!(path_of("http://127.0.0.1:8402/api/machines/abc"), "/api/machines/abc");
        assert_eq!(path_of("https://gw.example/"), "/");
        assert_eq!(path_of("https://gw.example"), "/");
        assert_eq!(path_of("/api/x"), "/api/x");
    }
}
