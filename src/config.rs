//! Configuration: `config/default.toml` (compiled in) < a file (`--config PATH` or
//! `LOCALTWILIO_CONFIG`) < `LOCALTWILIO_*` environment variables. The variable names are part of
//! the public interface (DESIGN.md "Process and configuration"). Imports nothing from the crate.

use std::{collections::HashMap, path::PathBuf};

use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// `Debug` is written by hand: it shows `auth_token` and `secret_key` only as set or not.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub database: PathBuf,
    pub log: String,
    pub public_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub secret_key: String,
    pub auth_concurrency: usize,
    pub max_body_bytes: usize,
    pub max_database_pages: u64,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    pub webhook_concurrency: usize,
    pub webhook_concurrency_per_target: usize,
    pub webhook_concurrency_per_account: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a field added later must be placed here, redacted or not.
        let Self {
            listen,
            database,
            log,
            public_url,
            account_sid,
            auth_token,
            secret_key,
            auth_concurrency,
            max_body_bytes,
            max_database_pages,
            max_connections,
            max_connections_per_address,
            header_read_timeout_secs,
            body_read_timeout_secs,
            webhook_concurrency,
            webhook_concurrency_per_target,
            webhook_concurrency_per_account,
        } = self;
        let redacted = |secret: &str| if secret.is_empty() { "" } else { "<redacted>" };
        f.debug_struct("Config")
            .field("listen", listen)
            .field("database", database)
            .field("log", log)
            .field("public_url", public_url)
            .field("account_sid", account_sid)
            .field("auth_token", &redacted(auth_token))
            .field("secret_key", &redacted(secret_key))
            .field("auth_concurrency", auth_concurrency)
            .field("max_body_bytes", max_body_bytes)
            .field("max_database_pages", max_database_pages)
            .field("max_connections", max_connections)
            .field("max_connections_per_address", max_connections_per_address)
            .field("header_read_timeout_secs", header_read_timeout_secs)
            .field("body_read_timeout_secs", body_read_timeout_secs)
            .field("webhook_concurrency", webhook_concurrency)
            .field(
                "webhook_concurrency_per_target",
                webhook_concurrency_per_target,
            )
            .field(
                "webhook_concurrency_per_account",
                webhook_concurrency_per_account,
            )
            .finish()
    }
}

/// One environment variable: the config key it sets (`None` for `LOCALTWILIO_CONFIG`, which
/// names the file), what it means, and its default in words where the `default.toml` value alone
/// does not say it. The one table behind the layering below, `localtwilio --help` and the
/// README's configuration table (a test compares them).
pub struct EnvVar {
    pub name: &'static str,
    pub key: Option<&'static str>,
    pub meaning: &'static str,
    /// `None`: the key's value in `config/default.toml`, shown as code.
    pub default: Option<&'static str>,
}

const fn var(name: &'static str, key: &'static str, meaning: &'static str) -> EnvVar {
    EnvVar {
        name,
        key: Some(key),
        meaning,
        default: None,
    }
}

