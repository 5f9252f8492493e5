//! The `exact` Permit2 check list, with the `eip2612GasSponsoring` permit (see
//! [`crate::EvmRail`] for the order and reasons; payments-x402.md §2 "EVM with Permit2";
//! @x402/evm 2.27 `exact/facilitator/permit2.ts` and `shared/permit2.ts`).
//!
//! Amounts here are token base units (`amount` is the charge converted by
//! [`EvmRail::amount`]); times are Unix seconds.

use std::sync::atomic::Ordering;

use alloy::eips::BlockId;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use compute_core::payment::{Charge, Credential, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, WalletAddress};
use compute_pay_x402::{Reason, v2};

use crate::VALID_BEFORE_MARGIN_SECONDS;
use crate::contracts::{IErc20Permit, IPermit2};
use crate::permit2::{Permit2Payment, SignedPermit2, Sponsoring, reasons};
use crate::rail::EvmRail;
use crate::rpc::{raw_call, unavailable, view};
use crate::verify::{now_unix, rejected};

/// When the Permit2 authorization expires (its `deadline`).
pub(crate) fn deadline(signed: &SignedPermit2) -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = i64::try_from(signed.permit.deadline).ok()?;
    chrono::DateTime::from_timestamp(secs, 0)
}

impl EvmRail {
    pub(crate) async fn verify_permit2(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        let Credential::X402 { version, payload } = credential else {
            return Err(
                Error::new(ErrorKind::InvalidInput, "not an x402 credential").with_reason(Reason::UnsupportedScheme)
            );
        };
        if *version != v2::VERSION {
            return Err(Error::new(ErrorKind::InvalidInput, "Permit2 payments are x402 version 2 only")
                .with_reason(Reason::InvalidX402Version));
        }
        let amount = self.amount(charge)?;
        let p = v2::PaymentPayload::from_json(payload)?;
        // (1) the offer and the resource.
        self.check_accepted(&p.accepted, charge)?;
        v2::check_resource(p.resource.as_ref(), &charge.resource_url, &charge.description)?;
        let payment = Permit2Payment::parse(&p.payload, p.extensions.as_ref())?;
        let signed = &payment.signed;
        // (2) the signed terms.
        self.check_permit2_terms(signed, amount, now_unix())?;
        // (3) the signature.
        let hash = signed.signing_hash(self.chain_id, self.permit2);
        self.check_signature(signed.from, hash, &signed.signature, Reason::InvalidPermit2Signature).await?;
        // (4)–(8) chain state and simulation.
        self.check_permit2_chain_state(&payment, amount).await?;

        let token_amount = TokenAmount { base_units: amount, decimals: self.info.decimals };
        let payer: WalletAddress = format!("{:#x}", signed.from).parse()?;
        Ok(Verified {
            rail: self.info.clone(),
            payer,
            amount: token_amount,
            amount_usd: token_amount.to_usd()?,
            fingerprint: hex::encode(signed.replay_key(self.chain_id)),
            challenge_id: None,
            settlement: payment.to_settlement(),
            valid_until: deadline(signed),
        })
    }

    /// (2) spender, recipient, the `[validAfter, deadline)` window at `now`, the exact amount
    /// (base units) and the token.
    pub(crate) fn check_permit2_terms(&self, signed: &SignedPermit2, amount: u128, now: u64) -> Result<()> {
        let p = &signed.permit;
        if p.spender != self.proxy {
            return Err(rejected_with(reasons::INVALID_SPENDER, "the spender is not x402ExactPermit2Proxy"));
        }
        if p.witness.to != self.pay_to {
            return Err(rejected_with(reasons::RECIPIENT_MISMATCH, "witness `to` is not payTo"));
        }
        if p.deadline < U256::from(now.saturating_add(VALID_BEFORE_MARGIN_SECONDS)) {
            return Err(rejected(Reason::Permit2DeadlineExpired, "the Permit2 deadline has passed or is too close"));
        }
        if p.witness.validAfter > U256::from(now) {
            return Err(rejected_with(reasons::NOT_YET_VALID, "the payment is not valid yet (witness validAfter)"));
        }
        if p.permitted.amount != U256::from(amount) {
            return Err(rejected_with(
                reasons::AMOUNT_MISMATCH,
                format!("permitted amount {} is not exactly {amount}", p.permitted.amount),
            ));
        }
        if p.permitted.token != self.asset {
            return Err(rejected_with(reasons::TOKEN_MISMATCH, "the permitted token is not the asset"));
        }
        Ok(())
    }

