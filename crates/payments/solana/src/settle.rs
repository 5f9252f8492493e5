//! Settlement: co-sign as fee payer, `sendTransaction`, a bounded wait for `confirmed`
//! (`getSignatureStatuses`), and reconciliation of `Unknown` outcomes.
//!
//! Outcomes: confirmed without error → `Settled { reference: signature }`; a JSON-RPC error
//! answer to `sendTransaction` (the node refused it: preflight simulation, unhealthy node), an
//! error status, or a blockhash that expired with the transaction nowhere → `Rejected`; sent
//! (or maybe sent) and not confirmed in time → `Unknown { reference: signature }`.

use std::time::Instant;

use compute_core::payment::{SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use solana_hash::Hash;
use solana_signature::Signature;

use crate::rail::{SENT_MEMORY, SentTx, SolanaRail};
use crate::reasons as r;
use crate::rpc::RpcFailure;
use crate::tx;
use crate::verify::duplicate;

const SETTLE_ERROR: &str = "unexpected_settle_error";

/// The rail-private part of a [`Verified`] (`Verified::settlement`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Settlement {
    /// x402 version of the credential (for the receipt header).
    pub(crate) version: u8,
    /// The payer's partially signed transaction, base64, as received.
    pub(crate) transaction: String,
    /// The transaction id (the fee payer's signature), base58.
    #[serde(with = "display_fromstr")]
    pub(crate) signature: Signature,
    /// The transaction's blockhash, base58 (reconcile decides expiry with it).
    #[serde(with = "display_fromstr")]
    pub(crate) blockhash: Hash,
}

mod display_fromstr {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(crate) fn serialize<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        String::deserialize(d)?.parse().map_err(|_| D::Error::custom("not base58"))
    }
}

impl Settlement {
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub(crate) fn from_json(v: &Value) -> Result<Self> {
        serde_json::from_value(v.clone())
            .map_err(|_| Error::new(ErrorKind::Internal, "the verified payment's settlement data is malformed"))
    }
}

/// Holds one transaction id in the rail's in-flight set; removes it when dropped.
struct InFlight<'a> {
    rail: &'a SolanaRail,
    id: Signature,
}

impl<'a> InFlight<'a> {
    fn claim(rail: &'a SolanaRail, id: Signature) -> Option<Self> {
        let fresh = rail.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id);
        fresh.then_some(InFlight { rail, id })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.rail.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.id);
    }
}

/// What `getSignatureStatuses` says of a transaction.
enum Status {
    Final(SettleOutcome),
    Pending,
    NotFound,
}

/// Whether a `sendTransaction` refusal says the transaction was processed before.
fn already_processed(message: &str, data: &Value) -> bool {
    message.to_ascii_lowercase().contains("already been processed")
        || data.get("err").and_then(Value::as_str) == Some("AlreadyProcessed")
}

impl SolanaRail {
    pub(crate) async fn settle_verified(&self, verified: &Verified) -> Result<SettleOutcome> {
        if verified.rail != self.info {
            return Err(Error::new(ErrorKind::Internal, "verified payment of another rail"));
        }
        let s = Settlement::from_json(&verified.settlement)?;
        // Never sign anything that is not a checked payment, even from our own data.
        let amount = u64::try_from(verified.amount.base_units)
            .map_err(|_| Error::new(ErrorKind::Internal, "verified amount exceeds u64"))?;
        let (decoded, wire_len) = tx::decode(&s.transaction)?;
        let checked = tx::check(decoded, wire_len, &self.expected(amount))?;
        let (id, wire) = self.co_sign(&checked)?;
        if id != s.signature {
            return Err(Error::new(ErrorKind::Internal, "the settlement data does not match its transaction"));
        }
        let Some(_claim) = InFlight::claim(self, id) else {
            return Err(duplicate("this transaction is being settled already"));
        };
        if self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(&id) {
            return Err(duplicate("this transaction was already submitted for settlement"));
        }
        match self.status(&id, true).await? {
            Status::NotFound => {}
            _ => return Err(duplicate("this transaction has already landed")),
        }
        self.remember(id, checked.blockhash);
        match self.rpc.send(&wire).await {
            Ok(_) => tracing::info!(tx = %id, "settlement sent"),
            Err(RpcFailure::Node { message, data, .. }) if already_processed(&message, &data) => {
                // Landed since the status check: another settlement of the same payment.
                return Err(duplicate("this transaction has already landed"));
            }
            Err(RpcFailure::Node { code, message, data }) => {
                self.forget(&id);
                tracing::info!(tx = %id, code, %message, logs = ?crate::rpc::logs(&data), "settlement refused by the node");
                let reason = if code == -32002 { r::SIMULATION_FAILED } else { r::TRANSACTION_FAILED };
                return Ok(SettleOutcome::Rejected { reason: reason.to_owned() });
            }
            Err(f @ RpcFailure::Transport { maybe_sent: false, .. }) => {
                self.forget(&id);
                return Err(f.unavailable("sendTransaction", SETTLE_ERROR));
            }
            Err(RpcFailure::Transport { detail, .. }) => {
                tracing::warn!(tx = %id, %detail, "no answer to sendTransaction; waiting for its status");
            }
        }
        Ok(self.wait_for_confirmation(id, checked.blockhash).await)
    }

