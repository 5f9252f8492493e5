//! [`SolanaRail`]: construction, offers, routing of credentials, receipt headers and the
//! merchant account check; the [`Payment`] impl delegates verification to `verify.rs` and
//! settlement to `settle.rs`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use compute_core::payment::{Charge, Claim, Credential, Offer, Payment, RailInfo, SettleOutcome, Verified};
use compute_core::{Error, ErrorKind, Result};
use compute_pay_x402::{MIME_JSON, SCHEME_EXACT, SettleResponse, encode_header, v1, v2};
use serde_json::{Value, json};
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;

use crate::config::{Parsed, SolanaConfig};
use crate::programs::{TokenAccount, associated_token_address, is_token_program};
use crate::rpc::RpcClient;
use crate::settle::Settlement;
use crate::{COMPONENT, tx};

/// A transaction this process broadcast: what `reconcile` needs besides the signature.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SentTx {
    pub(crate) blockhash: Hash,
    pub(crate) at: Instant,
}

/// How long a broadcast is remembered in process (for replay refusals and `reconcile`).
pub(crate) const SENT_MEMORY: Duration = Duration::from_secs(3600);

/// The x402 `exact` rail on one Solana network and SPL mint, with the gateway as fee payer.
///
/// # Verification
/// [`Payment::verify`] runs, in this order, and fails with the x402 reason in brackets
/// (payments-x402.md §2 "Solana (SVM) exact"; SDK spellings in [`crate::reasons`]):
/// 1. v2: `accepted` equals the offer for the charge: scheme \[`invalid_scheme`\], network
///    \[`invalid_network`\], amount, asset, payTo, maxTimeoutSeconds, `extra.feePayer` and
///    `extra.memo` \[`invalid_payment_requirements`\] (`extra.recentBlockhash` and
///    `extra.lastValidBlockHeight` are ignored: dynamic fields). v1: scheme and network name.
/// 2. `payload.transaction` decodes (base64 of a wire legacy or v0 transaction)
///    \[`…_transaction_could_not_be_decoded`, 400\].
/// 3. the static layout (see the `tx` module): fee payer = account 0
///    \[`invalid_exact_svm_fee_payer_mismatch`\], two signers \[`…_excessive_signers`\],
///    3–4 instructions \[`…_instructions_length`\], compute limit and price within the caps
///    \[`…_compute_limit_instruction(_too_high)`, `…_compute_price_instruction(_too_high)`\],
///    the fee payer in no instruction, not the authority nor the source
///    \[`…_fee_payer_transferring_funds`\], `TransferChecked` of exactly the amount
///    \[`…_amount_mismatch`\] of the mint and decimals \[`…_mint_mismatch`\] to
///    `ATA(payTo, mint, program)` \[`…_recipient_mismatch`\], the memo
///    \[`…_unknown_fourth_instruction`, `…_memo_count`, `…_memo_mismatch`\], the payer's
///    ed25519 signature \[`…_signature_invalid`\].
/// 4. the fee payer's signature over the message is computed (deterministic: it is the
///    transaction id); already landed, broadcast by this process or being settled →
///    [`ErrorKind::PermissionDenied`] \[`duplicate_settlement`\].
/// 5. `getMultipleAccounts`: the mint is owned by the transfer's token program
///    \[`…_no_transfer_instruction`\]; the payer's token account holds the mint, is not frozen
///    and has the amount \[`insufficient_funds`\]; a missing merchant account (or mint) is a
///    temporary [`ErrorKind::Unavailable`] (a configuration fault, no fresh 402).
/// 6. the blockhash is still valid (`isBlockhashValid`) \[`invalid_exact_svm_payload_transaction`\].
/// 7. `simulateTransaction` of the co-signed transaction with signature verification
///    \[`transaction_simulation_failed`\].
///
/// An unreachable RPC is a temporary [`ErrorKind::Unavailable`] (`unexpected_verify_error`).
/// [`Verified::payer`] is the transfer authority that signed; [`Verified::fingerprint`] is the
/// hex SHA-256 of the network and that transaction id, so one transaction re-encoded (or
/// re-signed with a malleated payer signature) has one fingerprint.
pub struct SolanaRail {
    pub(crate) info: RailInfo,
    pub(crate) v1_network: Option<&'static str>,
    pub(crate) mint: Pubkey,
    pub(crate) decimals: u8,
    pub(crate) pay_to: Pubkey,
    pub(crate) fee_payer: Keypair,
    /// `fee_payer`'s public key.
    pub(crate) fee_payer_pk: Pubkey,
    pub(crate) max_price: u64,
    pub(crate) max_limit: u32,
    pub(crate) max_timeout_seconds: u64,
    pub(crate) memo: Option<String>,
    pub(crate) confirmation_timeout: Duration,
    pub(crate) poll_interval: Duration,
    pub(crate) rpc: RpcClient,
    /// Transaction ids being settled right now.
    pub(crate) in_flight: Mutex<HashSet<Signature>>,
    /// Transaction ids this process broadcast.
    pub(crate) sent: Mutex<HashMap<Signature, SentTx>>,
}

