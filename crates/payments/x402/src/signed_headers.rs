//! x402Compute's signed-header wallet authentication (`X-Auth-*`), chain-agnostic: the headers,
//! the signed message, the timestamp window and single-use nonces. Chain crates plug in the
//! signature check ([`SignatureVerifier`]: EIP-191 on EVM, ed25519 on Solana).
//!
//! Source: `../shared/reference/x402compute-api.md` § Signed-header wallet auth. The message is
//! nine lines joined by `\n`:
//!
//! ```text
//! X402-COMPUTE-AUTH
//! v1
//! <chain>            same as X-Auth-Chain (base, megaeth, robinhood, solana)
//! <address>          lowercase for EVM
//! <METHOD>           upper case
//! <path>             e.g. /compute/instances/abc (no query)
//! <sha256 hex of the raw body>   (of the empty string for no body)
//! <timestamp ms>     X-Auth-Timestamp, Unix epoch milliseconds
//! <nonce>            X-Auth-Nonce
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use compute_core::auth::{AuthRequest, WalletAuth};
use compute_core::markers::MarkerStore;
use compute_core::{Error, ErrorKind, Result, WalletAddress};
use sha2::{Digest, Sha256};

/// `X-Auth-Address`: the wallet.
pub const X_AUTH_ADDRESS: &str = "x-auth-address";
/// `X-Auth-Chain`: `base`, `megaeth`, `robinhood` or `solana`.
pub const X_AUTH_CHAIN: &str = "x-auth-chain";
/// `X-Auth-Signature`.
pub const X_AUTH_SIGNATURE: &str = "x-auth-signature";
/// `X-Auth-Timestamp`: Unix epoch **milliseconds**.
pub const X_AUTH_TIMESTAMP: &str = "x-auth-timestamp";
/// `X-Auth-Nonce`: a client random, single use.
pub const X_AUTH_NONCE: &str = "x-auth-nonce";
/// `X-Auth-Sig-Encoding`: `hex` (EVM) or `base64` (Solana).
pub const X_AUTH_SIG_ENCODING: &str = "x-auth-sig-encoding";

/// First line of the signed message.
pub const MESSAGE_TAG: &str = "X402-COMPUTE-AUTH";
/// Second line: the message version.
pub const MESSAGE_VERSION: &str = "v1";

/// Longest nonce accepted, in bytes.
const MAX_NONCE: usize = 128;

fn unauthenticated(reason: &str, message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Unauthenticated, message).with_reason(reason).with_component("x-auth")
}

/// The `X-Auth-*` headers of one request, parsed but not verified.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `X-Auth-Address` as sent.
    pub address: String,
    /// `X-Auth-Chain`.
    pub chain: String,
    /// The decoded signature bytes.
    pub signature: Vec<u8>,
    /// `X-Auth-Timestamp`, ms.
    pub timestamp_ms: u64,
    /// `X-Auth-Nonce`.
    pub nonce: String,
}

impl fmt::Debug for SignedHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaders")
            .field("address", &self.address)
            .field("chain", &self.chain)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

/// Whether the request carries `X-Auth-Address` (the method is in use).
pub fn present(headers: &http::HeaderMap) -> bool {
    headers.contains_key(X_AUTH_ADDRESS)
}

