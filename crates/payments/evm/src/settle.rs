//! Settlement: `transferWithAuthorization` on the token (EIP-3009) or the x402ExactPermit2Proxy's
//! `settle` / `settleWithPermit` (Permit2), sent from the settlement key, a bounded wait for the
//! receipt, and reconciliation of `Unknown` outcomes.

use std::time::Instant;

use alloy::eips::eip2718::Encodable2718;
use alloy::network::{NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{B256, Bytes, Signature};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use compute_core::payment::{SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result};
use compute_pay_x402::Reason;

use crate::TransferMethod;
use crate::auth::SignedAuthorization;
use crate::contracts::IEip3009;
use crate::permit2::{Permit2Payment, reasons};
use crate::rail::EvmRail;
use crate::rpc::{revert_message, unavailable};

/// A verified payment read back from [`Verified::settlement`], by transfer method.
pub(crate) enum SignedPayment {
    /// An EIP-3009 authorization.
    Eip3009(SignedAuthorization),
    /// A Permit2 authorization, with its sponsoring permit if any.
    Permit2(Box<Permit2Payment>),
}

impl SignedPayment {
    /// Reads the settlement data of a payment verified by `rail`.
    pub(crate) fn from_verified(rail: &EvmRail, verified: &Verified) -> Result<Self> {
        Ok(match rail.transfer_method {
            TransferMethod::Eip3009 => {
                SignedPayment::Eip3009(SignedAuthorization::from_settlement(&verified.settlement)?.0)
            }
            TransferMethod::Permit2 => {
                SignedPayment::Permit2(Box::new(Permit2Payment::from_settlement(&verified.settlement)?))
            }
        })
    }

    /// The in-flight key: the semantic replay key.
    fn replay_key(&self, rail: &EvmRail) -> B256 {
        match self {
            SignedPayment::Eip3009(s) => s.replay_key(rail.chain_id, rail.asset),
            SignedPayment::Permit2(p) => p.signed.replay_key(rail.chain_id),
        }
    }

    /// The contract the settlement calls and its calldata.
    fn call(&self, rail: &EvmRail) -> (alloy::primitives::Address, Bytes) {
        match self {
            SignedPayment::Eip3009(s) => (rail.asset, rail.transfer_calldata(s)),
            SignedPayment::Permit2(p) => (rail.proxy, p.proxy_calldata()),
        }
    }

    /// Whether the authorization can no longer be used (`validBefore` / `deadline` passed).
    fn expired(&self) -> bool {
        let until = match self {
            SignedPayment::Eip3009(s) => crate::verify::valid_before(s),
            SignedPayment::Permit2(p) => crate::verify_permit2::deadline(&p.signed),
        };
        until.is_some_and(|t| t < chrono::Utc::now())
    }

    /// The reason of a settlement refused because the nonce is used.
    fn used_reason(&self) -> &'static str {
        match self {
            SignedPayment::Eip3009(_) => Reason::InvalidExactEvmNonceAlreadyUsed.as_str(),
            SignedPayment::Permit2(_) => reasons::NONCE_USED,
        }
    }

    /// The reason of a settlement refused because it would revert for another cause.
    fn revert_reason(&self) -> &'static str {
        match self {
            SignedPayment::Eip3009(_) => Reason::InvalidExactEvmTransactionSimulationFailed.as_str(),
            SignedPayment::Permit2(_) => reasons::SIMULATION_FAILED,
        }
    }
}

/// Holds one replay key in the rail's in-flight set; removes it when dropped.
struct InFlight<'a> {
    rail: &'a EvmRail,
    key: B256,
}

impl<'a> InFlight<'a> {
    fn claim(rail: &'a EvmRail, key: B256) -> Option<Self> {
        let fresh = rail.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key);
        // Built only when claimed: a dropped `InFlight` releases the key.
        fresh.then(|| InFlight { rail, key })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut set = self.rail.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.remove(&self.key);
    }
}

