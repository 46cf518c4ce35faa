//! The HTTP side of a sink's settings, in two stages (STYLE 6): [`HttpConfig`] is what
//! users write (YAML, unknown fields refused, documented defaults); [`HttpConfig::validate`]
//! checks it once at start-up into [`HttpSettings`], failing with the field's name, so a
//! typo in a URL, a header or a CA file stops the agent instead of every batch.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Certificate, Url};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use thiserror::Error;

/// A sink's HTTP settings as written in the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// The URL requests go to (`http://` or `https://`).
    pub url: String,
    /// The longest one attempt may take, connecting and reading the answer included.
    /// Default 30s. Retries are not bounded in number, only each attempt in time.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Credentials sent with every request.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// A PEM file of CA certificates trusted besides the system's roots (an in-cluster
    /// Loki or Elasticsearch with a private CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Extra headers on every request (e.g. `X-Scope-OrgID` for a multi-tenant Loki).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// `auth: {bearer_token: ...}` or `auth: {basic: {username: ..., password: ...}}`,
/// exactly one of the two.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    #[serde(default)]
    pub bearer_token: Option<String>,
    #[serde(default)]
    pub basic: Option<BasicAuth>,
}

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: String,
    pub password: String,
}

/// Secrets stay out of debug output and logs.
impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let token = self.bearer_token.as_ref().map(|_| "<redacted>");
        let user = self.basic.as_ref().map(|b| &b.username);
        f.debug_struct("AuthConfig")
            .field("bearer_token", &token)
            .field("basic_username", &user)
            .finish_non_exhaustive()
    }
}

/// Settings that cannot be used, named by their field.
#[derive(Debug, Error)]
#[error("invalid sink {field}: {msg}")]
pub struct HttpConfigError {
    pub field: String,
    pub msg: String,
}

fn invalid<T>(field: impl Into<String>, msg: impl ToString) -> Result<T, HttpConfigError> {
    Err(HttpConfigError {
        field: field.into(),
        msg: msg.to_string(),
    })
}

/// Validated settings: a parsed URL, headers that are legal on the wire (auth
/// included, marked sensitive), the CA certificates read and parsed.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub url: Url,
    pub timeout: Duration,
    pub headers: HeaderMap,
    pub ca_certificates: Vec<Certificate>,
    /// A client certificate and key presented to the server (the notifier's
    /// `tls_config.cert_file`; the agent's sinks have none).
    pub identity: Option<reqwest::Identity>,
    /// The server's certificate is not checked (`insecure_skip_verify`).
    pub accept_invalid_certs: bool,
}

impl HttpConfig {
    /// A config for `url` with every other field at its default.
    pub fn new(url: impl Into<String>) -> Self {
        HttpConfig {
            url: url.into(),
            timeout: default_timeout(),
            auth: None,
            ca_file: None,
            headers: BTreeMap::new(),
        }
    }

    pub fn validate(&self) -> Result<HttpSettings, HttpConfigError> {
        if self.timeout.is_zero() {
            return invalid("timeout", "must be greater than zero");
        }
        let mut headers = extra_headers(&self.headers)?;
        if let Some(auth) = &self.auth {
            headers.insert(reqwest::header::AUTHORIZATION, auth.header_value()?);
        }
        Ok(HttpSettings {
            url: parse_url(&self.url)?,
            timeout: self.timeout,
            headers,
            ca_certificates: self.ca_file.as_ref().map_or(Ok(Vec::new()), read_ca)?,
            identity: None,
            accept_invalid_certs: false,
        })
    }
}

fn parse_url(url: &str) -> Result<Url, HttpConfigError> {
    let parsed = Url::parse(url).or_else(|e| invalid("url", format!("{url:?}: {e}")))?;
    match parsed.scheme() {
        "http" | "https" if parsed.has_host() => Ok(parsed),
        "http" | "https" => invalid("url", format!("{url:?} has no host")),
        other => invalid(
            "url",
            format!("{url:?}: scheme {other:?} is not http or https"),
        ),
    }
}

fn extra_headers(headers: &BTreeMap<String, String>) -> Result<HeaderMap, HttpConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let field = || format!("headers.{name}");
        let n = HeaderName::try_from(name.as_str()).or_else(|e| invalid(field(), e))?;
        if n == reqwest::header::AUTHORIZATION {
            return invalid(field(), "set credentials with auth, not as a header");
        }
        let v = HeaderValue::try_from(value.as_str()).or_else(|e| invalid(field(), e))?;
        map.insert(n, v);
    }
    Ok(map)
}

impl AuthConfig {
    fn header_value(&self) -> Result<HeaderValue, HttpConfigError> {
        let (field, text) = match (&self.bearer_token, &self.basic) {
            (Some(_), Some(_)) => return invalid("auth", "set bearer_token or basic, not both"),
            (None, None) => return invalid("auth", "set bearer_token or basic"),
            (Some(token), None) if token.trim().is_empty() => {
                return invalid("auth.bearer_token", "is empty")
            }
            (Some(token), None) => ("auth.bearer_token", format!("Bearer {token}")),
            (None, Some(b)) if b.username.contains(':') => {
                return invalid("auth.basic.username", "must not contain ':'")
            }
            (None, Some(b)) => {
                let pair = format!("{}:{}", b.username, b.password);
                ("auth.basic", format!("Basic {}", base64(pair.as_bytes())))
            }
        };
        let mut value = HeaderValue::try_from(text)
            .or_else(|_| invalid(field, "holds a character not allowed in a header"))?;
        value.set_sensitive(true);
        Ok(value)
    }

    pub fn bearer(token: impl Into<String>) -> Self {
        AuthConfig {
            bearer_token: Some(token.into()),
            basic: None,
        }
    }

    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        AuthConfig {
            bearer_token: None,
            basic: Some(BasicAuth {
                username: username.into(),
                password: password.into(),
            }),
        }
    }
}

/// Standard base64 with padding (RFC 4648 §4), for basic auth (the `base64` crate,
/// which the servers' basic-auth check decodes with).
pub fn base64(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(input)
}

fn read_ca(path: &PathBuf) -> Result<Vec<Certificate>, HttpConfigError> {
    let where_ = path.display();
    let pem = std::fs::read(path).or_else(|e| invalid("ca_file", format!("{where_}: {e}")))?;
    let certs = Certificate::from_pem_bundle(&pem)
        .or_else(|e| invalid("ca_file", format!("{where_}: {e}")))?;
    if certs.is_empty() {
        return invalid("ca_file", format!("{where_} holds no PEM certificate"));
    }
    Ok(certs)
}