impl SignedHeaders {
    /// Reads the six headers.
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] (reason `invalid_auth_headers`) when one is missing, not
    /// ASCII, or malformed (a timestamp that is not an integer, a signature that does not
    /// decode in its stated encoding, an empty or over-long nonce).
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Self> {
        let get = |name: &str| -> Result<String> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| unauthenticated("invalid_auth_headers", format!("{name} is missing or not text")))
        };
        let encoding = get(X_AUTH_SIG_ENCODING)?;
        let raw = get(X_AUTH_SIGNATURE)?;
        let signature = match encoding.as_str() {
            "hex" => hex::decode(raw.strip_prefix("0x").unwrap_or(&raw)).ok(),
            "base64" => base64::engine::general_purpose::STANDARD.decode(&raw).ok(),
            other => {
                return Err(unauthenticated(
                    "invalid_auth_headers",
                    format!("{X_AUTH_SIG_ENCODING} must be hex or base64, not {other:?}"),
                ));
            }
        }
        .ok_or_else(|| unauthenticated("invalid_auth_headers", format!("{X_AUTH_SIGNATURE} is not {encoding}")))?;
        let timestamp_ms = get(X_AUTH_TIMESTAMP)?.parse().map_err(|_| {
            unauthenticated("invalid_auth_headers", format!("{X_AUTH_TIMESTAMP} must be Unix epoch milliseconds"))
        })?;
        let nonce = get(X_AUTH_NONCE)?;
        if nonce.len() > MAX_NONCE || !nonce.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(unauthenticated(
                "invalid_auth_headers",
                format!("{X_AUTH_NONCE} must be 1–128 printable characters"),
            ));
        }
        Ok(SignedHeaders { address: get(X_AUTH_ADDRESS)?, chain: get(X_AUTH_CHAIN)?, signature, timestamp_ms, nonce })
    }

    /// The nine-line message the wallet signed for `method path` with `body`.
    pub fn message(&self, method: &http::Method, path: &str, body: &[u8]) -> String {
        [
            MESSAGE_TAG.to_owned(),
            MESSAGE_VERSION.to_owned(),
            self.chain.clone(),
            self.address.clone(),
            method.as_str().to_ascii_uppercase(),
            path.to_owned(),
            hex::encode(Sha256::digest(body)),
            self.timestamp_ms.to_string(),
            self.nonce.clone(),
        ]
        .join("\n")
    }

    /// Checks that the timestamp is within `window` of `now_ms`, either way.
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] (reason `stale_auth_timestamp`).
    pub fn check_fresh(&self, now_ms: u64, window: Duration) -> Result<()> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        if now_ms.abs_diff(self.timestamp_ms) > window_ms {
            return Err(unauthenticated(
                "stale_auth_timestamp",
                format!("{X_AUTH_TIMESTAMP} is more than {} s from the server's clock", window.as_secs()),
            ));
        }
        Ok(())
    }
}

/// A chain family's signature check.
pub trait SignatureVerifier: Send + Sync + fmt::Debug {
    /// The method name for logs and errors, e.g. `x-auth-evm`.
    fn name(&self) -> &'static str;
    /// The `X-Auth-Chain` values this verifier handles, e.g. `["base", "megaeth"]`.
    fn chains(&self) -> &[String];
    /// Verifies that `signature` over `message` was made by `address` and returns the canonical
    /// wallet.
    ///
    /// # Errors
    /// [`ErrorKind::Unauthenticated`] when the address does not parse or the signature is not
    /// the address's.
    fn verify(&self, address: &str, message: &[u8], signature: &[u8]) -> Result<WalletAddress>;
}

/// [`WalletAuth`] over `X-Auth-*` headers: parses them, bounds the timestamp window, checks
/// the signature with the chain's verifier, then consumes the nonce (single use within the
/// window, shared by every gateway process through the [`MarkerStore`]).
pub struct SignedHeaderAuth {
    verifiers: Vec<Arc<dyn SignatureVerifier>>,
    nonces: Arc<dyn MarkerStore>,
    window: Duration,
}

impl fmt::Debug for SignedHeaderAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedHeaderAuth").field("verifiers", &self.verifiers).field("window", &self.window).finish()
    }
}

impl SignedHeaderAuth {
    /// Signed headers checked by `verifiers`, nonces kept in `nonces`, timestamps accepted
    /// within `window` of the server clock.
    pub fn new(verifiers: Vec<Arc<dyn SignatureVerifier>>, nonces: Arc<dyn MarkerStore>, window: Duration) -> Self {
        SignedHeaderAuth { verifiers, nonces, window }
    }

