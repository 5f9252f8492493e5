//! Unit tests of offers, routing, receipts and every check that needs no chain (the RPC URL
//! points at a closed port, so a payment that passes them fails with `Unavailable`). The
//! chain-dependent checks, settlement and reconciliation run against the LiteSVM shim in
//! `compute-testkit` (`crates/testkit/tests/svm_rail.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::payment::{Charge, Credential, Offer, Payment};
use compute_core::{ErrorKind, Usd};
use compute_pay_x402::{decode_header, network};
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_message::{VersionedMessage, v0};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

use crate::programs::{
    COMPUTE_BUDGET_PROGRAM, MEMO_PROGRAM, TOKEN_2022_PROGRAM, TOKEN_PROGRAM, associated_token_address,
};
use crate::{DEVNET_USDC, SolanaConfig, SolanaRail};

const PAY_TO: &str = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";

fn fee_payer() -> Keypair {
    Keypair::new_from_array([7; 32])
}

fn rail_with(memo: Option<&str>) -> SolanaRail {
    let mut c =
        SolanaConfig::new("http://127.0.0.1:9".to_owned().into(), PAY_TO, fee_payer().to_base58_string().into());
    c.memo = memo.map(str::to_owned);
    c.rpc_timeout_seconds = 2;
    SolanaRail::new(c).unwrap()
}

fn charge(usd: &str) -> Charge {
    Charge {
        amount: usd.parse::<Usd>().unwrap(),
        route: "GET /api/machines".into(),
        resource_url: "https://g.example/api/machines".into(),
        description: "List machines".into(),
        body: vec![],
    }
}

/// A payment built as @x402/svm 2.27 builds it; fields can be changed before `build`.
struct Pay {
    payer: Keypair,
    fee_payer: Pubkey,
    mint: Pubkey,
    pay_to: Pubkey,
    program: Pubkey,
    amount: u64,
    decimals: u8,
    cu_limit: u32,
    cu_price: u64,
    memo: Option<Vec<u8>>,
    extra: Vec<Instruction>,
}

impl Pay {
    fn new(amount: u64) -> Pay {
        Pay {
            payer: Keypair::new(),
            fee_payer: fee_payer().pubkey(),
            mint: DEVNET_USDC.parse().unwrap(),
            pay_to: PAY_TO.parse().unwrap(),
            program: TOKEN_PROGRAM,
            amount,
            decimals: 6,
            cu_limit: 20_000,
            cu_price: 1,
            memo: Some(b"0123456789abcdef0123456789abcdef".to_vec()),
            extra: vec![],
        }
    }

    fn transfer(&self, to: Pubkey, authority: Pubkey) -> Instruction {
        let source = associated_token_address(&authority, &self.mint, &self.program).unwrap();
        let mut data = vec![12];
        data.extend_from_slice(&self.amount.to_le_bytes());
        data.push(self.decimals);
        Instruction {
            program_id: self.program,
            accounts: vec![
                AccountMeta::new(source, false),
                AccountMeta::new_readonly(self.mint, false),
                AccountMeta::new(associated_token_address(&to, &self.mint, &self.program).unwrap(), false),
                AccountMeta::new_readonly(authority, true),
            ],
            data,
        }
    }

    fn instructions(&self) -> Vec<Instruction> {
        let mut limit = vec![2];
        limit.extend_from_slice(&self.cu_limit.to_le_bytes());
        let mut price = vec![3];
        price.extend_from_slice(&self.cu_price.to_le_bytes());
        let mut ixs = vec![
            Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: limit },
            Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: price },
            self.transfer(self.pay_to, self.payer.pubkey()),
        ];
        if let Some(memo) = &self.memo {
            ixs.push(Instruction { program_id: MEMO_PROGRAM, accounts: vec![], data: memo.clone() });
        }
        ixs.extend(self.extra.iter().cloned());
        ixs
    }

    fn build(&self) -> VersionedTransaction {
        let message =
            v0::Message::try_compile(&self.fee_payer, &self.instructions(), &[], Hash::new_from_array([3; 32]))
                .unwrap();
        let message = VersionedMessage::V0(message);
        let sig = self.payer.sign_message(&message.serialize());
        let n = usize::from(message.header().num_required_signatures);
        let mut signatures = vec![Signature::default(); n];
        if let Some(i) = message.static_account_keys().iter().position(|k| *k == self.payer.pubkey()) {
            signatures[i] = sig;
        }
        VersionedTransaction { signatures, message }
    }
}

