//! [`EvmRail`]: construction, offers, routing of credentials and receipt headers; the
//! [`Payment`] impl delegates verification to `verify.rs` and settlement to `settle.rs`.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::RootProvider;
use alloy::rpc::client::RpcClient;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::Eip712Domain;
use alloy::transports::http::reqwest;
use async_trait::async_trait;
use compute_core::money::MAX_DECIMALS;
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount};
use compute_pay_x402::{MIME_JSON, SCHEME_EXACT, SettleResponse, encode_header, network, v1, v2};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::auth::SignedAuthorization;
use crate::{COMPONENT, EvmConfig, PERMIT2, TransferMethod, VALID_BEFORE_MARGIN_SECONDS, X402_EXACT_PERMIT2_PROXY};

/// The x402 `exact` rail on one EVM chain and token, through EIP-3009 or Permit2
/// ([`EvmConfig::transfer_method`]).
///
/// # Verification (EIP-3009)
/// [`Payment::verify`] runs, in this order, and fails with the x402 reason in brackets:
/// 1. v2: `accepted` must equal the offer [`Payment::offers`] makes for the charge, field by
///    field: scheme \[`invalid_scheme`\], then amount, asset, payTo, maxTimeoutSeconds and
///    `extra.name` / `extra.version` / `extra.assetTransferMethod` (absent on EIP-3009 offers)
///    \[`invalid_payment_requirements`\]. v1: the scheme must be
///    `exact` \[`invalid_scheme`\]; the authorization is checked against the recomputed
///    requirement below.
/// 2. the network (CAIP-2 id in v2, v1 name in v1) must be this rail's \[`invalid_network`\].
/// 3. `to == payTo` \[`invalid_exact_evm_payload_recipient_mismatch`\].
/// 4. `value` must equal the amount **exactly**: under- *and* over-payment are rejected (x402
///    v1 allowed "meets or exceeds"; a client always signs the requested amount, and an
///    overpayment could not be refunded) \[`…_authorization_value_mismatch`, v1
///    `…_authorization_value`\].
/// 5. `validAfter <= now` \[`…_valid_after`\] and `validBefore >= now + 6 s`
///    \[`…_valid_before`\].
/// 6. the EIP-712 `TransferWithAuthorization` signature over the domain `{name, version,
///    chainId, verifyingContract: asset}`: ecrecover (low-s) for an EOA; EIP-1271
///    `isValidSignature` when `from` has code \[`invalid_exact_evm_payload_signature`;
///    ERC-6492 wrapped signatures of undeployed wallets are refused with
///    `invalid_exact_evm_payload_undeployed_smart_wallet`\].
/// 7. `balanceOf(from) >= value` \[`insufficient_funds`\].
/// 8. `authorizationState(from, nonce) == false`, else [`ErrorKind::PermissionDenied`]
///    \[`invalid_exact_evm_nonce_already_used`\].
/// 9. an `eth_call` simulation of `transferWithAuthorization` from the settlement key
///    \[`invalid_exact_evm_transaction_simulation_failed`\].
///
/// Checks 1–6 need no chain; 7–9 are three `eth_call`s sent in one JSON-RPC batch (one round
/// trip), judged in that order; a failed simulation re-reads the nonce, so an authorization
/// settled meanwhile by a concurrent request is refused as a replay.
///
/// Invalid proofs are [`ErrorKind::PaymentRequired`], undecodable ones
/// [`ErrorKind::InvalidInput`], an unreachable RPC a temporary [`ErrorKind::Unavailable`]
/// (reason `unexpected_verify_error`).
///
/// [`Verified::payer`] is the signer `from`; [`Verified::fingerprint`] is the hex SHA-256 of
/// `(chain id, token, from, nonce)`, the semantic replay key (one authorization re-encoded has
/// the same fingerprint).
///
/// # Verification (Permit2, x402 v2 only)
/// The offers carry `extra.assetTransferMethod: "permit2"`; [`Payment::verify`] runs:
/// 1. `accepted` equals the offer (as above, `extra.assetTransferMethod` included), and the
///    `resource` is this request's.
/// 2. the signed `PermitWitnessTransferFrom`: `spender` is x402ExactPermit2Proxy
///    \[`invalid_permit2_spender`\]; `witness.to == payTo` \[`invalid_permit2_recipient_mismatch`\];
///    `deadline >= now + 6 s` \[`permit2_deadline_expired`\]; `witness.validAfter <= now`
///    \[`permit2_not_yet_valid`\]; `permitted.amount` is exactly the amount
///    \[`permit2_amount_mismatch`\]; `permitted.token` is the asset \[`permit2_token_mismatch`\].
/// 3. the signature over the Permit2 domain `{name: "Permit2", chainId, verifyingContract:
///    Permit2}` recovers to `from` (EIP-1271 when `from` has code) \[`invalid_permit2_signature`\].
/// 4. the proxy has code (checked until first seen) \[`permit2_proxy_not_deployed`, 503\].
/// 5. the Permit2 nonce is unused (`nonceBitmap(from, nonce >> 8)` bit `nonce & 0xff`), else
///    [`ErrorKind::PermissionDenied`] \[`permit2_invalid_nonce`\].
/// 6. `balanceOf(from) >= amount` \[`permit2_insufficient_balance`\].
/// 7. with an `eip2612GasSponsoring` permit: `from`, `asset`, `spender == Permit2`, `amount ==
///    amount` (the proxy requires equality), `deadline >= now + 6 s`, the signature under the
///    token's EIP-712 domain, and `nonce == nonces(from)` \[`eip2612_*`,
///    `permit2_2612_amount_mismatch`, `invalid_eip2612_signature`, `invalid_eip2612_nonce`\];
///    without one, `allowance(from, Permit2) >= amount`, else \[`permit2_allowance_required`\]
///    (answered with HTTP 412 and a fresh challenge).
/// 8. an `eth_call` simulation of the proxy's `settle` (or `settleWithPermit`) from the
///    settlement key \[`permit2_simulation_failed`\].
///
/// The fingerprint is the hex SHA-256 of `("x402-permit2", chain id, token, from, Permit2
/// nonce)`; [`Verified::valid_until`] is the Permit2 `deadline`.
pub struct EvmRail {
    pub(crate) info: RailInfo,
    pub(crate) v1_network: Option<&'static str>,
    pub(crate) chain_id: u64,
    pub(crate) asset: Address,
    pub(crate) pay_to: Address,
    pub(crate) token_name: String,
    pub(crate) token_version: String,
    /// The token's EIP-712 domain (of EIP-3009, or of EIP-2612 `permit` on Permit2 rails).
    pub(crate) domain: Eip712Domain,
    /// `domain`'s separator, hashed once.
    pub(crate) domain_separator: B256,
    /// EIP-3009 or Permit2.
    pub(crate) transfer_method: TransferMethod,
    /// Canonical Permit2 (the `verifyingContract` of Permit2 signatures).
    pub(crate) permit2: Address,
    /// Canonical x402ExactPermit2Proxy (the signed `spender`, and what settlements call).
    pub(crate) proxy: Address,
    /// Set once the proxy was seen to have code (Permit2 rails).
    pub(crate) proxy_seen: std::sync::atomic::AtomicBool,
    pub(crate) max_timeout_seconds: u64,
    pub(crate) receipt_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) provider: RootProvider,
    pub(crate) wallet: EthereumWallet,
    pub(crate) settler: Address,
    /// Replay keys of the authorizations being settled right now.
    pub(crate) in_flight: Mutex<HashSet<B256>>,
    /// Serialises nonce allocation and broadcast of the settlement key's transactions.
    pub(crate) send_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for EvmRail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvmRail")
            .field("rail", &self.info)
            .field("chain_id", &self.chain_id)
            .field("pay_to", &self.pay_to)
            .field("settler", &self.settler)
            .finish_non_exhaustive()
    }
}

