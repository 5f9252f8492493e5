//! x402 reason codes of the `exact` SVM scheme, spelled as the reference SDKs spell them
//! (@x402/svm 2.27 and PyPI x402 2.25 share the strings). The generic codes (`invalid_network`,
//! `invalid_payment_requirements`, …) come from [`compute_pay_x402::Reason`].

/// The transaction is not base64 of a wire `VersionedTransaction`.
pub const TRANSACTION_UNDECODABLE: &str = "invalid_exact_svm_payload_transaction_could_not_be_decoded";
/// The transaction has an unsupported shape (message version, lookup tables, account order,
/// an expired blockhash, a size above a packet).
pub const TRANSACTION_INVALID: &str = "invalid_exact_svm_payload_transaction";
/// The transaction's fee payer (account 0) is not the gateway's fee payer.
pub const FEE_PAYER_MISMATCH: &str = "invalid_exact_svm_fee_payer_mismatch";
/// More signers than the fee payer and the transfer authority.
pub const EXCESSIVE_SIGNERS: &str = "invalid_exact_svm_payload_excessive_signers";
/// The payer's signature is missing or does not verify.
pub const SIGNATURE_INVALID: &str = "invalid_exact_svm_payload_signature_invalid";
/// Not 3 or 4 instructions.
pub const INSTRUCTIONS_LENGTH: &str = "invalid_exact_svm_payload_transaction_instructions_length";
/// Instruction 0 is not `SetComputeUnitLimit`.
pub const COMPUTE_LIMIT: &str = "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction";
/// The compute unit limit is above the cap.
pub const COMPUTE_LIMIT_TOO_HIGH: &str =
    "invalid_exact_svm_payload_transaction_instructions_compute_limit_instruction_too_high";
/// Instruction 1 is not `SetComputeUnitPrice`.
pub const COMPUTE_PRICE: &str = "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction";
/// The compute unit price is above the cap.
pub const COMPUTE_PRICE_TOO_HIGH: &str =
    "invalid_exact_svm_payload_transaction_instructions_compute_price_instruction_too_high";
/// Instruction 2 is not a `TransferChecked` of SPL Token or Token-2022.
pub const NO_TRANSFER: &str = "invalid_exact_svm_payload_no_transfer_instruction";
/// The fee payer is an account of an instruction, the transfer authority or its source.
pub const FEE_PAYER_TRANSFERRING: &str = "invalid_exact_svm_payload_transaction_fee_payer_transferring_funds";
/// The transfer's mint (or decimals) is not the offered asset's.
pub const MINT_MISMATCH: &str = "invalid_exact_svm_payload_mint_mismatch";
/// The transfer's destination is not `ATA(payTo, mint)`.
pub const RECIPIENT_MISMATCH: &str = "invalid_exact_svm_payload_recipient_mismatch";
/// The transfer's amount is not exactly the required amount.
pub const AMOUNT_MISMATCH: &str = "invalid_exact_svm_payload_amount_mismatch";
/// Instruction 3 is not a Memo.
pub const UNKNOWN_FOURTH: &str = "invalid_exact_svm_payload_unknown_fourth_instruction";
/// The offered memo is missing.
pub const MEMO_COUNT: &str = "invalid_exact_svm_payload_memo_count";
/// The memo is not the offered one.
pub const MEMO_MISMATCH: &str = "invalid_exact_svm_payload_memo_mismatch";
/// The simulation of the co-signed transaction failed.
pub const SIMULATION_FAILED: &str = "transaction_simulation_failed";
/// The transaction has landed or is being settled already (a replay).
pub const DUPLICATE_SETTLEMENT: &str = "duplicate_settlement";
/// The settlement transaction landed with an error, or can no longer land.
pub const TRANSACTION_FAILED: &str = "transaction_failed";
