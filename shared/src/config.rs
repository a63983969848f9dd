//! Configuration read once at init from the environment.
use std::time::Duration;

/// Access tokens are short-lived: they cannot be revoked (docs/security.md).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(900);
pub const TOKEN_TTL_SECONDS: std::ops::RangeInclusive<u64> = 60..=3_600;
/// A refresh token expires this long after it is issued; every rotation issues a new one.
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 86_400);
pub const REFRESH_TTL_SECONDS: std::ops::RangeInclusive<u64> = 3_600..=365 * 86_400;
/// A session ends this long after its login, however often it is refreshed.
pub const DEFAULT_SESSION_MAX: Duration = Duration::from_secs(30 * 86_400);
pub const SESSION_MAX_SECONDS: std::ops::RangeInclusive<u64> = 3_600..=365 * 86_400;
pub const DEFAULT_JWT_ISSUER: &str = "blog-api";
pub const DEFAULT_JWT_AUDIENCE: &str = "blog-api-clients";
/// Where Google publishes the keys that sign its ID tokens.
pub const DEFAULT_GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Settings for issuing and verifying access tokens (the keys are in [`KeySource`]).
#[derive(Debug, Clone)]
pub struct TokenConfig {
    pub ttl: Duration,
    pub refresh_ttl: Duration,
    pub session_max: Duration,
    pub issuer: String,
    pub audience: String,
}

/// Where a function's token keys come from, as its environment says; read at init.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySource {
    /// `SIGNING_KEY_SECRET_ID`: the Secrets Manager secret holding the private JWK Set, for
    /// the functions that issue tokens.
    pub signing_key_secret_id: Option<String>,
    /// `TOKEN_PUBLIC_JWKS`: the public JWK Set as JSON, for the functions that verify them.
    pub public_jwks: Option<String>,
}

impl KeySource {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Self { signing_key_secret_id: set("SIGNING_KEY_SECRET_ID"), public_jwks: set("TOKEN_PUBLIC_JWKS") }
    }
}

/// Sign in with Google: the OAuth client IDs an ID token may be for (its `aud`), and
/// where Google's signing keys are. No client ID means Google sign-in is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoogleConfig {
    /// `GOOGLE_CLIENT_IDS`, comma-separated.
    pub client_ids: Vec<String>,
    /// `GOOGLE_JWKS_URL`: HTTPS, or plain HTTP to a loopback address (tests, local runs).
    pub jwks_url: String,
}

impl GoogleConfig {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let client_ids = lookup("GOOGLE_CLIENT_IDS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect();
        let jwks_url =
            lookup("GOOGLE_JWKS_URL").filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_GOOGLE_JWKS_URL.to_owned());
        if !is_https_or_loopback(&jwks_url) {
            return Err(ConfigError::Invalid {
                name: "GOOGLE_JWKS_URL",
                reason: format!("must be an https:// URL (or http:// to a loopback address), got {jwks_url:?}"),
            });
        }
        Ok(Self { client_ids, jwks_url })
    }
}

/// Keys fetched over plain HTTP could be anyone's: only a loopback server may be trusted so.
pub(crate) fn is_https_or_loopback(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _port)| host),
    };
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// What an account must have done before it may do some things.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountRules {
    /// `REQUIRE_VERIFIED_EMAIL` (`true` or `false`, the default): only accounts whose email
    /// is verified may create posts.
    pub require_verified_email: bool,
}

impl AccountRules {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let require_verified_email = match lookup("REQUIRE_VERIFIED_EMAIL").as_deref() {
            None | Some("" | "false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "REQUIRE_VERIFIED_EMAIL",
                    reason: format!("expected true or false, got {other:?}"),
                });
            }
        };
        Ok(Self { require_verified_email })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub token: TokenConfig,
    pub keys: KeySource,
    pub google: GoogleConfig,
    pub accounts: AccountRules,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name = lookup("TABLE_NAME").filter(|v| !v.is_empty()).ok_or(ConfigError::Missing("TABLE_NAME"))?;
        Ok(Self {
            table_name,
            token: TokenConfig::from_lookup(&lookup)?,
            keys: KeySource::from_lookup(&lookup),
            google: GoogleConfig::from_lookup(&lookup)?,
            accounts: AccountRules::from_lookup(&lookup)?,
        })
    }
}

