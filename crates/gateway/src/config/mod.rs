//! Configuration: an optional TOML file plus environment overrides, with **unknown keys
//! rejected** (the error names the key). Secrets are `SecretString`s: redacted in `Debug`.
//!
//! Sources, later ones winning:
//! 1. built-in defaults (SQLite in `./data`, listen on `127.0.0.1:8402`);
//! 2. the TOML file given by `--config` / `COMPUTE_GATEWAY_CONFIG`;
//! 3. `COMPUTE_GATEWAY_<SECTION>__<KEY>` variables, e.g. `COMPUTE_GATEWAY_SERVER__LISTEN`;
//! 4. `DATABASE_URL` for `database.url`.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use compute_core::Usd;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

mod policy;

pub use policy::{ExpiryConfig, LimitsConfig, SecretsConfig};

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "COMPUTE_GATEWAY_";

/// `COMPUTE_GATEWAY_*` variables that are command-line options (`--config`, `--log-format`,
/// `--log-span-timings`), not configuration keys.
const CLI_ONLY_VARIABLES: [&str; 3] = ["CONFIG", "LOG_FORMAT", "LOG_SPAN_TIMINGS"];

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// HTTP server.
    pub server: ServerConfig,
    /// Database.
    pub database: DatabaseConfig,
    /// Prices.
    pub pricing: PricingConfig,
    /// Wallet authentication on free calls.
    pub auth: AuthConfig,
    /// Tenant naming.
    pub tenancy: TenancyConfig,
    /// What happens when paid time runs out.
    pub expiry: ExpiryConfig,
    /// Per-wallet caps.
    pub limits: LimitsConfig,
    /// Keys of data kept encrypted at rest.
    pub secrets: SecretsConfig,
    /// `[providers.<id>]`: a present section enables the provider; each provider crate parses
    /// its own section (the Fly crate's `FlyConfig`, …).
    pub providers: Sections,
    /// `[payments.<rail>]`: a present section enables the rail; each rail crate parses its own
    /// section (`tempo` table, `evm` list of tables).
    pub payments: Sections,
}

/// Tables passed through, unparsed, to the crates that own them. `Debug` shows only their
/// names: they hold tokens and keys.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Sections(BTreeMap<String, figment::value::Value>);

impl fmt::Debug for Sections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Sections {
    /// The names of the present sections.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Whether section `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Section `name` parsed as `T` by its owner's schema; `None` when absent. Errors name the
    /// key as `<prefix>.<name>.<key>`.
    ///
    /// # Errors
    /// [`ConfigError`] for unknown keys, wrong types or missing required keys.
    pub fn parse<T: DeserializeOwned>(&self, prefix: &str, name: &str) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.0.get(name) else { return Ok(None) };
        value.deserialize::<T>().map(Some).map_err(|e| ConfigError(describe_in(e, &format!("{prefix}.{name}"))))
    }
}

/// `[tenancy]`: how tenant names (Fly app names, DigitalOcean tags) are derived.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TenancyConfig {
    /// The HMAC key tenant names derive from, the same on every replica (default: a key the
    /// gateway generates once and keeps in its database). Changing it renames every tenant.
    pub secret: Option<SecretString>,
}

/// `[auth]`: wallet authentication without payment.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// How far x402Compute `X-Auth-Timestamp`s may be from the server clock, in **seconds**
    /// (default 60); each nonce is single-use within twice this window.
    pub signed_header_window_secs: u64,
    /// Most live API keys one wallet may hold (default 10).
    pub max_api_keys_per_wallet: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { signed_header_window_secs: 60, max_api_keys_per_wallet: 10 }
    }
}

/// `[server]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on (default `127.0.0.1:8402`).
    pub listen: SocketAddr,
    /// Public base URL, used in x402 `resource` URLs, `llms.txt` and OpenAPI `servers`
    /// (default `http://<listen>`).
    pub public_url: Option<Url>,
    /// Folder for the SQLite database and other state (default `./data`).
    pub data_dir: PathBuf,
    /// Per-request timeout in **seconds** (default 120). Paid operations that wait (`exec`,
    /// `wait`) may last this minus [`SETTLEMENT_ALLOWANCE_SECS`].
    pub request_timeout_secs: u64,
    /// Largest accepted request body in **bytes** (default 1 MiB).
    pub body_limit_bytes: usize,
    /// How long graceful shutdown waits for in-flight requests, in **seconds** (default 30).
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8402)),
            public_url: None,
            data_dir: PathBuf::from("data"),
            request_timeout_secs: 120,
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
        }
    }
}

/// Seconds of a request's timeout kept for verification and settlement (the EVM rail may wait
/// 45 s for a receipt), so a paid operation never outlives the request that paid for it.
pub const SETTLEMENT_ALLOWANCE_SECS: u64 = 50;

impl ServerConfig {
    /// How long a paid operation may wait, in **seconds**: the request timeout minus
    /// [`SETTLEMENT_ALLOWANCE_SECS`].
    pub fn operation_budget_secs(&self) -> u64 {
        self.request_timeout_secs.saturating_sub(SETTLEMENT_ALLOWANCE_SECS)
    }

    /// The public base URL without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(u) => u.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

/// `[database]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…` (may hold a password, hence secret). Default: a SQLite
    /// file `gateway.db` in `server.data_dir`, created on first start.
    pub url: Option<SecretString>,
}

