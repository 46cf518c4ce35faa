//! The HTTP client the sinks send with: one `reqwest` client per sink (connection pool,
//! TLS with rustls and the system's roots plus an optional private CA, the configured
//! credentials and headers, `User-Agent: nodepulse/<version>`), and the mapping of what
//! happened on the wire to [`SendError`], whose `is_retryable` decides what comes next.
//! One call is one attempt; the retry loops are the sinks' (`loki::send`,
//! `elasticsearch::send`).

mod config;
#[cfg(test)]
mod tests;

pub use config::{base64, AuthConfig, BasicAuth, HttpConfig, HttpConfigError, HttpSettings};

use super::error::SendError;
use super::retry_after;
use bytes::Bytes;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER};
use reqwest::Url;
use std::time::{Duration, SystemTime};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("nodepulse/", env!("CARGO_PKG_VERSION"));

/// The most of an answer's body that is read: a `_bulk` answer for 10,000 documents
/// with `filter_path` is well under 1 MiB; a proxy's error page is cut here.
pub const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// How much of an error answer goes into a log line or a rejection.
pub const SNIPPET_BYTES: usize = 512;

/// One request body and the headers that describe it. The body is shared, so each
/// retry sends it again without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub body: Bytes,
    pub content_type: &'static str,
    pub content_encoding: Option<&'static str>,
}

/// What the sink answered: any status, its `Retry-After` parsed, the body (capped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error this answer stands for, `None` for a 2xx.
    pub fn error(&self) -> Option<SendError> {
        (!self.is_success()).then_some(SendError::Status {
            status: self.status,
            retry_after: self.retry_after,
        })
    }

    /// The start of the body as text, for a log line.
    pub fn snippet(&self) -> String {
        let end = self.body.len().min(SNIPPET_BYTES);
        String::from_utf8_lossy(&self.body[..end]).into_owned()
    }
}

/// A client for one sink URL.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    url: Url,
}

impl HttpClient {
    /// Validates `config` and builds the client; errors name the field at fault.
    pub fn from_config(config: &HttpConfig) -> Result<Self, HttpConfigError> {
        Self::new(config.validate()?)
    }

    pub fn new(settings: HttpSettings) -> Result<Self, HttpConfigError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(settings.headers)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A proxy from the environment would be a surprise on a node agent.
            .no_proxy()
            // Idle pooled connections outlive a load balancer's idle cut-off otherwise.
            .pool_idle_timeout(Duration::from_secs(30));
        for cert in settings.ca_certificates {
            builder = builder.add_root_certificate(cert);
        }
        if let Some(identity) = settings.identity {
            builder = builder.identity(identity);
        }
        builder = builder.danger_accept_invalid_certs(settings.accept_invalid_certs);
        let client = builder.build().map_err(|e| HttpConfigError {
            field: "ca_file".into(),
            msg: chain(&e),
        })?;
        Ok(HttpClient {
            client,
            url: settings.url,
        })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// One attempt: POSTs `request` and returns the answer whatever its status; only a
    /// failure to get an answer is an error (connection, timeout).
    pub async fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        self.exchange_with(request, None).await
    }

    /// [`Self::exchange`] with an `Authorization` header of this request's own (one
    /// read afresh from a credentials file), over the client's.
    pub async fn exchange_with(
        &self,
        request: &HttpRequest,
        authorization: Option<HeaderValue>,
    ) -> Result<HttpResponse, SendError> {
        let mut builder = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, request.content_type)
            .body(request.body.clone());
        if let Some(encoding) = request.content_encoding {
            builder = builder.header(CONTENT_ENCODING, encoding);
        }
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value);
        }
        let response = builder.send().await.map_err(send_error)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| retry_after::parse(v.as_bytes(), SystemTime::now()));
        let body = read_capped(response).await?;
        Ok(HttpResponse {
            status,
            retry_after,
            body,
        })
    }

    /// One attempt, with any status other than 2xx as [`SendError::Status`].
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, SendError> {
        self.send_with(request, None).await
    }

    /// [`Self::send`] with a request's own `Authorization` header.
    pub async fn send_with(
        &self,
        request: &HttpRequest,
        authorization: Option<HeaderValue>,
    ) -> Result<HttpResponse, SendError> {
        let response = self.exchange_with(request, authorization).await?;
        match response.error() {
            None => Ok(response),
            Some(e) => Err(e),
        }
    }
}

/// The body up to [`MAX_RESPONSE_BYTES`]; the rest is not read (the connection is
/// dropped rather than reused).
async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, SendError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(send_error)? {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() == MAX_RESPONSE_BYTES {
            // Not silent: an answer this long is a proxy's page or a misbehaving sink.
            tracing::warn!(
                limit = MAX_RESPONSE_BYTES,
                "The sink's answer is longer than the limit; the rest is not read."
            );
            break;
        }
    }
    Ok(body.into())
}

/// What went wrong on the wire, as the sink contract's error.
fn send_error(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        SendError::Timeout
    } else if e.is_builder() {
        SendError::Encode(chain(&e))
    } else {
        // Connect, or the connection broke mid-request or mid-answer.
        SendError::Connect(chain(&e))
    }
}

/// The error and its causes on one line: reqwest's own message alone ("error sending
/// request") hides whether it was a refused connection, DNS or TLS.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
