//! [`TempoRail`]: the [`Payment`] implementation for MPP `tempo` / `charge`.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use compute_core::markers::MarkerStore;
use compute_core::payment::{Charge, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd, WalletAddress};
use mpp::server::{ChargeOptions, Mpp, TempoChargeMethod, TempoProvider};
use mpp::{ErrorCode, PaymentCredential};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::TempoConfig;
use crate::errors::{from_verification, internal, malformed};
use crate::store::MarkerStoreAdapter;

/// The MPP method name.
pub const METHOD: &str = "tempo";

/// MPP `tempo` charges, verified and broadcast through the `mpp` crate.
pub struct TempoRail {
    mpp: Mpp<TempoChargeMethod<TempoProvider>>,
    config: TempoConfig,
    info: RailInfo,
    http: reqwest::Client,
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
        let store = Arc::new(MarkerStoreAdapter::new(markers, config.marker_ttl));
        let builder = mpp::server::tempo(mpp::server::TempoConfig { recipient: &config.recipient })
            .rpc_url(&config.rpc_url)
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
        Ok(TempoRail { mpp, config, info, http: reqwest::Client::new() })
    }

    /// The charge amount as the dollar string `mpp` expects, after rounding **up** to a whole
    /// base unit (so the challenge and the quote agree exactly).
    fn dollars(&self, amount: Usd) -> Result<(String, TokenAmount)> {
        let tokens = TokenAmount::from_usd_ceil(amount, self.config.decimals)?;
        Ok((tokens.to_usd()?.to_string(), tokens))
    }

    fn options<'a>(&self, charge: &'a Charge, expires: Option<&'a str>) -> ChargeOptions<'a> {
        ChargeOptions { description: Some(charge.description.as_str()), expires, ..ChargeOptions::default() }
    }

    fn parse(credential: &Credential) -> Result<PaymentCredential> {
        match credential {
            Credential::Mpp { encoded } => mpp::parse_authorization(encoded).map_err(|e| malformed(e.to_string())),
            _ => Err(malformed("not an MPP credential")),
        }
    }

    /// Zero-amount challenges that ask the caller to prove control of its wallet (a `proof`
    /// credential, as SiloVPS uses for free management calls).
    ///
    /// # Errors
    /// Internal errors only.
    pub fn auth_offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        let zero = Charge { amount: Usd::ZERO, ..charge.clone() };
        self.offers(&zero)
    }

    /// Verifies a zero-amount `proof` credential for `charge` and returns the wallet that
    /// signed it. The proof is single-use.
    ///
    /// # Errors
    /// As [`Payment::verify`].
    pub async fn authenticate(&self, credential: &Credential, charge: &Charge) -> Result<WalletAddress> {
        let zero = Charge { amount: Usd::ZERO, ..charge.clone() };
        Ok(self.verify(credential, &zero).await?.payer)
    }

    async fn receipt_status(&self, tx_hash: &str) -> Result<Option<bool>> {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [tx_hash]});
        let resp: serde_json::Value = self
            .http
            .post(&self.config.rpc_url)
            .json(&body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| Error::new(ErrorKind::Unavailable, "Tempo RPC unreachable").with_source(e.without_url()))?
            .json()
            .await
            .map_err(|e| Error::new(ErrorKind::Unavailable, "bad Tempo RPC answer").with_source(e.without_url()))?;
        Ok(resp["result"]["status"].as_str().map(|s| s == "0x1"))
    }
}

/// `did:pkh:eip155:<chain>:<address>` or a bare address → the address.
fn payer_address(payer: &str) -> Result<WalletAddress> {
    payer.rsplit(':').next().unwrap_or(payer).parse().map_err(|_| internal(format!("unusable payer {payer:?}")))
}

/// The transaction hash of a pull-mode credential (keccak-256 of the signed envelope), or the
/// hash a push-mode credential carries.
fn tx_reference(credential: &PaymentCredential) -> Option<String> {
    let payload = serde_json::to_value(&credential.payload).ok()?;
    match payload.get("type")?.as_str()? {
        "transaction" => {
            let raw = payload.get("signature")?.as_str()?;
            let bytes = hex::decode(raw.trim_start_matches("0x")).ok()?;
            Some(format!("{:#x}", alloy_primitives::keccak256(bytes)))
        }
        "hash" => payload.get("hash").and_then(|h| h.as_str()).map(str::to_owned),
        _ => None,
    }
}