impl fmt::Debug for SolanaRail {
    /// No key, no RPC URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SolanaRail")
            .field("rail", &self.info)
            .field("pay_to", &self.pay_to.to_string())
            .field("fee_payer", &self.fee_payer_pk.to_string())
            .finish_non_exhaustive()
    }
}

impl SolanaRail {
    /// Validates `config` and prepares the JSON-RPC client (rustls). Nothing is sent.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] when the network is not one of the three Solana networks, the
    /// RPC URL is not http(s), an address or the fee payer key does not parse, `pay_to` is
    /// the fee payer, a cap or timeout is zero, or the memo is empty or over 256 bytes.
    pub fn new(config: SolanaConfig) -> Result<Self> {
        let p = Parsed::from_config(&config)?;
        let rpc = RpcClient::new(p.rpc_url, p.rpc_timeout)?;
        Ok(SolanaRail {
            info: RailInfo { rail: config.rail, network: p.network, asset: p.mint.to_string(), decimals: p.decimals },
            v1_network: p.v1_network,
            mint: p.mint,
            decimals: p.decimals,
            pay_to: p.pay_to,
            fee_payer_pk: p.fee_payer.pubkey(),
            fee_payer: p.fee_payer,
            max_price: p.max_price,
            max_limit: p.max_limit,
            max_timeout_seconds: p.max_timeout_seconds,
            memo: p.memo,
            confirmation_timeout: p.confirmation_timeout,
            poll_interval: p.poll_interval,
            rpc,
            in_flight: Mutex::new(HashSet::new()),
            sent: Mutex::new(HashMap::new()),
        })
    }

    /// The fee payer's public key (base58): it needs SOL for the network fees.
    pub fn fee_payer_address(&self) -> String {
        self.fee_payer_pk.to_string()
    }

