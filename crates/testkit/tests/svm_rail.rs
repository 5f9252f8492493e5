//! `compute_pay_solana::SolanaRail` against the LiteSVM shim: payments built the way @x402/svm
//! 2.27 builds them (v0, compute budget limit + price, TransferChecked, memo; the payer signs,
//! the fee payer slot is empty) are verified, settled and reconciled through JSON-RPC, and
//! every balance is read back from the chain.

use std::sync::Arc;

use compute_core::payment::{Charge, Credential, Offer, Payment, SettleOutcome, Verified};
use compute_core::{ErrorKind, Usd};
use compute_pay_solana::{SolanaConfig, SolanaRail};
use compute_pay_x402::decode_header;
use compute_testkit::svm_shim::payment::{ExactSvmPayment, MEMO_PROGRAM};
use compute_testkit::svm_shim::{ChainConfig, RunningShim, spawn};
use serde_json::{Value, json};
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;

const PRICE: u64 = 1000; // $0.001 in USDC base units

struct World {
    shim: RunningShim,
    rail: Arc<SolanaRail>,
    fee_payer: Keypair,
    merchant: Pubkey,
}

fn config(url: &str, merchant: &Pubkey, fee_payer: &Keypair) -> SolanaConfig {
    let mut c = SolanaConfig::new(url.to_owned().into(), merchant.to_string(), fee_payer.to_base58_string().into());
    c.confirmation_timeout_seconds = 1;
    c.confirmation_poll_ms = 50;
    c
}

/// A shim, a fee payer with 10 SOL, a merchant whose USDC account exists (empty) and the rail.
async fn world() -> World {
    let shim = spawn(ChainConfig::default()).await.unwrap();
    let fee_payer = Keypair::new();
    let merchant = Keypair::new().pubkey();
    shim.state().with_chain(|c| {
        c.airdrop(&fee_payer.pubkey(), 10_000_000_000).unwrap();
        c.fund(&merchant, 0).unwrap();
    });
    let rail = Arc::new(SolanaRail::new(config(&shim.url(), &merchant, &fee_payer)).unwrap());
    World { shim, rail, fee_payer, merchant }
}

fn charge() -> Charge {
    Charge {
        amount: "0.001".parse::<Usd>().unwrap(),
        route: "GET /api/machines".into(),
        resource_url: "http://127.0.0.1/api/machines".into(),
        description: "List machines".into(),
        body: vec![],
    }
}

impl World {
    /// A payer holding `units` of USDC and no SOL.
    fn payer(&self, units: u64) -> Keypair {
        let payer = Keypair::new();
        self.shim.state().with_chain(|c| c.fund(&payer.pubkey(), units)).unwrap();
        payer
    }

    /// `(lamports, token units)` of `owner`.
    fn balances(&self, owner: &Pubkey) -> (u64, u64) {
        self.shim.state().with_chain(|c| (c.balance(owner), c.token_balance(owner).unwrap_or(0)))
    }

    fn merchant_units(&self) -> u64 {
        self.balances(&self.merchant).1
    }

    /// The v2 offer for the charge.
    fn accepted(&self) -> Value {
        let Offer::X402 { v2, .. } = self.rail.offers(&charge()).unwrap().remove(0) else { panic!("not x402") };
        v2
    }

    /// The payment @x402/svm would build for `payer` from the offer, at the current blockhash.
    fn payment(&self, payer: Keypair) -> ExactSvmPayment {
        let blockhash = self.shim.state().with_chain(|c| c.latest_blockhash().0);
        ExactSvmPayment::for_requirements(payer, &self.accepted(), 6, blockhash)
    }

    fn credential(&self, p: &ExactSvmPayment) -> Credential {
        Credential::X402 { version: 2, payload: p.payload_v2(&resource(), &self.accepted()) }
    }

    async fn verify(&self, credential: &Credential) -> compute_core::Result<Verified> {
        self.rail.verify(credential, &charge()).await
    }
}

