//! The `exact` EIP-3009 check list (see [`crate::EvmRail`] for the order and reasons), and the
//! checks shared with the Permit2 list (`verify_permit2.rs`): the offer and the signature.

use std::time::{SystemTime, UNIX_EPOCH};

use alloy::primitives::{Address, B256, Bytes, Signature, U256};
use alloy::providers::Provider;
use compute_core::payment::{Charge, Credential, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, WalletAddress};
use compute_pay_x402::exact_evm::ExactEvmPayload;
use compute_pay_x402::{Reason, SCHEME_EXACT, v1, v2};
use serde_json::Value;

use crate::auth::SignedAuthorization;
use crate::contracts::{ERC1271_MAGIC, ERC6492_SUFFIX, IEip3009, IErc1271};
use crate::rail::EvmRail;
use crate::rpc::{Read, batch_calls, decode, unavailable, view};
use crate::{TransferMethod, VALID_BEFORE_MARGIN_SECONDS};

/// An invalid proof: the client gets a fresh 402.
pub(crate) fn rejected(reason: Reason, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PaymentRequired, msg).with_reason(reason)
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// When the authorization expires (`validBefore`, Unix seconds).
pub(crate) fn valid_before(signed: &SignedAuthorization) -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = i64::try_from(signed.auth.validBefore).ok()?;
    chrono::DateTime::from_timestamp(secs, 0)
}

pub(crate) fn same_address(a: &str, b: Address) -> bool {
    a.trim().parse::<Address>().is_ok_and(|a| a == b)
}

impl EvmRail {
    pub(crate) async fn verify_credential(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        if self.transfer_method == TransferMethod::Permit2 {
            return self.verify_permit2(credential, charge).await;
        }
        let Credential::X402 { version, payload } = credential else {
            return Err(
                Error::new(ErrorKind::InvalidInput, "not an x402 credential").with_reason(Reason::UnsupportedScheme)
            );
        };
        let amount = self.amount(charge)?;
        let (version, network, scheme_payload) = match *version {
            2 => {
                let p = v2::PaymentPayload::from_json(payload)?;
                // (1) `accepted` is the offer we make for this charge, and `resource` is this
                // request's: its URL and its route's description (one price on two routes of
                // one URL, e.g. GET and DELETE of a machine, is two resources).
                self.check_accepted(&p.accepted, charge)?;
                v2::check_resource(p.resource.as_ref(), &charge.resource_url, &charge.description)?;
                (2, p.accepted.network, p.payload)
            }
            1 => {
                let p = v1::PaymentPayload::from_json(payload)?;
                // (1) v1 has no `accepted`: the scheme, then the recomputed requirement below.
                if p.scheme != SCHEME_EXACT {
                    return Err(rejected(Reason::InvalidScheme, format!("scheme {:?} is not exact", p.scheme)));
                }
                (1, p.network, p.payload)
            }
            v => {
                return Err(Error::new(ErrorKind::InvalidInput, format!("x402Version {v} is not supported"))
                    .with_reason(Reason::InvalidX402Version));
            }
        };
        // (2) chain / network.
        if network != self.wire_network(version) || (version == 1 && self.v1_network.is_none()) {
            return Err(rejected(Reason::InvalidNetwork, format!("network {network:?} is not this rail's")));
        }
        let signed = SignedAuthorization::parse(&ExactEvmPayload::from_json(&scheme_payload)?)?;
        self.check_terms(&signed, amount, version, now_unix())?;
        // (6) signature.
        let auth = &signed.auth;
        let hash = signed.signing_hash(self.domain_separator);
        self.check_signature(auth.from, hash, &signed.signature, Reason::InvalidExactEvmPayloadSignature).await?;
        // (7) balance, (8) nonce unused, (9) simulation.
        self.check_chain_state(&signed).await?;

        let token_amount = TokenAmount { base_units: amount, decimals: self.info.decimals };
        let payer: WalletAddress = format!("{:#x}", auth.from).parse()?;
        Ok(Verified {
            rail: self.info.clone(),
            payer,
            amount: token_amount,
            amount_usd: token_amount.to_usd()?,
            fingerprint: hex::encode(signed.replay_key(self.chain_id, self.asset)),
            challenge_id: None,
            settlement: signed.to_settlement(version),
            valid_until: valid_before(&signed),
        })
    }

    /// (1) v2: every field of `accepted` equals the offer for `charge` (the fields
    /// [`EvmRail::requirements_v2`] writes, compared without building it again).
    pub(crate) fn check_accepted(&self, accepted: &v2::PaymentRequirements, charge: &Charge) -> Result<()> {
        if accepted.scheme != SCHEME_EXACT {
            return Err(rejected(Reason::InvalidScheme, format!("scheme {:?} is not exact", accepted.scheme)));
        }
        if accepted.network != self.info.network {
            return Err(rejected(
                Reason::InvalidNetwork,
                format!("network {:?} is not {}", accepted.network, self.info.network),
            ));
        }
        let extra = |k: &str| accepted.extra.as_ref().and_then(|e| e.get(k)).and_then(Value::as_str);
        let mismatch = if accepted.amount != self.amount(charge)?.to_string() {
            Some("amount")
        } else if !same_address(&accepted.asset, self.asset) {
            Some("asset")
        } else if !same_address(&accepted.pay_to, self.pay_to) {
            Some("payTo")
        } else if accepted.max_timeout_seconds != self.max_timeout_seconds {
            Some("maxTimeoutSeconds")
        } else if extra("name") != Some(self.token_name.as_str()) {
            Some("extra.name")
        } else if extra("version") != Some(self.token_version.as_str()) {
            Some("extra.version")
        } else if extra("assetTransferMethod") != self.asset_transfer_method() {
            Some("extra.assetTransferMethod")
        } else {
            None
        };
        match mismatch {
            Some(field) => Err(rejected(
                Reason::InvalidPaymentRequirements,
                format!("accepted.{field} differs from the offer for this request"),
            )),
            None => Ok(()),
        }
    }