impl EvmRail {
    /// Calldata of `transferWithAuthorization`: the `(v, r, s)` overload for a 65-byte ECDSA
    /// signature (every EIP-3009 token has it; `v` normalised to 27/28), the `bytes signature`
    /// overload (FiatToken v2.2, EIP-1271 wallets) otherwise.
    pub(crate) fn transfer_calldata(&self, signed: &SignedAuthorization) -> Bytes {
        let a = &signed.auth;
        let ecdsa = (signed.signature.len() == 65).then(|| Signature::from_raw(&signed.signature).ok()).flatten();
        let data = match ecdsa {
            Some(sig) => IEip3009::transferWithAuthorization_0Call {
                from: a.from,
                to: a.to,
                value: a.value,
                validAfter: a.validAfter,
                validBefore: a.validBefore,
                nonce: a.nonce,
                v: 27 + u8::from(sig.v()),
                r: B256::from(sig.r()),
                s: B256::from(sig.s()),
            }
            .abi_encode(),
            None => IEip3009::transferWithAuthorization_1Call {
                from: a.from,
                to: a.to,
                value: a.value,
                validAfter: a.validAfter,
                validBefore: a.validBefore,
                nonce: a.nonce,
                signature: signed.signature.clone(),
            }
            .abi_encode(),
        };
        Bytes::from(data)
    }

    pub(crate) async fn settle_verified(&self, verified: &Verified) -> Result<SettleOutcome> {
        if verified.rail != self.info {
            return Err(Error::new(ErrorKind::Internal, "verified payment of another rail"));
        }
        let signed = SignedPayment::from_verified(self, verified)?;
        let Some(_claim) = InFlight::claim(self, signed.replay_key(self)) else {
            return Err(Error::new(ErrorKind::PermissionDenied, "this authorization is being settled already")
                .with_reason(signed.used_reason()));
        };
        let hash = match self.broadcast(&signed).await? {
            Ok(hash) => hash,
            Err(refused) => return Ok(refused),
        };
        Ok(self.wait_for_receipt(hash).await)
    }

