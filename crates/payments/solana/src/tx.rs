//! Decoding of the payer's partially signed transaction and the static (no RPC) part of the
//! `exact` SVM check list, payments-x402.md §2 "What the sponsor must check before signing".
//!
//! The accepted shape is exactly what @x402/svm 2.27 and PyPI x402 2.25 build, nothing else:
//!
//! | # | instruction | rules |
//! |---|---|---|
//! | 0 | ComputeBudget `SetComputeUnitLimit(u32)` | no accounts, limit ≤ cap |
//! | 1 | ComputeBudget `SetComputeUnitPrice(u64 µlamports)` | no accounts, price ≤ cap |
//! | 2 | Token / Token-2022 `TransferChecked(amount, decimals)` | `[source, mint, ATA(payTo), authority]` |
//! | 3 | optional Memo (v2) | no accounts, ≤ 256 bytes UTF-8; equal to `extra.memo` when offered |
//!
//! The fee payer is account 0, signs nothing else and is no instruction's account (nor
//! program); the only other signer is the transfer authority (the payer), whose ed25519
//! signature over the message must verify. Legacy and v0 messages are accepted; v0 without
//! address lookup tables only (every account must be visible here).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use compute_core::{Error, ErrorKind, Result};
use solana_hash::Hash;
use solana_message::VersionedMessage;
use solana_message::compiled_instruction::CompiledInstruction;
use solana_pubkey::Pubkey;
use solana_transaction::versioned::VersionedTransaction;

use crate::config::MAX_MEMO_BYTES;
use crate::programs::{
    COMPUTE_BUDGET_PROGRAM, MEMO_PROGRAM, SET_COMPUTE_UNIT_LIMIT, SET_COMPUTE_UNIT_PRICE, TRANSFER_CHECKED,
    associated_token_address, is_token_program,
};
use crate::reasons as r;

/// Largest wire transaction a node accepts (`PACKET_DATA_SIZE`, bytes).
pub const MAX_TRANSACTION_BYTES: usize = 1232;

/// An invalid payment: the client gets a fresh 402.
pub(crate) fn rejected(reason: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PaymentRequired, msg).with_reason(reason)
}

/// What the transaction must do (from the offer).
pub(crate) struct Expected<'a> {
    pub(crate) fee_payer: &'a Pubkey,
    pub(crate) mint: &'a Pubkey,
    pub(crate) decimals: u8,
    pub(crate) pay_to: &'a Pubkey,
    /// Base units.
    pub(crate) amount: u64,
    /// Micro-lamports per compute unit.
    pub(crate) max_price: u64,
    /// Compute units.
    pub(crate) max_limit: u32,
    pub(crate) memo: Option<&'a str>,
}

/// A transaction that passed the static checks.
#[derive(Debug)]
pub(crate) struct PaymentTx {
    /// As received (the fee payer's signature slot not yet filled).
    pub(crate) tx: VersionedTransaction,
    /// The serialized message: what every signer signs.
    pub(crate) message: Vec<u8>,
    /// The transfer authority: the payer.
    pub(crate) authority: Pubkey,
    /// The payer's token account.
    pub(crate) source: Pubkey,
    /// `ATA(payTo, mint, program)`.
    pub(crate) destination: Pubkey,
    /// SPL Token or Token-2022.
    pub(crate) token_program: Pubkey,
    /// The transaction's lifetime.
    pub(crate) blockhash: Hash,
}

/// Decodes `payload.transaction`: standard base64 of a wire `VersionedTransaction`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] (reason `…_transaction_could_not_be_decoded`).
pub(crate) fn decode(transaction_b64: &str) -> Result<(VersionedTransaction, usize)> {
    let undecodable =
        |m: &str| Error::new(ErrorKind::InvalidInput, m.to_owned()).with_reason(r::TRANSACTION_UNDECODABLE);
    let bytes =
        STANDARD.decode(transaction_b64.trim()).map_err(|_| undecodable("payload.transaction is not base64"))?;
    let tx = wincode::deserialize_exact::<VersionedTransaction>(&bytes)
        .map_err(|_| undecodable("payload.transaction is not a Solana wire transaction"))?;
    Ok((tx, bytes.len()))
}

