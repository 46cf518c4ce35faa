//! Prometheus's HTTP client keys, shared by scrape jobs and the notifier's
//! destinations: `authorization` (a type, Bearer by default, and `credentials` or
//! `credentials_file`), `basic_auth` (`username`, then `password` or `password_file`),
//! at most one of the two, and `tls_config` with `ca_file` (a PEM bundle trusted besides
//! the system's roots), `cert_file` and `key_file` (a client certificate) and
//! `insecure_skip_verify`. `tls_config`'s other keys (`server_name`, `min_version`,
//! inline certificates) are refused as unknown rather than ignored. Checks use
//! Prometheus's wording; errors are plain messages that the caller places.
//!
//! [`Credentials`] say where a secret comes from. A file is read at load (to refuse a
//! missing one) and again by [`Credentials::read`] when a request is made, as Prometheus
//! reads it per request, so a rotated token (Kubernetes' projected service-account
//! tokens are renewed hourly) is picked up without a reload. What is shown keeps
//! secrets out.

use crate::agent::sinks::http::base64;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Prometheus's `authorization` as written.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationFile {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<PathBuf>,
}

/// Prometheus's `basic_auth` as written.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuthFile {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

/// Prometheus's `tls_config`, as far as it is supported.
#[derive(Debug, Default, Clone, PartialEq, Deserialize, Serialize)]
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

/// A client's settings: where its `Authorization` header comes from, and its TLS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Client {
    pub credentials: Option<Credentials>,
    pub tls: Tls,
}

/// The three keys as a scrape job shows them: secrets hidden, Prometheus's deprecated
/// `bearer_token` and `bearer_token_file` turned into the `authorization` they stand for.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ClientFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsFile>,
}

impl ClientFile {
    /// Folds `bearer_token` or `bearer_token_file` into `authorization`, refusing them
    /// beside it or beside `basic_auth`, in Prometheus's words.
    pub fn with_bearer(
        mut self,
        token: Option<String>,
        file: Option<PathBuf>,
    ) -> Result<ClientFile, String> {
        if token.is_none() && file.is_none() {
            return Ok(self);
        }
        if token.is_some() && file.is_some() {
            return Err(
                "at most one of bearer_token & bearer_token_file must be configured".into(),
            );
        }
        if self.basic_auth.is_some() {
            return Err("at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured".into());
        }
        if self.authorization.is_some() {
            return Err(
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            );
        }
        self.authorization = Some(AuthorizationFile {
            kind: Some("Bearer".into()),
            credentials: token,
            credentials_file: file,
        });
        Ok(self)
    }

    /// The keys checked (see [`client`]).
    pub fn compile(&mut self) -> Result<Client, (Key, String)> {
        client(
            self.authorization.as_mut(),
            self.basic_auth.as_mut(),
            self.tls_config.as_ref(),
        )
    }
}

/// Which key of a client's settings an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Authorization,
    BasicAuth,
    /// The entry as a whole: two keys that exclude each other.
    Entry,
    TlsConfig,
}

/// The three keys checked together; inline secrets become `<secret>` for display.
pub fn client(
    a: Option<&mut AuthorizationFile>,
    b: Option<&mut BasicAuthFile>,
    t: Option<&TlsFile>,
) -> Result<Client, (Key, String)> {
    let a = authorization(a).map_err(|e| (Key::Authorization, e))?;
    let b = basic_auth(b).map_err(|e| (Key::BasicAuth, e))?;
    Ok(Client {
        credentials: either(a, b).map_err(|e| (Key::Entry, e))?,
        tls: tls(t).map_err(|e| (Key::TlsConfig, e))?,
    })
}

impl Client {
    /// The `Authorization` header's value now, if there is one.
    pub fn header(&self) -> Result<Option<String>, String> {
        let read = self.credentials.as_ref().map(Credentials::read);
        Ok(read.transpose()?.map(|a| a.header()))
    }

    /// A reqwest client with `user_agent` and the TLS settings, or None when the
    /// defaults do (a shared client serves).
    pub fn reqwest(&self, user_agent: &str) -> Result<Option<reqwest::Client>, String> {
        if self.tls.is_default() {
            return Ok(None);
        }
        let builder = self
            .tls
            .apply(reqwest::Client::builder().user_agent(user_agent))?;
        builder.build().map(Some).map_err(|e| e.to_string())
    }
}

