//! The paid-request flow up to settlement: the price → 402 → verify → the checks that need
//! the verified payer → the idempotency key; then [`super::delivery`] records, settles and
//! acts in a task the request cannot cancel.
//!
//! - The payer is the rail's **verified** payer; it owns what the action creates. A credential
//!   that names another payer than the one that signed is refused.
//! - Nothing about another wallet's resource shows before payment: a route priced by the
//!   payer's own resource ([`Pricing::ForPayer`]) is priced only for a verified wallet, and the
//!   ownership checks run after verification and **before** settlement, so an unknown id and
//!   another wallet's id get the same answers and neither is charged.
//! - `Idempotency-Key` (or x402 `payment-identifier`), scoped to the payer: the same key and
//!   request returns the stored response without a second charge, and a client resending a
//!   settled payment under its key gets its original answer; the same key with another request
//!   is a 409.
//! - A payment is recorded under a UNIQUE fingerprint derived from the payment itself, and its
//!   on-chain reference is UNIQUE too: of any number of uses, in any number of processes, one
//!   settles and acts; the others get 403 `verification-failed` without a new challenge.
//! - A settlement whose outcome is unknown answers `202` pending (never a fresh 402); the
//!   reconciler finishes it. A failed action credits the payer's balance, visibly.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use compute_core::billing::Quote;
use compute_core::payment::{Charge, Credential, Payment, Verified};
use compute_core::{Usd, WalletAddress};
use compute_store::IdempotencyStart;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::answers::{respond, verify_failure};
use super::challenge::payment_required;
use super::credential;
use super::delivery::{Settlement, settle_and_deliver};
use crate::problem::Problem;
use crate::routes::Call;
use crate::state::AppState;

/// How long a completed idempotency key is remembered.
const IDEMPOTENCY_TTL_HOURS: i64 = 24;

/// Who paid, as the action sees it.
#[derive(Clone, Debug)]
pub struct Payer {
    /// The verified payer: the owner of whatever the action creates.
    pub wallet: WalletAddress,
    /// The payment's id.
    pub payment_id: String,
    /// What was paid, USD.
    pub amount: Usd,
}

/// What an action returns: a status and a JSON body, or a problem (which triggers a refund).
pub type ActResult = Result<(StatusCode, Value), Problem>;

/// A future that checks or prices something for a verified wallet.
pub type ForWallet<T> =
    Arc<dyn Fn(WalletAddress) -> Pin<Box<dyn Future<Output = Result<T, Problem>> + Send>> + Send + Sync>;

/// How a paid request is priced.
#[derive(Clone)]
pub enum Pricing {
    /// One price for every caller.
    Fixed(Quote),
    /// A price that depends on the caller's own resource (the size of its machine): computed
    /// only for a verified wallet; a 404 there (an unknown or another wallet's id) charges
    /// nothing.
    ForPayer(ForWallet<Quote>),
}

/// A paid request's terms: its pricing and the check the verified payer must pass before
/// anything is settled (e.g. "owns this machine"; a 404 there charges nothing).
#[derive(Clone)]
pub struct Terms {
    /// The pricing.
    pub pricing: Pricing,
    /// The check, if any.
    pub check: Option<ForWallet<()>>,
}

impl Terms {
    /// One price, no check.
    pub fn fixed(quote: Quote) -> Self {
        Terms { pricing: Pricing::Fixed(quote), check: None }
    }
}

/// One check that passes when each of `checks` passes, in order (the first failure answers);
/// `None` when there is none.
pub fn all_of(checks: Vec<ForWallet<()>>) -> Option<ForWallet<()>> {
    if checks.len() <= 1 {
        return checks.into_iter().next();
    }
    Some(Arc::new(move |wallet: WalletAddress| {
        let checks = checks.clone();
        Box::pin(async move {
            for check in &checks {
                check(wallet.clone()).await?;
            }
            Ok(())
        })
    }))
}

/// The charge `call` is asked to pay for `quote`.
pub fn charge_for(call: &Call, amount: Usd) -> Charge {
    Charge {
        amount,
        route: call.spec.route(),
        resource_url: call.resource_url(),
        description: call.spec.summary.to_owned(),
        body: call.body.to_vec(),
    }
}