#[async_trait]
impl Payment for TempoRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        let (dollars, _) = self.dollars(charge.amount)?;
        let expires = (chrono::Utc::now()
            + chrono::Duration::from_std(self.config.challenge_ttl).unwrap_or(chrono::Duration::seconds(60)))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let challenges = self
            .mpp
            .charge_with_options_and_body(&dollars, self.options(charge, Some(&expires)), &charge.body)
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

    /// Every MPP credential whose method is `tempo`, and MPP credentials that cannot be parsed
    /// (so they are answered `malformed-credential`, not `method-unsupported`).
    fn accepts(&self, credential: &Credential) -> bool {
        match credential {
            Credential::Mpp { .. } => Self::parse(credential).map_or(true, |c| c.challenge.method.as_str() == METHOD),
            _ => false,
        }
    }

    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        let parsed = Self::parse(credential)?;
        let (dollars, amount) = self.dollars(charge.amount)?;
        let expected = self
            .mpp
            .expected_charge_request(&dollars, self.options(charge, None))
            .map_err(|e| internal(e.to_string()))?;
        let validation = self
            .mpp
            .validate_credential_with_expected_request_and_body(&parsed, &expected, &charge.body)
            .await
            .map_err(from_verification)?;
        let payer = validation.payer.as_deref().ok_or_else(|| internal("the tempo method reported no payer"))?;
        let payer = payer_address(payer)?;
        let Credential::Mpp { encoded } = credential else { return Err(malformed("not an MPP credential")) };
        let payload = serde_json::to_vec(&parsed.payload).map_err(|e| internal(e.to_string()))?;
        let mut h = Sha256::new();
        h.update(parsed.challenge.id.as_bytes());
        h.update(b"\n");
        h.update(&payload);
        Ok(Verified {
            rail: RailInfo { asset: validation.request.currency.clone(), ..self.info.clone() },
            payer,
            amount,
            amount_usd: amount.to_usd()?,
            fingerprint: hex::encode(h.finalize()),
            challenge_id: Some(parsed.challenge.id.clone()),
            settlement: serde_json::json!({
                "authorization": encoded,
                "dollars": dollars,
                "description": charge.description,
                "body": base64::engine::general_purpose::STANDARD.encode(&charge.body),
            }),
        })
    }

    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome> {
        let s = &verified.settlement;
        let field = |k: &str| s[k].as_str().map(str::to_owned).ok_or_else(|| internal(format!("settlement lacks {k}")));
        let parsed = Self::parse(&Credential::Mpp { encoded: field("authorization")? })?;
        let body =
            base64::engine::general_purpose::STANDARD.decode(field("body")?).map_err(|e| internal(e.to_string()))?;
        let description = field("description")?;
        let options = ChargeOptions { description: Some(&description), ..ChargeOptions::default() };
        let expected =
            self.mpp.expected_charge_request(&field("dollars")?, options).map_err(|e| internal(e.to_string()))?;
        match self.mpp.broadcast_credential_with_expected_request_and_body(&parsed, &expected, &body).await {
            Ok(receipt) => Ok(SettleOutcome::Settled { reference: receipt.reference }),
            Err(e) => {
                let code = e.code;
                let possibly_broadcast =
                    e.retryable || matches!(code, Some(ErrorCode::NetworkError | ErrorCode::Internal) | None);
                match (code, tx_reference(&parsed)) {
                    (Some(ErrorCode::TransactionFailed), _) => Ok(SettleOutcome::Rejected { reason: e.message }),
                    (_, Some(reference)) if possibly_broadcast => {
                        tracing::warn!(%reference, error = %e.message, "tempo settlement outcome unknown");
                        Ok(SettleOutcome::Unknown { reference })
                    }
                    _ => Err(from_verification(e)),
                }
            }
        }
    }

    async fn reconcile(&self, reference: &str) -> Result<SettleOutcome> {
        Ok(match self.receipt_status(reference).await? {
            Some(true) => SettleOutcome::Settled { reference: reference.to_owned() },
            Some(false) => SettleOutcome::Rejected { reason: "transaction reverted".to_owned() },
            None => SettleOutcome::Unknown { reference: reference.to_owned() },
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
