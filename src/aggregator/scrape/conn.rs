//! A scrape loop's own HTTP/1.1 keep-alive connection to its target (plain http, no
//! proxy): the loop's scrapes go over it, and its end tells the loop that the target
//! closed it, so that a killed target is seen at once rather than a scrape interval
//! later (issue 7's time to detect). The request and the reading of the answer are
//! [`super::fetch`]'s: the same headers, status check, body limit, gzip, timeout and
//! error wording as the reqwest path that https targets and proxies keep.

use super::fetch::{
    append_limited, decode, error_chain, scrape_headers, BodyKind, FetchError, DEADLINE,
};
use crate::exposition::parse::Parsed;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The User-Agent of every scrape (the reqwest path's client sends the same).
pub const USER_AGENT: &str = concat!("nodepulse-aggregator/", env!("CARGO_PKG_VERSION"));

/// The environment variables that make reqwest send plain http through a proxy.
const PROXY_VARS: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

/// One target's connection: where it goes, and the live connection if there is one.
pub struct KeepAlive {
    url: String,
    /// `host:port` to connect to; `host` is the Host header.
    connect_to: String,
    host: String,
    path: String,
    live: Option<Live>,
    /// New connections that may still end unused and be reported (see [`Self::closed`]).
    unused_ends: u8,
}

/// An open connection: the handle to send on, the task driving it (it ends when the
/// peer closes the connection), and whether a scrape went over it.
struct Live {
    sender: SendRequest<Empty<Bytes>>,
    ended: JoinHandle<()>,
    used: bool,
}

impl Drop for Live {
    fn drop(&mut self) {
        // A connection dropped mid-answer (a timeout) must not linger.
        self.ended.abort();
    }
}

impl KeepAlive {
    /// A connection for `url`, or None when the scrape stays with reqwest: https, a
    /// proxy in the environment, credentials in the URL, or a URL that is not http's.
    pub fn for_url(url: &str) -> Option<KeepAlive> {
        let proxied = PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|p| !p.is_empty()));
        if proxied {
            return None;
        }
        let (connect_to, host, path) = plain_http(url)?;
        Some(KeepAlive {
            url: url.to_owned(),
            connect_to,
            host,
            path,
            live: None,
            unused_ends: 0,
        })
    }

    /// One scrape within `timeout`, reading at most `limit` bytes (after inflating). A
    /// failed scrape drops the connection: its state is unknown.
    pub async fn fetch(
        &mut self,
        timeout: Duration,
        limit: u64,
        authorization: Option<&str>,
    ) -> Result<Parsed, FetchError> {
        let get = self.get(timeout, limit, authorization);
        let result = tokio::time::timeout(timeout, get).await;
        let result = result.unwrap_or_else(|_| Err(FetchError::Http(DEADLINE.into())));
        if result.is_err() {
            self.live = None;
        }
        result
    }

    /// Opens a new connection in place of the live one (within `timeout`): Ok when the
    /// target accepted it.
    pub async fn reconnect(&mut self, timeout: Duration) -> Result<(), FetchError> {
        self.live = None;
        let live = tokio::time::timeout(timeout, self.connect()).await;
        self.live = Some(live.unwrap_or_else(|_| Err(FetchError::Http(DEADLINE.into())))?);
        Ok(())
    }

    /// Resolves when the live connection ended (the target closed it) after it carried
    /// a scrape, or once more after that: a reconnection accepted by a dying target's
    /// backlog ends unused too. Beyond that a connection that ends unused is let go
    /// quietly (a server closing idle connections; the next scrape connects anew), and
    /// then, as with no connection, this never resolves.
    pub async fn closed(&mut self) {
        let Some(live) = self.live.as_mut() else {
            return std::future::pending().await;
        };
        let _ = (&mut live.ended).await;
        let used = live.used;
        self.live = None;
        if used {
            self.unused_ends = 1;
        } else if self.unused_ends > 0 {
            self.unused_ends -= 1;
        } else {
            std::future::pending::<()>().await;
        }
    }

    async fn get(
        &mut self,
        timeout: Duration,
        limit: u64,
        authorization: Option<&str>,
    ) -> Result<Parsed, FetchError> {
        let resp = self.send(timeout, authorization).await?;
        let status = resp.status();
        if status != StatusCode::OK {
            return Err(FetchError::Status(status.to_string()));
        }
        let kind = BodyKind::of(resp.headers());
        let raw = self.read_limited(resp.into_body(), limit).await?;
        decode(raw, kind, limit)
    }

    /// Sends the GET over the live connection; when there is none, or it fails before
    /// an answer (closed by the peer as the request went out), over a new one. GET is
    /// idempotent: Go's client, hence Prometheus, retries the same way.
    async fn send(
        &mut self,
        timeout: Duration,
        authorization: Option<&str>,
    ) -> Result<Response<Incoming>, FetchError> {
        let req = self.request(timeout, authorization)?;
        if let Some(live) = self.live.as_mut().filter(|l| !l.sender.is_closed()) {
            live.used = true;
            match live.sender.send_request(req).await {
                Ok(resp) => return Ok(resp),
                Err(e) => tracing::debug!(target = %self.url, error = %e,
                    "The kept connection failed; scraping over a new one."),
            }
        }
        self.live = None;
        let mut live = self.connect().await?;
        live.used = true;
        let sent = (live.sender)
            .send_request(self.request(timeout, authorization)?)
            .await;
        self.live = Some(live);
        sent.map_err(|e| self.http_error(&e))
    }

    async fn connect(&self) -> Result<Live, FetchError> {
        let stream = tokio::net::TcpStream::connect(&self.connect_to)
            .await
            .map_err(|e| {
                let why = format!("client error (Connect): tcp connect error: {e}");
                FetchError::Http(format!("{}: {why}", self.sending()))
            })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.http_error(&e))?;
        let ended = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Live {
            sender,
            ended,
            used: false,
        })
    }

    fn request(
        &self,
        timeout: Duration,
        authorization: Option<&str>,
    ) -> Result<Request<Empty<Bytes>>, FetchError> {
        let mut req = Request::get(self.path.as_str())
            .header("Host", self.host.as_str())
            .header("User-Agent", USER_AGENT);
        for (name, value) in scrape_headers(timeout, authorization) {
            req = req.header(name, value);
        }
        req.body(Empty::new())
            .map_err(|e| FetchError::Http(format!("{}: {e}", self.sending())))
    }

    /// Reads the whole body, failing as soon as it passes `limit` bytes.
    async fn read_limited(&self, mut body: Incoming, limit: u64) -> Result<Vec<u8>, FetchError> {
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| self.http_error(&e))?;
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            append_limited(&mut out, &chunk, limit)?;
        }
        Ok(out)
    }

    fn sending(&self) -> String {
        format!("error sending request for url ({})", self.url)
    }

    fn http_error(&self, e: &hyper::Error) -> FetchError {
        FetchError::Http(format!("{}: {}", self.sending(), error_chain(e)))
    }
}

/// A plain http URL's address to connect to (`host:port`, port 80 by default), Host
/// header and origin-form target; None for other schemes and URLs with credentials.
fn plain_http(url: &str) -> Option<(String, String, String)> {
    let uri: http::Uri = url.parse().ok()?;
    let authority = uri.authority()?;
    if uri.scheme_str() != Some("http") || authority.as_str().contains('@') {
        return None;
    }
    let host = match authority.host() {
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_owned(),
    };
    Some((
        format!("{host}:{}", authority.port_u16().unwrap_or(80)),
        authority.as_str().to_owned(),
        uri.path_and_query().map_or("/", |p| p.as_str()).to_owned(),
    ))
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