    /// Verifies `request` at `now_ms` (ms since the Unix epoch).
    ///
    /// # Errors
    /// As [`WalletAuth::authenticate`].
    pub async fn authenticate_at(&self, request: &AuthRequest<'_>, now_ms: u64) -> Result<WalletAddress> {
        let h = SignedHeaders::from_headers(request.headers)?;
        h.check_fresh(now_ms, self.window)?;
        let verifier = self.verifiers.iter().find(|v| v.chains().contains(&h.chain)).ok_or_else(|| {
            unauthenticated("unsupported_auth_chain", format!("{X_AUTH_CHAIN} {:?} is not enabled here", h.chain))
        })?;
        let message = h.message(request.method, request.path, request.body);
        let wallet = verifier.verify(&h.address, message.as_bytes(), &h.signature)?;
        let key = format!("x-auth-nonce:{wallet}:{}", h.nonce);
        // Kept past the window either way, so a nonce can never come back while its timestamp
        // is still acceptable.
        if !self.nonces.put_if_absent(&key, "1", self.window * 2 + Duration::from_secs(1)).await? {
            return Err(unauthenticated("auth_nonce_reused", format!("{X_AUTH_NONCE} was already used")));
        }
        Ok(wallet)
    }
}

/// Milliseconds since the Unix epoch now.
fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

