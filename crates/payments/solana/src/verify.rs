//! The `exact` SVM check list (see [`crate::SolanaRail`] for the order and reasons): the
//! credential and `accepted`, the static transaction checks of `tx.rs`, then the chain state.

use compute_core::payment::{Charge, Credential, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, WalletAddress};
use compute_pay_x402::{Reason, SCHEME_EXACT, v1, v2};
use serde_json::Value;
use sha2::{Digest, Sha256};
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;

use crate::programs::TokenAccount;
use crate::rail::SolanaRail;
use crate::reasons as r;
use crate::settle::Settlement;
use crate::tx::{self, PaymentTx, rejected};

const VERIFY_ERROR: &str = "unexpected_verify_error";

fn same_key(a: &str, b: &Pubkey) -> bool {
    a.trim().parse::<Pubkey>().is_ok_and(|a| a == *b)
}

/// The replay key of a transaction id on a network: hex SHA-256.
pub(crate) fn fingerprint(network: &str, id: &Signature) -> String {
    let mut h = Sha256::new();
    h.update(b"x402-exact-svm\0");
    h.update(network.as_bytes());
    h.update([0]);
    h.update(id.as_ref());
    hex::encode(h.finalize())
}

/// A replay: 403 without a new challenge.
pub(crate) fn duplicate(msg: &str) -> Error {
    Error::new(ErrorKind::PermissionDenied, msg.to_owned()).with_reason(r::DUPLICATE_SETTLEMENT)
}

impl SolanaRail {
    pub(crate) async fn verify_credential(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        let Credential::X402 { version, payload } = credential else {
            return Err(
                Error::new(ErrorKind::InvalidInput, "not an x402 credential").with_reason(Reason::UnsupportedScheme)
            );
        };
        let amount = self.amount(charge)?;
        let (version, scheme_payload) = match *version {
            2 => {
                let p = v2::PaymentPayload::from_json(payload)?;
                // (1) `accepted` is the offer we make for this charge, `resource` this request.
                self.check_accepted(&p.accepted, charge)?;
                v2::check_resource(p.resource.as_ref(), &charge.resource_url, &charge.description)?;
                (2, p.payload)
            }
            1 => {
                let p = v1::PaymentPayload::from_json(payload)?;
                if p.scheme != SCHEME_EXACT {
                    return Err(rejected(
                        Reason::InvalidScheme.as_str(),
                        format!("scheme {:?} is not exact", p.scheme),
                    ));
                }
                if Some(p.network.as_str()) != self.v1_network {
                    return Err(rejected(
                        Reason::InvalidNetwork.as_str(),
                        format!("network {:?} is not this rail's", p.network),
                    ));
                }
                (1, p.payload)
            }
            v => {
                return Err(Error::new(ErrorKind::InvalidInput, format!("x402Version {v} is not supported"))
                    .with_reason(Reason::InvalidX402Version));
            }
        };
        // (2) decode, (3) the static checks.
        let transaction = scheme_payload.get("transaction").and_then(Value::as_str).ok_or_else(|| {
            Error::new(ErrorKind::InvalidInput, "payload.transaction is missing").with_reason(Reason::InvalidPayload)
        })?;
        let (decoded, wire_len) = tx::decode(transaction)?;
        let checked = tx::check(decoded, wire_len, &self.expected(amount))?;
        // (4) the transaction id: the fee payer's (deterministic) signature of the message.
        let (id, wire) = self.co_sign(&checked)?;
        self.check_unused(&id).await?;
        // (5) accounts, (6) blockhash, (7) simulation.
        self.check_accounts(&checked, amount).await?;
        self.check_blockhash(&checked.blockhash).await?;
        self.simulate(&wire, &id).await?;

        let token_amount = TokenAmount { base_units: u128::from(amount), decimals: self.decimals };
        let payer: WalletAddress = checked.authority.to_string().parse()?;
        let settlement = Settlement {
            version,
            transaction: transaction.trim().to_owned(),
            signature: id,
            blockhash: checked.blockhash,
        };
        Ok(Verified {
            rail: self.info.clone(),
            payer,
            amount: token_amount,
            amount_usd: token_amount.to_usd()?,
            fingerprint: fingerprint(&self.info.network, &id),
            challenge_id: None,
            settlement: settlement.to_json(),
            // A blockhash is good for about 150 slots (60–90 s): past this the transaction
            // cannot land any more.
            valid_until: Some(chrono::Utc::now() + chrono::Duration::minutes(3)),
        })
    }

