//! The configuration loader and the composition point on arbitrary configurations.
//!
//! Input: TOML text, or, after a NUL first byte, a structured document built with `arbitrary`:
//! sections (`[providers.fly]`, `[payments.tempo]`, `[[payments.evm]]`, `[database]`, …) of
//! known, secret and unknown keys with plausible, random or raw (syntax-breaking) values,
//! plus `COMPUTE_GATEWAY_*` / `DATABASE_URL` variables. Secret values (of keys named `token`,
//! `secret_key`, `signer_key`, `rpc_url`, `url`) hold a marker, `S3CR3T`; in TOML text a
//! secret is such a marked string no other key or value contains.
//!
//! Properties: `Config::load_from_str` and `compose::compose` (over an in-memory store) never
//! panic, and no secret value appears in their error messages, in the loaded `Config`'s
//! `Debug`, or in the composed settings `config check` prints (Tempo's `rpc_url` excepted
//! there: that crate shows it on purpose).
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use compute_gateway::config::Config;
use libfuzzer_sys::fuzz_target;

const MARKER: &str = "S3CR3T";
const SECRET_KEYS: [&str; 5] = ["token", "secret_key", "signer_key", "rpc_url", "url"];

fuzz_target!(|data: &[u8]| {
    let case = match data.split_first() {
        Some((0, rest)) => match Doc::arbitrary_take_rest(Unstructured::new(rest)) {
            Ok(doc) => doc.render(),
            Err(_) => return,
        },
        _ => match std::str::from_utf8(data) {
            Ok(text) => Case::from_text(text),
            Err(_) => return,
        },
    };
    case.check();
});

/// A configuration to load and the secrets it holds.
struct Case {
    toml: String,
    env: Vec<(String, String)>,
    /// Secret values.
    secrets: Vec<String>,
}

impl Case {
    /// TOML text: its secrets are the marked string values of secret keys that are not part of
    /// any other key or string value (those may be shown). Text that is not TOML has the
    /// `key = "value"` lines of secret keys whose value occurs nowhere else in the text.
    fn from_text(text: &str) -> Case {
        let mut secrets = Vec::new();
        let mut public = Vec::new();
        match text.parse::<toml::Table>() {
            Ok(table) => walk(&toml::Value::Table(table), None, &mut secrets, &mut public),
            Err(_) => {
                secrets = text.lines().filter_map(secret_line).collect();
                let lines = secrets.clone();
                secrets.retain(|s| text.matches(s.as_str()).count() == lines.iter().filter(|l| *l == s).count());
            }
        }
        secrets.retain(|s| s.contains(MARKER) && !public.iter().any(|p| p.contains(s.as_str())));
        Case { toml: text.to_owned(), env: Vec::new(), secrets }
    }

    fn check(&self) {
        let leaks = |what: &str, text: &str| {
            for secret in &self.secrets {
                assert!(!text.contains(secret.as_str()), "{what} shows the secret {secret:?}: {text}");
            }
        };
        let config = match Config::load_from_str(&self.toml, self.env.clone()) {
            Ok(c) => c,
            Err(e) => return leaks("the load error", &e.0),
        };
        leaks("Config's Debug", &format!("{config:?}"));
        let (rt, store) = runtime();
        let _entered = rt.enter();
        match compute_gateway::compose::compose(&config, store) {
            Ok(composed) => {
                for (section, text) in &composed.settings {
                    // The Tempo crate shows its (non-secret) `rpc_url` on purpose.
                    let shown: String = text
                        .lines()
                        .filter(|l| !(section == "payments.tempo" && l.trim_start().starts_with("rpc_url:")))
                        .collect();
                    leaks(&format!("the settings of {section}"), &shown);
                }
            }
            Err(e) => leaks("the compose error", &e.0),
        }
    }
}

/// The value of a `secret_key = "value"` line (a basic string without escapes).
fn secret_line(line: &str) -> Option<String> {
    let (key, rest) = line.split_once('=')?;
    if !SECRET_KEYS.contains(&key.trim()) {
        return None;
    }
    let (value, _) = rest.trim_start().strip_prefix('"')?.split_once('"')?;
    (!value.contains('\\')).then(|| value.to_owned())
}

