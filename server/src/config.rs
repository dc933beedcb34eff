//! Settings: built-in defaults, then an optional TOML file, then the
//! environment (`SETTLE_*`, plus the conventional `DATABASE_URL`). Any bad
//! value stops startup with a message that names the setting.

use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Every environment variable Settle reads, and its key in the TOML file.
const SETTINGS: &[(&str, &str)] = &[
    ("SETTLE_DATABASE_URL", "database_url"),
    ("SETTLE_DATA_DIR", "data_dir"),
    ("SETTLE_LISTEN", "listen"),
    ("SETTLE_BASE_URL", "base_url"),
    ("SETTLE_SITE_ROOT", "site_root"),
    ("SETTLE_LOG", "log"),
    ("SETTLE_DB_MAX_CONNECTIONS", "db_max_connections"),
    ("SETTLE_SMTP_URL", "smtp_url"),
    ("SETTLE_MAIL_FROM", "mail_from"),
    ("SETTLE_SANDBOX_LATENCY_MS", "sandbox_latency_ms"),
    ("SETTLE_DUNNING", "dunning"),
    ("SETTLE_STRIPE_SECRET_KEY", "stripe_secret_key"),
    ("SETTLE_STRIPE_PUBLISHABLE_KEY", "stripe_publishable_key"),
    ("SETTLE_STRIPE_API_BASE", "stripe_api_base"),
    ("SETTLE_STRIPE_JS_URL", "stripe_js_url"),
    ("SETTLE_TWILIO_ACCOUNT_SID", "twilio_account_sid"),
    ("SETTLE_TWILIO_AUTH_TOKEN", "twilio_auth_token"),
    ("SETTLE_TWILIO_FROM", "twilio_from"),
    ("SETTLE_TWILIO_API_BASE", "twilio_api_base"),
    ("SETTLE_TRUSTED_PROXIES", "trusted_proxies"),
    ("SETTLE_API_REQUESTS_PER_MINUTE", "api_requests_per_minute"),
];

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`; secret (may hold a password): never log it whole.
    pub database_url: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Public origin, e.g. `https://pay.example.com`; links in messages use it.
    pub base_url: url::Url,
    pub site_root: String,
    pub log: String,
    pub db_max_connections: u32,
    /// `smtp://…` / `smtps://…`; secret (may hold a password). None: emails
    /// stay in the database outbox (demo mode).
    pub smtp_url: Option<String>,
    /// Sender address; the merchant's name is used as the display name.
    pub mail_from: String,
    /// Delay the sandbox gateway adds to each call, to show spinners and
    /// races in the demo the way a real gateway would.
    pub sandbox_latency_ms: u64,
    /// Whether `settle serve` sends the reminder sequence (on by default).
    pub dunning: bool,
    /// Stripe, when a secret key is configured (merchants on the `stripe`
    /// gateway need it).
    pub stripe: Option<StripeConfig>,
    /// Where browsers load Stripe.js from; the only script origin allowed
    /// besides our own.
    pub stripe_js_url: url::Url,
    /// Text messages through Twilio's API (or a compatible one). None: texts
    /// stay in the database outbox (demo mode).
    pub twilio: Option<crate::sms::TwilioSettings>,
    /// Addresses of reverse proxies in front of Settle: for requests from
    /// them, the client's address is read from `X-Forwarded-For` (rate
    /// limits and the audit log are per client, not per proxy).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// REST API requests each key may make per minute before 429.
    pub api_requests_per_minute: u32,
}

#[derive(Clone, PartialEq)]
pub struct StripeConfig {
    /// Secret: never logged, never echoed in an error.
    pub secret_key: String,
    pub publishable_key: String,
    pub api_base: url::Url,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"(hidden)")
            .field("publishable_key", &self.publishable_key)
            .field("api_base", &self.api_base.as_str())
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("invalid {setting} = {value:?}: {reason}")]
    Invalid { setting: String, value: String, reason: String },
    #[error("unknown setting {0}; known settings: {known}", known = known_env_names())]
    UnknownEnv(String),
    #[error("cannot read config file {path}: {reason}")]
    File { path: String, reason: String },
}

/// `SETTLE_` variables that are not settings: the settings file's path,
/// and inputs of single commands (a password must not be an argument).
const NOT_SETTINGS: [&str; 2] = ["SETTLE_CONFIG", "SETTLE_OWNER_PASSWORD"];

