//! Configuration: `config/default.toml` (compiled in) < a file (`--config PATH` or
//! `LOCALTWILIO_CONFIG`) < `LOCALTWILIO_*` environment variables. The variable names are part of
//! the public interface (DESIGN.md "Process and configuration"). Imports nothing from the crate.

use std::{collections::HashMap, path::PathBuf};

use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
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
}

/// The environment variable for each key (DESIGN.md's table, plus two of ours).
const ENV: &[(&str, &str)] = &[
    ("listen", "LOCALTWILIO_LISTEN"),
    ("database", "LOCALTWILIO_DATABASE"),
    ("log", "LOCALTWILIO_LOG"),
    ("public_url", "LOCALTWILIO_PUBLIC_URL"),
    ("account_sid", "LOCALTWILIO_ACCOUNT_SID"),
    ("auth_token", "LOCALTWILIO_AUTH_TOKEN"),
    ("secret_key", "LOCALTWILIO_SECRET_KEY"),
    ("auth_concurrency", "LOCALTWILIO_AUTH_CONCURRENCY"),
    ("max_body_bytes", "LOCALTWILIO_MAX_BODY_BYTES"),
    ("max_database_pages", "LOCALTWILIO_MAX_DATABASE_PAGES"),
    ("max_connections", "LOCALTWILIO_MAX_CONNECTIONS"),
    (
        "max_connections_per_address",
        "LOCALTWILIO_MAX_CONNECTIONS_PER_ADDRESS",
    ),
    (
        "header_read_timeout_secs",
        "LOCALTWILIO_HEADER_READ_TIMEOUT_SECS",
    ),
    (
        "body_read_timeout_secs",
        "LOCALTWILIO_BODY_READ_TIMEOUT_SECS",
    ),
    ("webhook_concurrency", "LOCALTWILIO_WEBHOOK_CONCURRENCY"),
    (
        "webhook_concurrency_per_target",
        "LOCALTWILIO_WEBHOOK_CONCURRENCY_PER_TARGET",
    ),
];

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
        for (key, var) in ENV {
            if let Some(value) = env.get(*var) {
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

    #[test]
    fn unknown_file_keys_are_rejected() {
        assert!(Config::layered(Some("lisen = \"x\""), &HashMap::new()).is_err());
    }
}