/// The `resource` of the 402 for [`charge`], as clients echo it.
fn resource() -> serde_json::Value {
    let c = charge();
    serde_json::json!({"url": c.resource_url, "description": c.description, "mimeType": "application/json"})
}

fn reason(r: &compute_core::Result<Verified>) -> (ErrorKind, String) {
    let e = r.as_ref().unwrap_err();
    (e.kind(), e.reason().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_valid_payment_settles_exactly_the_price_and_the_payer_needs_no_sol() {
    let w = world().await;
    let payer = w.payer(5_000);
    let payer_key = payer.pubkey();
    let fee_before = w.balances(&w.fee_payer.pubkey()).0;
    assert!(w.rail.merchant_ata_exists().await.unwrap());
    let p = w.payment(payer);
    let verified = w.verify(&w.credential(&p)).await.unwrap();
    assert_eq!(verified.payer.as_str(), payer_key.to_string(), "the payer is the signing authority");
    assert_eq!((verified.amount.base_units, verified.amount_usd.to_string().as_str()), (1000, "0.001"));
    assert_eq!(w.merchant_units(), 0, "verify moves nothing");
    let outcome = w.rail.settle(&verified).await.unwrap();
    let SettleOutcome::Settled { reference } = &outcome else { panic!("{outcome:?}") };
    assert_eq!(w.merchant_units(), PRICE);
    assert_eq!(w.balances(&payer_key), (0, 4_000), "the payer holds 0 SOL and paid exactly 1000 units");
    let fee_after = w.balances(&w.fee_payer.pubkey()).0;
    assert_eq!(w.rail.fee_payer_lamports().await.unwrap(), fee_after);
    // Two signatures at 5000 lamports, plus the priority fee ⌈20 000 CU × 1 µlamport / 10⁶⌉ = 1.
    assert_eq!(fee_before - fee_after, 10_001, "the fee payer paid the network fee");
    // The reference is the transaction id: the fee payer's signature.
    let id: Signature = reference.parse().unwrap();
    let landed = w.shim.state().with_chain(|c| c.status(&id).cloned()).unwrap();
    assert!(landed.err.is_none());
    assert_eq!(w.rail.reconcile(&verified, Some(reference)).await.unwrap(), outcome);
    let headers = w.rail.receipt_headers(&verified, reference);
    assert_eq!(headers[0].0, "PAYMENT-RESPONSE");
    let receipt = decode_header(&headers[0].1).unwrap();
    assert_eq!(
        receipt,
        json!({"success": true, "payer": payer_key.to_string(), "transaction": reference, "network": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "amount": "1000"})
    );
}

#[tokio::test]
async fn a_v1_payment_settles_with_an_x_payment_response() {
    let w = world().await;
    let p = w.payment(w.payer(PRICE));
    let credential = Credential::X402 { version: 1, payload: p.payload_v1("solana-devnet") };
    assert!(w.rail.accepts(&credential));
    let verified = w.verify(&credential).await.unwrap();
    let SettleOutcome::Settled { reference } = w.rail.settle(&verified).await.unwrap() else { panic!() };
    assert_eq!(w.merchant_units(), PRICE);
    let headers = w.rail.receipt_headers(&verified, &reference);
    assert_eq!(headers[0].0, "X-PAYMENT-RESPONSE");
    assert_eq!(decode_header(&headers[0].1).unwrap()["network"], "solana-devnet");
}

#[tokio::test]
async fn a_replayed_transaction_is_refused_and_settles_nothing() {
    let w = world().await;
    let payer = w.payer(10 * PRICE);
    let payer_key = payer.pubkey();
    let p = w.payment(payer);
    let credential = w.credential(&p);
    let verified = w.verify(&credential).await.unwrap();
    assert!(matches!(w.rail.settle(&verified).await.unwrap(), SettleOutcome::Settled { .. }));
    // The same transaction again, as sent and re-encoded inside other JSON.
    let again = w.verify(&credential).await;
    assert_eq!(reason(&again), (ErrorKind::PermissionDenied, "duplicate_settlement".into()));
    let mut reencoded = p.payload_v2(&resource(), &w.accepted());
    reencoded["extensions"] = json!({});
    let again = w.verify(&Credential::X402 { version: 2, payload: reencoded }).await;
    assert_eq!(reason(&again), (ErrorKind::PermissionDenied, "duplicate_settlement".into()));
    // Settling the verified payment a second time.
    let e = w.rail.settle(&verified).await.unwrap_err();
    assert_eq!((e.kind(), e.reason()), (ErrorKind::PermissionDenied, Some("duplicate_settlement")));
    // Another process (a second rail on the same chain and key) sees it landed.
    let other = SolanaRail::new(config(&w.shim.url(), &w.merchant, &w.fee_payer)).unwrap();
    assert_eq!(reason(&other.verify(&credential, &charge()).await).0, ErrorKind::PermissionDenied);
    assert_eq!(other.settle(&verified).await.unwrap_err().kind(), ErrorKind::PermissionDenied);
    assert_eq!(w.merchant_units(), PRICE);
    assert_eq!(w.balances(&payer_key).1, 9 * PRICE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_uses_of_one_payment_settle_once() {
    let w = world().await;
    let payer = w.payer(10 * PRICE);
    let payer_key = payer.pubkey();
    let credential = w.credential(&w.payment(payer));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let rail = Arc::clone(&w.rail);
        let credential = credential.clone();
        tasks.spawn(async move {
            let verified = rail.verify(&credential, &charge()).await?;
            rail.settle(&verified).await
        });
    }
    let (mut settled, mut refused) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Ok(SettleOutcome::Settled { .. }) => settled += 1,
            Err(e) if e.kind() == ErrorKind::PermissionDenied => refused += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((settled, refused), (1, 19));
    assert_eq!(w.merchant_units(), PRICE);
    assert_eq!(w.balances(&payer_key), (0, 9 * PRICE));

    // 20 concurrent settlements of one verified payment.
    let verified = w.verify(&w.credential(&w.payment(w.payer(PRICE)))).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let rail = Arc::clone(&w.rail);
        let verified = verified.clone();
        tasks.spawn(async move { rail.settle(&verified).await });
    }
    let mut outcomes = Vec::new();
    while let Some(r) = tasks.join_next().await {
        outcomes.push(r.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| matches!(o, Ok(SettleOutcome::Settled { .. }))).count(), 1);
    assert!(
        outcomes.iter().filter(|o| o.is_err()).all(|o| o.as_ref().unwrap_err().kind() == ErrorKind::PermissionDenied)
    );
    assert_eq!(w.merchant_units(), 2 * PRICE);
}

#[tokio::test]
async fn tampered_and_misdirected_payments_are_refused_with_nothing_settled() {
    let w = world().await;
    let payer = w.payer(10 * PRICE);
    let payer_key = payer.pubkey();
    let attacker = Keypair::new().pubkey();
    w.shim.state().with_chain(|c| c.fund(&attacker, 0)).unwrap();
    let fee = w.fee_payer.pubkey();
    let base = || ExactSvmPayment { payer: payer.insecure_clone(), ..w.payment(Keypair::new()) };
    let mut cases: Vec<(&str, Credential, &str)> = Vec::new();

    let mut p = base();
    p.amount = PRICE - 1;
    cases.push(("a client that signs less", w.credential(&p), "invalid_exact_svm_payload_amount_mismatch"));
    let mut accepted = w.accepted();
    accepted["amount"] = json!("1");
    p.amount = 1;
    cases.push((
        "accepted.amount lowered to match",
        Credential::X402 { version: 2, payload: p.payload_v2(&resource(), &accepted) },
        "invalid_payment_requirements",
    ));
    let mut p = base();
    p.pay_to = attacker;
    cases.push(("another recipient", w.credential(&p), "invalid_exact_svm_payload_recipient_mismatch"));
    let mut p = base();
    p.fee_payer = payer_key;
    cases.push(("the payer as its own fee payer", w.credential(&p), "invalid_exact_svm_fee_payer_mismatch"));
    let mut p = base();
    p.fee_payer = Keypair::new().pubkey();
    cases.push(("another fee payer", w.credential(&p), "invalid_exact_svm_fee_payer_mismatch"));
    let p = base();
    let mut accepted = w.accepted();
    accepted["network"] = json!("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp");
    cases.push((
        "mainnet in accepted",
        Credential::X402 { version: 2, payload: p.payload_v2(&resource(), &accepted) },
        "invalid_network",
    ));
    cases.push(("mainnet in v1", Credential::X402 { version: 1, payload: p.payload_v1("solana") }, "invalid_network"));
    let mut p = base();
    p.memo = None;
    p.extra_instructions = vec![p.transfer(&attacker, &payer_key, PRICE)];
    cases.push(("a second transfer", w.credential(&p), "invalid_exact_svm_payload_unknown_fourth_instruction"));
    let mut p = base();
    p.extra_instructions = vec![p.transfer(&attacker, &payer_key, PRICE)];
    cases.push((
        "a second transfer after the memo",
        w.credential(&p),
        "invalid_exact_svm_payload_transaction_instructions_length",
    ));
    let mut p = base();
    p.memo = None;
    p.extra_instructions = vec![Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![AccountMeta::new(fee, true)],
        data: b"x".to_vec(),
    }];
    cases.push((
        "the fee payer as an instruction account",
        w.credential(&p),
        "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds",
    ));
    let mut p = base();
    p.compute_unit_price = 5_000_001;
    cases.push((
        "a compute unit price above the cap",
        w.credential(&p),
        "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high",
    ));
    let mut p = base();
    p.token_program = Pubkey::from_str_const("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");
    cases.push((
        "Token-2022 for an SPL Token mint",
        w.credential(&p),
        "invalid_exact_svm_payload_no_transfer_instruction",
    ));
    let poor = w.payer(PRICE - 1);
    cases.push(("a payer without the funds", w.credential(&w.payment(poor)), "insufficient_funds"));
    cases.push(("a payer without a token account", w.credential(&w.payment(Keypair::new())), "insufficient_funds"));

    let before = (w.merchant_units(), w.balances(&payer_key), w.balances(&attacker), w.balances(&fee));
    for (what, credential, expected) in &cases {
        let r = w.verify(credential).await;
        assert_eq!(reason(&r), (ErrorKind::PaymentRequired, (*expected).to_owned()), "{what}");
    }
    // An expired blockhash.
    let stale = w.credential(&base());
    w.shim.state().with_chain(|c| c.expire_blockhash());
    assert_eq!(
        reason(&w.verify(&stale).await),
        (ErrorKind::PaymentRequired, "invalid_exact_svm_payload_transaction".into())
    );
    let after = (w.merchant_units(), w.balances(&payer_key), w.balances(&attacker), w.balances(&fee));
    assert_eq!(before, after, "nothing moved, no fee was paid");
    assert_eq!(w.shim.state().with_chain(|c| c.landed()), 0);
    // The untampered payment, at the new blockhash, still pays.
    let verified = w.verify(&w.credential(&base())).await.unwrap();
    assert!(matches!(w.rail.settle(&verified).await.unwrap(), SettleOutcome::Settled { .. }));
    assert_eq!(w.merchant_units(), PRICE);
    assert_eq!(w.balances(&payer_key), (0, 9 * PRICE));
}

#[tokio::test]
async fn a_payment_the_chain_refuses_at_broadcast_is_rejected() {
    let w = world().await;
    let payer = w.payer(PRICE);
    let first = w.payment(payer.insecure_clone());
    let second = w.payment(payer);
    // Both verify against the same balance; the first to settle spends it.
    let a = w.verify(&w.credential(&first)).await.unwrap();
    let b = w.verify(&w.credential(&second)).await.unwrap();
    assert_ne!(a.fingerprint, b.fingerprint, "two transactions, two fingerprints");
    assert!(matches!(w.rail.settle(&a).await.unwrap(), SettleOutcome::Settled { .. }));
    let outcome = w.rail.settle(&b).await.unwrap();
    assert_eq!(outcome, SettleOutcome::Rejected { reason: "transaction_simulation_failed".into() });
    assert_eq!(w.merchant_units(), PRICE);
}

#[tokio::test]
async fn an_unconfirmed_settlement_is_unknown_and_reconciled() {
    let w = world().await;
    let hold = |on: bool| w.shim.state().with_chain(|c| c.set_hold(on));
    // Broadcast, then confirmed later: Unknown → Settled.
    let verified = w.verify(&w.credential(&w.payment(w.payer(PRICE)))).await.unwrap();
    hold(true);
    let SettleOutcome::Unknown { reference } = w.rail.settle(&verified).await.unwrap() else { panic!("not unknown") };
    let unknown = SettleOutcome::Unknown { reference: reference.clone() };
    assert_eq!(w.rail.reconcile(&verified, Some(&reference)).await.unwrap(), unknown);
    assert!(w.verify(&w.credential(&w.payment(w.payer(PRICE)))).await.is_ok(), "other payments still verify");
    assert_eq!(w.shim.state().with_chain(|c| c.release()), 1);
    let settled = SettleOutcome::Settled { reference: reference.clone() };
    assert_eq!(w.rail.reconcile(&verified, Some(&reference)).await.unwrap(), settled);
    assert_eq!(w.merchant_units(), PRICE);

    // Broadcast, dropped, blockhash expired: Unknown → Rejected.
    let verified = w.verify(&w.credential(&w.payment(w.payer(PRICE)))).await.unwrap();
    let SettleOutcome::Unknown { reference } = w.rail.settle(&verified).await.unwrap() else { panic!("not unknown") };
    let fresh = SolanaRail::new(config(&w.shim.url(), &w.merchant, &w.fee_payer)).unwrap();
    let unknown = SettleOutcome::Unknown { reference: reference.clone() };
    assert_eq!(fresh.reconcile(&verified, Some(&reference)).await.unwrap(), unknown);
    w.shim.state().with_chain(|c| {
        c.drop_held();
        c.expire_blockhash();
    });
    hold(false);
    let rejected = SettleOutcome::Rejected { reason: "transaction_failed".into() };
    assert_eq!(w.rail.reconcile(&verified, Some(&reference)).await.unwrap(), rejected, "this process");
    assert_eq!(
        fresh.reconcile(&verified, Some(&reference)).await.unwrap(),
        rejected,
        "another process: the verified payment carries the blockhash"
    );
    assert_eq!(fresh.reconcile(&verified, None).await.unwrap(), rejected, "no recorded reference: its own signature");
    assert_eq!(w.merchant_units(), PRICE);
    let e = w.rail.reconcile(&verified, Some("not a signature")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_missing_merchant_account_is_reported_not_charged() {
    let w = world().await;
    let merchant = Keypair::new().pubkey();
    let rail = SolanaRail::new(config(&w.shim.url(), &merchant, &w.fee_payer)).unwrap();
    assert!(!rail.merchant_ata_exists().await.unwrap());
    let Offer::X402 { v2, .. } = rail.offers(&charge()).unwrap().remove(0) else { panic!() };
    let blockhash = w.shim.state().with_chain(|c| c.latest_blockhash().0);
    let p = ExactSvmPayment::for_requirements(w.payer(PRICE), &v2, 6, blockhash);
    let e = rail
        .verify(&Credential::X402 { version: 2, payload: p.payload_v2(&resource(), &v2) }, &charge())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.message().contains("merchant"), "{e}");
    w.shim.state().with_chain(|c| c.fund(&merchant, 0)).unwrap();
    assert!(rail.merchant_ata_exists().await.unwrap());
}
