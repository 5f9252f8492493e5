//! Payments: the [`Payment`] trait every rail implements (MPP/Tempo, x402 on Base, Solana,
//! MegaETH) and the types the gateway passes between 402, verify and settle.
//!
//! Order in the gateway: validate and price → [`Payment::offers`] (the 402) →
//! [`Payment::verify`] (no state change) → [`Payment::settle`] → act → receipt.
//! Settlement has three outcomes ([`SettleOutcome`]); `Unknown` is never a failure.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Result, TokenAmount, Usd, WalletAddress};

/// What the payer is asked to pay for one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// Price in USD (from the [`crate::billing::Quote`] total).
    pub amount: Usd,
    /// The HTTP method and path the charge is for, e.g. `POST /api/machines`.
    pub route: String,
    /// Absolute URL of the resource (x402 `resource`).
    pub resource_url: String,
    /// Human-readable description.
    pub description: String,
    /// The request body the payment is bound to (MPP `digest`); not serialised.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// One offer of a rail, in that rail's wire form; the gateway assembles one 402 from all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Offer {
    /// An MPP challenge: the value of one `WWW-Authenticate: Payment …` header.
    Mpp {
        /// Header value.
        www_authenticate: String,
    },
    /// An x402 `PaymentRequirements` entry for the `accepts` lists: the v2 shape (for the
    /// `PAYMENT-REQUIRED` header) and, when the network has a v1 name, the v1 shape (for the
    /// JSON body).
    X402 {
        /// v2 `PaymentRequirements`.
        v2: serde_json::Value,
        /// v1 `PaymentRequirements`, if the network exists in v1.
        v1: Option<serde_json::Value>,
        /// Entries this offer needs in the v2 `PaymentRequired.extensions` (e.g.
        /// `eip2612GasSponsoring` for an EVM Permit2 offer), merged across the offers of one
        /// 402; empty for most offers.
        extensions: serde_json::Map<String, serde_json::Value>,
    },
}

/// A payment proof as received, before verification.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// MPP: the `Authorization: Payment …` value after the scheme.
    Mpp {
        /// base64url JSON credential.
        encoded: String,
    },
    /// x402: the decoded `PaymentPayload` JSON from `X-PAYMENT` (v1) or `PAYMENT-SIGNATURE` (v2).
    X402 {
        /// `1` or `2`.
        version: u8,
        /// The payload JSON.
        payload: serde_json::Value,
    },
    /// A spend from the prepaid credit balance of a wallet that already proved itself with a
    /// [`crate::auth::WalletAuth`] method (x402Compute `use_credits`, `X-Use-Credits: true`).
    Credits {
        /// The authenticated wallet.
        wallet: WalletAddress,
    },
}

impl fmt::Debug for Credential {
    /// Credentials are bearer proofs: `Debug` never prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Mpp { .. } => f.write_str("Credential::Mpp([redacted])"),
            Credential::X402 { version, .. } => {
                write!(f, "Credential::X402(v{version}, [redacted])")
            }
            Credential::Credits { wallet } => write!(f, "Credential::Credits({wallet})"),
        }
    }
}

/// Which rail, network and asset a payment used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RailInfo {
    /// Rail id, e.g. `tempo`, `base`, `solana`, `megaeth`, `credits`.
    pub rail: String,
    /// Network id: CAIP-2 (`eip155:8453`, `solana:…`) or the Tempo chain id.
    pub network: String,
    /// Asset: token contract or mint address.
    pub asset: String,
    /// Token decimals.
    pub decimals: u8,
}

/// A credential that passed verification (nothing has moved yet).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    /// The rail.
    pub rail: RailInfo,
    /// The **verified** payer: the signer of the transaction or authorisation.
    pub payer: WalletAddress,
    /// Amount in token base units.
    pub amount: TokenAmount,
    /// Amount in USD.
    pub amount_usd: Usd,
    /// The replay key, derived from the payment itself (a transaction hash or signature, or
    /// chain + token + payer + nonce), so one payment encoded many ways has one fingerprint.
    pub fingerprint: String,
    /// The challenge id it answers, when the rail has one.
    pub challenge_id: Option<String>,
    /// Rail-private data `settle` and `reconcile` need (e.g. the signed transaction). Stored
    /// with the payment; never logged (`Debug` hides it).
    pub settlement: serde_json::Value,
    /// After this instant the payment can no longer land on chain (the challenge expiry, the
    /// authorisation's `validBefore`, the blockhash's last valid time), when the rail knows it.
    #[serde(default)]
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("rail", &self.rail)
            .field("payer", &self.payer)
            .field("amount", &self.amount)
            .field("fingerprint", &self.fingerprint)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// What a credential claims before verification (see [`Payment::claims`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The payer it names or signs with.
    pub payer: Option<WalletAddress>,
    /// The amount of the challenge or requirement it answers, USD.
    pub amount: Option<Usd>,
}

