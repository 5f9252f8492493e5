//! Configuration: an optional TOML file plus environment overrides, with **unknown keys
//! rejected** (the error names the key). Secrets are `SecretString`s: redacted in `Debug`.
//!
//! Sources, later ones winning:
//! 1. built-in defaults (SQLite in `./data`, listen on `127.0.0.1:8402`);
//! 2. the TOML file given by `--config` / `COMPUTE_GATEWAY_CONFIG`;
//! 3. `COMPUTE_GATEWAY_<SECTION>__<KEY>` variables, e.g. `COMPUTE_GATEWAY_SERVER__LISTEN`;
//! 4. `DATABASE_URL` for `database.url`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use compute_core::Usd;
use compute_core::provider::ProviderId;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use rust_decimal::Decimal;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "COMPUTE_GATEWAY_";

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
    /// Provider credentials; a provider is enabled when its section is present.
    pub providers: ProvidersConfig,
    /// Payment rails; a rail is enabled when its section is present.
    pub payments: PaymentsConfig,
}

/// `[payments.*]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// `[payments.tempo]`: MPP, method `tempo`.
    pub tempo: Option<TempoRailConfig>,
    /// `[payments.base]`: x402 `exact` with EIP-3009 USDC on Base (or any eip155 chain).
    pub base: Option<BaseRailConfig>,
}

/// `[payments.base]` (x402 `exact` on EVM with EIP-3009; payments-x402.md §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseRailConfig {
    /// Chain id: 8453 Base, 84532 Base Sepolia, or another eip155 chain with an EIP-3009 token.
    pub chain_id: u64,
    /// JSON-RPC URL (secret: it often embeds an API key).
    pub rpc_url: SecretString,
    /// Token address (default: USDC of Base or Base Sepolia for those chain ids).
    pub token_address: Option<String>,
    /// The token's EIP-712 domain name (default: `USD Coin` on Base, `USDC` on Base Sepolia).
    pub token_name: Option<String>,
    /// The token's EIP-712 domain version (default `2`).
    pub token_version: Option<String>,
    /// Token decimals (default 6).
    pub decimals: Option<u8>,
    /// Address that receives payments (`payTo`).
    pub pay_to: String,
    /// Private key of the hot wallet that submits settlements and pays gas
    /// (`COMPUTE_GATEWAY_PAYMENTS__BASE__SIGNER_KEY`).
    pub signer_key: SecretString,
    /// `maxTimeoutSeconds` of the offers (default 300).
    pub max_timeout_seconds: Option<u64>,
}

/// `[payments.tempo]` (MPP `tempo` charges; payments-mpp.md §2).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempoRailConfig {
    /// Tempo JSON-RPC URL.
    pub rpc_url: String,
    /// Chain id: 4217 mainnet, 42431 Moderato, 1337 localnet.
    pub chain_id: u64,
    /// TIP-20 currencies offered (default: pathUSD).
    #[serde(default)]
    pub currencies: Vec<String>,
    /// Address that receives payments.
    pub recipient: String,
    /// Realm shared by every replica (default: the public URL's host).
    pub realm: Option<String>,
    /// Challenge HMAC secret, at least 32 bytes
    /// (`COMPUTE_GATEWAY_PAYMENTS__TEMPO__SECRET_KEY`).
    pub secret_key: SecretString,
    /// Challenge lifetime in **seconds** (default 300; keep it under 25 for pympp on anvil).
    #[serde(default = "default_challenge_ttl")]
    pub challenge_ttl_secs: u64,
}

fn default_challenge_ttl() -> u64 {
    300
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
    /// Per-request timeout in **seconds** (default 60).
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
            request_timeout_secs: 60,
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
        }
    }
}

impl ServerConfig {
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
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig { margin: Decimal::new(25, 2), minimum_charge_usd: Usd::from_parts(1, 3), price_scale: 5 }
    }
}

/// `[providers.*]`: a present section enables the provider (its crate must be compiled in).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProvidersConfig {
    /// `[providers.fly]`.
    pub fly: Option<FlyConfig>,
    /// `[providers.digitalocean]`.
    pub digitalocean: Option<TokenConfig>,
    /// `[providers.vultr]`.
    pub vultr: Option<TokenConfig>,
    /// `[providers.vercel]`.
    pub vercel: Option<VercelConfig>,
    /// `[providers.upstash]`.
    pub upstash: Option<UpstashConfig>,
}

impl ProvidersConfig {
    /// The providers whose section is present.
    pub fn configured(&self) -> Vec<ProviderId> {
        let mut out = Vec::new();
        if self.fly.is_some() {
            out.push(ProviderId::Fly);
        }
        if self.digitalocean.is_some() {
            out.push(ProviderId::Digitalocean);
        }
        if self.vultr.is_some() {
            out.push(ProviderId::Vultr);
        }
        if self.vercel.is_some() {
            out.push(ProviderId::Vercel);
        }
        if self.upstash.is_some() {
            out.push(ProviderId::Upstash);
        }
        out
    }
}

/// `[providers.fly]` (Fly Machines API).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlyConfig {
    /// API token (`fly tokens create`), sent as a bearer token.
    pub token: SecretString,
    /// Organisation slug new apps are created in.
    pub org_slug: String,
    /// API base URL (default `https://api.machines.dev`).
    pub base_url: Option<Url>,
    /// Prefix of the per-wallet Fly app names (default `cg-`); lowercase letters, digits, `-`.
    pub app_prefix: Option<String>,
}

/// A provider with a bearer token (DigitalOcean, Vultr).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// API token.
    pub token: SecretString,
    /// API base URL override.
    pub base_url: Option<Url>,
}

/// `[providers.vercel]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VercelConfig {
    /// API token.
    pub token: SecretString,
    /// Team id (`teamId`) the resources live in.
    pub team_id: Option<String>,
    /// API base URL override.
    pub base_url: Option<Url>,
}

/// `[providers.upstash]` (management API, HTTP Basic `email:api_key`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstashConfig {
    /// Account email.
    pub email: String,
    /// Management API key.
    pub api_key: SecretString,
    /// API base URL override.
    pub base_url: Option<Url>,
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
        let vars: Vec<(String, String)> = env.into_iter().collect();
        for (k, v) in &vars {
            if let Some(rest) = k.strip_prefix(ENV_PREFIX) {
                if rest == "CONFIG" {
                    continue; // The file path, read by the CLI.
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
        if let Some(t) = &self.payments.tempo
            && t.secret_key.expose_secret().len() < 32
        {
            return Err(ConfigError("payments.tempo.secret_key: must be at least 32 bytes".into()));
        }
        if self.pricing.margin.is_sign_negative() {
            return Err(ConfigError("pricing.margin: must not be negative".into()));
        }
        Ok(())
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
    e.into_iter()
        .map(|e| {
            let key = if e.path.is_empty() { "(root)".to_owned() } else { e.path.join(".") };
            let source =
                e.metadata.as_ref().and_then(|m| m.source.as_ref()).map(|s| format!(" (from {s})")).unwrap_or_default();
            format!("{key}: {}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
