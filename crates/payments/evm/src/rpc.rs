//! JSON-RPC helpers: typed `eth_call`s and the mapping of transport failures to
//! [`compute_core::Error`]. Messages never carry the RPC URL (it may embed an API key).

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes};
use alloy::providers::{Provider, RootProvider};
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
    Ok(out.and_then(|out| C::abi_decode_returns(&out).map_err(|e| format!("undecodable return data: {e}"))))
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
