//! [`DoConfig`]: where the DigitalOcean API is, the token, the tag prefix that turns a tenant
//! into a droplet tag, the offering (default region, largest droplet) and the retry policy. It
//! is also the `[providers.digitalocean]` section of a gateway configuration: it deserializes
//! with unknown keys refused.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use compute_core::http::{CallObserver, RetryPolicy, SecretString};
use compute_core::{Error, ErrorKind, Result};
use serde::Deserialize;

/// The public DigitalOcean API (paths start with `/v2`).
pub const DEFAULT_BASE_URL: &str = "https://api.digitalocean.com";

/// The prefix put in front of a tenant name to form its droplet tag.
pub const DEFAULT_TAG_PREFIX: &str = "cg-";

/// The region of a droplet whose request names none.
pub const DEFAULT_REGION: &str = "nyc1";

/// How long [`compute_core::provider::Snapshots::create_snapshot`] waits for DigitalOcean's
/// `snapshot` action by default, in **seconds** (a droplet snapshot takes minutes).
pub const DEFAULT_SNAPSHOT_TIMEOUT_SECS: u64 = 900;

/// Longest tag prefix, in bytes (a DigitalOcean tag is at most 255 characters; a tenant name
/// at most 63).
pub const MAX_TAG_PREFIX_LEN: usize = 64;

