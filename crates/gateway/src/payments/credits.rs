//! [`CreditsRail`]: paying from the wallet's prepaid credit balance (x402Compute's
//! `use_credits`) on any paid route, as a [`Payment`] rail. The request sends
//! `X-Use-Credits: true` and proves its wallet with any wallet-authentication method; verify
//! checks the balance, settle takes the price from the append-only ledger (never below zero),
//! and a failed action is credited back like any other payment.

use async_trait::async_trait;
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result, TokenAmount, Usd, WalletAddress};
use compute_store::{LedgerEntry, NewCredit, Store};

/// Decimals of the credit "token": USD with 6 decimals, like USDC.
const CREDIT_DECIMALS: u8 = 6;

/// The credit-balance rail.
#[derive(Debug)]
pub struct CreditsRail {
    store: Store,
    info: RailInfo,
}

impl CreditsRail {
    /// Credits kept in `store`'s ledger.
    pub fn new(store: Store) -> Self {
        let info = RailInfo {
            rail: "credits".into(),
            network: "ledger".into(),
            asset: "USD".into(),
            decimals: CREDIT_DECIMALS,
        };
        CreditsRail { store, info }
    }
}

/// Credits `amount` of payment `payment_id` back to `wallet` (a paid action that failed, a
/// settlement that landed after its request ended), with `reason` in the ledger.
///
/// # Errors
/// Database errors.
pub async fn credit_back(
    store: &Store,
    wallet: &WalletAddress,
    amount: Usd,
    reason: &str,
    payment_id: &str,
) -> Result<LedgerEntry> {
    let credit = NewCredit {
        wallet: wallet.clone(),
        amount,
        reason: reason.to_owned(),
        payment_id: Some(payment_id.to_owned()),
        resource_id: None,
    };
    store.add_credit(credit).await
}

/// `ledger:<wallet>:<seq>:<balance after>`: unique per spend (the sequence number is per
/// wallet) and carrying the balance for the receipt.
fn reference(wallet: &str, seq: i64, balance: Usd) -> String {
    format!("ledger:{wallet}:{seq}:{balance}")
}

fn insufficient(charge: &Charge, balance: Usd) -> Error {
    Error::new(
        ErrorKind::PaymentRequired,
        format!("this request costs ${} and the credit balance is ${balance}", charge.amount),
    )
    .with_reason("insufficient_credits")
    .with_field("amount_usd", charge.amount.to_string())
    .with_field("credit_balance_usd", balance.to_string())
}

#[async_trait]
impl Payment for CreditsRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    /// Credits are asked for with a header, not offered in the 402.
    fn offers(&self, _: &Charge) -> Result<Vec<Offer>> {
        Ok(Vec::new())
    }

    fn accepts(&self, credential: &Credential) -> bool {
        matches!(credential, Credential::Credits { .. })
    }

    /// A credits credential carries an already authenticated wallet and no amount.
    fn claims(&self, _: &Credential) -> Option<Claim> {
        None
    }

    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        let Credential::Credits { wallet } = credential else {
            return Err(Error::new(ErrorKind::InvalidInput, "not a credits credential"));
        };
        let balance = self.store.credit_balance(wallet).await?;
        if balance < charge.amount {
            return Err(insufficient(charge, balance));
        }
        Ok(Verified {
            rail: self.info.clone(),
            payer: wallet.clone(),
            amount: TokenAmount::from_usd_ceil(charge.amount, CREDIT_DECIMALS)?,
            amount_usd: charge.amount,
            // Every spend is a new payment: the wallet proof in front of it is what is single-use.
            fingerprint: format!("credits:{wallet}:{}", uuid::Uuid::new_v4()),
            challenge_id: None,
            settlement: serde_json::json!({"route": charge.route}),
            valid_until: None,
        })
    }

    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome> {
        let route = verified.settlement["route"].as_str().unwrap_or_default();
        let spend = NewCredit {
            wallet: verified.payer.clone(),
            amount: verified.amount_usd,
            reason: format!("spend: {route}"),
            payment_id: None,
            resource_id: None,
        };
        match self.store.spend_credit(spend).await {
            Ok(entry) => {
                Ok(SettleOutcome::Settled { reference: reference(verified.payer.as_str(), entry.seq, entry.balance) })
            }
            Err(e) if e.kind() == ErrorKind::PaymentRequired => {
                Ok(SettleOutcome::Rejected { reason: "the credit balance is too low".into() })
            }
            Err(e) => Err(e),
        }
    }

    /// A ledger spend is never in doubt: a recorded one is settled; one never recorded (a crash
    /// between the spend's verification and the ledger) moved nothing.
    async fn reconcile(&self, _: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        Ok(match reference {
            Some(r) => SettleOutcome::Settled { reference: r.to_owned() },
            None => SettleOutcome::Rejected { reason: "the spend was never taken from the ledger".into() },
        })
    }

    fn receipt_headers(&self, _: &Verified, reference: &str) -> Vec<(String, String)> {
        let balance = reference.rsplit(':').next().unwrap_or_default();
        vec![("Credit-Balance".to_owned(), balance.to_owned()), ("Cache-Control".to_owned(), "private".to_owned())]
    }
}