#[async_trait]
impl WalletAuth for SignedHeaderAuth {
    fn name(&self) -> &'static str {
        "x-auth"
    }

    fn present(&self, request: &AuthRequest<'_>) -> bool {
        present(request.headers)
    }

    async fn authenticate(&self, request: &AuthRequest<'_>) -> Result<WalletAddress> {
        self.authenticate_at(request, now_ms()).await
    }

    fn challenge(&self, _: &AuthRequest<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    fn hint(&self) -> &'static str {
        "sign the X402-COMPUTE-AUTH message and send X-Auth-Address, X-Auth-Chain, X-Auth-Signature, \
         X-Auth-Timestamp (ms), X-Auth-Nonce and X-Auth-Sig-Encoding"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, Default)]
    struct Markers(Mutex<HashMap<String, String>>);

    #[async_trait]
    impl MarkerStore for Markers {
        async fn get(&self, key: &str) -> Result<Option<String>> {
            Ok(self.0.lock().unwrap().get(key).cloned())
        }
        async fn put(&self, key: &str, value: &str, _: Duration) -> Result<()> {
            self.0.lock().unwrap().insert(key.into(), value.into());
            Ok(())
        }
        async fn delete(&self, key: &str) -> Result<()> {
            self.0.lock().unwrap().remove(key);
            Ok(())
        }
        async fn put_if_absent(&self, key: &str, value: &str, _: Duration) -> Result<bool> {
            Ok(self.0.lock().unwrap().insert(key.into(), value.into()).is_none())
        }
        async fn compare_exchange(&self, _: &str, _: Option<&str>, _: Option<&str>, _: Duration) -> Result<bool> {
            Ok(false)
        }
    }

    /// Accepts a "signature" that is the message's SHA-256 followed by the address bytes.
    #[derive(Debug)]
    struct Toy(Vec<String>);

    impl SignatureVerifier for Toy {
        fn name(&self) -> &'static str {
            "toy"
        }
        fn chains(&self) -> &[String] {
            &self.0
        }
        fn verify(&self, address: &str, message: &[u8], signature: &[u8]) -> Result<WalletAddress> {
            let mut want = Sha256::digest(message).to_vec();
            want.extend_from_slice(address.as_bytes());
            if want != signature {
                return Err(unauthenticated("invalid_auth_signature", "bad signature"));
            }
            address.parse()
        }
    }

    const ALICE: &str = "0x00000000000000000000000000000000000a11ce";

    fn headers(ts: u64, nonce: &str, path: &str, body: &[u8]) -> http::HeaderMap {
        let h = SignedHeaders {
            address: ALICE.into(),
            chain: "base".into(),
            signature: vec![],
            timestamp_ms: ts,
            nonce: nonce.into(),
        };
        let mut sig = Sha256::digest(h.message(&http::Method::POST, path, body).as_bytes()).to_vec();
        sig.extend_from_slice(ALICE.as_bytes());
        let mut map = http::HeaderMap::new();
        for (k, v) in [
            (X_AUTH_ADDRESS, ALICE.to_owned()),
            (X_AUTH_CHAIN, "base".to_owned()),
            (X_AUTH_SIGNATURE, format!("0x{}", hex::encode(sig))),
            (X_AUTH_TIMESTAMP, ts.to_string()),
            (X_AUTH_NONCE, nonce.to_owned()),
            (X_AUTH_SIG_ENCODING, "hex".to_owned()),
        ] {
            map.insert(k, v.parse().unwrap());
        }
        map
    }

    fn request<'a>(headers: &'a http::HeaderMap, path: &'a str, body: &'a [u8]) -> AuthRequest<'a> {
        AuthRequest {
            method: &http::Method::POST,
            path,
            route: "POST /compute/api-keys",
            resource_url: "http://x/compute/api-keys",
            description: "test",
            headers,
            body,
        }
    }

    #[test]
    fn the_message_has_the_nine_documented_lines() {
        let h = SignedHeaders {
            address: ALICE.into(),
            chain: "base".into(),
            signature: vec![],
            timestamp_ms: 1_700_000_000_000,
            nonce: "abc".into(),
        };
        let m = h.message(&http::Method::DELETE, "/compute/api-keys/k1", b"");
        assert_eq!(
            m,
            format!(
                "X402-COMPUTE-AUTH\nv1\nbase\n{ALICE}\nDELETE\n/compute/api-keys/k1\n\
                 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n1700000000000\nabc"
            )
        );
    }

    #[tokio::test]
    async fn signed_headers_authenticate_once_within_the_window() {
        let auth = SignedHeaderAuth::new(
            vec![Arc::new(Toy(vec!["base".into()]))],
            Arc::new(Markers::default()),
            Duration::from_secs(60),
        );
        let now = 1_700_000_000_000;
        let h = headers(now, "n1", "/compute/api-keys", b"{}");
        let wallet = auth.authenticate_at(&request(&h, "/compute/api-keys", b"{}"), now + 1000).await.unwrap();
        assert_eq!(wallet.as_str(), ALICE);
        let kinds = [
            // The same nonce again.
            auth.authenticate_at(&request(&h, "/compute/api-keys", b"{}"), now).await,
            // Another path or body than the one signed.
            auth.authenticate_at(&request(&headers(now, "n2", "/compute/api-keys", b"{}"), "/compute/x", b"{}"), now)
                .await,
            auth.authenticate_at(
                &request(&headers(now, "n3", "/compute/api-keys", b"{}"), "/compute/api-keys", b"{ }"),
                now,
            )
            .await,
            // A timestamp outside the window.
            auth.authenticate_at(&request(&headers(now, "n4", "/p", b""), "/p", b""), now + 61_000).await,
        ];
        for (i, r) in kinds.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap_err().kind(), ErrorKind::Unauthenticated, "case {i}");
        }
        assert_eq!(kinds[0].as_ref().unwrap_err().reason(), Some("auth_nonce_reused"));
        assert_eq!(kinds[3].as_ref().unwrap_err().reason(), Some("stale_auth_timestamp"));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let mut h = headers(1, "n", "/p", b"");
        h.insert(X_AUTH_TIMESTAMP, "soon".parse().unwrap());
        assert!(SignedHeaders::from_headers(&h).is_err());
        let mut h = headers(1, "n", "/p", b"");
        h.insert(X_AUTH_SIG_ENCODING, "rot13".parse().unwrap());
        assert!(SignedHeaders::from_headers(&h).is_err());
        let mut h = headers(1, "n", "/p", b"");
        h.remove(X_AUTH_NONCE);
        assert!(SignedHeaders::from_headers(&h).is_err());
    }
}