/// SHA-256 of the credential as sent: what finds a settled payment's stored answer.
fn credential_digest(credential: &Credential) -> Option<String> {
    let bytes = match credential {
        Credential::Mpp { encoded } => encoded.clone().into_bytes(),
        Credential::X402 { version, payload } => format!("{version}:{payload}").into_bytes(),
        Credential::Credits { .. } => return None,
        _ => return None,
    };
    Some(hex::encode(Sha256::digest(bytes)))
}

/// SHA-256 of method, path and body: what "the same request" means for an idempotency key.
fn request_fingerprint(call: &Call) -> String {
    let mut h = Sha256::new();
    h.update(call.spec.method.as_str());
    h.update(b" ");
    h.update(call.path.as_bytes());
    h.update(b"\n");
    h.update(&call.body);
    hex::encode(h.finalize())
}

/// A quote for a wallet the caller proved, through any wallet-authentication method.
async fn quote_for_caller(call: &Call, price_for: &ForWallet<Quote>) -> Result<(WalletAddress, Quote), Response> {
    let wallet = call.wallet().await?;
    let quote = price_for(wallet.clone()).await.map_err(IntoResponse::into_response)?;
    Ok((wallet, quote))
}

/// The credential, its rail and the charge to verify it against; or the response to send
/// instead (the 402, the wallet-auth answer).
async fn credential_and_charge(call: &Call, terms: &Terms) -> Result<(Credential, Arc<dyn Payment>, Charge), Response> {
    let rails = call.state.rails();
    if credential::wants_credits(&call.headers) {
        let (wallet, amount) = match &terms.pricing {
            Pricing::Fixed(q) => (call.wallet().await?, q.total),
            Pricing::ForPayer(price_for) => {
                let (w, q) = quote_for_caller(call, price_for).await?;
                (w, q.total)
            }
        };
        return Ok((Credential::Credits { wallet }, call.state.credits().clone(), charge_for(call, amount)));
    }
    let found = credential::from_headers(&call.headers).map_err(IntoResponse::into_response)?;
    let claimed = found.as_ref().and_then(|c| rails.for_credential(c).map(|r| (c.clone(), r.clone())));
    match (&terms.pricing, found, claimed) {
        (Pricing::Fixed(q), None, _) => {
            let charge = charge_for(call, q.total);
            Err(payment_required(rails, &charge, "payment-required", "Payment is required for this request.", &[]))
        }
        (Pricing::Fixed(q), Some(_), None) => Err(payment_required(
            rails,
            &charge_for(call, q.total),
            "method-unsupported",
            "No enabled payment rail accepts this credential.",
            &[],
        )),
        (Pricing::Fixed(q), Some(_), Some((c, rail))) => Ok((c, rail, charge_for(call, q.total))),
        // Priced by the payer's resource: a paying credential is verified against the amount
        // of the challenge it answers, then re-priced for its verified payer (below).
        (Pricing::ForPayer(_), Some(_), Some((c, rail))) => {
            match rail.claims(&c).and_then(|claim| claim.amount).filter(|a| !a.is_zero()) {
                Some(amount) => Ok((c, rail, charge_for(call, amount))),
                None => Err(offer_for_caller(call, &terms.pricing).await),
            }
        }
        (Pricing::ForPayer(_), _, _) => Err(offer_for_caller(call, &terms.pricing).await),
    }
}

/// The 402 of a route priced by the payer's resource, for a caller who proves its wallet
/// first (a zero-amount proof, signed headers, an API key); the wallet-auth answer otherwise.
async fn offer_for_caller(call: &Call, pricing: &Pricing) -> Response {
    let Pricing::ForPayer(price_for) = pricing else {
        return Problem::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response();
    };
    match quote_for_caller(call, price_for).await {
        Ok((_, quote)) => {
            let charge = charge_for(call, quote.total);
            payment_required(
                call.state.rails(),
                &charge,
                "payment-required",
                "Payment is required for this request.",
                &[],
            )
        }
        Err(resp) => resp,
    }
}

