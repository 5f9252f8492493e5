//! The one public error type of compute-gateway's crates.
//!
//! Each crate keeps its own private error enums and converts them into [`Error`] at its
//! boundary; callers only match on [`ErrorKind`] and ask [`Error::is_temporary`] whether a retry
//! could help. Modelled on OpenDAL's error struct (kind + status + context).

use std::fmt;

/// What went wrong, in terms a caller can act on. `#[non_exhaustive]`: match with a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed or violates a rule (HTTP 400/422).
    InvalidInput,
    /// The resource does not exist, or is not the caller's (HTTP 404).
    NotFound,
    /// The resource already exists (HTTP 409).
    AlreadyExists,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// The caller did not prove who it is (HTTP 401).
    Unauthenticated,
    /// The caller is known but not allowed (HTTP 403).
    PermissionDenied,
    /// Payment is required or was not accepted (HTTP 402).
    PaymentRequired,
    /// The upstream asked us to slow down (HTTP 429).
    RateLimited,
    /// The upstream has no capacity or is down (HTTP 503).
    Unavailable,
    /// The operation did not finish in time (HTTP 504).
    Timeout,
    /// The upstream provider answered with an error we cannot classify (HTTP 502).
    Provider,
    /// The configuration is invalid (start-up only).
    Config,
    /// A bug or an invariant broken on our side (HTTP 500).
    Internal,
}

impl ErrorKind {
    /// Stable `snake_case` name, used in problem+json `type` URIs and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::PaymentRequired => "payment_required",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Provider => "provider_error",
            ErrorKind::Config => "config",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP status a server should answer with for this kind.
    pub fn http_status(&self) -> u16 {
        match self {
            ErrorKind::InvalidInput => 400,
            ErrorKind::NotFound => 404,
            ErrorKind::AlreadyExists | ErrorKind::Conflict => 409,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::PaymentRequired => 402,
            ErrorKind::RateLimited => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::Provider => 502,
            ErrorKind::Config | ErrorKind::Internal => 500,
        }
    }

    /// Whether errors of this kind are temporary by default (a retry may succeed).
    pub fn is_temporary_by_default(&self) -> bool {
        matches!(self, ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The public error: a [`ErrorKind`], a message safe to show (never a token or credential),
/// whether it is temporary, the component that raised it, and an optional source.
pub struct Error {
    kind: ErrorKind,
    reason: Option<String>,
    message: String,
    temporary: bool,
    component: Option<&'static str>,
    fields: Vec<(&'static str, String)>,
    source: Option<BoxError>,
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`; temporary when the kind is temporary by default.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            reason: None,
            message: message.into(),
            temporary: kind.is_temporary_by_default(),
            component: None,
            fields: Vec::new(),
            source: None,
        }
    }

    /// Sets a machine-readable reason code from the protocol in play, e.g. MPP
    /// `invalid-challenge` or x402 `invalid_exact_evm_payload_signature`.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The protocol reason code, if set.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Appends context to the message, keeping kind, reason, flags and source.
    pub fn with_context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{} ({context})", self.message);
        self
    }

    /// Marks the error temporary (`true`) or permanent (`false`).
    pub fn with_temporary(mut self, temporary: bool) -> Self {
        self.temporary = temporary;
        self
    }

    /// Names the component that raised it, e.g. `"fly"`, `"store"`, `"pay-evm"`.
    pub fn with_component(mut self, component: &'static str) -> Self {
        self.component = Some(component);
        self
    }

    /// Adds a machine-readable detail safe to show the caller, e.g. `("credit_balance_usd",
    /// "0.10")`; servers put these fields into their error bodies.
    pub fn with_field(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((key, value.into()));
        self
    }

    /// The details added with [`Error::with_field`], in order.
    pub fn fields(&self) -> &[(&'static str, String)] {
        &self.fields
    }

    /// Attaches the underlying cause. The cause must not carry secrets in its `Display`.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether retrying the same operation later may succeed.
    pub fn is_temporary(&self) -> bool {
        self.temporary
    }

    /// The message, without the component prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn message_mut(&mut self) -> &mut String {
        &mut self.message
    }

    /// The component that raised the error, if set.
    pub fn component(&self) -> Option<&'static str> {
        self.component
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = self.component {
            write!(f, "{c}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("reason", &self.reason)
            .field("message", &self.message)
            .field("temporary", &self.temporary)
            .field("component", &self.component)
            .field("fields", &self.fields)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_status_and_temporary_defaults() {
        let e = Error::new(ErrorKind::RateLimited, "slow down").with_component("fly");
        assert!(e.is_temporary());
        assert_eq!(e.kind().http_status(), 429);
        assert_eq!(e.to_string(), "fly: slow down");
        let p = Error::new(ErrorKind::InvalidInput, "bad").with_temporary(false).with_reason("x").with_context("req 1");
        assert!(!p.is_temporary());
        assert_eq!((p.reason(), p.message()), (Some("x"), "bad (req 1)"));
        assert_eq!(ErrorKind::NotFound.as_str(), "not_found");
    }
}