/// `[pricing]`: the margin over provider cost and the rounding of prices.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PricingConfig {
    /// Margin over provider cost as a decimal **string** fraction (default `"0.25"`, 25 %).
    #[serde(with = "decimal_string")]
    pub margin: Decimal,
    /// Smallest charge of a paid request, USD (default `"0.001"`).
    pub minimum_charge_usd: Usd,
    /// Decimal places of a dollar prices are rounded up to (default 5).
    pub price_scale: u32,
    /// Price book files (TOML, the schema of `compute_core::billing::book`) that replace the
    /// built-in book of the same `name` (default: none, the built-in books of `pricing/`).
    pub books: Vec<PathBuf>,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            margin: Decimal::new(25, 2),
            minimum_charge_usd: Usd::from_parts(1, 3),
            price_scale: 5,
            books: Vec::new(),
        }
    }
}

/// A configuration error; the message names the offending key and its source.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Loads defaults, then `file` (if any), then the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key for unknown keys, wrong types, a missing file, or
    /// semantic problems found by [`Config::validate`].
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// As [`Config::load`] with an explicit environment (for tests).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Defaults::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!("config file {} does not exist", path.display())));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        Self::extract(fig, env)
    }

    /// As [`Config::load_from`] with the TOML given as text (tests, fuzzing).
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_from_str(toml: &str, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let fig = Figment::from(Serialized::defaults(Defaults::default())).merge(Toml::string(toml));
        Self::extract(fig, env)
    }

    fn extract(mut fig: Figment, env: impl IntoIterator<Item = (String, String)>) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = env.into_iter().collect();
        for (k, v) in &vars {
            if let Some(rest) = k.strip_prefix(ENV_PREFIX) {
                if CLI_ONLY_VARIABLES.contains(&rest) {
                    continue; // Read by the CLI (file path, log settings), not configuration.
                }
                let key = rest.to_ascii_lowercase().replace("__", ".");
                fig = fig.merge((key, parse_env_value(v)));
            }
        }
        if let Some((_, url)) = vars.iter().find(|(k, _)| k == "DATABASE_URL") {
            fig = fig.merge(("database.url", url.clone()));
        }
        let config: Config = fig.extract().map_err(|e| ConfigError(describe(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Semantic checks beyond types: the database scheme.
    ///
    /// # Errors
    /// [`ConfigError`] naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database.url {
            let u = url.expose_secret();
            if !(u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return Err(ConfigError("database.url: must start with sqlite: or postgres://".into()));
            }
        }
        if self.server.request_timeout_secs == 0 {
            return Err(ConfigError("server.request_timeout_secs: must be at least 1".into()));
        }
        if self.auth.signed_header_window_secs == 0 {
            return Err(ConfigError("auth.signed_header_window_secs: must be at least 1".into()));
        }
        if self.pricing.margin.is_sign_negative() {
            return Err(ConfigError("pricing.margin: must not be negative".into()));
        }
        self.expiry.validate().map_err(ConfigError)
    }

    /// The database URL: the configured one, or the SQLite file in the data folder.
    pub fn database_url(&self) -> SecretString {
        match &self.database.url {
            Some(u) => u.clone(),
            None => {
                SecretString::from(format!("sqlite://{}?mode=rwc", self.server.data_dir.join("gateway.db").display()))
            }
        }
    }
}

/// Only the defaults that serialise (secrets have none), so figment reports unknown keys from
/// files and environment against the real structure.
#[derive(Serialize, Default)]
struct Defaults {
    server: ServerConfig,
    pricing: PricingConfig,
    auth: AuthConfig,
}

/// Environment values are strings; numbers and booleans are parsed so `…__REQUEST_TIMEOUT_SECS=5`
/// works, everything else (including decimals like `0.25`) stays a string.
fn parse_env_value(v: &str) -> figment::value::Value {
    if let Ok(n) = v.parse::<u64>() {
        return n.into();
    }
    match v {
        "true" => true.into(),
        "false" => false.into(),
        _ => v.to_owned().into(),
    }
}

/// Decimals as strings only: a TOML float like `0.25` is rejected, never rounded.
mod decimal_string {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub(super) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let s = String::deserialize(d)?;
        Decimal::from_str_exact(s.trim()).map_err(|e| D::Error::custom(format!("not a decimal string: {e}")))
    }
}

fn describe(e: figment::Error) -> String {
    describe_in(e, "")
}

/// Each error as `key: what (from source)`, keys under `prefix`.
fn describe_in(e: figment::Error, prefix: &str) -> String {
    e.into_iter()
        .map(|e| {
            let mut path: Vec<String> = prefix.split('.').filter(|p| !p.is_empty()).map(str::to_owned).collect();
            path.extend(e.path.iter().cloned());
            let key = if path.is_empty() { "(root)".to_owned() } else { path.join(".") };
            let source =
                e.metadata.as_ref().and_then(|m| m.source.as_ref()).map(|s| format!(" (from {s})")).unwrap_or_default();
            format!("{key}: {}{source}", without_snippet(&e.kind.to_string()))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A parse error without the source lines it quotes (`2 | token = "…"`): a quoted line may hold
/// a secret. The position and the reason stay ("TOML parse error at line 2, column 1 …
/// duplicate key `token`").
fn without_snippet(message: &str) -> String {
    message.lines().filter(|l| !l.contains('|')).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
