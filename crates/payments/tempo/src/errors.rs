//! Maps `mpp` verification errors to [`compute_core::Error`] with the MPP problem code as the
//! reason (`https://paymentauth.org/problems/<reason>`).

use compute_core::{Error, ErrorKind};
use mpp::{ErrorCode, VerificationError};

/// Problem code of a credential that cannot be parsed.
pub(crate) const MALFORMED: &str = "malformed-credential";

/// - replayed or concurrently settled credential → `PermissionDenied` (403, no new challenge);
/// - server-side or network faults, or retryable errors → temporary `Unavailable` (no challenge);
/// - anything else → `PaymentRequired` with the spec code (a fresh 402).
pub(crate) fn from_verification(e: VerificationError) -> Error {
    let code = e.code.unwrap_or(ErrorCode::InvalidCredential);
    let (kind, reason) = match code {
        ErrorCode::CredentialReplayed => (ErrorKind::PermissionDenied, "verification-failed"),
        ErrorCode::Internal | ErrorCode::NetworkError => (ErrorKind::Unavailable, "internal-payment-error"),
        _ if e.retryable => (ErrorKind::Unavailable, "internal-payment-error"),
        other => (ErrorKind::PaymentRequired, other.spec_code()),
    };
    Error::new(kind, e.message).with_reason(reason).with_component("pay-tempo")
}

pub(crate) fn malformed(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::PaymentRequired, msg).with_reason(MALFORMED).with_component("pay-tempo")
}

pub(crate) fn internal(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, msg).with_component("pay-tempo")
}