/// Sorts the strings of `v` (under `key`) into secret values and other text.
fn walk(v: &toml::Value, key: Option<&str>, secrets: &mut Vec<String>, public: &mut Vec<String>) {
    match v {
        toml::Value::String(s) if key.is_some_and(|k| SECRET_KEYS.contains(&k)) => secrets.push(s.clone()),
        toml::Value::String(s) => public.push(s.clone()),
        toml::Value::Array(items) => items.iter().for_each(|i| walk(i, key, secrets, public)),
        toml::Value::Table(t) => {
            for (k, item) in t {
                public.push(k.clone());
                walk(item, Some(k), secrets, public);
            }
        }
        _ => {}
    }
}

/// A runtime and an in-memory store for `compose` (rails keep their markers there).
fn runtime() -> &'static (tokio::runtime::Runtime, compute_store::Store) {
    static RT: OnceLock<(tokio::runtime::Runtime, compute_store::Store)> = OnceLock::new();
    RT.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let store = rt.block_on(async {
            let store = compute_store::Store::connect("sqlite::memory:").await.expect("in-memory store");
            store.migrate().await.expect("migrations");
            store
        });
        (rt, store)
    })
}

/// Every key the configuration knows, all sections together.
const KNOWN_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "data_dir",
    "request_timeout_secs",
    "body_limit_bytes",
    "shutdown_grace_secs",
    "margin",
    "minimum_charge_usd",
    "price_scale",
    "books",
    "signed_header_window_secs",
    "base_url",
    "org_slug",
    "app_prefix",
    "default_region",
    "max_cpus",
    "max_memory_mb",
    "max_volume_gb",
    "chain_id",
    "currencies",
    "recipient",
    "realm",
    "challenge_ttl_secs",
    "token_address",
    "token_name",
    "token_version",
    "decimals",
    "pay_to",
    "max_timeout_seconds",
    "rail",
];

/// Values the sections accept somewhere, so documents get past the types into the crates.
const PLAUSIBLE: &[&str] = &[
    r#""127.0.0.1:8402""#,
    r#""https://gateway.example""#,
    r#""data""#,
    "60",
    "1048576",
    "0",
    r#""0.25""#,
    r#""0.001""#,
    "5",
    "[]",
    r#""personal""#,
    r#""cg-""#,
    r#""iad""#,
    "8453",
    "84532",
    "4217",
    "1337",
    r#"["0x20c0000000000000000000000000000000000000"]"#,
    r#""0xa0Ee7A142d267C1f36714E4a8F75612F20a79720""#,
    r#""gateway.example""#,
    "300",
    r#""0x036CbD53842c5426634e7929541eC2318f3dCF7e""#,
    r#""USDC""#,
    r#""2""#,
    "6",
    r#""base""#,
    "true",
    "-1",
    "1.5",
    r#""http://127.0.0.1:9""#,
];

#[derive(Arbitrary, Debug)]
struct Doc {
    sections: Vec<Section>,
    env: Vec<EnvVar>,
}