/// Every `LOCALTWILIO_*` variable, in the README's order (DESIGN.md's table, plus ours).
pub const ENV: &[EnvVar] = &[
    var("LOCALTWILIO_LISTEN", "listen", "address to bind"),
    var(
        "LOCALTWILIO_DATABASE",
        "database",
        "SQLite file (parent folders created), or a `postgres://`/`postgresql://` URL (see PostgreSQL)",
    ),
    EnvVar {
        default: Some("generated, printed once at first start"),
        ..var(
            "LOCALTWILIO_ACCOUNT_SID",
            "account_sid",
            "SID of the main account created when the database has none",
        )
    },
    EnvVar {
        default: Some("generated, printed once at first start"),
        ..var(
            "LOCALTWILIO_AUTH_TOKEN",
            "auth_token",
            "auth token of that main account",
        )
    },
    EnvVar {
        default: Some("the request's own (`http://` + `Host`)"),
        ..var(
            "LOCALTWILIO_PUBLIC_URL",
            "public_url",
            "scheme+host used in v1/v2 `url`/`links`/paging URLs",
        )
    },
    var("LOCALTWILIO_LOG", "log", "tracing filter"),
    EnvVar {
        name: "LOCALTWILIO_CONFIG",
        key: None,
        meaning: "configuration file (TOML, the keys of `config/default.toml`); `--config` wins",
        default: Some("none"),
    },
    EnvVar {
        default: Some(
            "`secret.key` beside the database, created with mode 0600 for a fresh database (never replaced: see Storage); required on PostgreSQL",
        ),
        ..var(
            "LOCALTWILIO_SECRET_KEY",
            "secret_key",
            "64 hex digits: the key that seals auth tokens at rest",
        )
    },
    var(
        "LOCALTWILIO_AUTH_CONCURRENCY",
        "auth_concurrency",
        "argon2 pool threads: every credential check and new credential's hash (~19 MiB each)",
    ),
    var(
        "LOCALTWILIO_MAX_BODY_BYTES",
        "max_body_bytes",
        "largest request body; larger → 413",
    ),
    var(
        "LOCALTWILIO_MAX_CONNECTIONS",
        "max_connections",
        "connections served at once; more wait in the listen backlog",
    ),
    var(
        "LOCALTWILIO_MAX_CONNECTIONS_PER_ADDRESS",
        "max_connections_per_address",
        "of those, how many one client address (IPv6: one /64) may hold; past that a new connection gets 429 20429 and is closed; 0 = no cap",
    ),
    var(
        "LOCALTWILIO_HEADER_READ_TIMEOUT_SECS",
        "header_read_timeout_secs",
        "a client must send its request headers within this, or is disconnected",
    ),
    var(
        "LOCALTWILIO_BODY_READ_TIMEOUT_SECS",
        "body_read_timeout_secs",
        "… and its body within this, or gets 408",
    ),
    var(
        "LOCALTWILIO_MAX_DATABASE_PAGES",
        "max_database_pages",
        "cap on the database file in 4 KiB pages (writes past it: 503); 0 = none",
    ),
    var(
        "LOCALTWILIO_WEBHOOK_CONCURRENCY",
        "webhook_concurrency",
        "webhook requests in flight at once",
    ),
    var(
        "LOCALTWILIO_WEBHOOK_CONCURRENCY_PER_TARGET",
        "webhook_concurrency_per_target",
        "… to one target (an account's webhook URL)",
    ),
    var(
        "LOCALTWILIO_WEBHOOK_CONCURRENCY_PER_ACCOUNT",
        "webhook_concurrency_per_account",
        "… for one account, all its targets together",
    ),
];

/// The default of `var` in words, or its `default.toml` value as code.
fn default_text(var: &EnvVar) -> String {
    if let Some(text) = var.default {
        return text.to_owned();
    }
    let table: Option<toml::Table> = DEFAULTS.parse().ok();
    let value = var
        .key
        .and_then(|key| table.as_ref()?.get(key).cloned())
        .map(|value| match value {
            toml::Value::String(text) => text,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(x) => x.to_string(),
            // No key of default.toml is a table, array or date.
            _ => String::new(),
        })
        .unwrap_or_default();
    format!("`{value}`")
}

/// The README's configuration table (Markdown).
pub fn env_table_markdown() -> String {
    let mut out = String::from("| variable | meaning | default |\n| --- | --- | --- |\n");
    for var in ENV {
        out += &format!(
            "| `{}` | {} | {} |\n",
            var.name,
            var.meaning,
            default_text(var)
        );
    }
    out
}

/// The same table as plain text, for `--help`.
pub fn env_help() -> String {
    let width = ENV.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Environment (overrides the --config file, which overrides the built-in defaults):\n",
    );
    for var in ENV {
        out += &format!(
            "  {:width$}  {} [default: {}]\n",
            var.name,
            var.meaning.replace('`', ""),
            default_text(var).replace('`', "")
        );
    }
    out
}

impl Config {
    /// The embedded defaults alone (what tests start from).
    pub fn defaults() -> anyhow::Result<Self> {
        Self::layered(None, &HashMap::new())
    }