    /// (7, without RPC) the sponsoring permit approves exactly `amount` base units of the asset
    /// from `from` to Permit2, until at least `now + 6 s`, signed by `from` under the token's
    /// EIP-712 domain.
    pub(crate) fn check_sponsoring_terms(&self, s: &Sponsoring, from: Address, amount: u128, now: u64) -> Result<()> {
        let p = &s.permit;
        if p.owner != from {
            return Err(rejected_with(reasons::EIP2612_FROM_MISMATCH, "the EIP-2612 owner is not the payer"));
        }
        if s.asset != self.asset {
            return Err(rejected_with(reasons::EIP2612_ASSET_MISMATCH, "the EIP-2612 asset is not the token"));
        }
        if p.spender != self.permit2 {
            return Err(rejected_with(reasons::EIP2612_SPENDER, "the EIP-2612 spender is not Permit2"));
        }
        // x402ExactPermit2Proxy reverts with Permit2612AmountMismatch unless they are equal.
        if p.value != U256::from(amount) {
            return Err(rejected_with(
                reasons::EIP2612_AMOUNT_MISMATCH,
                format!("the EIP-2612 value {} is not the permitted amount {amount}", p.value),
            ));
        }
        if p.deadline < U256::from(now.saturating_add(VALID_BEFORE_MARGIN_SECONDS)) {
            return Err(rejected_with(reasons::EIP2612_DEADLINE_EXPIRED, "the EIP-2612 deadline has passed"));
        }
        let hash = s.signing_hash(&self.domain);
        // OpenZeppelin's `permit` (ECDSA.recover) refuses high-s signatures and contract owners.
        let signed_by_from = s.signature.normalize_s().is_none()
            && s.signature.recover_address_from_prehash(&hash).is_ok_and(|a| a == from);
        if !signed_by_from {
            return Err(rejected_with(reasons::EIP2612_SIGNATURE, "the EIP-2612 permit is not signed by the payer"));
        }
        Ok(())
    }

    /// (4) proxy code, (5) nonce unused, (6) balance, (7) allowance or sponsoring permit, (8)
    /// simulation of the settlement call.
    async fn check_permit2_chain_state(&self, payment: &Permit2Payment, amount: u128) -> Result<()> {
        let signed = &payment.signed;
        let reason = Reason::UnexpectedVerifyError.as_str();
        self.check_proxy_deployed().await?;
        self.check_permit2_nonce_unused(signed).await?;
        let simulation_failed =
            |what: &str, m: String| rejected_with(reasons::SIMULATION_FAILED, format!("{what}: {m}"));
        let call = IErc20Permit::balanceOfCall { account: signed.from };
        let balance = view(&self.provider, None, self.asset, &call, reason)
            .await?
            .map_err(|m| simulation_failed("balanceOf failed", m))?;
        if balance < U256::from(amount) {
            return Err(rejected_with(reasons::INSUFFICIENT_BALANCE, "the payer's balance is below the amount"));
        }
        match &payment.sponsoring {
            Some(s) => {
                self.check_sponsoring_terms(s, signed.from, amount, now_unix())?;
                let call = IErc20Permit::noncesCall { owner: signed.from };
                let nonce = view(&self.provider, None, self.asset, &call, reason)
                    .await?
                    .map_err(|m| simulation_failed("nonces failed", m))?;
                if nonce != s.permit.nonce {
                    return Err(rejected_with(
                        reasons::EIP2612_NONCE,
                        format!("the EIP-2612 nonce {} is not the payer's current nonce {nonce}", s.permit.nonce),
                    ));
                }
            }
            None => {
                let call = IErc20Permit::allowanceCall { owner: signed.from, spender: self.permit2 };
                let allowance = view(&self.provider, None, self.asset, &call, reason)
                    .await?
                    .map_err(|m| simulation_failed("allowance failed", m))?;
                if allowance < U256::from(amount) {
                    return Err(rejected(
                        Reason::Permit2AllowanceRequired,
                        "the payer has not approved Permit2 for the amount; sign the eip2612GasSponsoring \
                         permit the challenge advertises, or approve Permit2 first",
                    ));
                }
            }
        }
        let data = payment.proxy_calldata();
        if let Err(msg) = raw_call(&self.provider, Some(self.settler), self.proxy, data, "eth_call", reason).await? {
            // Settled by a concurrent request between (5) and (8): a replay, not a bad payment.
            self.check_permit2_nonce_unused(signed).await?;
            return Err(rejected_with(reasons::SIMULATION_FAILED, format!("the proxy settlement would revert: {msg}")));
        }
        Ok(())
    }