    /// (1) v2: every static field of `accepted` equals the offer for `charge`.
    fn check_accepted(&self, accepted: &v2::PaymentRequirements, charge: &Charge) -> Result<()> {
        let offer = self.requirements_v2(charge)?;
        if accepted.scheme != offer.scheme {
            return Err(rejected(Reason::InvalidScheme.as_str(), format!("scheme {:?} is not exact", accepted.scheme)));
        }
        if accepted.network != offer.network {
            return Err(rejected(
                Reason::InvalidNetwork.as_str(),
                format!("network {:?} is not {}", accepted.network, offer.network),
            ));
        }
        let extra =
            |v: &Option<Value>, k: &str| v.as_ref().and_then(|e| e.get(k)).and_then(Value::as_str).map(str::to_owned);
        let mismatch = if accepted.amount != offer.amount {
            Some("amount")
        } else if !same_key(&accepted.asset, &self.mint) {
            Some("asset")
        } else if !same_key(&accepted.pay_to, &self.pay_to) {
            Some("payTo")
        } else if accepted.max_timeout_seconds != offer.max_timeout_seconds {
            Some("maxTimeoutSeconds")
        } else if extra(&accepted.extra, "feePayer") != extra(&offer.extra, "feePayer") {
            Some("extra.feePayer")
        } else if extra(&accepted.extra, "memo") != extra(&offer.extra, "memo") {
            Some("extra.memo")
        } else {
            None
        };
        match mismatch {
            Some(field) => Err(rejected(
                Reason::InvalidPaymentRequirements.as_str(),
                format!("accepted.{field} differs from the offer for this request"),
            )),
            None => Ok(()),
        }
    }

    /// Adds the fee payer's signature: the transaction id and the wire bytes of the fully
    /// signed transaction.
    pub(crate) fn co_sign(&self, checked: &PaymentTx) -> Result<(Signature, Vec<u8>)> {
        let id = self.fee_payer.sign_message(&checked.message);
        let mut signed = checked.tx.clone();
        signed.signatures[0] = id;
        let wire = wincode::serialize(&signed)
            .map_err(|_| Error::new(ErrorKind::Internal, "cannot serialize the co-signed transaction"))?;
        Ok((id, wire))
    }

    /// (4) Not settled by this process, not being settled, not landed.
    pub(crate) async fn check_unused(&self, id: &Signature) -> Result<()> {
        let busy = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(id);
        let sent = self.sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(id);
        if busy || sent {
            return Err(duplicate("this transaction was already submitted for settlement"));
        }
        let status = self
            .rpc
            .signature_status(id, true)
            .await
            .map_err(|f| f.unavailable("getSignatureStatuses", VERIFY_ERROR))?;
        if status.is_some() {
            return Err(duplicate("this transaction has already landed"));
        }
        Ok(())
    }

    /// (5) The mint belongs to the transfer's token program, the payer's token account holds
    /// the amount, the merchant's exists.
    async fn check_accounts(&self, checked: &PaymentTx, amount: u64) -> Result<()> {
        let accounts = self
            .rpc
            .get_multiple_accounts(&[checked.source, checked.destination, self.mint])
            .await
            .map_err(|f| f.unavailable("getMultipleAccounts", VERIFY_ERROR))?;
        match &accounts[2] {
            Some(mint) if mint.owner == checked.token_program => {}
            Some(_) => return Err(rejected(r::NO_TRANSFER, "the transfer's token program does not own the mint")),
            None => {
                return Err(Error::new(ErrorKind::Unavailable, "the configured mint does not exist on this network")
                    .with_reason(VERIFY_ERROR));
            }
        }
        let parse = |i: usize| {
            accounts[i].as_ref().filter(|a| a.owner == checked.token_program).and_then(|a| TokenAccount::parse(&a.data))
        };
        match parse(1) {
            Some(t) if t.mint == self.mint && t.owner == self.pay_to && t.is_usable() => {}
            _ => {
                tracing::warn!(pay_to = %self.pay_to, "the merchant's associated token account is missing or unusable");
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    "the merchant's token account for this mint does not exist yet; payments cannot be received",
                )
                .with_reason(VERIFY_ERROR));
            }
        }
        let insufficient = |m: &str| rejected(Reason::InsufficientFunds.as_str(), m.to_owned());
        match parse(0) {
            None => Err(insufficient("the payer's token account does not exist")),
            Some(t) if t.mint != self.mint => Err(rejected(r::MINT_MISMATCH, "the source account holds another mint")),
            Some(t) if !t.is_usable() => Err(insufficient("the payer's token account is frozen")),
            Some(t) if t.amount < amount => Err(insufficient("the payer's balance is below the amount")),
            Some(_) => Ok(()),
        }
    }

    /// (6) The blockhash has not expired.
    async fn check_blockhash(&self, blockhash: &Hash) -> Result<()> {
        let valid = self
            .rpc
            .is_blockhash_valid(blockhash)
            .await
            .map_err(|f| f.unavailable("isBlockhashValid", VERIFY_ERROR))?;
        if !valid {
            return Err(rejected(r::TRANSACTION_INVALID, "the transaction's blockhash has expired"));
        }
        Ok(())
    }

    /// (7) `simulateTransaction` of the co-signed transaction.
    async fn simulate(&self, wire: &[u8], id: &Signature) -> Result<()> {
        let failure = self.rpc.simulate(wire).await.map_err(|f| f.unavailable("simulateTransaction", VERIFY_ERROR))?;
        if let Some((err, logs)) = failure {
            // A concurrent request may have landed this transaction since (4): a replay (403),
            // not an invalid payment (402 with a fresh challenge).
            self.check_unused(id).await?;
            tracing::info!(error = %err, logs = ?logs, "payment simulation failed");
            return Err(rejected(r::SIMULATION_FAILED, format!("the transaction would fail: {err}")));
        }
        Ok(())
    }
}