    /// The fee payer's SOL balance, in lamports. Each settlement costs it 5 000 lamports per
    /// signature (two) plus the priority fee (`⌈limit × price / 10⁶⌉`, 1 lamport for the
    /// clients' 20 000 CU at 1 µlamport); `/health` can warn when it runs low.
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] (temporary) when the RPC cannot be reached.
    pub async fn fee_payer_lamports(&self) -> Result<u64> {
        self.rpc
            .get_balance(&self.fee_payer_pk)
            .await
            .map_err(|f| f.unavailable("getBalance", compute_pay_x402::Reason::UnexpectedVerifyError.as_str()))
    }

    /// The merchant wallet (`payTo`, base58).
    pub fn pay_to(&self) -> String {
        self.pay_to.to_string()
    }

    /// Whether the merchant's associated token account for the mint exists (and is an
    /// initialized, unfrozen account of that mint owned by `pay_to`). The clients never
    /// create it: without it every payment fails (`config check` and `/health` report it).
    ///
    /// # Errors
    /// [`ErrorKind::Unavailable`] (temporary) when the RPC cannot be reached;
    /// [`ErrorKind::Config`] when the mint does not exist or is not an SPL token mint.
    pub async fn merchant_ata_exists(&self) -> Result<bool> {
        let reason = compute_pay_x402::Reason::UnexpectedVerifyError.as_str();
        let mint = self.rpc.get_account_info(&self.mint).await.map_err(|f| f.unavailable("getAccountInfo", reason))?;
        let program = match mint {
            Some(m) if is_token_program(&m.owner) => m.owner,
            Some(_) => {
                return Err(
                    Error::new(ErrorKind::Config, "the mint is not an SPL token mint").with_component(COMPONENT)
                );
            }
            None => {
                return Err(
                    Error::new(ErrorKind::Config, "the mint does not exist on this network").with_component(COMPONENT)
                );
            }
        };
        let Some(ata) = associated_token_address(&self.pay_to, &self.mint, &program) else { return Ok(false) };
        let account = self.rpc.get_account_info(&ata).await.map_err(|f| f.unavailable("getAccountInfo", reason))?;
        Ok(account.is_some_and(|a| {
            a.owner == program
                && TokenAccount::parse(&a.data)
                    .is_some_and(|t| t.mint == self.mint && t.owner == self.pay_to && t.is_usable())
        }))
    }

    /// The charge in base units, rounded up; SPL amounts are `u64`.
    pub(crate) fn amount(&self, charge: &Charge) -> Result<u64> {
        let units = charge.amount.to_base_units_ceil(self.decimals).map_err(|e| e.with_component(COMPONENT))?;
        if units == 0 {
            return Err(
                Error::new(ErrorKind::InvalidInput, "a zero charge needs no x402 payment").with_component(COMPONENT)
            );
        }
        u64::try_from(units).map_err(|_| {
            Error::new(ErrorKind::InvalidInput, "the charge exceeds an SPL token amount (u64)")
                .with_component(COMPONENT)
        })
    }

    /// `extra` of the offers: the fee payer, and the memo when configured.
    pub(crate) fn extra(&self) -> Value {
        let mut extra = json!({"feePayer": self.fee_payer_pk.to_string()});
        if let Some(memo) = &self.memo {
            extra["memo"] = Value::String(memo.clone());
        }
        extra
    }

    /// The v2 `PaymentRequirements` for `charge`.
    pub(crate) fn requirements_v2(&self, charge: &Charge) -> Result<v2::PaymentRequirements> {
        Ok(v2::PaymentRequirements {
            scheme: SCHEME_EXACT.to_owned(),
            network: self.info.network.clone(),
            amount: self.amount(charge)?.to_string(),
            asset: self.mint.to_string(),
            pay_to: self.pay_to.to_string(),
            max_timeout_seconds: self.max_timeout_seconds,
            extra: Some(self.extra()),
        })
    }

    /// The v1 `PaymentRequirements` for `charge` (every Solana network has a v1 name).
    pub(crate) fn requirements_v1(&self, charge: &Charge) -> Result<Option<v1::PaymentRequirements>> {
        let Some(name) = self.v1_network else { return Ok(None) };
        Ok(Some(v1::PaymentRequirements {
            scheme: SCHEME_EXACT.to_owned(),
            network: name.to_owned(),
            max_amount_required: self.amount(charge)?.to_string(),
            asset: self.mint.to_string(),
            pay_to: self.pay_to.to_string(),
            resource: charge.resource_url.clone(),
            description: charge.description.clone(),
            mime_type: MIME_JSON.to_owned(),
            output_schema: None,
            max_timeout_seconds: self.max_timeout_seconds,
            extra: Some(self.extra()),
        }))
    }

    /// The network name used on the wire for `version`.
    pub(crate) fn wire_network(&self, version: u8) -> String {
        match (version, self.v1_network) {
            (1, Some(name)) => name.to_owned(),
            _ => self.info.network.clone(),
        }
    }

    /// What the transaction of a payment of `amount` base units must do.
    pub(crate) fn expected(&self, amount: u64) -> tx::Expected<'_> {
        tx::Expected {
            fee_payer: &self.fee_payer_pk,
            mint: &self.mint,
            decimals: self.decimals,
            pay_to: &self.pay_to,
            amount,
            max_price: self.max_price,
            max_limit: self.max_limit,
            memo: self.memo.as_deref(),
        }
    }
}

