use std::io::Write;

use super::*;

fn load(toml: Option<&str>, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let file = toml.map(|t| {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(t.as_bytes()).unwrap();
        f
    });
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::load_from(file.as_ref().map(|f| f.path()), env)
}

#[test]
fn defaults_need_no_file() {
    let c = load(None, &[]).unwrap();
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8402");
    assert_eq!(c.database_url().expose_secret(), "sqlite://data/gateway.db?mode=rwc");
    assert_eq!(c.providers.names().count(), 0);
    assert_eq!(c.server.public_base(), "http://127.0.0.1:8402");
}

#[test]
fn unknown_keys_are_errors_that_name_the_key() {
    let e = load(Some("[server]\nlisen = \"0.0.0.0:1\"\n"), &[]).unwrap_err();
    assert!(e.0.contains("server.lisen"), "{e}");
    // Provider and rail sections are parsed by their crates, with the same rule.
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Owned {
        token: String,
    }
    let c = load(Some("[providers.fly]\ntoken = \"t\"\nregion = \"x\"\n"), &[]).unwrap();
    let e = c.providers.parse::<Owned>("providers", "fly").unwrap_err();
    assert!(e.0.contains("providers.fly.region"), "{e}");
    let c = load(None, &[("COMPUTE_GATEWAY_PROVIDERS__FLY__TOKEN", "from-env")]).unwrap();
    assert_eq!(c.providers.parse::<Owned>("providers", "fly").unwrap().unwrap().token, "from-env");
    let e = load(None, &[("COMPUTE_GATEWAY_SERVER__TIMEOUT", "5")]).unwrap_err();
    assert!(e.0.contains("server.timeout"), "{e}");
    let e = load(Some("[sever]\n"), &[]).unwrap_err();
    assert!(e.0.contains("sever"), "{e}");
}

#[test]
fn environment_overrides_the_file() {
    let c = load(
        Some("[server]\nlisten = \"127.0.0.1:9000\"\nrequest_timeout_secs = 10\n[pricing]\nmargin = \"0.5\"\n"),
        &[
            ("COMPUTE_GATEWAY_SERVER__REQUEST_TIMEOUT_SECS", "7"),
            ("COMPUTE_GATEWAY_CONFIG", "/ignored.toml"),
            // Command-line options, documented as variables too: not configuration keys.
            ("COMPUTE_GATEWAY_LOG_FORMAT", "json"),
            ("COMPUTE_GATEWAY_LOG_SPAN_TIMINGS", "true"),
            ("DATABASE_URL", "postgres://u:pw@localhost/db"),
            ("UNRELATED", "x"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen.port(), 9000);
    assert_eq!(c.server.request_timeout_secs, 7);
    assert_eq!(c.pricing.margin.to_string(), "0.5");
    assert_eq!(c.database_url().expose_secret(), "postgres://u:pw@localhost/db");
}

#[test]
fn secrets_never_show_in_debug() {
    let c = load(
        Some("[providers.fly]\ntoken = \"fo1_supersecret\"\norg_slug = \"personal\"\n[database]\nurl = \"postgres://u:hunter2@h/db\"\n"),
        &[],
    )
    .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("supersecret") && !shown.contains("hunter2"), "{shown}");
    assert_eq!(c.providers.names().collect::<Vec<_>>(), ["fly"]);
}

#[test]
fn semantic_errors_name_the_key() {
    let e = load(Some("[database]\nurl = \"mysql://x\"\n"), &[]).unwrap_err();
    assert!(e.0.starts_with("database.url"), "{e}");
    let e = load(Some("[pricing]\nmargin = 0.25\n"), &[]).unwrap_err();
    assert!(e.0.contains("pricing.margin"), "{e}");
    let e = load(None, &[("COMPUTE_GATEWAY_SERVER__REQUEST_TIMEOUT_SECS", "0")]).unwrap_err();
    assert!(e.0.contains("request_timeout_secs"), "{e}");
    assert!(Config::load_from(Some(std::path::Path::new("/nonexistent/x.toml")), Vec::new()).is_err());
}

/// Found by the `config_loader` fuzz target (fuzz/regressions/config_loader): a TOML parse
/// error quoted the offending line, secret and all.
#[test]
fn parse_errors_never_quote_a_secret() {
    for text in [
        "[providers.fly]\ntoken = \"S3CR3T-fly-token\"\norg_slug = \"o\"\ntoken = \"S3CR3T-fly-token\"\n",
        "[payments.tempo]\nsecret_key = \"S3CR3T-key\" junk\n",
    ] {
        let e = Config::load_from_str(text, Vec::new()).unwrap_err();
        assert!(!e.0.contains("S3CR3T"), "{}", e.0);
        assert!(e.0.contains("line"), "the position stays: {}", e.0);
    }
}
