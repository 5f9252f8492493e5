//! [`TempoRail`]: the [`Payment`] implementation for MPP `tempo` / `charge`.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use compute_core::markers::MarkerStore;
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd, WalletAddress};
use mpp::ChargeRequest;
use mpp::server::{ChargeOptions, Mpp, TempoChargeMethod, TempoProvider};
use mpp::{ErrorCode, PaymentCredential};
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::config::TempoConfig;
use crate::errors::{from_verification, internal, malformed};
use crate::store::MarkerStoreAdapter;
use crate::wire;

/// The MPP method name.
pub const METHOD: &str = "tempo";

/// Grace after a challenge's expiry during which its transaction may still be mined; past it,
/// a payment that never landed can no longer land.
const LANDING_GRACE: chrono::Duration = chrono::Duration::minutes(10);

/// Prefix of the marker the settle path (the `mpp` crate) claims for a mined transaction; the
/// reconciler claims the same one, so a transaction it found is never broadcast again.
const CHARGE_MARKER: &str = "mpp:charge:";

/// Prefix of the marker that consumes a zero-amount proof.
const PROOF_MARKER: &str = "mpp:proof:";

/// Name of the `tracing` span around the rail's own chain RPC calls (`cargo xtask bench` takes
/// their time out of the gateway's own time on a paid request).
const CHAIN_RPC_SPAN: &str = "chain_rpc";

/// MPP `tempo` charges, verified and broadcast through the `mpp` crate.
pub struct TempoRail {
    mpp: Mpp<TempoChargeMethod<TempoProvider>>,
    config: TempoConfig,
    info: RailInfo,
    http: reqwest::Client,
    markers: Arc<dyn MarkerStore>,
}

impl std::fmt::Debug for TempoRail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempoRail").field("config", &self.config).finish()
    }
}

impl TempoRail {
    /// Builds the rail; replay markers go to `markers` (shared by every gateway process).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for invalid settings.
    pub fn new(config: TempoConfig, markers: Arc<dyn MarkerStore>) -> Result<Self> {
        config.validate()?;
        let store = Arc::new(MarkerStoreAdapter::new(markers.clone(), config.marker_ttl));
        let builder = mpp::server::tempo(mpp::server::TempoConfig { recipient: &config.recipient })
            .rpc_url(config.rpc_url.expose_secret())
            .chain_id(config.chain_id)
            .currencies(config.currencies.clone())
            .realm(&config.realm)
            .secret_key(config.secret_key.expose_secret())
            .decimals(u32::from(config.decimals))
            .store(store);
        let mpp = Mpp::create(builder)
            .map_err(|e| Error::new(ErrorKind::Config, e.to_string()).with_component("pay-tempo"))?;
        let info = RailInfo {
            rail: METHOD.to_owned(),
            network: format!("tempo:{}", config.chain_id),
            asset: config.currencies[0].clone(),
            decimals: config.decimals,
        };
        Ok(TempoRail { mpp, config, info, http: reqwest::Client::new(), markers })
    }

    /// The charge amount as the dollar string `mpp` expects, after rounding **up** to a whole
    /// base unit (so the challenge and the quote agree exactly).
    fn dollars(&self, amount: Usd) -> Result<(String, TokenAmount)> {
        let tokens = TokenAmount::from_usd_ceil(amount, self.config.decimals)?;
        Ok((tokens.to_usd()?.to_string(), tokens))
    }