/// Settings of one DigitalOcean adapter. Nothing here is global: build as many as you need.
///
/// The token is a [`SecretString`]: it is sent only as `Authorization: Bearer <token>` (a header
/// marked sensitive) and never appears in `Debug`, logs or errors.
///
/// As the `[providers.digitalocean]` section of a gateway configuration (TOML), every key but
/// `token` is optional and an unknown key is an error:
///
/// ```toml
/// [providers.digitalocean]
/// token = "dop_v1_…"
/// base_url = "https://api.digitalocean.com"   # default
/// tag_prefix = "cg-"                          # default; the tenant "t1" becomes tag "cg-t1"
/// default_region = "nyc1"                     # default
/// max_vcpus = 8                               # optional; no limit when absent
/// max_memory_mb = 16384                       # optional, MB; no limit when absent
/// snapshot_timeout_secs = 900                 # default
/// ```
///
/// ```
/// use compute_core::http::SecretString;
/// use compute_digitalocean::DoConfig;
///
/// let config = DoConfig::new(SecretString::from("dop_v1_example")).with_tag_prefix("cg-");
/// assert!(!format!("{config:?}").contains("dop_v1_example"));
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DoConfig {
    /// Personal access token (scopes: `droplet`, `tag`, `snapshot`, `ssh_key`, `image:read`,
    /// `size:read`, `region:read`, `actions:read`).
    pub token: SecretString,
    /// Base URL of the API, without the `/v2` (default [`DEFAULT_BASE_URL`]; tests point it at a
    /// mock server or the fake).
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Prefix of every tenant tag (default [`DEFAULT_TAG_PREFIX`]). Tags are account-wide, so a
    /// deployment-specific prefix keeps the gateway's droplets apart from the rest of the
    /// account. At most [`MAX_TAG_PREFIX_LEN`] of `a-z`, `0-9`, `-` and `_`: no `:`, which
    /// separates the tag from the name in the tenant's SSH key and snapshot names
    /// (`<tag>:<name>`), so no tenant's name prefix can be a prefix of another's.
    #[serde(default = "default_tag_prefix")]
    pub tag_prefix: String,
    /// Region slug used when a request names none (default [`DEFAULT_REGION`]).
    #[serde(default = "default_region")]
    pub default_region: String,
    /// Most vCPUs of one droplet offered; `None` (the default) is no limit.
    #[serde(default)]
    pub max_vcpus: Option<u32>,
    /// Most memory of one droplet offered, in **MB**; `None` (the default) is no limit.
    #[serde(default)]
    pub max_memory_mb: Option<u32>,
    /// How long a snapshot may take, in **seconds** (default [`DEFAULT_SNAPSHOT_TIMEOUT_SECS`]).
    #[serde(default = "default_snapshot_timeout_secs")]
    pub snapshot_timeout_secs: u64,
    /// Retry, backoff and timeout policy for every call; its total timeout also bounds how long
    /// a power action (`power_on`, `shutdown`, `reboot`, …) is polled.
    #[serde(skip, default)]
    pub retry: RetryPolicy,
    /// Told about every finished API call (operation, final status, time), e.g. to count
    /// them; none by default. Not part of a configuration section nor of `Debug`.
    #[serde(skip)]
    pub observer: Option<Arc<dyn CallObserver>>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn default_tag_prefix() -> String {
    DEFAULT_TAG_PREFIX.to_owned()
}

fn default_region() -> String {
    DEFAULT_REGION.to_owned()
}

fn default_snapshot_timeout_secs() -> u64 {
    DEFAULT_SNAPSHOT_TIMEOUT_SECS
}

/// Whether `slug` looks like a DigitalOcean region slug (`nyc1`, `sfo3`) or a region prefix
/// (`nyc`): 2–16 lowercase letters followed by digits.
pub(crate) fn is_region_slug(slug: &str) -> bool {
    let letters = slug.bytes().take_while(u8::is_ascii_lowercase).count();
    (2..=16).contains(&slug.len()) && letters >= 2 && slug.bytes().skip(letters).all(|b| b.is_ascii_digit())
}

impl DoConfig {
    /// A configuration for the public API with the defaults: tag prefix [`DEFAULT_TAG_PREFIX`],
    /// region [`DEFAULT_REGION`], no size limits, the default retry policy.
    pub fn new(token: SecretString) -> Self {
        DoConfig {
            token,
            base_url: default_base_url(),
            tag_prefix: default_tag_prefix(),
            default_region: default_region(),
            max_vcpus: None,
            max_memory_mb: None,
            snapshot_timeout_secs: DEFAULT_SNAPSHOT_TIMEOUT_SECS,
            retry: RetryPolicy::default(),
            observer: None,
        }
    }

    /// Replaces the base URL (without `/v2`).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Replaces the tag prefix.
    pub fn with_tag_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.tag_prefix = prefix.into();
        self
    }

    /// Replaces the default region slug.
    pub fn with_default_region(mut self, region: impl Into<String>) -> Self {
        self.default_region = region.into();
        self
    }

    /// Sets the largest droplet offered: vCPUs and memory in **MB** (`None` is no limit).
    pub fn with_limits(mut self, max_vcpus: Option<u32>, max_memory_mb: Option<u32>) -> Self {
        self.max_vcpus = max_vcpus;
        self.max_memory_mb = max_memory_mb;
        self
    }

    /// Replaces how long a snapshot may take (rounded down to whole seconds).
    pub fn with_snapshot_timeout(mut self, timeout: Duration) -> Self {
        self.snapshot_timeout_secs = timeout.as_secs();
        self
    }

    /// Reports every API call of the adapters built from this configuration to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long a snapshot may take.
    pub fn snapshot_timeout(&self) -> Duration {
        Duration::from_secs(self.snapshot_timeout_secs)
    }

    /// Checks the settings that can be checked without calling DigitalOcean.
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a base URL that is not `http(s)`, a tag prefix outside
    /// `[a-z0-9_-]{0,64}`, a default region that is not a region slug, a zero limit or a zero
    /// snapshot timeout.
    pub fn validate(&self) -> Result<()> {
        let config = |msg: String| Err(Error::new(ErrorKind::Config, msg).with_component(crate::COMPONENT));
        match url::Url::parse(&self.base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base() => {}
            _ => return config(format!("digitalocean base_url {:?} is not an http(s) URL", self.base_url)),
        }
        let p = &self.tag_prefix;
        let prefix_ok = p.len() <= MAX_TAG_PREFIX_LEN
            && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if !prefix_ok {
            return config(format!("digitalocean tag_prefix {p:?} must be at most {MAX_TAG_PREFIX_LEN} of [a-z0-9_-]"));
        }
        if !is_region_slug(&self.default_region) {
            return config(format!("digitalocean default_region {:?} is not a region slug", self.default_region));
        }
        if self.max_vcpus == Some(0) || self.max_memory_mb == Some(0) {
            return config("digitalocean max_vcpus and max_memory_mb must be positive when set".to_owned());
        }
        if self.snapshot_timeout_secs == 0 {
            return config("digitalocean snapshot_timeout_secs must be positive".to_owned());
        }
        Ok(())
    }
}

