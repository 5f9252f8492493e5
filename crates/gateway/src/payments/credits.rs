//! Paying from the credit balance instead of on chain (x402Compute's `use_credits`), for any
//! paid route: send `X-Use-Credits: true`. The wallet is proven with a zero-amount MPP proof
//! credential (the 402 asks for one) or an API key; the price is taken from the append-only
//! ledger (never below zero), recorded as a `credits` payment, and credited back if the
//! action fails.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use compute_core::payment::{RailInfo, Verified};
use compute_core::{ErrorKind, TokenAmount};
use compute_store::{NewCredit, NewPayment, PaymentStatus};

use super::flow::{ActResult, PaidRequest, Payer, begin_idempotent, charge_for, deliver, mark};
use crate::problem::Problem;
use crate::state::AppState;

/// Decimals of the credit "token": USD with 6 decimals, like USDC.
const CREDIT_DECIMALS: u8 = 6;

/// The flow for a request that pays with credits.
pub(super) async fn run<F, Fut>(state: &AppState, req: PaidRequest<'_>, act: F) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ActResult> + Send + 'static,
{
    let wallet = match super::auth::wallet(state, req.spec, req.path, req.headers, &req.body).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let key = match super::credential::idempotency_key(req.headers, None) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    let scope = wallet.to_string();
    if let Err(r) = begin_idempotent(state, &scope, key.as_deref(), &req).await {
        return r;
    }
    let charge = charge_for(state, &req);
    let release = || async {
        if let Some(k) = &key {
            let _ = state.store().release_idempotent(&scope, k).await;
        }
    };
    let entry = match state
        .store()
        .spend_credit(NewCredit {
            wallet: wallet.clone(),
            amount: charge.amount,
            reason: format!("spend: {}", charge.route),
            payment_id: None,
            resource_id: None,
        })
        .await
    {
        Ok(e) => e,
        Err(e) => {
            release().await;
            if e.kind() == ErrorKind::PaymentRequired {
                let balance = state.store().credit_balance(&wallet).await.unwrap_or_default();
                return Problem::new(StatusCode::PAYMENT_REQUIRED, "insufficient_credits", "Insufficient credits")
                    .with_detail(format!("this request costs ${} and the credit balance is ${balance}", charge.amount))
                    .with("amount_usd", charge.amount.to_string())
                    .with("credit_balance_usd", balance.to_string())
                    .into_response();
            }
            return Problem::from(e).into_response();
        }
    };
    let amount = match TokenAmount::from_usd_ceil(charge.amount, CREDIT_DECIMALS) {
        Ok(a) => a,
        Err(e) => return Problem::from(e).into_response(),
    };
    let verified = Verified {
        rail: RailInfo {
            rail: "credits".into(),
            network: "ledger".into(),
            asset: "USD".into(),
            decimals: CREDIT_DECIMALS,
        },
        payer: wallet.clone(),
        amount,
        amount_usd: charge.amount,
        fingerprint: format!("credits:{}:{}", wallet, entry.seq),
        challenge_id: None,
        settlement: serde_json::Value::Null,
    };
    let payment = match state.store().record_payment(NewPayment { verified, route: charge.route.clone() }).await {
        Ok(p) => p,
        Err(e) => {
            // Give the amount back: nothing will be delivered.
            let _ = state
                .store()
                .add_credit(NewCredit {
                    wallet: wallet.clone(),
                    amount: charge.amount,
                    reason: "refund: spend not recorded".into(),
                    payment_id: None,
                    resource_id: None,
                })
                .await;
            release().await;
            return Problem::from(e).into_response();
        }
    };
    mark(state, &payment.id, PaymentStatus::Settled, Some(&format!("ledger:{}", entry.seq))).await;
    let payer = Payer { wallet, payment_id: payment.id, amount: charge.amount };
    let receipt = vec![("Credit-Balance".to_owned(), entry.balance.to_string())];
    let mut resp = deliver(state, scope, key, payer, receipt, act).await;
    resp.headers_mut().entry("cache-control").or_insert(HeaderValue::from_static("private"));
    resp
}