/// An `Authorization` header's type (`Bearer`, `Basic`) and credentials, as sent.
#[derive(Clone, PartialEq)]
pub struct Authorization {
    pub kind: String,
    pub credentials: String,
}

/// The credentials stay out of debug output and logs.
impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("kind", &self.kind)
            .field("credentials", &"<secret>")
            .finish()
    }
}

impl Authorization {
    /// The header's value: `Bearer <token>`.
    pub fn header(&self) -> String {
        format!("{} {}", self.kind, self.credentials)
    }
}

/// Where an `Authorization` header's secret comes from.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// `Bearer` (or another type) for `authorization`; `Basic` for `basic_auth`.
    kind: String,
    /// The user of `basic_auth`.
    username: Option<String>,
    secret: Secret,
}

#[derive(Clone, PartialEq)]
enum Secret {
    Inline(String),
    /// Read (and trimmed, as Prometheus trims it) on every [`Credentials::read`].
    File(PathBuf),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let from = match &self.secret {
            Secret::Inline(_) => "<secret>".to_owned(),
            Secret::File(p) => p.display().to_string(),
        };
        f.debug_struct("Credentials")
            .field("kind", &self.kind)
            .field("username", &self.username)
            .field("secret", &from)
            .finish()
    }
}

impl Credentials {
    /// Inline credentials of type `kind` (`Bearer`): `Authorization: <kind> <secret>`.
    pub fn inline(kind: &str, secret: &str) -> Credentials {
        Credentials {
            kind: kind.to_owned(),
            username: None,
            secret: Secret::Inline(secret.to_owned()),
        }
    }

    /// The header as it stands now (a file read afresh).
    pub fn read(&self) -> Result<Authorization, String> {
        let secret = match &self.secret {
            Secret::Inline(s) => s.clone(),
            Secret::File(path) => read_trimmed(path, self.what())?,
        };
        if self.username.is_none() && secret.is_empty() {
            return Err("the credentials are empty".into());
        }
        let credentials = match &self.username {
            Some(user) => base64(format!("{user}:{secret}").as_bytes()),
            None => secret,
        };
        Ok(Authorization {
            kind: self.kind.clone(),
            credentials,
        })
    }

    fn what(&self) -> &'static str {
        match self.username {
            Some(_) => "basic auth password file",
            None => "authorization credentials file",
        }
    }
}

fn read_trimmed(path: &PathBuf, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("unable to read {what} {}: {e}", path.display()))
}

/// `authorization` checked; inline credentials become `<secret>` for display.
pub fn authorization(a: Option<&mut AuthorizationFile>) -> Result<Option<Credentials>, String> {
    let Some(a) = a else { return Ok(None) };
    let kind = a.kind.get_or_insert_with(|| "Bearer".into()).clone();
    if kind.eq_ignore_ascii_case("basic") {
        return Err("authorization type cannot be set to \"basic\"".into());
    }
    let secret = match (&a.credentials, &a.credentials_file) {
        (Some(_), Some(_)) => {
            return Err("at most one of credentials and credentials_file must be configured".into())
        }
        (Some(c), None) => Secret::Inline(c.trim().to_owned()),
        (None, Some(path)) => Secret::File(path.clone()),
        (None, None) => return Err("set credentials_file or credentials".into()),
    };
    if a.credentials.is_some() {
        a.credentials = Some("<secret>".into());
    }
    checked(Credentials {
        kind,
        username: None,
        secret,
    })
}

/// `basic_auth` checked; an inline password becomes `<secret>` for display.
pub fn basic_auth(b: Option<&mut BasicAuthFile>) -> Result<Option<Credentials>, String> {
    let Some(b) = b else { return Ok(None) };
    if b.username.contains(':') {
        return Err("the username must not contain ':'".into());
    }
    let secret = match (&b.password, &b.password_file) {
        (Some(_), Some(_)) => {
            return Err(
                "at most one of basic_auth password & password_file must be configured".into(),
            )
        }
        (Some(p), None) => Secret::Inline(p.clone()),
        (None, Some(path)) => Secret::File(path.clone()),
        (None, None) => Secret::Inline(String::new()),
    };
    if b.password.is_some() {
        b.password = Some("<secret>".into());
    }
    checked(Credentials {
        kind: "Basic".into(),
        username: Some(b.username.clone()),
        secret,
    })
}

/// Credentials that can be read now (a missing file is refused at load).
fn checked(c: Credentials) -> Result<Option<Credentials>, String> {
    c.read()?;
    Ok(Some(c))
}

