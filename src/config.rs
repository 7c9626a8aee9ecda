//! One `Config`, layered: built-in defaults < `officebox.toml` < env `OFFICEBOX_*` < command-line
//! flags. Every key is documented in `packaging/officebox.toml.example`.

use crate::error::{AppError, AppResult};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// External base URL for links in mails; empty = derived from the request.
    pub public_url: String,
    pub trust_proxy: bool,
    pub log_format: LogFormat,
    pub log_level: String,
    pub bcrypt_cost: u32,
    pub max_upload_mb: u64,
    pub workers: usize,
    /// Bearer token that lets a non-local scraper read `/metrics` (empty = localhost only).
    pub metrics_token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            data_dir: PathBuf::from("./officebox-data"),
            public_url: String::new(),
            trust_proxy: false,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            bcrypt_cost: 12,
            max_upload_mb: 50,
            workers: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            metrics_token: String::new(),
        }
    }
}

/// One layer of settings; `None` = not set at this layer.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    pub trust_proxy: Option<bool>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub bcrypt_cost: Option<u32>,
    pub max_upload_mb: Option<u64>,
    pub workers: Option<usize>,
    pub metrics_token: Option<String>,
}

fn bad(key: &str, why: impl std::fmt::Display) -> AppError {
    AppError::bad_request("invalid_config", format!("configuration `{key}`: {why}"))
}

impl Layer {
    pub fn from_file(path: &Path) -> AppResult<Layer> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad("config", format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| bad("config", format!("{}: {e}", path.display())))
    }

    /// `OFFICEBOX_<KEY>` variables from `vars` (the process environment in production).
    pub fn from_env(vars: impl Fn(&str) -> Option<String>) -> AppResult<Layer> {
        fn parse<T: std::str::FromStr>(key: &str, v: Option<String>) -> AppResult<Option<T>>
        where
            T::Err: std::fmt::Display,
        {
            v.map(|s| s.trim().parse::<T>().map_err(|e| bad(key, e))).transpose()
        }
        let get = |k: &str| vars(&format!("OFFICEBOX_{}", k.to_uppercase())).filter(|v| !v.is_empty());
        Ok(Layer {
            listen: get("listen"),
            data_dir: get("data_dir").map(PathBuf::from),
            public_url: get("public_url"),
            trust_proxy: parse("trust_proxy", get("trust_proxy"))?,
            log_format: get("log_format"),
            log_level: get("log_level"),
            bcrypt_cost: parse("bcrypt_cost", get("bcrypt_cost"))?,
            max_upload_mb: parse("max_upload_mb", get("max_upload_mb"))?,
            workers: parse("workers", get("workers"))?,
            metrics_token: get("metrics_token"),
        })
    }

    fn apply(self, c: &mut Config) -> AppResult<()> {
        if let Some(v) = self.listen {
            c.listen = v.parse().map_err(|e| bad("listen", format!("`{v}` is not ADDR:PORT ({e})")))?;
        }
        if let Some(v) = self.data_dir {
            c.data_dir = v;
        }
        if let Some(v) = self.public_url {
            c.public_url = v.trim_end_matches('/').to_owned();
        }
        if let Some(v) = self.trust_proxy {
            c.trust_proxy = v;
        }
        if let Some(v) = self.log_format {
            c.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(bad("log_format", "must be `text` or `json`")),
            };
        }
        if let Some(v) = self.log_level {
            c.log_level = v;
        }
        if let Some(v) = self.bcrypt_cost {
            if !(4..=16).contains(&v) {
                return Err(bad("bcrypt_cost", "must be between 4 and 16 (use 12 or more in production)"));
            }
            c.bcrypt_cost = v;
        }
        if let Some(v) = self.max_upload_mb {
            if v == 0 {
                return Err(bad("max_upload_mb", "must be at least 1"));
            }
            c.max_upload_mb = v;
        }
        if let Some(v) = self.workers {
            c.workers = v.max(1);
        }
        if let Some(v) = self.metrics_token {
            if !v.is_empty() && v.len() < 16 {
                return Err(bad("metrics_token", "use at least 16 characters"));
            }
            c.metrics_token = v;
        }
        Ok(())
    }
}

impl Config {
    /// Layer the sources in order of precedence. `file` is the explicit `--config` path (an error
    /// if missing); otherwise `./officebox.toml` is read when present.
    pub fn load(file: Option<&Path>, env: Layer, flags: Layer) -> AppResult<Config> {
        let mut c = Config::default();
        match file {
            Some(p) => Layer::from_file(p)?.apply(&mut c)?,
            None if Path::new("officebox.toml").is_file() => {
                Layer::from_file(Path::new("officebox.toml"))?.apply(&mut c)?
            }
            None => {}
        }
        env.apply(&mut c)?;
        flags.apply(&mut c)?;
        Ok(c)
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb * 1024 * 1024
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("o.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:1\"\nlog_level = \"debug\"\nbcrypt_cost = 10\n").unwrap();
        let env = Layer::from_env(|k| (k == "OFFICEBOX_LISTEN").then(|| "127.0.0.1:2".to_owned())).unwrap();
        let flags = Layer { data_dir: Some("/x".into()), ..Layer::default() };
        let c = Config::load(Some(&f), env, flags).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:2");
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.bcrypt_cost, 10);
        assert_eq!(c.data_dir, PathBuf::from("/x"));
        assert_eq!(c.max_upload_mb, 50);
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let env = Layer::from_env(|k| (k == "OFFICEBOX_TRUST_PROXY").then(|| "maybe".to_owned()));
        assert!(env.unwrap_err().message.contains("trust_proxy"));
        let unknown = toml::from_str::<Layer>("colour = 1").unwrap_err().to_string();
        assert!(unknown.contains("colour"));
        let flags = Layer { listen: Some("nonsense".into()), ..Layer::default() };
        assert!(Config::load(None, Layer::default(), flags).is_err());
    }
}