#[async_trait]
impl Payment for SolanaRail {
    fn rail(&self) -> &RailInfo {
        &self.info
    }

    fn offers(&self, charge: &Charge) -> Result<Vec<Offer>> {
        let v2 = to_json(&self.requirements_v2(charge)?);
        let v1 = self.requirements_v1(charge)?.map(|r| to_json(&r));
        Ok(vec![Offer::X402 { v2, v1, extensions: serde_json::Map::new() }])
    }

    fn accepts(&self, credential: &Credential) -> bool {
        let Credential::X402 { version, payload } = credential else { return false };
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match version {
            2 => {
                let accepted = payload.get("accepted").unwrap_or(&Value::Null);
                field(accepted, "scheme").as_deref() == Some(SCHEME_EXACT)
                    && field(accepted, "network").as_deref() == Some(self.info.network.as_str())
            }
            1 => {
                self.v1_network.is_some()
                    && field(payload, "scheme").as_deref() == Some(SCHEME_EXACT)
                    && field(payload, "network").as_deref() == self.v1_network
            }
            _ => false,
        }
    }

    async fn verify(&self, credential: &Credential, charge: &Charge) -> Result<Verified> {
        self.verify_credential(credential, charge).await.map_err(|e| e.with_component(COMPONENT))
    }

    async fn settle(&self, verified: &Verified) -> Result<SettleOutcome> {
        self.settle_verified(verified).await.map_err(|e| e.with_component(COMPONENT))
    }

    /// The recorded signature, or the one the verified payment will have (the transaction id
    /// is the fee payer's deterministic signature); the blockhash comes from the payment.
    async fn reconcile(&self, verified: &Verified, reference: Option<&str>) -> Result<SettleOutcome> {
        let signature = match reference {
            Some(r) => r.to_owned(),
            None => crate::settle::Settlement::from_json(&verified.settlement)?.signature.to_string(),
        };
        self.reconcile_settlement(&signature, verified).await
    }

    /// v2: the `accepted` amount. The payer is the transfer authority, read only by verify.
    fn claims(&self, credential: &Credential) -> Option<Claim> {
        let Credential::X402 { version: 2, payload } = credential else { return None };
        let units = payload.pointer("/accepted/amount")?.as_str()?.parse::<u128>().ok()?;
        let amount = compute_core::TokenAmount { base_units: units, decimals: self.decimals }.to_usd().ok();
        Some(Claim { payer: None, amount })
    }

    fn receipt_headers(&self, verified: &Verified, reference: &str) -> Vec<(String, String)> {
        let version = Settlement::from_json(&verified.settlement).map_or(2, |s| s.version);
        let mut response = SettleResponse::success(reference, self.wire_network(version), verified.payer.as_str());
        let name = if version == 1 {
            compute_pay_x402::X_PAYMENT_RESPONSE
        } else {
            response.amount = Some(verified.amount.base_units.to_string());
            compute_pay_x402::PAYMENT_RESPONSE
        };
        vec![(name.to_owned(), encode_header(&response))]
    }

    /// The merchant's token account must exist (the clients never create it), and the fee
    /// payer needs SOL for the network fees.
    async fn readiness(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self.merchant_ata_exists().await {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "the merchant's associated token account for the mint does not exist (payTo {}): every payment would fail",
                self.pay_to()
            )),
            Err(e) => problems.push(format!("cannot check the merchant's token account: {}", e.message())),
        }
        if let Ok(0) = self.fee_payer_lamports().await {
            problems.push(format!("the fee payer {} holds no SOL for network fees", self.fee_payer_address()));
        }
        problems
    }
}

/// Our requirement types always serialise (string keys only).
fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
