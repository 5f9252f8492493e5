//! JSON-RPC helpers: typed `eth_call`s and the mapping of transport failures to
//! [`compute_core::Error`]. Messages never carry the RPC URL (it may embed an API key).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::client::BatchRequest;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use alloy::transports::{RpcError, TransportErrorKind};
use compute_core::{Error, ErrorKind, Result};

use crate::COMPONENT;

/// The error type of alloy's JSON-RPC calls.
pub(crate) type RpcErr = RpcError<TransportErrorKind>;

/// The node's message when `e` says the call or transaction reverts.
pub(crate) fn revert_message(e: &RpcErr) -> Option<String> {
    let resp = e.as_error_resp()?;
    let is_revert = resp.code == 3 || resp.message.to_ascii_lowercase().contains("revert");
    is_revert.then(|| resp.message.to_string())
}

/// A temporary [`ErrorKind::Unavailable`] for a failed RPC request `what`, tagged with `reason`.
pub(crate) fn unavailable(e: &RpcErr, what: &str, reason: impl Into<String>) -> Error {
    let detail = match e.as_error_resp() {
        Some(r) => format!("node answered {}: {}", r.code, r.message),
        None => "transport error".to_owned(),
    };
    Error::new(ErrorKind::Unavailable, format!("RPC {what} failed: {detail}"))
        .with_reason(reason)
        .with_component(COMPONENT)
}

/// `eth_call` of `call` on `to` (optionally from `from`) at the latest block.
///
/// Outer `Err`: the RPC could not answer. Inner `Err`: the call reverted or returned data that
/// does not decode (the revert message).
pub(crate) async fn view<C: SolCall>(
    provider: &RootProvider,
    from: Option<Address>,
    to: Address,
    call: &C,
    reason: &str,
) -> Result<std::result::Result<C::Return, String>> {
    let out = raw_call(provider, from, to, Bytes::from(call.abi_encode()), C::SIGNATURE, reason).await?;
    Ok(decode::<C>(out))
}

/// One `eth_call` of a [`batch_calls`] batch: calldata `data` on `to`, sent from `from` when
/// given; `what` names it in errors.
pub(crate) struct Read {
    pub(crate) from: Option<Address>,
    pub(crate) to: Address,
    pub(crate) data: Bytes,
    pub(crate) what: &'static str,
}

impl Read {
    /// A read of the typed call `call` on `to`.
    pub(crate) fn view<C: SolCall>(to: Address, call: &C) -> Self {
        Self { from: None, to, data: Bytes::from(call.abi_encode()), what: C::SIGNATURE }
    }
}

/// The `eth_call`s `reads` at the latest block in one JSON-RPC batch (one round trip to the
/// node, JSON-RPC 2.0 § 6); their answers in the same order.
///
/// Outer `Err`: the batch could not be sent, or one call failed other than by reverting (a
/// temporary [`ErrorKind::Unavailable`] tagged with `reason`). Inner `Err`: that call reverted
/// (the node's message).
pub(crate) async fn batch_calls<const N: usize>(
    provider: &RootProvider,
    reads: [Read; N],
    reason: &str,
) -> Result<[std::result::Result<Bytes, String>; N]> {
    let mut batch = BatchRequest::new(provider.client());
    let mut waiters = Vec::with_capacity(N);
    for read in &reads {
        let mut tx = TransactionRequest::default().with_to(read.to).with_input(read.data.clone());
        if let Some(from) = read.from {
            tx = tx.with_from(from);
        }
        let waiter = batch.add_call::<_, Bytes>("eth_call", &(tx,)).map_err(|e| unavailable(&e, read.what, reason))?;
        waiters.push(waiter);
    }
    batch.await.map_err(|e| unavailable(&e, "eth_call batch", reason))?;
    let mut answers = Vec::with_capacity(N);
    for (waiter, read) in waiters.into_iter().zip(&reads) {
        answers.push(match waiter.await {
            Ok(out) => Ok(out),
            Err(e) => Err(revert_message(&e).ok_or_else(|| unavailable(&e, read.what, reason))?),
        });
    }
    answers.try_into().map_err(|_| Error::new(ErrorKind::Internal, "an eth_call batch lost an answer"))
}

/// Decodes the answer of the typed call `C` read in a batch; `Err`: it reverted or its data
/// does not decode.
pub(crate) fn decode<C: SolCall>(answer: std::result::Result<Bytes, String>) -> std::result::Result<C::Return, String> {
    answer.and_then(|out| C::abi_decode_returns(&out).map_err(|e| format!("undecodable return data: {e}")))
}

/// `eth_call` of calldata `data` on `to`; errors as [`view`].
pub(crate) async fn raw_call(
    provider: &RootProvider,
    from: Option<Address>,
    to: Address,
    data: Bytes,
    what: &str,
    reason: &str,
) -> Result<std::result::Result<Bytes, String>> {
    let mut tx = TransactionRequest::default().with_to(to).with_input(data);
    if let Some(from) = from {
        tx = tx.with_from(from);
    }
    match provider.call(tx).await {
        Ok(out) => Ok(Ok(out)),
        Err(e) => match revert_message(&e) {
            Some(msg) => Ok(Err(msg)),
            None => Err(unavailable(&e, what, reason)),
        },
    }
}