    /// What keeps this Permit2 rail from settling: no code at Permit2 or the proxy, a
    /// settlement key without native gas, or an RPC that cannot tell.
    pub(crate) async fn permit2_readiness(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, address) in [("Permit2", self.permit2), ("x402ExactPermit2Proxy", self.proxy)] {
            match self.provider.get_code_at(address).await {
                Ok(code) if code.is_empty() => {
                    problems.push(format!("{name} has no code at {address} on this chain: every payment would fail"));
                }
                Ok(_) => {}
                Err(e) => problems
                    .push(format!("cannot read the code of {name}: {}", unavailable(&e, "eth_getCode", "").message())),
            }
        }
        match self.provider.get_balance(self.settler).await {
            Ok(balance) if balance.is_zero() => problems.push(format!(
                "the settlement key {} holds no native gas: it pays every settlement",
                self.settler.to_checksum(None)
            )),
            Ok(_) => {}
            Err(e) => problems.push(format!(
                "cannot read the settlement key's balance: {}",
                unavailable(&e, "eth_getBalance", "").message()
            )),
        }
        problems
    }

    /// (4) x402ExactPermit2Proxy has code: a call to an empty address "succeeds" and moves
    /// nothing. Asked until the code is first seen.
    async fn check_proxy_deployed(&self) -> Result<()> {
        if self.proxy_seen.load(Ordering::Relaxed) {
            return Ok(());
        }
        let code = self
            .provider
            .get_code_at(self.proxy)
            .await
            .map_err(|e| unavailable(&e, "eth_getCode", Reason::UnexpectedVerifyError))?;
        if code.is_empty() {
            tracing::error!(proxy = %self.proxy, "x402ExactPermit2Proxy has no code on this chain");
            return Err(Error::new(ErrorKind::Unavailable, "x402ExactPermit2Proxy is not deployed on this chain")
                .with_reason(reasons::PROXY_NOT_DEPLOYED)
                .with_temporary(false));
        }
        self.proxy_seen.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// (5) the Permit2 nonce is unused, else `PermissionDenied` (a replay).
    pub(crate) async fn check_permit2_nonce_unused(&self, signed: &SignedPermit2) -> Result<()> {
        if self.permit2_nonce_used(signed, false).await? {
            return Err(Error::new(ErrorKind::PermissionDenied, "this Permit2 authorization was already used")
                .with_reason(reasons::NONCE_USED));
        }
        Ok(())
    }

    /// Whether Permit2's bitmap marks the nonce used: in the pending state during verify, or
    /// in the latest mined block (`latest`, for reconciliation: then every failure is a
    /// temporary [`ErrorKind::Unavailable`]).
    pub(crate) async fn permit2_nonce_used(&self, signed: &SignedPermit2, latest: bool) -> Result<bool> {
        let (word, bit) = signed.nonce_position();
        let call = IPermit2::nonceBitmapCall { owner: signed.from, wordPos: word };
        let bitmap = if latest {
            let tx = TransactionRequest::default().with_to(self.permit2).with_input(Bytes::from(call.abi_encode()));
            let out = self
                .provider
                .call(tx)
                .block(BlockId::latest())
                .await
                .map_err(|e| unavailable(&e, "nonceBitmap", Reason::UnexpectedSettleError))?;
            IPermit2::nonceBitmapCall::abi_decode_returns(&out).map_err(|e| {
                Error::new(ErrorKind::Unavailable, format!("nonceBitmap answered undecodable data: {e}"))
            })?
        } else {
            view(&self.provider, None, self.permit2, &call, Reason::UnexpectedVerifyError.as_str())
                .await?
                .map_err(|m| rejected_with(reasons::SIMULATION_FAILED, format!("nonceBitmap failed: {m}")))?
        };
        Ok(bitmap & bit != U256::ZERO)
    }
}

/// An invalid Permit2 proof with a reason [`Reason`] does not name.
fn rejected_with(reason: &'static str, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PaymentRequired, msg).with_reason(reason)
}
