//! [`FlyConfig`]: where the Machines API is, the token, the organisation, the offering (default
//! region, largest machine and volume) and the retry policy. It is also the `[providers.fly]`
//! section of a gateway configuration: it deserializes with unknown keys refused.

use std::fmt;
use std::sync::Arc;

use compute_core::http::{CallObserver, RetryPolicy, SecretString};
use compute_core::{Error, ErrorKind, Result};
use serde::Deserialize;

/// The public Fly Machines API.
pub const DEFAULT_BASE_URL: &str = "https://api.machines.dev";

/// The app name prefix of a deserialized configuration (Fly app names are global).
pub const DEFAULT_APP_PREFIX: &str = "cg-";

/// The region of a machine or volume whose request names none.
pub const DEFAULT_REGION: &str = "sjc";

/// Most vCPUs of one machine offered by default.
pub const DEFAULT_MAX_CPUS: u32 = 8;

/// Most memory of one machine offered by default, **MB**.
pub const DEFAULT_MAX_MEMORY_MB: u32 = 8192;

/// Largest volume offered by default, **GB**.
pub const DEFAULT_MAX_VOLUME_GB: u32 = 500;

/// Settings of one Fly adapter. Nothing here is global: build as many as you need.
///
/// The token is a [`SecretString`]: it never appears in `Debug`, logs or errors. Both a plain
/// API token (sent as `Authorization: Bearer <token>`) and a macaroon printed by
/// `fly tokens create` (which starts with `FlyV1 ` and is sent as printed) are accepted.
///
/// As a configuration section (TOML), every key but `token` and `org_slug` is optional:
///
/// ```toml
/// [providers.fly]
/// token = "fo1_…"
/// org_slug = "personal"
/// base_url = "https://api.machines.dev"   # default
/// app_prefix = "cg-"                      # default for a deserialized section
/// default_region = "sjc"
/// max_cpus = 8
/// max_memory_mb = 8192
/// max_volume_gb = 500
/// ```
///
/// ```
/// use compute_fly::FlyConfig;
/// use compute_core::http::SecretString;
///
/// let config = FlyConfig::new(SecretString::from("fo1_example"), "my-org").with_app_prefix("cg-");
/// assert!(!format!("{config:?}").contains("fo1_example"));
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FlyConfig {
    /// Base URL of the Machines API, without the `/v1` (default [`DEFAULT_BASE_URL`]; tests
    /// point it at a mock server).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// API token.
    pub token: SecretString,
    /// Organisation slug new apps are created in.
    pub org_slug: String,
    /// Retry, backoff and timeout policy for every call.
    #[serde(skip, default)]
    pub retry: RetryPolicy,
    /// Prefix put in front of every tenant name to form the Fly app name (Fly app names are one
    /// global namespace, so a deployment-specific prefix avoids collisions). Lowercase letters,
    /// digits and `-` only; none with [`FlyConfig::new`], [`DEFAULT_APP_PREFIX`] when
    /// deserialized.
    #[serde(default = "default_app_prefix")]
    pub app_prefix: Option<String>,
    /// Region used when a request names none (default [`DEFAULT_REGION`]).
    #[serde(default = "default_region")]
    pub default_region: String,
    /// Most vCPUs of one machine (default [`DEFAULT_MAX_CPUS`]).
    #[serde(default = "default_max_cpus")]
    pub max_cpus: u32,
    /// Most memory of one machine, **MB** (default [`DEFAULT_MAX_MEMORY_MB`]).
    #[serde(default = "default_max_memory_mb")]
    pub max_memory_mb: u32,
    /// Largest volume, **GB** (default [`DEFAULT_MAX_VOLUME_GB`]).
    #[serde(default = "default_max_volume_gb")]
    pub max_volume_gb: u32,
    /// Told about every finished Machines API call (operation, final status, time), e.g. to
    /// count them; none by default. Not part of a configuration section nor of `Debug`.
    #[serde(skip)]
    pub observer: Option<Arc<dyn CallObserver>>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_app_prefix() -> Option<String> {
    Some(DEFAULT_APP_PREFIX.to_owned())
}

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}

fn default_max_cpus() -> u32 {
    DEFAULT_MAX_CPUS
}

fn default_max_memory_mb() -> u32 {
    DEFAULT_MAX_MEMORY_MB
}

fn default_max_volume_gb() -> u32 {
    DEFAULT_MAX_VOLUME_GB
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
            default_region: default_region(),
            max_cpus: DEFAULT_MAX_CPUS,
            max_memory_mb: DEFAULT_MAX_MEMORY_MB,
            max_volume_gb: DEFAULT_MAX_VOLUME_GB,
            observer: None,
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

    /// Reports every API call of the adapters built from this configuration to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
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
    /// [`ErrorKind::Config`] for an empty organisation, a base URL that is not `http(s)`, an
    /// app prefix outside `[a-z0-9-]`, a default region Fly does not have, or a zero limit.
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
        if !crate::REGIONS.iter().any(|(id, _)| *id == self.default_region) {
            return config(format!("fly default_region {:?} is not a Fly region", self.default_region));
        }
        if self.max_cpus == 0 || self.max_memory_mb == 0 || self.max_volume_gb == 0 {
            return config("fly max_cpus, max_memory_mb and max_volume_gb must be positive".to_owned());
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
            .field("default_region", &self.default_region)
            .field("max_cpus", &self.max_cpus)
            .field("max_memory_mb", &self.max_memory_mb)
            .field("max_volume_gb", &self.max_volume_gb)
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
        let mut far = ok.clone();
        far.default_region = "mars".into();
        assert!(far.validate().is_err());
    }

    #[test]
    fn a_config_section_deserializes_with_defaults_and_refuses_unknown_keys() {
        let c: FlyConfig = serde_json::from_str(r#"{"token":"t","org_slug":"o"}"#).unwrap();
        assert_eq!(c.app_prefix.as_deref(), Some(DEFAULT_APP_PREFIX));
        assert_eq!((c.base_url.as_str(), c.default_region.as_str()), (DEFAULT_BASE_URL, DEFAULT_REGION));
        assert_eq!((c.max_cpus, c.max_memory_mb), (DEFAULT_MAX_CPUS, DEFAULT_MAX_MEMORY_MB));
        let e = serde_json::from_str::<FlyConfig>(r#"{"token":"t","org_slug":"o","tokn":"x"}"#).err().unwrap();
        assert!(e.to_string().contains("tokn"), "{e}");
    }
}