/// Runs the static checks of `tx` (`wire_len` bytes on the wire) against `e`.
///
/// # Errors
/// [`ErrorKind::PaymentRequired`] with the SDK reason of the first failed check.
pub(crate) fn check(tx: VersionedTransaction, wire_len: usize, e: &Expected<'_>) -> Result<PaymentTx> {
    if wire_len > MAX_TRANSACTION_BYTES {
        return Err(rejected(
            r::TRANSACTION_INVALID,
            format!("transaction is larger than {MAX_TRANSACTION_BYTES} bytes"),
        ));
    }
    match &tx.message {
        VersionedMessage::Legacy(_) => {}
        VersionedMessage::V0(m) if m.address_table_lookups.is_empty() => {}
        VersionedMessage::V0(_) => {
            return Err(rejected(r::TRANSACTION_INVALID, "address lookup tables are not accepted"));
        }
        VersionedMessage::V1(_) => {
            return Err(rejected(r::TRANSACTION_INVALID, "only legacy and v0 messages are accepted"));
        }
    }
    tx.sanitize().map_err(|_| rejected(r::TRANSACTION_INVALID, "the transaction is malformed (sanitize)"))?;
    let message = &tx.message;
    let keys = message.static_account_keys();
    if keys.first() != Some(e.fee_payer) {
        return Err(rejected(r::FEE_PAYER_MISMATCH, "the fee payer is not the offered extra.feePayer"));
    }
    if keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k)) {
        return Err(rejected(r::TRANSACTION_INVALID, "an account appears twice"));
    }
    let ixs = message.instructions();
    if !(3..=4).contains(&ixs.len()) {
        return Err(rejected(r::INSTRUCTIONS_LENGTH, format!("{} instructions; 3 or 4 expected", ixs.len())));
    }
    // The fee payer (account 0) is no instruction's program or account: it only pays fees.
    if ixs.iter().any(|ix| ix.program_id_index == 0 || ix.accounts.contains(&0)) {
        return Err(rejected(r::FEE_PAYER_TRANSFERRING, "the fee payer is an account of an instruction"));
    }
    match message.header().num_required_signatures {
        2 => {}
        n if n > 2 => {
            return Err(rejected(
                r::EXCESSIVE_SIGNERS,
                format!("{n} signers; only the fee payer and the payer may sign"),
            ));
        }
        _ => return Err(rejected(r::SIGNATURE_INVALID, "the payer does not sign")),
    }
    let program = |ix: &CompiledInstruction| keys[usize::from(ix.program_id_index)];
    check_compute_budget(&ixs[0], program(&ixs[0]), &ixs[1], program(&ixs[1]), e)?;
    let transfer = check_transfer(&ixs[2], program(&ixs[2]), keys, e)?;
    check_memo(ixs.get(3).map(|ix| (ix, program(ix))), e)?;

    let message_bytes = message.serialize();
    let authority = keys[1];
    if !tx.signatures[1].verify(authority.as_ref(), &message_bytes) {
        return Err(rejected(r::SIGNATURE_INVALID, "the payer's signature does not verify"));
    }
    let blockhash = *message.recent_blockhash();
    Ok(PaymentTx {
        message: message_bytes,
        authority,
        source: transfer.source,
        destination: transfer.destination,
        token_program: transfer.program,
        blockhash,
        tx,
    })
}

