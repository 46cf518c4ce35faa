//! How the notifier proves itself to a destination and whom it trusts, with
//! Prometheus's HTTP client keys: `basic_auth` (`username`, then `password` or
//! `password_file`) beside `authorization` (at most one of the two), and `tls_config`
//! with `ca_file`, a PEM bundle trusted besides the system's roots (an Alertmanager
//! behind a private CA), `cert_file` and `key_file` (a client certificate, for an
//! Alertmanager that asks for one) and `insecure_skip_verify`. `tls_config`'s other keys
//! (`server_name`, `min_version`, inline certificates) are refused as unknown rather
//! than ignored. Secrets are read here, and what is shown keeps them out.

use super::{invalid, ConfigError, FILE};
use crate::agent::sinks::http::base64;
use crate::aggregator::notify::{Authorization, Tls};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Prometheus's `basic_auth`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthFile {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// Prometheus's `tls_config`, as far as it is supported.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFile {
    pub ca_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

/// `tls_config` read and checked: the CA bundle, the client certificate with its key.
pub fn tls(t: Option<&TlsFile>, key: &'static str) -> Result<Tls, ConfigError> {
    Ok(Tls {
        ca_pem: ca_pem(t, key)?,
        identity_pem: identity_pem(t, key)?,
        insecure_skip_verify: t.and_then(|t| t.insecure_skip_verify).unwrap_or(false),
    })
}

/// `cert_file` and `key_file` (both or neither, as Prometheus wants them) read and
/// checked to make a client identity; their PEM, certificate first.
fn identity_pem(t: Option<&TlsFile>, key: &'static str) -> Result<Option<Vec<u8>>, ConfigError> {
    let (cert, private) = match t.map(|t| (&t.cert_file, &t.key_file)) {
        None | Some((None, None)) => return Ok(None),
        Some((Some(c), Some(k))) => (c, k),
        Some((Some(c), None)) => {
            let msg = format!("client cert file {:?} specified without client key file", c);
            return Err(invalid(key, FILE, msg));
        }
        Some((None, Some(k))) => {
            let msg = format!("client key file {:?} specified without client cert file", k);
            return Err(invalid(key, FILE, msg));
        }
    };
    let read = |p: &PathBuf| {
        std::fs::read(p).map_err(|e| invalid(key, FILE, format!("reading {}: {e}", p.display())))
    };
    let mut pem = read(cert)?;
    pem.push(b'\n');
    pem.extend(read(private)?);
    reqwest::Identity::from_pem(&pem).map_err(|e| {
        let (c, k) = (cert.display(), private.display());
        invalid(
            key,
            FILE,
            format!("{c} and {k}: not a certificate and its key: {e}"),
        )
    })?;
    Ok(Some(pem))
}

/// The `Authorization` header: from `authorization` or from `basic_auth`, not both.
pub fn either(
    authorization: Option<Authorization>,
    basic: Option<Authorization>,
    key: &'static str,
) -> Result<Option<Authorization>, ConfigError> {
    match (authorization, basic) {
        (Some(_), Some(_)) => Err(invalid(
            key,
            FILE,
            "at most one of basic_auth, oauth2 & authorization must be configured",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// `basic_auth` as a `Basic` header; an inline password becomes `<secret>` for display.
pub fn basic_auth(
    b: Option<&mut BasicAuthFile>,
    key: &'static str,
) -> Result<Option<Authorization>, ConfigError> {
    let Some(b) = b else { return Ok(None) };
    if b.username.contains(':') {
        return Err(invalid(key, FILE, "the username must not contain ':'"));
    }
    let password = match (&b.password, &b.password_file) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                key,
                FILE,
                "at most one of basic_auth password & password_file must be configured",
            ))
        }
        (Some(p), None) => p.clone(),
        // trimmed, as Prometheus trims it (and as `credentials_file` is here)
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| invalid(key, FILE, format!("reading {}: {e}", path.display())))?
            .trim()
            .to_owned(),
        (None, None) => String::new(),
    };
    if b.password.is_some() {
        b.password = Some("<secret>".into());
    }
    let pair = format!("{}:{password}", b.username);
    Ok(Some(Authorization {
        kind: "Basic".into(),
        credentials: base64(pair.as_bytes()),
    }))
}

/// `tls_config.ca_file` read and checked to hold PEM certificates.
fn ca_pem(t: Option<&TlsFile>, key: &'static str) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(path) = t.and_then(|t| t.ca_file.as_ref()) else {
        return Ok(None);
    };
    let at = path.display();
    let pem = std::fs::read(path).map_err(|e| invalid(key, FILE, format!("reading {at}: {e}")))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(Some(pem)),
        Ok(_) => Err(invalid(key, FILE, format!("{at} holds no PEM certificate"))),
        Err(e) => Err(invalid(key, FILE, format!("{at}: {e}"))),
    }
}