fn known_env_names() -> String {
    let mut names: Vec<&str> = SETTINGS.iter().map(|(env, _)| *env).collect();
    names.extend(NOT_SETTINGS);
    names.join(", ")
}

/// The file's shape; unknown keys are errors (a typo must not be ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    data_dir: Option<String>,
    listen: Option<String>,
    base_url: Option<String>,
    site_root: Option<String>,
    log: Option<String>,
    db_max_connections: Option<toml::Value>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    sandbox_latency_ms: Option<toml::Value>,
    dunning: Option<toml::Value>,
    stripe_secret_key: Option<String>,
    stripe_publishable_key: Option<String>,
    stripe_api_base: Option<String>,
    stripe_js_url: Option<String>,
    twilio_account_sid: Option<String>,
    twilio_auth_token: Option<String>,
    twilio_from: Option<String>,
    twilio_api_base: Option<String>,
    trusted_proxies: Option<String>,
    api_requests_per_minute: Option<toml::Value>,
}

impl FileSettings {
    fn get(&self, key: &str) -> Option<String> {
        match key {
            "database_url" => self.database_url.clone(),
            "data_dir" => self.data_dir.clone(),
            "listen" => self.listen.clone(),
            "base_url" => self.base_url.clone(),
            "site_root" => self.site_root.clone(),
            "log" => self.log.clone(),
            "smtp_url" => self.smtp_url.clone(),
            "mail_from" => self.mail_from.clone(),
            "db_max_connections" => self.db_max_connections.as_ref().map(toml_text),
            "sandbox_latency_ms" => self.sandbox_latency_ms.as_ref().map(toml_text),
            "dunning" => self.dunning.as_ref().map(toml_text),
            "stripe_secret_key" => self.stripe_secret_key.clone(),
            "stripe_publishable_key" => self.stripe_publishable_key.clone(),
            "stripe_api_base" => self.stripe_api_base.clone(),
            "stripe_js_url" => self.stripe_js_url.clone(),
            "twilio_account_sid" => self.twilio_account_sid.clone(),
            "twilio_auth_token" => self.twilio_auth_token.clone(),
            "twilio_from" => self.twilio_from.clone(),
            "twilio_api_base" => self.twilio_api_base.clone(),
            "trusted_proxies" => self.trusted_proxies.clone(),
            "api_requests_per_minute" => self.api_requests_per_minute.as_ref().map(toml_text),
            _ => None,
        }
    }
}

/// Twilio needs its account id, token and sender together; any one alone is
/// a mistake worth stopping for.
fn parse_twilio(raw: &dyn Fn(&str) -> Option<Raw>) -> Result<Option<crate::sms::TwilioSettings>, ConfigError> {
    let (sid, token, from) =
        (raw("SETTLE_TWILIO_ACCOUNT_SID"), raw("SETTLE_TWILIO_AUTH_TOKEN"), raw("SETTLE_TWILIO_FROM"));
    let api_base = raw("SETTLE_TWILIO_API_BASE");
    let (sid, token, from) = match (sid, token, from) {
        (None, None, None) => {
            return match api_base {
                Some(r) => Err(invalid(&r, "set SETTLE_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM too")),
                None => Ok(None),
            }
        }
        (Some(sid), Some(token), Some(from)) => (sid, token, from),
        (sid, token, from) => {
            let missing: Vec<&str> = [
                ("SETTLE_TWILIO_ACCOUNT_SID", sid.is_none()),
                ("SETTLE_TWILIO_AUTH_TOKEN", token.is_none()),
                ("SETTLE_TWILIO_FROM", from.is_none()),
            ]
            .into_iter()
            .filter(|(_, m)| *m)
            .map(|(n, _)| n)
            .collect();
            return Err(ConfigError::Invalid {
                setting: "SETTLE_TWILIO_*".into(),
                value: "(incomplete)".into(),
                reason: format!("text messages need the account id, auth token and sender: set {}", missing.join(", ")),
            });
        }
    };
    let account_sid = sid.value.trim().to_string();
    if !account_sid.starts_with("AC")
        || account_sid.len() < 10
        || !account_sid.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(invalid(&sid, "expected a Twilio account id (AC followed by letters and digits)"));
    }
    let auth_token = token.value.trim().to_string();
    if auth_token.len() < 16 {
        return Err(ConfigError::Invalid {
            setting: token.source,
            value: "(hidden)".into(),
            reason: "expected the account's auth token (32 characters)".into(),
        });
    }
    let sender = from.value.trim().to_string();
    let is_service = sender.starts_with("MG") && sender.chars().all(|c| c.is_ascii_alphanumeric());
    if !is_service && app::server::settings::sms_number(&sender).as_deref() != Some(sender.as_str()) {
        return Err(invalid(
            &from,
            "expected a sender number in international form (+15550102030) or a messaging service id (MG…)",
        ));
    }
    let api_base = match api_base {
        Some(r) => parse_http_url(&r)?,
        None => url::Url::parse("https://api.twilio.com").expect("valid"),
    };
    Ok(Some(crate::sms::TwilioSettings { api_base, account_sid, auth_token, from: sender }))
}