fn b64(tx: &VersionedTransaction) -> String {
    STANDARD.encode(wincode::serialize(tx).unwrap())
}

fn v2_credential(rail: &SolanaRail, c: &Charge, tx: &str) -> Credential {
    let Offer::X402 { v2, .. } = rail.offers(c).unwrap().remove(0) else { panic!("not x402") };
    Credential::X402 {
        version: 2,
        payload: json!({"x402Version": 2, "resource": {"url": c.resource_url, "description": c.description}, "accepted": v2, "payload": {"transaction": tx}}),
    }
}

#[test]
fn offers_carry_the_fee_payer_amount_and_v1_name() {
    let rail = rail_with(None);
    let Offer::X402 { v2, v1, .. } = rail.offers(&charge("0.001")).unwrap().remove(0) else { panic!() };
    assert_eq!(
        v2,
        json!({
            "scheme": "exact", "network": network::SOLANA_DEVNET, "amount": "1000", "asset": DEVNET_USDC,
            "payTo": PAY_TO, "maxTimeoutSeconds": 60, "extra": {"feePayer": fee_payer().pubkey().to_string()}
        })
    );
    let v1 = v1.unwrap();
    assert_eq!((v1["network"].as_str(), v1["maxAmountRequired"].as_str()), (Some("solana-devnet"), Some("1000")));
    assert_eq!(v1["resource"], "https://g.example/api/machines");
    // Charges round up to the next base unit; zero charges are not x402 payments.
    let Offer::X402 { v2, .. } = rail.offers(&charge("0.0000001")).unwrap().remove(0) else { panic!() };
    assert_eq!(v2["amount"], "1");
    assert_eq!(rail.offers(&charge("0")).unwrap_err().kind(), ErrorKind::InvalidInput);
    let memo = rail_with(Some("order-42"));
    let Offer::X402 { v2, .. } = memo.offers(&charge("0.001")).unwrap().remove(0) else { panic!() };
    assert_eq!(v2["extra"]["memo"], "order-42");
    assert!(!format!("{rail:?}").contains("127.0.0.1"));
}

#[test]
fn accepts_routes_by_scheme_and_network() {
    let rail = rail_with(None);
    let c = charge("0.001");
    assert!(rail.accepts(&v2_credential(&rail, &c, "x")));
    let v1 = |net: &str| Credential::X402 {
        version: 1,
        payload: json!({"x402Version": 1, "scheme": "exact", "network": net, "payload": {}}),
    };
    assert!(rail.accepts(&v1("solana-devnet")));
    assert!(!rail.accepts(&v1("solana")));
    assert!(!rail.accepts(&v1("base-sepolia")));
    let mut other = v2_credential(&rail, &c, "x");
    if let Credential::X402 { payload, .. } = &mut other {
        payload["accepted"]["network"] = json!(network::BASE_SEPOLIA);
    }
    assert!(!rail.accepts(&other));
    assert!(!rail.accepts(&Credential::Mpp { encoded: "x".into() }));
}