/// After verification: the claimed payer is the verified one, the price (for a route priced by
/// the payer's resource) is the one the payment answers, and the route's check passes.
async fn check_payer(
    call: &Call,
    terms: &Terms,
    rail: &dyn Payment,
    credential: &Credential,
    verified: &Verified,
) -> Result<(), Response> {
    let refuse =
        |amount, reason, detail| payment_required(call.state.rails(), &charge_for(call, amount), reason, detail, &[]);
    let claimed = rail.claims(credential).and_then(|c| c.payer);
    if claimed.is_some_and(|c| c != verified.payer) {
        let detail = "the credential names another payer than the one that signed it";
        return Err(refuse(verified.amount_usd, "invalid-payload", detail));
    }
    if let Pricing::ForPayer(price_for) = &terms.pricing {
        let quote = price_for(verified.payer.clone()).await.map_err(IntoResponse::into_response)?;
        if quote.total != verified.amount_usd {
            return Err(refuse(quote.total, "invalid-challenge", "the price of this request changed"));
        }
    }
    if let Some(check) = &terms.check {
        check(verified.payer.clone()).await.map_err(IntoResponse::into_response)?;
    }
    Ok(())
}

/// Runs the whole flow for `call` under `terms`, calling `act` once the payment settled.
pub async fn run<F, Fut>(call: &Call, terms: Terms, act: F) -> Response
where
    F: FnOnce(Payer) -> Fut + Send + 'static,
    Fut: Future<Output = ActResult> + Send + 'static,
{
    let state = &call.state;
    if state.rails().all().is_empty() {
        return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "No payment rail")
            .with_detail("no payment rail is enabled on this gateway, so paid routes cannot be served")
            .into_response();
    }
    let (credential, rail, charge) = match credential_and_charge(call, &terms).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let key = match credential::idempotency_key(&call.headers, Some(&credential)) {
        Ok(k) => k,
        Err(p) => return p.into_response(),
    };
    let digest = credential_digest(&credential);
    // A client resending a payment that already settled under its key gets that answer.
    if let (Some(k), Some(d)) = (&key, &digest) {
        match state.store().answer_for_credential(k, d).await {
            Ok(Some(stored)) => return respond(stored),
            Ok(None) => {}
            Err(e) => return Problem::from(e).into_response(),
        }
    }
    let verified = match rail.verify(&credential, &charge).await {
        Ok(v) => v,
        Err(e) => return verify_failure(state, &charge, &e),
    };
    if let Err(resp) = check_payer(call, &terms, &*rail, &credential, &verified).await {
        return resp;
    }
    let idempotency = key.map(|k| (verified.payer.to_string(), k));
    if let Err(r) = begin_idempotent(state, idempotency.as_ref(), digest.as_deref(), call).await {
        return r;
    }
    // Unique per request: a replay in this same process must not release this one's lease.
    let holder = format!("{}/{}", state.instance_id(), uuid::Uuid::new_v4().simple());
    settle_and_deliver(Settlement { state: state.clone(), rail, verified, charge, idempotency, holder, act }).await
}

/// Reserves the idempotency key for this payer and request, or answers with what an earlier
/// request with the same key did (the stored response, or 409).
async fn begin_idempotent(
    state: &AppState,
    idempotency: Option<&(String, String)>,
    digest: Option<&str>,
    call: &Call,
) -> Result<(), Response> {
    let Some((scope, k)) = idempotency else { return Ok(()) };
    let fingerprint = request_fingerprint(call);
    let expires = Utc::now() + chrono::Duration::hours(IDEMPOTENCY_TTL_HOURS);
    match state.store().start_idempotent(scope, k, &fingerprint, digest, expires).await {
        Ok(IdempotencyStart::Started) => Ok(()),
        Ok(IdempotencyStart::Completed(stored)) => Err(respond(stored)),
        Ok(IdempotencyStart::InProgress) => {
            let mut r = Problem::new(StatusCode::CONFLICT, "conflict", "Request in progress")
                .with_detail("a request with this Idempotency-Key is still being processed; retry shortly")
                .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            Err(r)
        }
        Ok(IdempotencyStart::Mismatch) => Err(Problem::new(StatusCode::CONFLICT, "conflict", "Idempotency-Key reused")
            .with_detail("this Idempotency-Key was already used for a different request")
            .into_response()),
        Err(e) => Err(Problem::from(e).into_response()),
    }
}