    /// Polls the status of `id` up to the confirmation timeout.
    async fn wait_for_confirmation(&self, id: Signature, blockhash: Hash) -> SettleOutcome {
        let deadline = Instant::now() + self.confirmation_timeout;
        loop {
            match self.status(&id, false).await {
                Ok(Status::Final(outcome)) => return outcome,
                Ok(Status::NotFound) => {
                    if let Ok(Some(outcome)) = self.expired_outcome(&id, &blockhash).await {
                        return outcome;
                    }
                }
                Ok(Status::Pending) | Err(_) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(tx = %id, "not confirmed in time; outcome unknown");
                return SettleOutcome::Unknown { reference: id.to_string() };
            }
            tokio::time::sleep(self.poll_interval.min(deadline - now)).await;
        }
    }

    /// The status of `id`.
    async fn status(&self, id: &Signature, search_history: bool) -> Result<Status> {
        let status = self
            .rpc
            .signature_status(id, search_history)
            .await
            .map_err(|f| f.unavailable("getSignatureStatuses", SETTLE_ERROR))?;
        Ok(match status {
            None => Status::NotFound,
            Some(s) if s.err.is_some() => {
                tracing::info!(tx = %id, error = ?s.err, "settlement transaction failed");
                Status::Final(SettleOutcome::Rejected { reason: r::TRANSACTION_FAILED.to_owned() })
            }
            Some(s) if s.is_confirmed() => Status::Final(SettleOutcome::Settled { reference: id.to_string() }),
            Some(_) => Status::Pending,
        })
    }

    /// For a transaction that is nowhere: `Rejected` once its blockhash has expired and it is
    /// still nowhere (it can never land then), `None` while it may still land.
    async fn expired_outcome(&self, id: &Signature, blockhash: &Hash) -> Result<Option<SettleOutcome>> {
        let valid = self
            .rpc
            .is_blockhash_valid(blockhash)
            .await
            .map_err(|f| f.unavailable("isBlockhashValid", SETTLE_ERROR))?;
        if valid {
            return Ok(None);
        }
        // Checked after the expiry, so a transaction that landed just before is seen.
        Ok(match self.status(id, true).await? {
            Status::Final(outcome) => Some(outcome),
            Status::Pending => None,
            Status::NotFound => Some(SettleOutcome::Rejected { reason: r::TRANSACTION_FAILED.to_owned() }),
        })
    }

    /// `reconcile`: a landed transaction is `Settled` or `Rejected`; one that is nowhere is
    /// `Rejected` when its blockhash is known (`blockhash`, or remembered by this process)
    /// and has expired, `Unknown` otherwise.
    pub(crate) async fn reconcile_with(&self, reference: &str, blockhash: Option<Hash>) -> Result<SettleOutcome> {
        let id: Signature = reference
            .trim()
            .parse()
            .map_err(|_| Error::new(ErrorKind::InvalidInput, "settlement reference is not a Solana signature"))?;
        let unknown = || SettleOutcome::Unknown { reference: id.to_string() };
        match self.status(&id, true).await? {
            Status::Final(outcome) => Ok(outcome),
            Status::Pending => Ok(unknown()),
            Status::NotFound => {
                let known = blockhash.or_else(|| {
                    self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id).map(|s| s.blockhash)
                });
                match known {
                    Some(hash) => Ok(self.expired_outcome(&id, &hash).await?.unwrap_or_else(unknown)),
                    None => Ok(unknown()),
                }
            }
        }
    }

    /// [`compute_core::payment::Payment::reconcile`] with the blockhash taken from the
    /// verified payment, so a transaction broadcast by another process (or before a restart)
    /// that never landed is `Rejected` once its blockhash has expired, not `Unknown` forever.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `reference` is not a signature; a temporary
    /// [`ErrorKind::Unavailable`] when the RPC cannot be reached.
    pub async fn reconcile_settlement(&self, reference: &str, verified: &Verified) -> Result<SettleOutcome> {
        let blockhash = Settlement::from_json(&verified.settlement).ok().map(|s| s.blockhash);
        self.reconcile_with(reference, blockhash).await.map_err(|e| e.with_component(crate::COMPONENT))
    }

    fn remember(&self, id: Signature, blockhash: Hash) {
        let mut sent = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        sent.retain(|_, s| now.duration_since(s.at) < SENT_MEMORY);
        sent.insert(id, SentTx { blockhash, at: now });
    }

    fn forget(&self, id: &Signature) {
        self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}