fn config_error(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Config, msg).with_component(COMPONENT)
}

fn parse_config_address(s: &str, what: &str) -> Result<Address> {
    s.trim().parse::<Address>().map_err(|_| config_error(format!("{what} is not an EVM address")))
}

impl EvmRail {
    /// Builds the rail: checks the configuration and prepares an HTTP JSON-RPC client (rustls).
    /// Nothing is sent to the network.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the network is not `eip155:<chain_id>`, an address or the key
    /// does not parse, the RPC URL is not http(s), the decimals exceed 18, or a timeout is zero.
    pub fn new(config: EvmConfig) -> Result<Self> {
        let url = reqwest::Url::parse(config.rpc_url.expose_secret().trim())
            .map_err(|_| config_error("rpc_url is not a valid URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(config_error("rpc_url must be http or https"));
        }
        let client = reqwest::Client::builder()
            .timeout(config.rpc_timeout)
            .build()
            .map_err(|e| config_error(format!("cannot build the RPC HTTP client: {e}")))?;
        let provider = RootProvider::new(RpcClient::new_http_with_client(client, url));
        EvmRail::with_provider(config, provider)
    }

    /// Builds the rail over an existing provider (tests use a mocked one).
    pub(crate) fn with_provider(config: EvmConfig, provider: RootProvider) -> Result<Self> {
        if network::evm_chain_id(&config.network) != Some(config.chain_id) {
            return Err(config_error(format!(
                "network {:?} is not eip155:{} (the chain id)",
                config.network, config.chain_id
            )));
        }
        let asset = parse_config_address(&config.token.address, "token address")?;
        let pay_to = parse_config_address(&config.pay_to, "pay_to")?;
        if pay_to.is_zero() {
            return Err(config_error("pay_to is the zero address"));
        }
        let signer: PrivateKeySigner = config
            .signer_key
            .expose_secret()
            .trim()
            .parse()
            .map_err(|_| config_error("signer_key is not a secp256k1 private key in hex"))?;
        if config.token.decimals > MAX_DECIMALS {
            return Err(config_error(format!("token decimals above {MAX_DECIMALS}")));
        }
        if config.max_timeout_seconds <= VALID_BEFORE_MARGIN_SECONDS {
            return Err(config_error(format!("max_timeout_seconds must exceed {VALID_BEFORE_MARGIN_SECONDS}")));
        }
        if config.receipt_timeout.is_zero() || config.rpc_timeout.is_zero() || config.receipt_poll_interval.is_zero() {
            return Err(config_error("timeouts and the poll interval must be positive"));
        }
        let domain = Eip712Domain::new(
            Some(config.token.name.clone().into()),
            Some(config.token.version.clone().into()),
            Some(U256::from(config.chain_id)),
            Some(asset),
            None,
        );
        let settler = signer.address();
        Ok(EvmRail {
            info: RailInfo {
                rail: config.rail,
                network: config.network.clone(),
                asset: asset.to_checksum(None),
                decimals: config.token.decimals,
            },
            // x402 v1 has no Permit2 transfer method: Permit2 rails speak v2 only.
            v1_network: match config.transfer_method {
                TransferMethod::Eip3009 => network::v1_name(&config.network),
                TransferMethod::Permit2 => None,
            },
            chain_id: config.chain_id,
            asset,
            pay_to,
            token_name: config.token.name,
            token_version: config.token.version,
            domain_separator: domain.separator(),
            domain,
            transfer_method: config.transfer_method,
            permit2: parse_config_address(PERMIT2, "Permit2")?,
            proxy: parse_config_address(X402_EXACT_PERMIT2_PROXY, "x402ExactPermit2Proxy")?,
            proxy_seen: std::sync::atomic::AtomicBool::new(false),
            max_timeout_seconds: config.max_timeout_seconds,
            receipt_timeout: config.receipt_timeout,
            poll_interval: config.receipt_poll_interval,
            provider,
            wallet: EthereumWallet::from(signer),
            settler,
            in_flight: Mutex::new(HashSet::new()),
            send_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The address of the settlement key (it needs native gas on the chain).
    pub fn settler_address(&self) -> String {
        self.settler.to_checksum(None)
    }

    /// The charge (USD) in token base units, rounded up to the next base unit, exactly even at
    /// 18 decimals ([`crate::amount::usd_to_base_units_ceil`]).
    pub(crate) fn amount(&self, charge: &Charge) -> Result<u128> {
        let units = crate::amount::usd_to_base_units_ceil(charge.amount, self.info.decimals)
            .map_err(|e| e.with_component(COMPONENT))?;
        if units == 0 {
            return Err(
                Error::new(ErrorKind::InvalidInput, "a zero charge needs no x402 payment").with_component(COMPONENT)
            );
        }
        Ok(units)
    }

    /// `extra.assetTransferMethod` of the offers: `"permit2"` on Permit2 rails, absent (meaning
    /// EIP-3009) otherwise.
    pub(crate) fn asset_transfer_method(&self) -> Option<&'static str> {
        match self.transfer_method {
            TransferMethod::Eip3009 => None,
            TransferMethod::Permit2 => Some(TransferMethod::Permit2.as_str()),
        }
    }

    /// `extra` of the offers: the token's EIP-712 domain name and version, plus
    /// [`EvmRail::asset_transfer_method`] when there is one.
    fn extra(&self) -> Value {
        let mut extra = json!({"name": self.token_name, "version": self.token_version});
        if let Some(method) = self.asset_transfer_method() {
            extra["assetTransferMethod"] = json!(method);
        }
        extra
    }

    /// The v2 `PaymentRequirements` for `charge`.
    pub(crate) fn requirements_v2(&self, charge: &Charge) -> Result<v2::PaymentRequirements> {
        Ok(v2::PaymentRequirements {
            scheme: SCHEME_EXACT.to_owned(),
            network: self.info.network.clone(),
            amount: self.amount(charge)?.to_string(),
            asset: self.asset.to_checksum(None),
            pay_to: self.pay_to.to_checksum(None),
            max_timeout_seconds: self.max_timeout_seconds,
            extra: Some(self.extra()),
        })
    }

    /// The v1 `PaymentRequirements` for `charge`, when the network has a v1 name.
    pub(crate) fn requirements_v1(&self, charge: &Charge) -> Result<Option<v1::PaymentRequirements>> {
        let Some(name) = self.v1_network else { return Ok(None) };
        Ok(Some(v1::PaymentRequirements {
            scheme: SCHEME_EXACT.to_owned(),
            network: name.to_owned(),
            max_amount_required: self.amount(charge)?.to_string(),
            asset: self.asset.to_checksum(None),
            pay_to: self.pay_to.to_checksum(None),
            resource: charge.resource_url.clone(),
            description: charge.description.clone(),
            mime_type: MIME_JSON.to_owned(),
            output_schema: None,
            max_timeout_seconds: self.max_timeout_seconds,
            extra: Some(self.extra()),
        }))
    }

    /// The network name used on the wire for `version`.
    pub(crate) fn wire_network(&self, version: u8) -> String {
        match (version, self.v1_network) {
            (1, Some(name)) => name.to_owned(),
            _ => self.info.network.clone(),
        }
    }
}

#[async_trait]
impl Payment for EvmRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        let v2 = to_json(&self.requirements_v2(charge)?);
        let v1 = self.requirements_v1(charge)?.map(|r| to_json(&r));
        // Permit2 rails pay the payer's Permit2 approval: advertise it, so @x402/evm signs the
        // EIP-2612 permit that `settleWithPermit` submits.
        let mut extensions = serde_json::Map::new();
        if self.transfer_method == TransferMethod::Permit2 {
            let (key, advertisement) = compute_pay_x402::eip2612_gas_sponsoring_advertisement();
            extensions.insert(key.to_owned(), advertisement);
        }
        Ok(vec![Offer::X402 { v2, v1, extensions }])
    }

    fn accepts(&self, credential: &Credential) -> bool {
        let Credential::X402 { version, payload } = credential else { return false };
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match version {
            2 => {
                let accepted = payload.get("accepted").unwrap_or(&Value::Null);
                field(accepted, "scheme").as_deref() == Some(SCHEME_EXACT)
                    && field(accepted, "network").as_deref() == Some(self.info.network.as_str())
            }
            1 => {
                self.v1_network.is_some()
                    && field(payload, "scheme").as_deref() == Some(SCHEME_EXACT)
                    && field(payload, "network").as_deref() == self.v1_network
            }
            _ => false,
        }
    }

    /// v2: the `accepted` amount; v1: the authorization's value; both: its `from` (the
    /// `permit2Authorization.from` on Permit2 rails).
    fn claims(&self, credential: &Credential) -> Option<Claim> {
        let Credential::X402 { version, payload } = credential else { return None };
        let auth = payload.pointer("/payload/authorization");
        let from = match self.transfer_method {
            TransferMethod::Eip3009 => auth.and_then(|a| a.get("from")),
            TransferMethod::Permit2 => payload.pointer("/payload/permit2Authorization/from"),
        };
        let payer = from.and_then(|f| f.as_str()?.parse().ok());
        let units = match version {
            2 => payload.pointer("/accepted/amount"),
            _ => auth.and_then(|a| a.get("value")),
        };
        let amount = units
            .and_then(Value::as_str)
            .and_then(|u| u.parse::<u128>().ok())
            .and_then(|base_units| TokenAmount { base_units, decimals: self.info.decimals }.to_usd().ok());
        Some(Claim { payer, amount })
    }

    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        self.verify_credential(credential, charge).await.map_err(|e| e.with_component(COMPONENT))
    }

    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome> {
        self.settle_verified(verified).await.map_err(|e| e.with_component(COMPONENT))
    }

    async fn reconcile(&self, verified: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        self.reconcile_payment(verified, reference).await.map_err(|e| e.with_component(COMPONENT))
    }

    fn receipt_headers(&self, verified: &Verified, reference: &str) -> Vec<(String, String)> {
        let version = SignedAuthorization::from_settlement(&verified.settlement).map_or(2, |(_, v)| v);
        let mut response = SettleResponse::success(reference, self.wire_network(version), verified.payer.as_str());
        let name = if version == 1 {
            compute_pay_x402::X_PAYMENT_RESPONSE
        } else {
            response.amount = Some(verified.amount.base_units.to_string());
            compute_pay_x402::PAYMENT_RESPONSE
        };
        vec![(name.to_owned(), encode_header(&response))]
    }

    /// Permit2 rails: Permit2 and x402ExactPermit2Proxy must have code at their canonical
    /// addresses, and the settlement key must hold native gas (it pays every settlement).
    /// EIP-3009 rails report nothing.
    async fn readiness(&self) -> Vec<String> {
        match self.transfer_method {
            TransferMethod::Eip3009 => Vec::new(),
            TransferMethod::Permit2 => self.permit2_readiness().await,
        }
    }
}

/// Our requirement types always serialise (string keys only).
fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