fn check_compute_budget(
    limit: &CompiledInstruction,
    limit_program: Pubkey,
    price: &CompiledInstruction,
    price_program: Pubkey,
    e: &Expected<'_>,
) -> Result<()> {
    let d = &limit.data;
    if limit_program != COMPUTE_BUDGET_PROGRAM
        || !limit.accounts.is_empty()
        || d.len() != 5
        || d[0] != SET_COMPUTE_UNIT_LIMIT
    {
        return Err(rejected(r::COMPUTE_LIMIT, "instruction 0 is not SetComputeUnitLimit"));
    }
    let units = u32::from_le_bytes([d[1], d[2], d[3], d[4]]);
    if units > e.max_limit {
        return Err(rejected(
            r::COMPUTE_LIMIT_TOO_HIGH,
            format!("compute unit limit {units} is above {}", e.max_limit),
        ));
    }
    let d = &price.data;
    if price_program != COMPUTE_BUDGET_PROGRAM
        || !price.accounts.is_empty()
        || d.len() != 9
        || d[0] != SET_COMPUTE_UNIT_PRICE
    {
        return Err(rejected(r::COMPUTE_PRICE, "instruction 1 is not SetComputeUnitPrice"));
    }
    let mut le = [0u8; 8];
    le.copy_from_slice(&d[1..9]);
    let micro_lamports = u64::from_le_bytes(le);
    if micro_lamports > e.max_price {
        return Err(rejected(
            r::COMPUTE_PRICE_TOO_HIGH,
            format!("compute unit price {micro_lamports} µlamports is above {}", e.max_price),
        ));
    }
    Ok(())
}

/// The accounts of a checked `TransferChecked`.
struct Transfer {
    source: Pubkey,
    destination: Pubkey,
    program: Pubkey,
}

/// Instruction 2: the `TransferChecked`.
fn check_transfer(ix: &CompiledInstruction, program: Pubkey, keys: &[Pubkey], e: &Expected<'_>) -> Result<Transfer> {
    if !is_token_program(&program) || ix.data.len() != 10 || ix.data[0] != TRANSFER_CHECKED || ix.accounts.len() != 4 {
        return Err(rejected(r::NO_TRANSFER, "instruction 2 is not an SPL TransferChecked with four accounts"));
    }
    let key = |i: usize| keys[usize::from(ix.accounts[i])];
    let (source, mint, destination) = (key(0), key(1), key(2));
    // The authority must be the one signer besides the fee payer.
    if ix.accounts[3] != 1 {
        return Err(rejected(r::SIGNATURE_INVALID, "the transfer authority is not the transaction's signer"));
    }
    if associated_token_address(e.fee_payer, e.mint, &program) == Some(source) {
        return Err(rejected(r::FEE_PAYER_TRANSFERRING, "the transfer spends the fee payer's tokens"));
    }
    let mut le = [0u8; 8];
    le.copy_from_slice(&ix.data[1..9]);
    let amount = u64::from_le_bytes(le);
    let decimals = ix.data[9];
    if mint != *e.mint {
        return Err(rejected(r::MINT_MISMATCH, "the transfer's mint is not the offered asset"));
    }
    if decimals != e.decimals {
        return Err(rejected(r::MINT_MISMATCH, format!("the transfer's decimals {decimals} are not {}", e.decimals)));
    }
    if associated_token_address(e.pay_to, e.mint, &program) != Some(destination) {
        return Err(rejected(
            r::RECIPIENT_MISMATCH,
            "the transfer's destination is not payTo's associated token account",
        ));
    }
    if source == destination {
        return Err(rejected(r::TRANSACTION_INVALID, "the transfer pays payTo from its own account"));
    }
    if amount != e.amount {
        return Err(rejected(
            r::AMOUNT_MISMATCH,
            format!("the transfer moves {amount} base units, not exactly {}", e.amount),
        ));
    }
    Ok(Transfer { source, destination, program })
}

/// Instruction 3 (optional): a Memo, the offered one when `extra.memo` was set.
fn check_memo(memo: Option<(&CompiledInstruction, Pubkey)>, e: &Expected<'_>) -> Result<()> {
    let Some((ix, program)) = memo else {
        return match e.memo {
            Some(_) => Err(rejected(r::MEMO_COUNT, "the offered memo is missing")),
            None => Ok(()),
        };
    };
    if program != MEMO_PROGRAM || !ix.accounts.is_empty() || ix.data.len() > MAX_MEMO_BYTES {
        return Err(rejected(r::UNKNOWN_FOURTH, "instruction 3 is not a Memo without accounts of at most 256 bytes"));
    }
    let text = std::str::from_utf8(&ix.data).map_err(|_| rejected(r::UNKNOWN_FOURTH, "the memo is not UTF-8"))?;
    match e.memo {
        Some(expected) if expected != text => Err(rejected(r::MEMO_MISMATCH, "the memo is not the offered extra.memo")),
        _ => Ok(()),
    }
}