/// The error kind and reason of verifying `tx` for `$0.001`.
async fn refusal(rail: &SolanaRail, tx: &VersionedTransaction) -> (ErrorKind, String) {
    let c = charge("0.001");
    let e = rail.verify(&v2_credential(rail, &c, &b64(tx)), &c).await.unwrap_err();
    (e.kind(), e.reason().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_well_formed_payment_passes_every_static_check() {
    // The closed RPC port is the first thing it meets.
    let rail = rail_with(None);
    let (kind, reason) = refusal(&rail, &Pay::new(1000).build()).await;
    assert_eq!((kind, reason.as_str()), (ErrorKind::Unavailable, "unexpected_verify_error"));
    let mut memo = Pay::new(1000);
    memo.memo = Some(b"order-42".to_vec());
    let (kind, _) = refusal(&rail_with(Some("order-42")), &memo.build()).await;
    assert_eq!(kind, ErrorKind::Unavailable);
    memo.memo = None;
    let (kind, _) = refusal(&rail, &memo.build()).await;
    assert_eq!(kind, ErrorKind::Unavailable, "the memo is optional when none was offered");
    let mut t22 = Pay::new(1000);
    t22.program = TOKEN_2022_PROGRAM;
    assert_eq!(refusal(&rail, &t22.build()).await.0, ErrorKind::Unavailable, "Token-2022 is accepted");
}

#[tokio::test]
async fn each_static_violation_has_its_reason() {
    let rail = rail_with(None);
    let fee = fee_payer().pubkey();
    let mut cases: Vec<(&str, Pay)> = Vec::new();
    let mut p = Pay::new(999);
    cases.push(("invalid_exact_svm_payload_amount_mismatch", p));
    p = Pay::new(1001);
    cases.push(("invalid_exact_svm_payload_amount_mismatch", p));
    p = Pay::new(1000);
    p.pay_to = Keypair::new().pubkey();
    cases.push(("invalid_exact_svm_payload_recipient_mismatch", p));
    p = Pay::new(1000);
    p.fee_payer = Keypair::new().pubkey();
    cases.push(("invalid_exact_svm_fee_payer_mismatch", p));
    p = Pay::new(1000);
    p.mint = Keypair::new().pubkey();
    cases.push(("invalid_exact_svm_payload_mint_mismatch", p));
    p = Pay::new(1000);
    p.decimals = 9;
    cases.push(("invalid_exact_svm_payload_mint_mismatch", p));
    p = Pay::new(1000);
    p.cu_price = 5_000_001;
    cases.push(("invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high", p));
    p = Pay::new(1000);
    p.cu_limit = 200_001;
    cases.push(("invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high", p));
    p = Pay::new(1000);
    p.program = Keypair::new().pubkey();
    cases.push(("invalid_exact_svm_payload_no_transfer_instruction", p));
    // A second transfer as instruction 3 (in place of the memo).
    p = Pay::new(1000);
    p.memo = None;
    p.extra = vec![p.transfer(Keypair::new().pubkey(), p.payer.pubkey())];
    cases.push(("invalid_exact_svm_payload_unknown_fourth_instruction", p));
    // Five instructions: memo plus a second transfer.
    p = Pay::new(1000);
    p.extra = vec![p.transfer(Keypair::new().pubkey(), p.payer.pubkey())];
    cases.push(("invalid_exact_svm_payload_transaction_instructions_length", p));
    // The fee payer as an account of the memo.
    p = Pay::new(1000);
    p.memo = None;
    p.extra = vec![Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![AccountMeta::new(fee, true)],
        data: b"x".to_vec(),
    }];
    cases.push(("invalid_exact_svm_payload_transaction_fee_payer_transferring_funds", p));
    // The fee payer as the transfer authority (spending its own tokens).
    p = Pay::new(1000);
    p.payer = fee_payer();
    cases.push(("invalid_exact_svm_payload_transaction_fee_payer_transferring_funds", p));
    for (reason, pay) in cases {
        assert_eq!(refusal(&rail, &pay.build()).await, (ErrorKind::PaymentRequired, reason.to_owned()), "{reason}");
    }
}

#[tokio::test]
async fn signatures_order_and_memo_are_checked() {
    let rail = rail_with(Some("order-42"));
    let mut p = Pay::new(1000);
    p.memo = Some(b"order-43".to_vec());
    assert_eq!(refusal(&rail, &p.build()).await.1, "invalid_exact_svm_payload_memo_mismatch");
    p.memo = None;
    assert_eq!(refusal(&rail, &p.build()).await.1, "invalid_exact_svm_payload_memo_count");

    let rail = rail_with(None);
    // The amount altered after signing.
    let mut tx = Pay::new(1000).build();
    let VersionedMessage::V0(m) = &mut tx.message else { panic!() };
    m.instructions[2].data[1] = 0xe9; // 1000 = 0x03e8 becomes 1001
    assert_eq!(refusal(&rail, &tx).await.1, "invalid_exact_svm_payload_amount_mismatch");
    // The memo altered after signing: only the signature can tell.
    let mut tx = Pay::new(1000).build();
    let VersionedMessage::V0(m) = &mut tx.message else { panic!() };
    m.instructions[3].data[0] = b'f';
    assert_eq!(refusal(&rail, &tx).await.1, "invalid_exact_svm_payload_signature_invalid");
    let mut tx = Pay::new(1000).build();
    tx.signatures[1] = Signature::from([9; 64]);
    assert_eq!(refusal(&rail, &tx).await.1, "invalid_exact_svm_payload_signature_invalid");
    // Compute budget instructions swapped.
    let mut tx = Pay::new(1000).build();
    let VersionedMessage::V0(m) = &mut tx.message else { panic!() };
    m.instructions.swap(0, 1);
    assert_eq!(
        refusal(&rail, &tx).await.1,
        "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction"
    );
    // A third signer.
    let mut p = Pay::new(1000);
    let extra = Keypair::new();
    p.memo = None;
    p.extra = vec![Instruction {
        program_id: MEMO_PROGRAM,
        accounts: vec![AccountMeta::new_readonly(extra.pubkey(), true)],
        data: b"x".to_vec(),
    }];
    assert_eq!(refusal(&rail, &p.build()).await.1, "invalid_exact_svm_payload_excessive_signers");
}

#[tokio::test]
async fn credentials_are_checked_before_the_transaction() {
    let rail = rail_with(None);
    let c = charge("0.001");
    let tx = b64(&Pay::new(1000).build());
    let with = |f: &dyn Fn(&mut Value)| {
        let mut cred = v2_credential(&rail, &c, &tx);
        if let Credential::X402 { payload, .. } = &mut cred {
            f(payload);
        }
        cred
    };
    let cases: Vec<(Credential, ErrorKind, &str)> = vec![
        (with(&|p| p["accepted"]["amount"] = json!("1")), ErrorKind::PaymentRequired, "invalid_payment_requirements"),
        (
            with(&|p| p["accepted"]["payTo"] = json!(Keypair::new().pubkey().to_string())),
            ErrorKind::PaymentRequired,
            "invalid_payment_requirements",
        ),
        (
            with(&|p| p["accepted"]["extra"]["feePayer"] = json!(PAY_TO)),
            ErrorKind::PaymentRequired,
            "invalid_payment_requirements",
        ),
        (with(&|p| p["accepted"]["network"] = json!(network::SOLANA)), ErrorKind::PaymentRequired, "invalid_network"),
        (with(&|p| p["accepted"]["scheme"] = json!("upto")), ErrorKind::PaymentRequired, "invalid_scheme"),
        (
            with(&|p| p["payload"]["transaction"] = json!("%%%")),
            ErrorKind::InvalidInput,
            "invalid_exact_svm_payload_transaction_could_not_be_decoded",
        ),
        (
            with(&|p| p["payload"]["transaction"] = json!(STANDARD.encode([1, 2, 3]))),
            ErrorKind::InvalidInput,
            "invalid_exact_svm_payload_transaction_could_not_be_decoded",
        ),
        (with(&|p| p["payload"] = json!({})), ErrorKind::InvalidInput, "invalid_payload"),
        (
            Credential::X402 {
                version: 1,
                payload: json!({"x402Version": 1, "scheme": "exact", "network": "solana", "payload": {"transaction": tx}}),
            },
            ErrorKind::PaymentRequired,
            "invalid_network",
        ),
        (Credential::Mpp { encoded: "x".into() }, ErrorKind::InvalidInput, "unsupported_scheme"),
    ];
    for (i, (cred, kind, reason)) in cases.into_iter().enumerate() {
        let e = rail.verify(&cred, &c).await.unwrap_err();
        assert_eq!((e.kind(), e.reason()), (kind, Some(reason)), "case {i}: {e}");
    }
    // The dynamic extras a server may add are not compared.
    let dynamic = with(&|p| p["accepted"]["extra"]["recentBlockhash"] = json!("11111111111111111111111111111111"));
    assert_eq!(rail.verify(&dynamic, &c).await.unwrap_err().kind(), ErrorKind::Unavailable);
    // v1 passes the credential checks and fails at the closed RPC.
    let v1 = Credential::X402 {
        version: 1,
        payload: json!({"x402Version": 1, "scheme": "exact", "network": "solana-devnet", "payload": {"transaction": tx}}),
    };
    assert_eq!(rail.verify(&v1, &c).await.unwrap_err().kind(), ErrorKind::Unavailable);
}

#[test]
fn receipt_headers_follow_the_version() {
    let rail = rail_with(None);
    let verified = |version: u8| compute_core::payment::Verified {
        rail: rail.info.clone(),
        payer: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v".parse().unwrap(),
        amount: compute_core::TokenAmount { base_units: 1000, decimals: 6 },
        amount_usd: "0.001".parse().unwrap(),
        fingerprint: "f".into(),
        challenge_id: None,
        settlement: crate::settle::Settlement {
            version,
            transaction: String::new(),
            signature: Signature::default(),
            blockhash: Hash::default(),
        }
        .to_json(),
        valid_until: None,
    };
    let h = rail.receipt_headers(&verified(2), "sig");
    assert_eq!(h[0].0, "PAYMENT-RESPONSE");
    let r = decode_header(&h[0].1).unwrap();
    assert_eq!(
        (r["success"].clone(), r["network"].clone(), r["amount"].clone()),
        (json!(true), json!(network::SOLANA_DEVNET), json!("1000"))
    );
    let h = rail.receipt_headers(&verified(1), "sig");
    assert_eq!(h[0].0, "X-PAYMENT-RESPONSE");
    assert_eq!(decode_header(&h[0].1).unwrap()["network"], "solana-devnet");
}

#[test]
fn fingerprints_depend_on_the_transaction_id_only() {
    let a = Signature::from([1; 64]);
    let f = crate::verify::fingerprint(network::SOLANA_DEVNET, &a);
    assert_eq!(f.len(), 64);
    assert_eq!(f, crate::verify::fingerprint(network::SOLANA_DEVNET, &a));
    assert_ne!(f, crate::verify::fingerprint(network::SOLANA, &a));
    assert_ne!(f, crate::verify::fingerprint(network::SOLANA_DEVNET, &Signature::from([2; 64])));
}

#[tokio::test]
async fn a_v2_payment_for_another_route_is_refused_before_the_transaction() {
    let rail = rail_with(None);
    let c = charge("0.001");
    let other = Charge { route: "DELETE /api/machines".into(), description: "Destroy a machine".into(), ..c.clone() };
    let e = rail.verify(&v2_credential(&rail, &c, &b64(&Pay::new(1000).build())), &other).await.unwrap_err();
    assert_eq!((e.kind(), e.reason()), (ErrorKind::PaymentRequired, Some("invalid_payment_requirements")));
}
