//! [`FlyConfig`]: where the Machines API is, the token, the organisation, and the retry policy.

use std::fmt;

use compute_core::http::{RetryPolicy, SecretString};
use compute_core::{Error, ErrorKind, Result};

/// The public Fly Machines API.
pub const DEFAULT_BASE_URL: &str = "https://api.machines.dev";

/// Settings of one Fly adapter. Nothing here is global: build as many as you need.
///
/// The token is a [`SecretString`]: it never appears in `Debug`, logs or errors. Both a plain
/// API token (sent as `Authorization: Bearer <token>`) and a macaroon printed by
/// `fly tokens create` (which starts with `FlyV1 ` and is sent as printed) are accepted.
///
/// ```
/// use compute_fly::FlyConfig;
/// use compute_core::http::SecretString;
///
/// let config = FlyConfig::new(SecretString::from("fo1_example"), "my-org").with_app_prefix("cg-");
/// assert!(!format!("{config:?}").contains("fo1_example"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct FlyConfig {
    /// Base URL of the Machines API, without the `/v1` (default [`DEFAULT_BASE_URL`]; tests
    /// point it at a mock server).
    pub base_url: String,
    /// API token.
    pub token: SecretString,
    /// Organisation slug new apps are created in.
    pub org_slug: String,
    /// Retry, backoff and timeout policy for every call.
    pub retry: RetryPolicy,
    /// Prefix put in front of every tenant name to form the Fly app name (Fly app names are one
    /// global namespace, so a deployment-specific prefix avoids collisions). Lowercase letters,
    /// digits and `-` only; empty by default.
    pub app_prefix: Option<String>,
}

impl FlyConfig {
    /// A configuration for the public API with the default retry policy and no app prefix.
    pub fn new(token: SecretString, org_slug: impl Into<String>) -> Self {
        FlyConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token,
            org_slug: org_slug.into(),
            retry: RetryPolicy::default(),
            app_prefix: None,
        }
    }

    /// Replaces the base URL.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the app name prefix.
    pub fn with_app_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.app_prefix = Some(prefix.into());
        self
    }

    /// Checks the settings that can be checked without calling Fly.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for an empty organisation, a base URL that is not `http(s)`, or an
    /// app prefix outside `[a-z0-9-]`.
    pub fn validate(&self) -> Result<()> {
        let config = |msg: String| Err(Error::new(ErrorKind::Config, msg).with_component(crate::COMPONENT));
        if self.org_slug.trim().is_empty() {
            return config("fly org_slug is empty".to_owned());
        }
        match url::Url::parse(&self.base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base() => {}
            _ => return config(format!("fly base_url {:?} is not an http(s) URL", self.base_url)),
        }
        if let Some(p) = &self.app_prefix {
            let ok = p.len() <= 40
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !p.starts_with('-');
            if !ok {
                return config(format!("fly app_prefix {p:?} must be at most 40 of [a-z0-9-], not starting with '-'"));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FlyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlyConfig")
            .field("base_url", &self.base_url)
            .field("token", &"[redacted]")
            .field("org_slug", &self.org_slug)
            .field("retry", &self.retry)
            .field("app_prefix", &self.app_prefix)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let c = FlyConfig::new(SecretString::from("tok_very_secret"), "org");
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok_very_secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn validation_rejects_bad_settings() {
        let ok = FlyConfig::new(SecretString::from("t"), "org");
        assert!(ok.validate().is_ok());
        assert!(ok.clone().with_base_url("ftp://x").validate().is_err());
        assert!(ok.clone().with_base_url("not a url").validate().is_err());
        assert!(ok.clone().with_app_prefix("Bad_").validate().is_err());
        assert!(ok.clone().with_app_prefix("cg-").validate().is_ok());
        assert!(FlyConfig::new(SecretString::from("t"), " ").validate().is_err());
    }
}