/// The result of settling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SettleOutcome {
    /// Funds moved: the transaction reference (hash or signature).
    Settled {
        /// Transaction reference.
        reference: String,
    },
    /// The chain or rail refused; nothing moved.
    Rejected {
        /// Why, in the rail's terms.
        reason: String,
    },
    /// Broadcast but not confirmed: may still settle. Recorded and reconciled later.
    Unknown {
        /// Transaction reference to reconcile.
        reference: String,
    },
}

/// A payment rail.
#[async_trait]
pub trait Payment: Send + Sync + fmt::Debug {
    /// The rail this verifier handles.
    fn rail(&self) -> &RailInfo;

    /// The offers for `charge` (one or more per rail, e.g. one per Tempo currency).
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when the amount cannot be expressed on this rail.
    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>>;

    /// Whether `credential` is addressed to this rail (protocol, network, scheme).
    fn accepts(&self, credential: &Credential) -> bool;

    /// The payer and the amount `credential` **claims**, read without verification (the
    /// payer named or signing, the amount of the challenge it answers). The gateway prices a
    /// request whose price depends on the payer's own resource from these, then requires
    /// [`Payment::verify`] to confirm both; `None` when the credential does not say.
    fn claims(&self, credential: &Credential) -> Option<Claim>;

    /// Verifies `credential` against `charge` without changing any state.
    ///
    /// # Errors
    /// Every error carries the protocol's reason code ([`crate::Error::reason`]):
    /// - [`crate::ErrorKind::PaymentRequired`]: the proof is invalid, expired or for another
    ///   request; the client gets a fresh 402;
    /// - [`crate::ErrorKind::PermissionDenied`]: the proof was already used (a replay); the
    ///   client gets 403 and **no** new challenge, so it does not pay twice;
    /// - [`crate::ErrorKind::InvalidInput`]: the credential cannot be decoded (400);
    /// - temporary errors when the chain cannot be reached (no challenge either).
    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified>;

    /// Settles a verified payment.
    ///
    /// # Errors
    /// Only for faults before anything was broadcast; a broadcast whose outcome is not known
    /// is `Ok(SettleOutcome::Unknown)`.
    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome>;

    /// Asks the chain for the final outcome of a payment: of the settlement `reference` when
    /// one was recorded, otherwise of the payment itself (e.g. after a crash between broadcast
    /// and record). A payment that did not land and can no longer land
    /// ([`Verified::valid_until`] passed) is `Rejected`.
    async fn reconcile(&self, verified: &Verified, reference: Option<&str>) -> Result<SettleOutcome>;

    /// The response headers that carry the receipt of a settled payment (MPP
    /// `Payment-Receipt`, x402 `PAYMENT-RESPONSE` or `X-PAYMENT-RESPONSE`), as name/value pairs.
    fn receipt_headers(&self, verified: &Verified, reference: &str) -> Vec<(String, String)>;

    /// What keeps this rail from settling payments right now, in words (e.g. the merchant's
    /// token account does not exist); empty when it is ready. Shown by `/health` and
    /// `config check`. The default checks nothing.
    async fn readiness(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_in_debug() {
        let c = Credential::Mpp { encoded: "eyJzZWNyZXQiOiJ4In0".into() };
        assert_eq!(format!("{c:?}"), "Credential::Mpp([redacted])");
        let x = Credential::X402 { version: 2, payload: serde_json::json!({"signature": "0xdead"}) };
        assert!(!format!("{x:?}").contains("dead"));
    }

    #[allow(dead_code)]
    fn object_safe(_: &dyn Payment) {}
}
