//! The web configuration file (`--web.config.file`) in the Prometheus exporter
//! toolkit's shape, as node_exporter and Prometheus read it: `tls_server_config`
//! (`cert_file`, `key_file`, `client_auth_type`, `client_ca_file`, `min_version`,
//! `max_version`), `http_server_config` (`headers`, `http2`) and `basic_auth_users`
//! (bcrypt hashes). What rustls cannot do as Go does is refused by name rather than
//! ignored: TLS 1.0 and 1.1, `cipher_suites`, `curve_preferences`, and the client-auth
//! types that take a certificate without verifying it.

use axum::http::{HeaderName, HeaderValue};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<TlsFile>,
    #[serde(default)]
    http_server_config: HttpFile,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFile {
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    client_auth_type: Option<String>,
    client_ca_file: Option<PathBuf>,
    min_version: Option<String>,
    max_version: Option<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpFile {
    /// HTTP/2 is not served (HTTP/1.1 only); the key is taken as node_exporter's files
    /// carry it.
    #[allow(dead_code)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// The checked configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebConfig {
    pub tls: Option<TlsConfig>,
    /// User → bcrypt hash; empty: no basic auth.
    pub users: BTreeMap<String, String>,
    /// Added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// `tls_server_config` checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_auth: ClientAuth,
    pub client_ca_file: Option<PathBuf>,
    /// TLS 1.2 allowed (else 1.3 only).
    pub tls12: bool,
    /// TLS 1.3 allowed (else 1.2 only).
    pub tls13: bool,
}

/// Go's `tls.ClientAuthType`s that rustls can honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    NoClientCert,
    /// A certificate, if sent, must verify against `client_ca_file`.
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// The headers the toolkit lets a file set.
const HEADERS: [&str; 5] = [
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "X-XSS-Protection",
    "Content-Security-Policy",
];

impl WebConfig {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<WebConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        WebConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Checks a document; relative file names stay relative to the working directory.
    pub fn parse(yaml: &str) -> Result<WebConfig, String> {
        let file: File = if yaml.trim().is_empty() {
            File::default()
        } else {
            serde_norway::from_str(yaml).map_err(|e| e.to_string())?
        };
        for (user, hash) in &file.basic_auth_users {
            bcrypt_cost(hash).map_err(|e| format!("basic_auth_users.{user}: {e}"))?;
        }
        Ok(WebConfig {
            tls: file.tls_server_config.map(tls).transpose()?,
            users: file.basic_auth_users,
            headers: headers(file.http_server_config.headers)?,
        })
    }

    /// Every file the configuration names (their change reloads it).
    pub fn files(&self) -> Vec<PathBuf> {
        let Some(t) = &self.tls else {
            return Vec::new();
        };
        let mut files = vec![t.cert_file.clone(), t.key_file.clone()];
        files.extend(t.client_ca_file.clone());
        files
    }
}

/// `path` if it names nothing or a file that loads: a program checks its
/// `--web.config.file` at start (and [`super::Web`] loads it again to serve).
pub fn checked(path: Option<PathBuf>) -> Result<Option<PathBuf>, String> {
    if let Some(p) = &path {
        WebConfig::load(p)?;
    }
    Ok(path)
}

/// A bcrypt hash's cost, or why it is not one (`$2a$`, `$2b$`, `$2y$`).
fn bcrypt_cost(hash: &str) -> Result<u32, String> {
    hash.parse::<bcrypt::HashParts>()
        .map(|p| p.get_cost())
        .map_err(|e| format!("not a bcrypt hash: {e}"))
}

fn tls(t: TlsFile) -> Result<TlsConfig, String> {
    let at = |key: &str| format!("tls_server_config.{key}");
    let cert_file = t.cert_file.ok_or("missing cert_file")?;
    let key_file = t.key_file.ok_or("missing key_file")?;
    let refused = |key: &str, set: bool| match set {
        true => Err(format!(
            "{}: not supported (rustls chooses its own)",
            at(key)
        )),
        false => Ok(()),
    };
    refused("cipher_suites", !t.cipher_suites.is_empty())?;
    refused("curve_preferences", !t.curve_preferences.is_empty())?;
    let _ = t.prefer_server_cipher_suites;
    let client_auth = match t.client_auth_type.as_deref().unwrap_or("NoClientCert") {
        "NoClientCert" => ClientAuth::NoClientCert,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
        "RequestClientCert" | "RequireAnyClientCert" => {
            return Err(format!(
                "{}: {:?} takes a certificate without verifying it, which is not supported: use RequireAndVerifyClientCert",
                at("client_auth_type"),
                t.client_auth_type.unwrap_or_default()
            ))
        }
        other => return Err(format!("{}: invalid ClientAuth {other:?}", at("client_auth_type"))),
    };
    if client_auth != ClientAuth::NoClientCert && t.client_ca_file.is_none() {
        return Err(format!(
            "{}: client_ca_file is required with {client_auth:?}",
            at("client_auth_type")
        ));
    }
    let min = version(t.min_version.as_deref(), "TLS12", &at("min_version"))?;
    let max = version(t.max_version.as_deref(), "TLS13", &at("max_version"))?;
    if min > max {
        return Err(format!("{}: above max_version", at("min_version")));
    }
    Ok(TlsConfig {
        cert_file,
        key_file,
        client_auth,
        client_ca_file: t.client_ca_file,
        tls12: min <= 12,
        tls13: max >= 13,
    })
}

/// `TLS12` → 12, `TLS13` → 13; the older versions are refused (rustls has none).
fn version(v: Option<&str>, default: &str, key: &str) -> Result<u8, String> {
    match v.unwrap_or(default) {
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        old @ ("TLS10" | "TLS11") => Err(format!("{key}: {old} is not supported (TLS12 at least)")),
        other => Err(format!("{key}: unknown TLS version: {other}")),
    }
}

fn headers(h: BTreeMap<String, String>) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let mut out = Vec::new();
    for (name, value) in h {
        let Some(known) = HEADERS.iter().find(|k| k.eq_ignore_ascii_case(&name)) else {
            return Err(format!(
                "http_server_config.headers: HTTP header {name:?} can not be configured"
            ));
        };
        if value.is_empty() {
            continue;
        }
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("http_server_config.headers.{known}: not a header value"))?;
        // HEADERS are valid names.
        let name = HeaderName::from_bytes(known.as_bytes()).map_err(|e| e.to_string())?;
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