/// A number may be written as a TOML number or a string.
fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One raw value and where it came from, for error messages.
struct Raw {
    value: String,
    source: String,
}

impl Config {
    /// Reads the real process environment and, if `SETTLE_CONFIG` or
    /// `file` names one, a TOML file.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Config::from_sources(&env, file)
    }

    pub fn from_sources(env: &HashMap<String, String>, file: Option<&Path>) -> Result<Config, ConfigError> {
        for name in env.keys().filter(|k| k.starts_with("SETTLE_")) {
            if !NOT_SETTINGS.contains(&name.as_str()) && !SETTINGS.iter().any(|(e, _)| e == name) {
                return Err(ConfigError::UnknownEnv(name.clone()));
            }
        }
        let file_path = file.map(Path::to_path_buf).or_else(|| env.get("SETTLE_CONFIG").map(PathBuf::from));
        let file_settings = match &file_path {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        let raw = |env_name: &str| -> Option<Raw> {
            let key = SETTINGS.iter().find(|(e, _)| *e == env_name).map(|(_, k)| *k).unwrap_or("");
            if let Some(v) = env.get(env_name) {
                return Some(Raw { value: v.clone(), source: env_name.to_string() });
            }
            file_settings.get(key).map(|value| Raw {
                value,
                source: format!("{key} (in {})", file_path.as_deref().unwrap_or(Path::new("?")).display()),
            })
        };

        let data_dir = match raw("SETTLE_DATA_DIR") {
            Some(r) if r.value.trim().is_empty() => return Err(invalid(&r, "must not be empty")),
            Some(r) => PathBuf::from(r.value),
            None => PathBuf::from("data"),
        };

        let database_url = match raw("SETTLE_DATABASE_URL")
            .or_else(|| env.get("DATABASE_URL").map(|v| Raw { value: v.clone(), source: "DATABASE_URL".into() }))
        {
            Some(r) => parse_database_url(&r)?,
            None => format!("sqlite://{}?mode=rwc", data_dir.join("settle.db").display()),
        };

        let listen = match raw("SETTLE_LISTEN") {
            Some(r) => r
                .value
                .parse::<SocketAddr>()
                .map_err(|_| invalid(&r, "expected an address and port such as 127.0.0.1:3000 or [::1]:3000"))?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        let base_url = match raw("SETTLE_BASE_URL") {
            Some(r) => parse_base_url(&r)?,
            None => url::Url::parse(&format!("http://{listen}")).expect("a socket address forms a valid URL"),
        };

        let site_root = match raw("SETTLE_SITE_ROOT") {
            Some(r) if r.value.trim().is_empty() => return Err(invalid(&r, "must not be empty")),
            Some(r) => r.value,
            None => "target/site".to_string(),
        };

        let log = match raw("SETTLE_LOG") {
            Some(r) => {
                tracing_subscriber::EnvFilter::try_new(&r.value)
                    .map_err(|e| invalid(&r, &format!("not a log filter ({e}); try info or settle=debug,info")))?;
                r.value
            }
            None => "info".to_string(),
        };

        let db_max_connections = match raw("SETTLE_DB_MAX_CONNECTIONS") {
            Some(r) => match r.value.trim().parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => n,
                _ => return Err(invalid(&r, "expected a whole number from 1 to 1000")),
            },
            None => default_pool_size(cpu_count()),
        };

        let smtp_url = match raw("SETTLE_SMTP_URL") {
            Some(r) => Some(parse_smtp_url(&r)?),
            None => None,
        };

        let mail_from = match raw("SETTLE_MAIL_FROM") {
            Some(r) => {
                let v = r.value.trim().to_string();
                if v.parse::<lettre::Address>().is_err() {
                    return Err(invalid(&r, "expected an email address such as billing@pay.example.com"));
                }
                v
            }
            None => format!("no-reply@{}", base_url.host_str().unwrap_or("localhost")),
        };

        let sandbox_latency_ms = match raw("SETTLE_SANDBOX_LATENCY_MS") {
            Some(r) => match r.value.trim().parse::<u64>() {
                Ok(n) if n <= 10_000 => n,
                _ => return Err(invalid(&r, "expected milliseconds from 0 to 10000")),
            },
            None => 0,
        };

        let stripe = match (raw("SETTLE_STRIPE_SECRET_KEY"), raw("SETTLE_STRIPE_PUBLISHABLE_KEY")) {
            (None, None) => None,
            (Some(secret), Some(publishable)) => {
                let secret_key = secret.value.trim().to_string();
                if !(secret_key.starts_with("sk_") || secret_key.starts_with("rk_")) || secret_key.len() < 8 {
                    return Err(ConfigError::Invalid {
                        setting: secret.source,
                        value: "(hidden)".into(),
                        reason: "expected a Stripe secret key (sk_live_…, sk_test_… or a restricted rk_… key)".into(),
                    });
                }
                let publishable_key = publishable.value.trim().to_string();
                if !publishable_key.starts_with("pk_") {
                    return Err(invalid(&publishable, "expected a Stripe publishable key (pk_live_… or pk_test_…)"));
                }
                let api_base = match raw("SETTLE_STRIPE_API_BASE") {
                    Some(r) => parse_http_url(&r)?,
                    None => url::Url::parse("https://api.stripe.com").expect("valid"),
                };
                Some(StripeConfig { secret_key, publishable_key, api_base })
            }
            (Some(r), None) | (None, Some(r)) => {
                let missing = if r.source.contains("SECRET") || r.source.contains("secret") {
                    "SETTLE_STRIPE_PUBLISHABLE_KEY"
                } else {
                    "SETTLE_STRIPE_SECRET_KEY"
                };
                return Err(ConfigError::Invalid {
                    setting: r.source,
                    value: "(hidden)".into(),
                    reason: format!("Stripe needs both keys: set {missing} too"),
                });
            }
        };
        let stripe_js_url = match raw("SETTLE_STRIPE_JS_URL") {
            Some(r) => parse_http_url(&r)?,
            None => url::Url::parse("https://js.stripe.com/v3/").expect("valid"),
        };

        let twilio = parse_twilio(&raw)?;

        let dunning = match raw("SETTLE_DUNNING") {
            Some(r) => match r.value.trim() {
                "on" | "true" | "1" => true,
                "off" | "false" | "0" => false,
                _ => return Err(invalid(&r, "expected on or off")),
            },
            None => true,
        };

        let trusted_proxies = match raw("SETTLE_TRUSTED_PROXIES") {
            Some(r) => parse_ip_list(&r)?,
            None => Vec::new(),
        };

        let api_requests_per_minute = match raw("SETTLE_API_REQUESTS_PER_MINUTE") {
            Some(r) => match r.value.trim().parse::<u32>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n,
                _ => return Err(invalid(&r, "expected a whole number from 1 to 1000000")),
            },
            None => 600,
        };

        Ok(Config {
            api_requests_per_minute,
            trusted_proxies,
            twilio,
            dunning,
            stripe,
            stripe_js_url,
            database_url,
            data_dir,
            listen,
            base_url,
            site_root,
            log,
            db_max_connections,
            smtp_url,
            mail_from,
            sandbox_latency_ms,
        })
    }

    /// Cookies get `Secure` and the `__Host-` prefix only over https.
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// The database URL with any password replaced, for logs.
    pub fn database_url_redacted(&self) -> String {
        match url::Url::parse(&self.database_url) {
            Ok(mut u) if u.password().is_some() => {
                let password = u.password().unwrap_or_default().to_string();
                let _ = u.set_password(Some("***"));
                // The same text elsewhere in a mistyped URL is hidden too
                // (found by the fuzz target: a path repeating the password).
                u.to_string().replace(&password, "***")
            }
            _ => self.database_url.clone(),
        }
    }

    /// The SQLite file's directory, if the database is SQLite.
    pub fn sqlite_dir(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite://").or_else(|| self.database_url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        Path::new(path).parent().map(Path::to_path_buf)
    }
}