    /// Reads the three layers from the process: `file` (from `--config`), else
    /// `LOCALTWILIO_CONFIG`, then the environment.
    pub fn load(file: Option<PathBuf>) -> anyhow::Result<Self> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let file = file.or_else(|| env.get("LOCALTWILIO_CONFIG").map(PathBuf::from));
        let text =
            match file {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!("cannot read config file {}: {e}", path.display())
                })?),
                None => None,
            };
        Self::layered(text.as_deref(), &env)
    }

    fn layered(file: Option<&str>, env: &HashMap<String, String>) -> anyhow::Result<Self> {
        let mut table: toml::Table = DEFAULTS.parse()?;
        if let Some(text) = file {
            let overrides: toml::Table = text
                .parse()
                .map_err(|e| anyhow::anyhow!("config file is not valid TOML: {e}"))?;
            for (key, value) in overrides {
                if !table.contains_key(&key) {
                    anyhow::bail!("unknown key `{key}` in config file");
                }
                table.insert(key, value);
            }
        }
        for EnvVar { name: var, key, .. } in ENV {
            let (Some(key), Some(value)) = (key, env.get(*var)) else {
                continue;
            };
            // Numbers where the default is a number (so no list of numeric keys can drift).
            let value = if matches!(table.get(*key), Some(toml::Value::Integer(_))) {
                toml::Value::Integer(
                    value
                        .parse()
                        .map_err(|_| anyhow::anyhow!("{var} must be a whole number"))?,
                )
            } else {
                toml::Value::String(value.clone())
            };
            table.insert((*key).to_owned(), value);
        }
        let config: Config = table.try_into()?;
        if config.auth_concurrency == 0 {
            anyhow::bail!("auth_concurrency must be at least 1");
        }
        Ok(config)
    }

    /// `public_url` without a trailing slash, or `None` for "the request's own".
    pub fn public_url(&self) -> Option<String> {
        let url = self.public_url.trim().trim_end_matches('/');
        (!url.is_empty()).then(|| url.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_which_overrides_defaults() {
        let env = HashMap::from([("LOCALTWILIO_LISTEN".to_owned(), "0.0.0.0:9".to_owned())]);
        let config =
            Config::layered(Some("listen = \"1.2.3.4:5\"\nlog = \"debug\""), &env).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9");
        assert_eq!(config.log, "debug");
        assert_eq!(config.database, PathBuf::from("data/localtwilio.db"));
    }

    #[test]
    fn numeric_settings_come_from_the_environment_as_numbers() {
        let env = HashMap::from([
            (
                "LOCALTWILIO_BODY_READ_TIMEOUT_SECS".to_owned(),
                "7".to_owned(),
            ),
            ("LOCALTWILIO_MAX_DATABASE_PAGES".to_owned(), "99".to_owned()),
            ("LOCALTWILIO_MAX_CONNECTIONS".to_owned(), "3".to_owned()),
        ]);
        let config = Config::layered(None, &env).unwrap();
        assert_eq!(
            (
                config.body_read_timeout_secs,
                config.max_database_pages,
                config.max_connections
            ),
            (7, 99, 3)
        );
        let bad = HashMap::from([("LOCALTWILIO_MAX_CONNECTIONS".to_owned(), "many".to_owned())]);
        assert!(Config::layered(None, &bad).is_err());
    }

    /// A key added to `default.toml` without its variable (or a variable naming no key) fails here.
    #[test]
    fn every_config_key_has_exactly_one_environment_variable() {
        let table: toml::Table = DEFAULTS.parse().unwrap();
        let mut keys: Vec<&str> = ENV.iter().filter_map(|v| v.key).collect();
        keys.sort_unstable();
        let mut want: Vec<&str> = table.keys().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(keys, want);
        for var in ENV {
            assert_eq!(
                var.key.map(|k| format!("LOCALTWILIO_{}", k.to_uppercase())),
                (var.name != "LOCALTWILIO_CONFIG").then(|| var.name.to_owned()),
                "{} is not named after its key",
                var.name
            );
        }
    }

    /// The README's configuration table is this one: edit `ENV`, then paste the table below.
    #[test]
    fn the_readme_configuration_table_is_the_environment_table() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let section = readme
            .split_once("\n## Configuration\n")
            .map(|(_, rest)| rest)
            .expect("README has a Configuration section");
        let table: String = section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .map(|line| format!("{line}\n"))
            .collect();
        let want = env_table_markdown();
        assert!(
            table == want,
            "README.md's configuration table differs from config::ENV; it should read:\n{want}"
        );
    }

    #[test]
    fn the_help_text_lists_every_variable_with_its_default() {
        let help = env_help();
        for var in ENV {
            let line = help
                .lines()
                .find(|line| line.trim_start().starts_with(&format!("{} ", var.name)))
                .unwrap_or_else(|| panic!("{} missing from:\n{help}", var.name));
            assert!(line.contains("[default: "), "{line}");
        }
        assert!(help.contains("LOCALTWILIO_MAX_CONNECTIONS") && help.contains("[default: 1024]"));
        assert!(!help.contains('`'), "{help}");
    }

    #[test]
    fn debug_output_redacts_the_auth_token_and_the_secret_key() {
        let token = "0123456789abcdef0123456789abcdef";
        let key = "ab".repeat(32);
        let env = HashMap::from([
            ("LOCALTWILIO_AUTH_TOKEN".to_owned(), token.to_owned()),
            ("LOCALTWILIO_SECRET_KEY".to_owned(), key.clone()),
        ]);
        let shown = format!("{:?}", Config::layered(None, &env).unwrap());
        assert!(!shown.contains(token) && !shown.contains(&key), "{shown}");
        assert!(
            shown.contains(r#"auth_token: "<redacted>""#)
                && shown.contains(r#"secret_key: "<redacted>""#)
                && shown.contains(r#"listen: "127.0.0.1:8080""#),
            "{shown}"
        );
        // Unset stays visibly unset.
        let shown = format!("{:?}", Config::defaults().unwrap());
        assert!(shown.contains(r#"auth_token: "","#), "{shown}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        assert!(Config::layered(Some("lisen = \"x\""), &HashMap::new()).is_err());
    }
}