    /// Challenges for `charge` expiring in `ttl`, bound to its route and URL; `precision` of
    /// the expiry (proof challenges use milliseconds, so one wallet asking twice in a second
    /// gets two challenges and two single-use proofs).
    fn challenges(
        &self,
        charge: &Charge,
        ttl: std::time::Duration,
        precision: chrono::SecondsFormat,
    ) -> Result<Vec<Offer>> {
        let (dollars, _) = self.dollars(charge.amount)?;
        let expires = (chrono::Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60)))
            .to_rfc3339_opts(precision, true);
        let scope = wire::scope(charge);
        let options = ChargeOptions {
            description: Some(charge.description.as_str()),
            expires: Some(&expires),
            mppx_scope: Some(&scope),
            ..ChargeOptions::default()
        };
        let challenges = self
            .mpp
            .charge_with_options_and_body(&dollars, options, &charge.body)
            .map_err(|e| internal(e.to_string()))?;
        challenges
            .iter()
            .map(|c| {
                mpp::format_www_authenticate(c)
                    .map(|www_authenticate| Offer::Mpp { www_authenticate })
                    .map_err(|e| internal(e.to_string()))
            })
            .collect()
    }

    /// The request a credential must answer: `dollars` for `description`, within `scope`.
    fn expected(&self, dollars: &str, description: &str, scope: &serde_json::Value) -> Result<ChargeRequest> {
        let options =
            ChargeOptions { description: Some(description), mppx_scope: Some(scope), ..ChargeOptions::default() };
        self.mpp.expected_charge_request(dollars, options).map_err(|e| internal(e.to_string()))
    }

    fn parse(credential: &Credential) -> Result<PaymentCredential> {
        match credential {
            Credential::Mpp { encoded } => mpp::parse_authorization(encoded).map_err(|e| malformed(e.to_string())),
            _ => Err(malformed("not an MPP credential")),
        }
    }

    /// Zero-amount challenges that ask the caller to prove control of its wallet (a `proof`
    /// credential, as SiloVPS uses for free management calls), bound to the request's route,
    /// URL and body and valid for the configured proof lifetime only.
    ///
    /// # Errors
    /// Internal errors only.
    pub fn auth_offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        let zero = Charge { amount: Usd::ZERO, ..charge.clone() };
        self.challenges(&zero, self.config.proof_ttl, chrono::SecondsFormat::Millis)
    }

    /// Verifies a zero-amount `proof` credential for `charge` (its route, URL and body) and
    /// returns the wallet that signed it, consuming the proof: a second use of the same proof,
    /// in any gateway process sharing the store, is refused.
    ///
    /// # Errors
    /// As [`Payment::verify`]; a proof already used is [`ErrorKind::PermissionDenied`].
    pub async fn authenticate(&self, credential: &Credential, charge: &Charge) -> Result<WalletAddress> {
        let zero = Charge { amount: Usd::ZERO, ..charge.clone() };
        let verified = self.verify(credential, &zero).await?;
        let key = format!("{PROOF_MARKER}{}", verified.fingerprint);
        let ttl = self.config.proof_ttl * 2 + std::time::Duration::from_secs(60);
        if !self.markers.put_if_absent(&key, "1", ttl).await? {
            return Err(Error::new(ErrorKind::PermissionDenied, "this wallet proof was already used")
                .with_reason("verification-failed")
                .with_component("pay-tempo"));
        }
        Ok(verified.payer)
    }

    async fn receipt_status(&self, tx_hash: &str) -> Result<Option<bool>> {
        let method = "eth_getTransactionReceipt";
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": [tx_hash]});
        // The calls the `mpp` crate makes run in alloy's transport span; this one is ours.
        let call = async {
            self.http
                .post(self.config.rpc_url.expose_secret())
                .json(&body)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| Error::new(ErrorKind::Unavailable, "Tempo RPC unreachable").with_source(e.without_url()))?
                .json::<serde_json::Value>()
                .await
                .map_err(|e| Error::new(ErrorKind::Unavailable, "bad Tempo RPC answer").with_source(e.without_url()))
        };
        let resp = call.instrument(tracing::info_span!(CHAIN_RPC_SPAN, method)).await?;
        Ok(resp["result"]["status"].as_str().map(|s| s == "0x1"))
    }
}

/// Whether an `mpp` broadcast error is the node's own JSON-RPC error answer (the node refused
/// the transaction, e.g. for insufficient funds), rather than a transport failure after which
/// the transaction may still have been accepted.
fn node_refused(message: &str) -> bool {
    message.contains("server returned an error response")
}