fn invalid(r: &Raw, reason: &str) -> ConfigError {
    ConfigError::Invalid { setting: r.source.clone(), value: r.value.clone(), reason: reason.to_string() }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })?;
    toml::from_str(&text).map_err(|e| ConfigError::File { path: path.display().to_string(), reason: e.to_string() })
}

/// `10.0.0.2, 10.0.0.3` (commas, spaces or both; empty means none).
fn parse_ip_list(r: &Raw) -> Result<Vec<std::net::IpAddr>, ConfigError> {
    r.value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse().map_err(|_| {
                invalid(r, &format!("{s:?} is not an IP address; list the proxies' addresses, e.g. 10.0.0.2, ::1"))
            })
        })
        .collect()
}

fn parse_database_url(r: &Raw) -> Result<String, ConfigError> {
    let v = r.value.trim();
    if v.starts_with("sqlite:") {
        return Ok(v.to_string());
    }
    if v.starts_with("postgres://") || v.starts_with("postgresql://") {
        let u = url::Url::parse(v).map_err(|e| ConfigError::Invalid {
            setting: r.source.clone(),
            // Never echo a URL that may contain a password.
            value: "(hidden)".into(),
            reason: format!("not a valid URL: {e}"),
        })?;
        if u.host_str().is_none() {
            return Err(ConfigError::Invalid {
                setting: r.source.clone(),
                value: "(hidden)".into(),
                reason: "a PostgreSQL URL needs a host".into(),
            });
        }
        return Ok(v.to_string());
    }
    Err(ConfigError::Invalid {
        setting: r.source.clone(),
        value: "(hidden)".into(),
        reason: "expected sqlite://path/to/file.db?mode=rwc or postgres://user@host/db".into(),
    })
}