#[derive(Arbitrary, Debug)]
struct Section {
    name: SectionName,
    entries: Vec<Entry>,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum SectionName {
    Root,
    Server,
    Database,
    Pricing,
    Auth,
    ProvidersFly,
    ProvidersOther,
    PaymentsTempo,
    PaymentsEvm,
    PaymentsEvmTable,
    PaymentsOther,
}

impl SectionName {
    fn path(self) -> &'static str {
        match self {
            SectionName::Root => "",
            SectionName::Server => "server",
            SectionName::Database => "database",
            SectionName::Pricing => "pricing",
            SectionName::Auth => "auth",
            SectionName::ProvidersFly => "providers.fly",
            SectionName::ProvidersOther => "providers.vercel",
            SectionName::PaymentsTempo => "payments.tempo",
            SectionName::PaymentsEvm | SectionName::PaymentsEvmTable => "payments.evm",
            SectionName::PaymentsOther => "payments.solana",
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Entry {
    key: Key,
    value: Val,
    /// Raw text after the value on the same line.
    trailing: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Key {
    Secret(u8),
    Known(u8),
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum Val {
    Secret(Shape),
    Plausible(u8),
    Str(String),
    Int(i64),
    Bool(bool),
    Array(Vec<String>),
    Raw(String),
}

/// How a secret value looks.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Shape {
    Plain,
    /// An http(s) URL with the secret in the path.
    Url,
    /// A database URL with the secret as password.
    Database,
    /// 32+ bytes (a valid Tempo `secret_key`).
    Long,
    /// A valid secp256k1 private key in hex (a valid EVM `signer_key`).
    Key,
}

#[derive(Arbitrary, Debug)]
struct EnvVar {
    database_url: bool,
    section: SectionName,
    key: Key,
    value: Val,
}

/// Builds a document, keeping the secrets apart from every other text it contains.
#[derive(Default)]
struct Writer {
    secrets: Vec<String>,
    public: Vec<String>,
}

impl Writer {
    fn key(&mut self, key: &Key) -> String {
        match key {
            Key::Secret(i) => SECRET_KEYS[usize::from(*i) % SECRET_KEYS.len()].to_owned(),
            Key::Known(i) => KNOWN_KEYS[usize::from(*i) % KNOWN_KEYS.len()].to_owned(),
            Key::Other(s) => {
                self.public.push(s.clone());
                toml::Value::String(s.clone()).to_string()
            }
        }
    }

    /// The value as TOML (`env`: as an environment value, unquoted).
    fn value(&mut self, value: &Val, secret_key: bool, env: bool) -> String {
        let quote = |s: &str| if env { s.to_owned() } else { toml::Value::String(s.to_owned()).to_string() };
        match value {
            Val::Secret(shape) => {
                let n = self.secrets.len();
                let core = format!("{MARKER}-{n:03}-Q");
                let (text, needle) = match shape {
                    Shape::Plain => (core.clone(), core),
                    Shape::Url => (format!("https://rpc.example/v3/{core}"), core),
                    Shape::Database => (format!("postgres://gateway:{core}@db/gateway"), core),
                    Shape::Long => (format!("{core}-0123456789abcdef0123456789abcdef"), core),
                    Shape::Key => {
                        let hex = format!("5ec2e7{:058x}", n + 1);
                        (format!("0x{hex}"), hex)
                    }
                };
                // Under a key that is not secret it is just text that may be shown.
                if secret_key {
                    self.secrets.push(needle)
                } else {
                    self.public.push(text.clone())
                }
                quote(&text)
            }
            Val::Plausible(i) => {
                let v = PLAUSIBLE[usize::from(*i) % PLAUSIBLE.len()];
                if env { v.trim_matches('"').to_owned() } else { v.to_owned() }
            }
            Val::Str(s) => {
                self.public.push(s.clone());
                quote(s)
            }
            Val::Int(i) => i.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Array(items) => {
                self.public.extend(items.iter().cloned());
                let items: Vec<String> = items.iter().map(|s| toml::Value::String(s.clone()).to_string()).collect();
                format!("[{}]", items.join(", "))
            }
            Val::Raw(s) => {
                self.public.push(s.clone());
                s.clone()
            }
        }
    }
}

impl Doc {
    fn render(&self) -> Case {
        let mut w = Writer::default();
        let mut toml = String::new();
        for section in &self.sections {
            match section.name {
                SectionName::Root => {}
                SectionName::PaymentsEvm => toml.push_str("[[payments.evm]]\n"),
                name => toml.push_str(&format!("[{}]\n", name.path())),
            }
            for entry in &section.entries {
                let key = w.key(&entry.key);
                let secret = matches!(entry.key, Key::Secret(_));
                let value = w.value(&entry.value, secret, false);
                toml.push_str(&format!("{key} = {value}"));
                if let Some(t) = &entry.trailing {
                    w.public.push(t.clone());
                    toml.push_str(t);
                }
                toml.push('\n');
            }
        }
        let mut env = Vec::new();
        for var in &self.env {
            let secret = var.database_url || matches!(var.key, Key::Secret(_));
            let name = if var.database_url {
                "DATABASE_URL".to_owned()
            } else {
                let key = w.key(&var.key);
                let path = format!("{}.{key}", var.section.path());
                format!("COMPUTE_GATEWAY_{}", path.trim_start_matches('.').replace('.', "__").to_ascii_uppercase())
            };
            let value = w.value(&var.value, secret, true);
            w.public.push(name.clone());
            env.push((name, value));
        }
        let public = w.public;
        let secrets = w.secrets.into_iter().filter(|s| !public.iter().any(|p| p.contains(s.as_str()))).collect();
        Case { toml, env, secrets }
    }
}