#[async_trait]
impl Payment for TempoRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        self.challenges(charge, self.config.challenge_ttl, chrono::SecondsFormat::Secs)
    }

    /// Every MPP credential whose method is `tempo`, and MPP credentials that cannot be parsed
    /// (so they are answered `malformed-credential`, not `method-unsupported`).
    fn accepts(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Mpp { .. } => Self::parse(credential).map_or(true, |c| c.challenge.method.as_str() == METHOD),
            _ => false,
        }
    }

    fn claims(&self, credential: &Credential) -> Option<Claim> {
        Self::parse(credential).ok().map(|c| wire::claims(&c, self.config.decimals))
    }

    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        let parsed = Self::parse(credential)?;
        let (dollars, amount) = self.dollars(charge.amount)?;
        let scope = wire::scope(charge);
        let expected = self.expected(&dollars, &charge.description, &scope)?;
        let validation = self
            .mpp
            .validate_credential_with_expected_request_and_body(&parsed, &expected, &charge.body)
            .await
            .map_err(from_verification)?;
        let payer = validation.payer.as_deref().ok_or_else(|| internal("the tempo method reported no payer"))?;
        let payer = wire::payer_address(payer)?;
        let Credential::Mpp { encoded } = credential else { return Err(malformed("not an MPP credential")) };
        Ok(Verified {
            rail: RailInfo { asset: validation.request.currency.clone(), ..self.info.clone() },
            payer,
            amount,
            amount_usd: amount.to_usd()?,
            fingerprint: wire::fingerprint(&parsed)?,
            challenge_id: Some(parsed.challenge.id.clone()),
            settlement: serde_json::json!({
                "authorization": encoded,
                "dollars": dollars,
                "description": charge.description,
                "scope": scope,
                "body": base64::engine::general_purpose::STANDARD.encode(&charge.body),
            }),
            valid_until: wire::expires(&parsed).map(|t| t + LANDING_GRACE),
        })
    }

    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome> {
        let s = &verified.settlement;
        let field = |k: &str| s[k].as_str().map(str::to_owned).ok_or_else(|| internal(format!("settlement lacks {k}")));
        let parsed = Self::parse(&Credential::Mpp { encoded: field("authorization")? })?;
        let body =
            base64::engine::general_purpose::STANDARD.decode(field("body")?).map_err(|e| internal(e.to_string()))?;
        let expected = self.expected(&field("dollars")?, &field("description")?, &s["scope"])?;
        match self.mpp.broadcast_credential_with_expected_request_and_body(&parsed, &expected, &body).await {
            Ok(receipt) => Ok(SettleOutcome::Settled { reference: receipt.reference }),
            Err(e) => {
                let code = e.code;
                let possibly_broadcast = !node_refused(&e.message)
                    && (e.retryable || matches!(code, Some(ErrorCode::NetworkError | ErrorCode::Internal) | None));
                match (code, wire::tx_reference(&parsed)) {
                    (Some(ErrorCode::TransactionFailed), _) => Ok(SettleOutcome::Rejected { reason: e.message }),
                    (_, Some(reference)) if possibly_broadcast => {
                        tracing::warn!(%reference, error = %e.message, "tempo settlement outcome unknown");
                        Ok(SettleOutcome::Unknown { reference })
                    }
                    _ if node_refused(&e.message) => Ok(SettleOutcome::Rejected { reason: e.message }),
                    _ => Err(from_verification(e)),
                }
            }
        }
    }

    /// The transaction's receipt (the recorded reference, or the hash the credential signed):
    /// mined and successful → `Settled` (claiming the marker the settle path claims; counting
    /// it once is the store's unique transaction reference); reverted → `Rejected`; not mined and
    /// past [`Verified::valid_until`] → `Rejected`; otherwise `Unknown`.
    async fn reconcile(&self, verified: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        let hash = reference.map(str::to_owned).or_else(|| {
            let f = &verified.fingerprint;
            (f.len() == 66 && f.starts_with("0x")).then(|| f.clone())
        });
        let Some(hash) = hash else {
            return Ok(SettleOutcome::Rejected { reason: "no transaction to look up".to_owned() });
        };
        Ok(match self.receipt_status(&hash).await? {
            Some(true) => {
                // Claimed so the settle path never broadcasts it again. A claim already held
                // is this payment's own settle (which may have crashed before recording): the
                // fingerprint is the transaction hash and the store records each fingerprint
                // and each transaction reference once, so it still counts once.
                let marker = format!("{CHARGE_MARKER}{hash}");
                self.markers.put_if_absent(&marker, "true", self.config.marker_ttl).await?;
                SettleOutcome::Settled { reference: hash }
            }
            Some(false) => SettleOutcome::Rejected { reason: "transaction reverted".to_owned() },
            None if verified.valid_until.is_some_and(|t| t < chrono::Utc::now()) => {
                SettleOutcome::Rejected { reason: "the transaction was not mined and can no longer be".to_owned() }
            }
            None => SettleOutcome::Unknown { reference: hash },
        })
    }

    fn receipt_headers(&self, _verified: &Verified, reference: &str) -> Vec<(String, String)> {
        let receipt = serde_json::json!({
            "status": "success",
            "method": METHOD,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "reference": reference,
        });
        let value = mpp::base64url_encode(receipt.to_string().as_bytes());
        vec![("Payment-Receipt".to_owned(), value), ("Cache-Control".to_owned(), "private".to_owned())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pull-mode credential carrying `signature` as its signed transaction.
    fn credential(signature: &str) -> PaymentCredential {
        with_payload(
            serde_json::json!({"type": "transaction", "signature": signature}),
            "0x00000000000000000000000000000000000000bb",
        )
    }

    /// A credential for challenge `ch-1` from `signer` with `payload`.
    fn with_payload(payload: serde_json::Value, signer: &str) -> PaymentCredential {
        let request = mpp::base64url_encode(br#"{"amount":"1000","currency":"0x20c0000000000000000000000000000000000000","recipient":"0x00000000000000000000000000000000000000aa","methodDetails":{"chainId":1337}}"#);
        let json = serde_json::json!({
            "challenge": {"id": "ch-1", "realm": "r", "method": "tempo", "intent": "charge", "request": request, "expires": "2030-01-01T00:00:00Z"},
            "source": format!("did:pkh:eip155:1337:{signer}"),
            "payload": payload,
        });
        let encoded = format!("Payment {}", mpp::base64url_encode(json.to_string().as_bytes()));
        mpp::parse_authorization(&encoded).unwrap()
    }

    #[test]
    fn one_signed_transaction_has_one_fingerprint_however_it_is_encoded() {
        let tx = "0x76f86a82053980808094a0ee7a142d267c1f36714e4a8f75612f20a797208203e880c0";
        let variants =
            [tx.to_owned(), tx.to_ascii_uppercase().replacen("0X", "0x", 1), tx.trim_start_matches("0x").to_owned()];
        let prints: Vec<String> = variants.iter().map(|v| wire::fingerprint(&credential(v)).unwrap()).collect();
        assert_eq!(prints[0], prints[1], "hex case");
        assert_eq!(prints[0], prints[2], "0x prefix");
        // The fingerprint is the transaction hash, whatever the challenge.
        assert_eq!(prints[0], wire::tx_reference(&credential(tx)).unwrap());
    }

    #[test]
    fn a_proof_is_one_per_challenge_and_signer() {
        let proof = |sig: &str, signer: &str| {
            wire::fingerprint(&with_payload(serde_json::json!({"type": "proof", "signature": sig}), signer)).unwrap()
        };
        let (a, b) = ("0x00000000000000000000000000000000000000aa", "0x00000000000000000000000000000000000000bb");
        assert_ne!(proof("0x01", a), proof("0x02", b), "two wallets answering one challenge are two proofs");
        assert_eq!(proof("0x01", a), proof("0x03", a), "another signature by the same wallet is the same proof");
        assert_eq!(proof("0x01", a), proof("0x01", &a.to_ascii_uppercase().replacen("0X", "0x", 1)), "address case");
    }
}