    /// Signs and sends the settlement transaction. `Ok(Ok(hash))` once it may have reached the
    /// node; `Ok(Err(Rejected))` when the chain refuses it before broadcast (it reverts);
    /// `Err` for every other fault before broadcast.
    async fn broadcast(&self, signed: &SignedPayment) -> Result<std::result::Result<B256, SettleOutcome>> {
        let settle_error = Reason::UnexpectedSettleError.as_str();
        let (to, data) = signed.call(self);
        let tx = TransactionRequest::default()
            .with_from(self.settler)
            .with_to(to)
            .with_input(data)
            .with_chain_id(self.chain_id);
        // One broadcast at a time: the pending nonce read below then counts every earlier
        // transaction of the settlement key.
        let _send = self.send_lock.lock().await;
        let gas = match self.provider.estimate_gas(tx.clone()).await {
            Ok(gas) => gas,
            Err(e) => {
                let Some(msg) = revert_message(&e) else {
                    return Err(unavailable(&e, "eth_estimateGas", settle_error));
                };
                tracing::info!(reason = %msg, "settlement would revert; not broadcast");
                let unused = match signed {
                    SignedPayment::Eip3009(s) => self.check_nonce_unused(s.auth.from, s.auth.nonce).await,
                    SignedPayment::Permit2(p) => self.check_permit2_nonce_unused(&p.signed).await,
                };
                let reason = match unused {
                    Err(used) if used.kind() == ErrorKind::PermissionDenied => signed.used_reason(),
                    _ => signed.revert_reason(),
                };
                return Ok(Err(SettleOutcome::Rejected { reason: reason.to_owned() }));
            }
        };
        let nonce = self
            .provider
            .get_transaction_count(self.settler)
            .pending()
            .await
            .map_err(|e| unavailable(&e, "eth_getTransactionCount", settle_error))?;
        let fees =
            self.provider.estimate_eip1559_fees().await.map_err(|e| unavailable(&e, "fee estimation", settle_error))?;
        let envelope = tx
            .with_nonce(nonce)
            // Headroom: state may change between estimation and inclusion; unused gas is not paid.
            .with_gas_limit(gas.saturating_add(gas / 4))
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            .build(&self.wallet)
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Internal, format!("cannot sign the settlement: {e}")).with_reason(settle_error)
            })?;
        let hash = *envelope.tx_hash();
        match self.provider.send_raw_transaction(&envelope.encoded_2718()).await {
            Ok(_) => {}
            Err(e) => match e.as_error_resp() {
                // The node has it already (a retry of ours): it is broadcast.
                Some(resp) if resp.message.to_ascii_lowercase().contains("already known") => {}
                // The node refused it (nonce, fees, gas funds): nothing was broadcast.
                Some(_) => return Err(unavailable(&e, "eth_sendRawTransaction", settle_error)),
                // No answer: it may have been broadcast; the receipt wait decides.
                None => tracing::warn!(tx = %hash, "no answer to eth_sendRawTransaction; waiting for a receipt"),
            },
        }
        tracing::info!(tx = %hash, "settlement broadcast");
        Ok(Ok(hash))
    }

    /// Polls for the receipt of `hash` up to the receipt timeout.
    async fn wait_for_receipt(&self, hash: B256) -> SettleOutcome {
        let deadline = Instant::now() + self.receipt_timeout;
        loop {
            if let Ok(Some(outcome)) = self.receipt_outcome(hash).await {
                return outcome;
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(tx = %hash, "no settlement receipt in time; outcome unknown");
                return SettleOutcome::Unknown { reference: hash.to_string() };
            }
            tokio::time::sleep(self.poll_interval.min(deadline - now)).await;
        }
    }

    /// The final outcome of `hash`, `None` while it has no receipt.
    async fn receipt_outcome(&self, hash: B256) -> Result<Option<SettleOutcome>> {
        let receipt = self
            .provider
            .get_transaction_receipt(hash)
            .await
            .map_err(|e| unavailable(&e, "eth_getTransactionReceipt", Reason::UnexpectedSettleError))?;
        Ok(receipt.map(|r| {
            if r.status() {
                SettleOutcome::Settled { reference: hash.to_string() }
            } else {
                SettleOutcome::Rejected { reason: Reason::InvalidExactEvmTransactionFailed.as_str().to_owned() }
            }
        }))
    }

    /// `reconcile`: a mined settlement is `Settled` or `Rejected`. Without a receipt (or
    /// without a recorded settlement), the authorization itself decides: used on chain (by
    /// this settlement or any other submission) → `Settled`; unused and past `validBefore` →
    /// `Rejected` (it can no longer be used); otherwise `Unknown`.
    pub(crate) async fn reconcile_payment(
        &self,
        verified: &Verified,
        reference: Option<&str>,
    ) -> Result<SettleOutcome> {
        let signed = SignedPayment::from_verified(self, verified)?;
        let expired = signed.expired();
        if let Some(reference) = reference {
            let hash: B256 = reference
                .trim()
                .parse()
                .map_err(|_| Error::new(ErrorKind::InvalidInput, "settlement reference is not a transaction hash"))?;
            if let Some(outcome) = self.receipt_outcome(hash).await? {
                return Ok(outcome);
            }
            if !expired {
                // Broadcast and not mined yet: it may still be.
                return Ok(SettleOutcome::Unknown { reference: reference.to_owned() });
            }
        }
        let reference = reference.map_or_else(|| format!("authorization:{}", verified.fingerprint), str::to_owned);
        Ok(if self.nonce_used_in_latest_block(&signed).await? {
            SettleOutcome::Settled { reference }
        } else if expired {
            SettleOutcome::Rejected { reason: "the authorization expired unused".to_owned() }
        } else {
            SettleOutcome::Unknown { reference }
        })
    }

    /// `authorizationState(from, nonce)` (EIP-3009) or Permit2's nonce bitmap in the latest
    /// mined block (not the pending state).
    async fn nonce_used_in_latest_block(&self, signed: &SignedPayment) -> Result<bool> {
        let signed = match signed {
            SignedPayment::Eip3009(s) => s,
            SignedPayment::Permit2(p) => return self.permit2_nonce_used(&p.signed, true).await,
        };
        let call = IEip3009::authorizationStateCall { authorizer: signed.auth.from, nonce: signed.auth.nonce };
        let tx = TransactionRequest::default().with_to(self.asset).with_input(Bytes::from(call.abi_encode()));
        let out = self
            .provider
            .call(tx)
            .block(alloy::eips::BlockId::latest())
            .await
            .map_err(|e| unavailable(&e, "authorizationState", Reason::UnexpectedSettleError))?;
        IEip3009::authorizationStateCall::abi_decode_returns(&out).map_err(|e| {
            Error::new(ErrorKind::Unavailable, format!("authorizationState answered undecodable data: {e}"))
        })
    }
}