    /// (3) recipient, (4) exact amount, (5) validity window at `now`.
    pub(crate) fn check_terms(&self, signed: &SignedAuthorization, amount: u128, version: u8, now: u64) -> Result<()> {
        let auth = &signed.auth;
        if auth.to != self.pay_to {
            return Err(rejected(Reason::InvalidExactEvmPayloadRecipientMismatch, "authorization `to` is not payTo"));
        }
        if auth.value != U256::from(amount) {
            let reason = if version == 1 {
                Reason::InvalidExactEvmPayloadAuthorizationValue
            } else {
                Reason::InvalidExactEvmPayloadAuthorizationValueMismatch
            };
            return Err(rejected(reason, format!("authorized value {} is not exactly {amount}", auth.value)));
        }
        if auth.validAfter > U256::from(now) {
            return Err(rejected(
                Reason::InvalidExactEvmPayloadAuthorizationValidAfter,
                "authorization is not valid yet",
            ));
        }
        if auth.validBefore < U256::from(now.saturating_add(VALID_BEFORE_MARGIN_SECONDS)) {
            return Err(rejected(
                Reason::InvalidExactEvmPayloadAuthorizationValidBefore,
                "authorization has expired or expires too soon to settle",
            ));
        }
        Ok(())
    }

    /// (6) the signature is `from`'s: ecrecover, else EIP-1271 when `from` is a contract; a
    /// refusal carries `reason`.
    pub(crate) async fn check_signature(
        &self,
        from: Address,
        hash: B256,
        signature: &Bytes,
        reason: Reason,
    ) -> Result<()> {
        if signature.len() == 65
            && let Ok(sig) = Signature::from_raw(signature)
            // High-s signatures are malleable copies; FiatToken refuses them.
            && sig.normalize_s().is_none()
            && sig.recover_address_from_prehash(&hash).is_ok_and(|a| a == from)
        {
            return Ok(());
        }
        if signature.len() >= 32 && signature[signature.len() - 32..] == ERC6492_SUFFIX {
            return Err(rejected(
                Reason::InvalidExactEvmPayloadUndeployedSmartWallet,
                "ERC-6492 signatures of undeployed wallets are not accepted",
            ));
        }
        let bad_signature = || rejected(reason, "signature is not from `from`");
        let code = self
            .provider
            .get_code_at(from)
            .await
            .map_err(|e| unavailable(&e, "eth_getCode", Reason::UnexpectedVerifyError))?;
        if code.is_empty() {
            return Err(bad_signature());
        }
        let call = IErc1271::isValidSignatureCall { hash, signature: signature.clone() };
        match view(&self.provider, None, from, &call, Reason::UnexpectedVerifyError.as_str()).await? {
            Ok(magic) if magic.0 == ERC1271_MAGIC => Ok(()),
            _ => Err(bad_signature()),
        }
    }

    /// (7) balance, (8) nonce unused, (9) simulation of the settlement call: three reads in
    /// one JSON-RPC batch, judged in that order.
    async fn check_chain_state(&self, signed: &SignedAuthorization) -> Result<()> {
        let auth = &signed.auth;
        let simulation =
            Read { from: Some(self.settler), to: self.asset, data: self.transfer_calldata(signed), what: "eth_call" };
        let [balance, used, simulated] = batch_calls(
            &self.provider,
            [
                Read::view(self.asset, &IEip3009::balanceOfCall { account: auth.from }),
                Read::view(self.asset, &IEip3009::authorizationStateCall { authorizer: auth.from, nonce: auth.nonce }),
                simulation,
            ],
            Reason::UnexpectedVerifyError.as_str(),
        )
        .await?;
        let balance = decode::<IEip3009::balanceOfCall>(balance).map_err(|m| {
            rejected(Reason::InvalidExactEvmTransactionSimulationFailed, format!("balanceOf failed: {m}"))
        })?;
        if balance < auth.value {
            return Err(rejected(Reason::InsufficientFunds, "the payer's balance is below the amount"));
        }
        nonce_unused(decode::<IEip3009::authorizationStateCall>(used))?;
        if let Err(msg) = simulated {
            // A concurrent request may have settled this authorization between the reads:
            // that is a replay (403), not an invalid payment (402 with a fresh challenge).
            self.check_nonce_unused(auth.from, auth.nonce).await?;
            return Err(rejected(
                Reason::InvalidExactEvmTransactionSimulationFailed,
                format!("transferWithAuthorization would revert: {msg}"),
            ));
        }
        Ok(())
    }

    /// (8) `authorizationState(from, nonce)` is false, else `PermissionDenied`.
    pub(crate) async fn check_nonce_unused(&self, from: Address, nonce: B256) -> Result<()> {
        let call = IEip3009::authorizationStateCall { authorizer: from, nonce };
        nonce_unused(view(&self.provider, None, self.asset, &call, Reason::UnexpectedVerifyError.as_str()).await?)
    }
}

/// (8) on the answer of `authorizationState`: unused, else `PermissionDenied`; a revert is a
/// failed simulation.
fn nonce_unused(used: std::result::Result<bool, String>) -> Result<()> {
    let used = used.map_err(|m| {
        rejected(Reason::InvalidExactEvmTransactionSimulationFailed, format!("authorizationState failed: {m}"))
    })?;
    if used {
        return Err(Error::new(ErrorKind::PermissionDenied, "this authorization was already used")
            .with_reason(Reason::InvalidExactEvmNonceAlreadyUsed));
    }
    Ok(())
}