/// The `Authorization` header's source: `authorization` or `basic_auth`, not both.
pub fn either(
    authorization: Option<Credentials>,
    basic: Option<Credentials>,
) -> Result<Option<Credentials>, String> {
    match (authorization, basic) {
        (Some(_), Some(_)) => {
            Err("at most one of basic_auth, oauth2 & authorization must be configured".into())
        }
        (a, b) => Ok(a.or(b)),
    }
}

/// How requests speak TLS (Prometheus's `tls_config`), read and checked.
#[derive(Clone, Default, PartialEq)]
pub struct Tls {
    /// PEM certificates trusted besides the system's roots (`ca_file`).
    pub ca_pem: Option<Vec<u8>>,
    /// The client certificate and its private key, PEM (`cert_file`, `key_file`).
    pub identity_pem: Option<Vec<u8>>,
    /// `insecure_skip_verify`: the server's certificate is not checked.
    pub insecure_skip_verify: bool,
}

/// The private key stays out of debug output and logs.
impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("ca_pem", &self.ca_pem.as_ref().map(|p| p.len()))
            .field(
                "identity_pem",
                &self.identity_pem.as_ref().map(|_| "<secret>"),
            )
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

impl Tls {
    /// Whether requests need a client of their own (anything but the defaults).
    pub fn is_default(&self) -> bool {
        *self == Tls::default()
    }

    /// The CA's certificates and the client identity, as reqwest takes them.
    pub fn parsed(&self) -> Result<(Vec<reqwest::Certificate>, Option<reqwest::Identity>), String> {
        let cas = match &self.ca_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("tls_config.ca_file: {e}"))?,
            None => Vec::new(),
        };
        let identity = (self.identity_pem.as_deref())
            .map(reqwest::Identity::from_pem)
            .transpose()
            .map_err(|e| format!("tls_config.cert_file: {e}"))?;
        Ok((cas, identity))
    }

    /// A reqwest client builder trusting `ca_file`, presenting the client certificate
    /// and skipping verification as set.
    pub fn apply(&self, mut b: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder, String> {
        let (cas, identity) = self.parsed()?;
        for c in cas {
            b = b.add_root_certificate(c);
        }
        if let Some(id) = identity {
            b = b.identity(id);
        }
        Ok(b.danger_accept_invalid_certs(self.insecure_skip_verify))
    }
}

/// `tls_config` read and checked: the CA bundle, the client certificate with its key.
pub fn tls(t: Option<&TlsFile>) -> Result<Tls, String> {
    Ok(Tls {
        ca_pem: ca_pem(t)?,
        identity_pem: identity_pem(t)?,
        insecure_skip_verify: t.and_then(|t| t.insecure_skip_verify).unwrap_or(false),
    })
}

/// `cert_file` and `key_file` (both or neither, as Prometheus wants them) read and
/// checked to make a client identity; their PEM, certificate first.
fn identity_pem(t: Option<&TlsFile>) -> Result<Option<Vec<u8>>, String> {
    let (cert, private) = match t.map(|t| (&t.cert_file, &t.key_file)) {
        None | Some((None, None)) => return Ok(None),
        Some((Some(c), Some(k))) => (c, k),
        Some((Some(c), None)) => {
            return Err(format!(
                "client cert file {c:?} specified without client key file"
            ))
        }
        Some((None, Some(k))) => {
            return Err(format!(
                "client key file {k:?} specified without client cert file"
            ))
        }
    };
    let mut pem = read(cert)?;
    pem.push(b'\n');
    pem.extend(read(private)?);
    reqwest::Identity::from_pem(&pem).map_err(|e| {
        let (c, k) = (cert.display(), private.display());
        format!("{c} and {k}: not a certificate and its key: {e}")
    })?;
    Ok(Some(pem))
}

/// `tls_config.ca_file` read and checked to hold PEM certificates.
fn ca_pem(t: Option<&TlsFile>) -> Result<Option<Vec<u8>>, String> {
    let Some(path) = t.and_then(|t| t.ca_file.as_ref()) else {
        return Ok(None);
    };
    let pem = read(path)?;
    let at = path.display();
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(Some(pem)),
        Ok(_) => Err(format!("{at} holds no PEM certificate")),
        Err(e) => Err(format!("{at}: {e}")),
    }
}

fn read(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

#[cfg(test)]
mod tests;