impl TokenConfig {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let seconds = |name: &'static str, default: Duration, range: std::ops::RangeInclusive<u64>| match lookup(name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<u64>() {
                Ok(secs) if range.contains(&secs) => Ok(Duration::from_secs(secs)),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("expected whole seconds in {}..={}, got {raw:?}", range.start(), range.end()),
                }),
            },
        };
        let ttl = seconds("TOKEN_TTL_SECONDS", DEFAULT_TOKEN_TTL, TOKEN_TTL_SECONDS)?;
        let refresh_ttl = seconds("REFRESH_TTL_SECONDS", DEFAULT_REFRESH_TTL, REFRESH_TTL_SECONDS)?;
        let session_max = seconds("SESSION_MAX_SECONDS", DEFAULT_SESSION_MAX, SESSION_MAX_SECONDS)?;
        let non_empty_or =
            |name: &str, default: &str| lookup(name).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
        Ok(Self {
            ttl,
            refresh_ttl,
            session_max,
            issuer: non_empty_or("JWT_ISSUER", DEFAULT_JWT_ISSUER),
            audience: non_empty_or("JWT_AUDIENCE", DEFAULT_JWT_AUDIENCE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn defaults_apply() {
        let config = Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap();
        assert_eq!(config.table_name, "t");
        assert_eq!(config.token.ttl, Duration::from_secs(900));
        assert_eq!(config.token.refresh_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(config.token.issuer, DEFAULT_JWT_ISSUER);
        assert_eq!(config.token.audience, DEFAULT_JWT_AUDIENCE);
    }

    #[test]
    fn missing_values_are_named() {
        assert_eq!(Config::from_lookup(lookup(&[])).unwrap_err(), ConfigError::Missing("TABLE_NAME"));
    }

    #[test]
    fn the_key_source_is_what_the_environment_names() {
        let none = Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("TOKEN_PUBLIC_JWKS", "")])).unwrap();
        assert_eq!(none.keys, KeySource::default(), "a public route holds no key");
        let both = Config::from_lookup(lookup(&[
            ("TABLE_NAME", "t"),
            ("SIGNING_KEY_SECRET_ID", "arn:secret"),
            ("TOKEN_PUBLIC_JWKS", "{\"keys\": []}"),
        ]))
        .unwrap();
        assert_eq!(both.keys.signing_key_secret_id.as_deref(), Some("arn:secret"));
        assert_eq!(both.keys.public_jwks.as_deref(), Some("{\"keys\": []}"));
    }

    #[test]
    fn google_sign_in_is_off_without_client_ids_and_keys_come_from_https_or_loopback() {
        let google = |pairs: &[(&str, &str)]| GoogleConfig::from_lookup(lookup(pairs));
        let off = google(&[]).unwrap();
        assert!(off.client_ids.is_empty());
        assert_eq!(off.jwks_url, DEFAULT_GOOGLE_JWKS_URL);
        assert!(google(&[("GOOGLE_CLIENT_IDS", " , ")]).unwrap().client_ids.is_empty());
        let two = google(&[("GOOGLE_CLIENT_IDS", "web.apps.googleusercontent.com, ios.apps.googleusercontent.com")]);
        assert_eq!(two.unwrap().client_ids, ["web.apps.googleusercontent.com", "ios.apps.googleusercontent.com"]);
        for trusted in
            ["https://keys.example/certs", "http://127.0.0.1:8080/certs", "http://[::1]:9/c", "http://localhost/c"]
        {
            assert_eq!(google(&[("GOOGLE_JWKS_URL", trusted)]).unwrap().jwks_url, trusted);
        }
        for untrusted in ["http://keys.example/certs", "http://127.0.0.1.example/c", "ftp://127.0.0.1/c", "certs"] {
            let refused = google(&[("GOOGLE_JWKS_URL", untrusted)]);
            assert!(matches!(refused, Err(ConfigError::Invalid { name: "GOOGLE_JWKS_URL", .. })), "{untrusted}");
        }
    }

    #[test]
    fn verified_email_is_required_only_when_asked_for() {
        let rules = |value| AccountRules::from_lookup(lookup(&[("REQUIRE_VERIFIED_EMAIL", value)]));
        assert_eq!(AccountRules::from_lookup(lookup(&[])).unwrap(), AccountRules { require_verified_email: false });
        assert!(!rules("false").unwrap().require_verified_email && !rules("").unwrap().require_verified_email);
        assert!(rules("true").unwrap().require_verified_email);
        for bad in ["yes", "TRUE", "1"] {
            assert!(matches!(rules(bad), Err(ConfigError::Invalid { name: "REQUIRE_VERIFIED_EMAIL", .. })), "{bad}");
        }
    }

    #[test]
    fn ttl_is_parsed_and_bounded() {
        let with_ttl = |ttl| Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("TOKEN_TTL_SECONDS", ttl)]));
        assert_eq!(with_ttl("900").unwrap().token.ttl, Duration::from_secs(900));
        assert_eq!(with_ttl("3600").unwrap().token.ttl, Duration::from_secs(3600));
        for bad in ["0", "59", "3601", "86400"] {
            assert!(matches!(with_ttl(bad), Err(ConfigError::Invalid { name: "TOKEN_TTL_SECONDS", .. })), "{bad}");
        }
        assert!(matches!(with_ttl("ten"), Err(ConfigError::Invalid { .. })));
        let with_refresh_ttl = |ttl| Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("REFRESH_TTL_SECONDS", ttl)]));
        assert_eq!(with_refresh_ttl("3600").unwrap().token.refresh_ttl, Duration::from_secs(3600));
        for bad in ["3599", "31536001", "-1", ""] {
            assert!(matches!(with_refresh_ttl(bad), Err(ConfigError::Invalid { name: "REFRESH_TTL_SECONDS", .. })));
        }
        let with_session_max = |max| Config::from_lookup(lookup(&[("TABLE_NAME", "t"), ("SESSION_MAX_SECONDS", max)]));
        assert_eq!(with_session_max("86400").unwrap().token.session_max, Duration::from_secs(86_400));
        assert_eq!(Config::from_lookup(lookup(&[("TABLE_NAME", "t")])).unwrap().token.session_max, DEFAULT_SESSION_MAX);
        for bad in ["3599", "31536001", "forever"] {
            assert!(matches!(with_session_max(bad), Err(ConfigError::Invalid { name: "SESSION_MAX_SECONDS", .. })));
        }
    }
}
