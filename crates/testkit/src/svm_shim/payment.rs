//! Builds x402 `exact` SVM payments the way @x402/svm 2.27 (`ExactSvmScheme.createPaymentPayload`)
//! and PyPI x402 2.25 build them, for Rust tests: a v0 message with fee payer `extra.feePayer`
//! and `[SetComputeUnitLimit 20000, SetComputeUnitPrice 1, TransferChecked(ATA(payer) →
//! ATA(payTo), authority = payer), Memo(extra.memo or 16 random bytes as hex)]`, signed by the
//! payer only (the fee payer's signature slot stays zero). Every field can be changed before
//! [`ExactSvmPayment::transaction`] to build the tampered variants a test needs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_message::{VersionedMessage, v0};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;

/// The SPL Token program.
pub const TOKEN_PROGRAM: Pubkey = Pubkey::from_str_const("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
/// The Compute Budget program.
pub const COMPUTE_BUDGET_PROGRAM: Pubkey = Pubkey::from_str_const("ComputeBudget111111111111111111111111111111");
/// The SPL Memo program (v2).
pub const MEMO_PROGRAM: Pubkey = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// One payment, before signing.
#[derive(Debug)]
pub struct ExactSvmPayment {
    /// The payer (transfer authority); signs.
    pub payer: Keypair,
    /// Account 0 of the message (`extra.feePayer`).
    pub fee_payer: Pubkey,
    /// The mint (`asset`).
    pub mint: Pubkey,
    /// The mint's decimals (the clients read them from the mint account).
    pub decimals: u8,
    /// `payTo`: the transfer goes to its associated token account.
    pub pay_to: Pubkey,
    /// Base units (`amount`).
    pub amount: u64,
    /// The message's blockhash.
    pub blockhash: Hash,
    /// SPL Token (default) or Token-2022.
    pub token_program: Pubkey,
    /// `SetComputeUnitLimit` units (clients: 20 000).
    pub compute_unit_limit: u32,
    /// `SetComputeUnitPrice` micro-lamports (clients: 1).
    pub compute_unit_price: u64,
    /// The memo's bytes; `None` leaves the Memo instruction out.
    pub memo: Option<Vec<u8>>,
    /// Instructions appended after the memo.
    pub extra_instructions: Vec<Instruction>,
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn ata(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}

impl ExactSvmPayment {
    /// The payment a client builds for the v2 `requirements` (an `accepts` entry: `asset`,
    /// `payTo`, `amount`, `extra.feePayer`, optional `extra.memo`), with `decimals` and
    /// `blockhash` as it would read them over RPC.
    ///
    /// # Panics
    /// When `requirements` lacks one of those fields or holds a malformed one (a test bug).
    pub fn for_requirements(payer: Keypair, requirements: &Value, decimals: u8, blockhash: Hash) -> Self {
        let key = |v: &Value| -> Pubkey {
            v.as_str().and_then(|s| s.parse().ok()).expect("a base58 key in the requirements")
        };
        let amount = requirements["amount"]
            .as_str()
            .or_else(|| requirements["maxAmountRequired"].as_str())
            .and_then(|a| a.parse().ok())
            .expect("an amount in the requirements");
        let memo = match requirements["extra"]["memo"].as_str() {
            Some(m) => m.as_bytes().to_vec(),
            None => hex_nonce().into_bytes(),
        };
        ExactSvmPayment {
            payer,
            fee_payer: key(&requirements["extra"]["feePayer"]),
            mint: key(&requirements["asset"]),
            decimals,
            pay_to: key(&requirements["payTo"]),
            amount,
            blockhash,
            token_program: TOKEN_PROGRAM,
            compute_unit_limit: 20_000,
            compute_unit_price: 1,
            memo: Some(memo),
            extra_instructions: vec![],
        }
    }

    /// `TransferChecked` of `amount` from `authority`'s token account to `to`'s.
    pub fn transfer(&self, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
        let mut data = vec![12];
        data.extend_from_slice(&amount.to_le_bytes());
        data.push(self.decimals);
        Instruction {
            program_id: self.token_program,
            accounts: vec![
                AccountMeta::new(ata(authority, &self.mint, &self.token_program), false),
                AccountMeta::new_readonly(self.mint, false),
                AccountMeta::new(ata(to, &self.mint, &self.token_program), false),
                AccountMeta::new_readonly(*authority, true),
            ],
            data,
        }
    }

    /// The instructions in the clients' order.
    pub fn instructions(&self) -> Vec<Instruction> {
        let mut limit = vec![2];
        limit.extend_from_slice(&self.compute_unit_limit.to_le_bytes());
        let mut price = vec![3];
        price.extend_from_slice(&self.compute_unit_price.to_le_bytes());
        let mut ixs = vec![
            Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: limit },
            Instruction { program_id: COMPUTE_BUDGET_PROGRAM, accounts: vec![], data: price },
            self.transfer(&self.pay_to, &self.payer.pubkey(), self.amount),
        ];
        if let Some(memo) = &self.memo {
            ixs.push(Instruction { program_id: MEMO_PROGRAM, accounts: vec![], data: memo.clone() });
        }
        ixs.extend(self.extra_instructions.iter().cloned());
        ixs
    }

    /// The v0 transaction, signed by the payer only.
    ///
    /// # Panics
    /// When the instructions do not compile into a message (a test bug).
    pub fn transaction(&self) -> VersionedTransaction {
        let message = v0::Message::try_compile(&self.fee_payer, &self.instructions(), &[], self.blockhash)
            .expect("the instructions compile");
        let message = VersionedMessage::V0(message);
        let signature = self.payer.sign_message(&message.serialize());
        let mut signatures = vec![Signature::default(); usize::from(message.header().num_required_signatures)];
        if let Some(i) = message.static_account_keys().iter().position(|k| *k == self.payer.pubkey()) {
            signatures[i] = signature;
        }
        VersionedTransaction { signatures, message }
    }

    /// `payload.transaction`: base64 of the wire transaction.
    pub fn transaction_base64(&self) -> String {
        encode(&self.transaction())
    }

    /// The v2 `PaymentPayload` JSON answering `accepted` for `resource` (the 402's `resource`
    /// object, echoed as clients do: `{url, description, mimeType}`).
    pub fn payload_v2(&self, resource: &Value, accepted: &Value) -> Value {
        json!({
            "x402Version": 2,
            "resource": resource,
            "accepted": accepted,
            "payload": {"transaction": self.transaction_base64()},
        })
    }

    /// The v1 `PaymentPayload` JSON on the v1 `network` name.
    pub fn payload_v1(&self, network: &str) -> Value {
        json!({"x402Version": 1, "scheme": "exact", "network": network, "payload": {"transaction": self.transaction_base64()}})
    }
}

/// Base64 of a wire transaction.
///
/// # Panics
/// Never for a well-formed transaction.
pub fn encode(tx: &VersionedTransaction) -> String {
    STANDARD.encode(wincode::serialize(tx).expect("a transaction serialises"))
}

/// 16 random bytes as 32 hex characters (the clients' default memo).
fn hex_nonce() -> String {
    rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect()
}