/// The CPUs this process may run on (1 when the system can't say).
pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The pool's size unless configured: two connections per CPU core, at
/// least 4. More only queue inside the database: on this project's 2-core
/// machine, with PostgreSQL alongside, a pool of 4 gave the account page a
/// p99 of 18–21 ms under load where 10 gave 26–30 ms (scripts/load.sh).
pub fn default_pool_size(cpus: usize) -> u32 {
    (2 * cpus).clamp(4, 1000) as u32
}

fn parse_smtp_url(r: &Raw) -> Result<String, ConfigError> {
    let hidden = |reason: &str| ConfigError::Invalid {
        setting: r.source.clone(),
        value: "(hidden)".into(),
        reason: reason.to_string(),
    };
    let u = url::Url::parse(r.value.trim()).map_err(|e| hidden(&format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "smtp" | "smtps") {
        return Err(hidden("expected smtp://host:port or smtps://user:password@host"));
    }
    if u.host_str().is_none() {
        return Err(hidden("an SMTP URL needs a host"));
    }
    Ok(r.value.trim().to_string())
}

fn parse_http_url(r: &Raw) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(r.value.trim()).map_err(|e| invalid(r, &format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(invalid(r, "expected an https:// URL"));
    }
    Ok(u)
}

fn parse_base_url(r: &Raw) -> Result<url::Url, ConfigError> {
    let u = url::Url::parse(r.value.trim()).map_err(|e| invalid(r, &format!("not a URL ({e})")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(invalid(r, "must start with https:// (or http:// for local use)"));
    }
    if u.host_str().is_none() || u.path() != "/" || u.query().is_some() {
        return Err(invalid(r, "expected an origin only, such as https://pay.example.com"));
    }
    Ok(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_need_no_settings() {
        let c = Config::from_sources(&env(&[]), None).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url, "sqlite://data/settle.db?mode=rwc");
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:3000/");
        assert!(!c.is_https());
    }

    #[test]
    fn environment_overrides_file_and_database_url_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settle.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:4000\"\nlog = \"debug\"\n").unwrap();
        let c = Config::from_sources(
            &env(&[("SETTLE_LISTEN", "127.0.0.1:5000"), ("DATABASE_URL", "postgres://u:pw@db.internal/settle")]),
            Some(&file),
        )
        .unwrap();
        assert_eq!(c.listen.port(), 5000);
        assert_eq!(c.log, "debug");
        assert_eq!(c.database_url, "postgres://u:pw@db.internal/settle");
        assert!(!c.database_url_redacted().contains("pw"));
    }

    #[test]
    fn twilio_needs_all_three_settings_and_keeps_the_token_out_of_errors() {
        let token = "f00dfeedf00dfeedf00dfeedf00dfeed";
        let sid = "AC0123456789abcdef0123456789abcdef";
        let err = Config::from_sources(&env(&[("SETTLE_TWILIO_AUTH_TOKEN", token)]), None).unwrap_err().to_string();
        assert!(err.contains("SETTLE_TWILIO_ACCOUNT_SID") && err.contains("SETTLE_TWILIO_FROM"), "{err}");
        assert!(!err.contains(token), "{err}");
        let bad_from = [
            ("SETTLE_TWILIO_ACCOUNT_SID", sid),
            ("SETTLE_TWILIO_AUTH_TOKEN", token),
            ("SETTLE_TWILIO_FROM", "555-0100"),
        ];
        let err = Config::from_sources(&env(&bad_from), None).unwrap_err().to_string();
        assert!(err.contains("SETTLE_TWILIO_FROM") && err.contains("international"), "{err}");
        let good = [
            ("SETTLE_TWILIO_ACCOUNT_SID", sid),
            ("SETTLE_TWILIO_AUTH_TOKEN", token),
            ("SETTLE_TWILIO_FROM", "+15550100"),
        ];
        let c = Config::from_sources(&env(&good), None).unwrap();
        let t = c.twilio.expect("configured");
        assert_eq!(t.api_base.as_str(), "https://api.twilio.com/");
        assert!(!format!("{t:?}").contains(token));
    }

    #[test]
    fn the_redacted_database_url_never_shows_the_password() {
        let c =
            Config::from_sources(&env(&[("SETTLE_DATABASE_URL", "postgres://u:hunter2secret@db/x")]), None).unwrap();
        assert_eq!(c.database_url_redacted(), "postgres://u:***@db/x");
        let typo = "postgres://u:hunter2secret@db//x:hunter2secret@db2/y";
        let c = Config::from_sources(&env(&[("SETTLE_DATABASE_URL", typo)]), None).unwrap();
        assert!(!c.database_url_redacted().contains("hunter2secret"), "{}", c.database_url_redacted());
    }

    #[test]
    fn trusted_proxies_are_a_list_of_addresses() {
        let c = Config::from_sources(&env(&[("SETTLE_TRUSTED_PROXIES", "10.0.0.2, ::1 10.0.0.3")]), None).unwrap();
        assert_eq!(c.trusted_proxies.len(), 3);
        let e = Config::from_sources(&env(&[("SETTLE_TRUSTED_PROXIES", "10.0.0.0/8")]), None).unwrap_err();
        assert!(e.to_string().contains("SETTLE_TRUSTED_PROXIES") && e.to_string().contains("not an IP address"), "{e}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = Config::from_sources(&env(&[("SETTLE_LISTEN", "not-an-address")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_LISTEN"), "{err}");
        let err = Config::from_sources(&env(&[("SETTLE_DB_MAX_CONNECTIONS", "0")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_DB_MAX_CONNECTIONS"), "{err}");
        let err = Config::from_sources(&env(&[("SETTLE_BASE_URL", "ftp://x")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_BASE_URL"), "{err}");
        let err = Config::from_sources(&env(&[("DATABASE_URL", "mysql://root:secret@x/y")]), None).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
        assert!(!err.to_string().contains("secret"), "password leaked: {err}");
        let err = Config::from_sources(&env(&[("SETTLE_SMTP_URL", "http://user:secret@x")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_SMTP_URL") && !err.to_string().contains("secret"), "{err}");
        let err = Config::from_sources(&env(&[("SETTLE_MAIL_FROM", "not an address")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_MAIL_FROM"), "{err}");
        let err = Config::from_sources(&env(&[("SETTLE_LISTN", "127.0.0.1:1")]), None).unwrap_err();
        assert!(err.to_string().contains("SETTLE_LISTN"), "{err}");
    }

    #[test]
    fn bad_file_values_name_the_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settle.toml");
        std::fs::write(&file, "db_max_connections = \"lots\"\n").unwrap();
        let err = Config::from_sources(&env(&[]), Some(&file)).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("db_max_connections") && msg.contains("settle.toml"), "{msg}");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let err = Config::from_sources(&env(&[]), Some(&file)).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn the_default_pool_has_two_connections_per_core_and_at_least_four() {
        assert_eq!(default_pool_size(1), 4);
        assert_eq!(default_pool_size(2), 4);
        assert_eq!(default_pool_size(8), 16);
        let config = Config::from_sources(&env(&[]), None).unwrap();
        assert_eq!(config.db_max_connections, default_pool_size(cpu_count()));
    }
}