impl fmt::Debug for DoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoConfig")
            .field("token", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("tag_prefix", &self.tag_prefix)
            .field("default_region", &self.default_region)
            .field("max_vcpus", &self.max_vcpus)
            .field("max_memory_mb", &self.max_memory_mb)
            .field("snapshot_timeout_secs", &self.snapshot_timeout_secs)
            .field("retry", &self.retry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let c = DoConfig::new(SecretString::from("dop_v1_very_secret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("dop_v1_very_secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn validation_rejects_bad_settings() {
        let ok = DoConfig::new(SecretString::from("t"));
        assert!(ok.validate().is_ok());
        assert!(ok.clone().with_base_url("ftp://x").validate().is_err());
        assert!(ok.clone().with_base_url("not a url").validate().is_err());
        assert!(ok.clone().with_tag_prefix("Bad prefix").validate().is_err());
        assert!(ok.clone().with_tag_prefix("x".repeat(65)).validate().is_err());
        assert!(ok.clone().with_tag_prefix("").validate().is_ok());
        assert!(ok.clone().with_tag_prefix("gw-prod_1-").validate().is_ok());
        assert!(ok.clone().with_tag_prefix("gw:").validate().is_err(), "':' separates tag and name");
        assert!(ok.clone().with_default_region("NYC1").validate().is_err());
        assert!(ok.clone().with_default_region("nyc").validate().is_ok());
        assert!(ok.clone().with_limits(Some(0), None).validate().is_err());
        assert!(ok.clone().with_limits(Some(8), Some(16384)).validate().is_ok());
        assert!(ok.clone().with_snapshot_timeout(Duration::from_millis(10)).validate().is_err());
    }

    #[test]
    fn a_config_section_deserializes_with_defaults_and_refuses_unknown_keys() {
        let c: DoConfig = serde_json::from_str(r#"{"token":"t"}"#).unwrap();
        assert_eq!((c.base_url.as_str(), c.tag_prefix.as_str()), (DEFAULT_BASE_URL, DEFAULT_TAG_PREFIX));
        assert_eq!(c.default_region, DEFAULT_REGION);
        assert_eq!((c.max_vcpus, c.max_memory_mb), (None, None));
        assert_eq!(c.snapshot_timeout(), Duration::from_secs(DEFAULT_SNAPSHOT_TIMEOUT_SECS));
        assert_eq!(c.retry, RetryPolicy::default());
        let c: DoConfig =
            serde_json::from_str(r#"{"token":"t","max_vcpus":4,"max_memory_mb":8192,"tag_prefix":"gw-"}"#).unwrap();
        assert_eq!((c.max_vcpus, c.max_memory_mb, c.tag_prefix.as_str()), (Some(4), Some(8192), "gw-"));
        let e = serde_json::from_str::<DoConfig>(r#"{"token":"t","tokn":"x"}"#).err().unwrap();
        assert!(e.to_string().contains("tokn"), "{e}");
        assert!(serde_json::from_str::<DoConfig>(r#"{"base_url":"http://x"}"#).is_err(), "token is required");
    }

    #[test]
    fn region_slugs() {
        for ok in ["nyc1", "sfo3", "ams3", "nyc", "syd1"] {
            assert!(is_region_slug(ok), "{ok}");
        }
        for bad in ["", "n", "1nyc", "nyc-1", "NYC1", "nyc1a", "abcdefghijklmnopq"] {
            assert!(!is_region_slug(bad), "{bad}");
        }
    }
}
