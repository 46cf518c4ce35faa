//! One destination and its send loop (Prometheus's `sendLoop`): it waits for alerts in
//! its [`Queue`], takes batches of at most 64, turns each into requests (one for an
//! Alertmanager; one per group for a webhook), and POSTs each with a per-request
//! timeout, retrying by the [`RetryPolicy`]. A request that succeeded is never sent
//! again, so a group retried after failures reaches its receiver once. Destinations
//! run concurrently: one that fails or hangs holds up only its own queue.

use super::alert::Alert;
use super::config::{Credentials, RetryPolicy, Target};
use super::metrics::{Counters, Snapshot};
use super::queue::Queue;
use super::webhook::Receiver;
use crate::agent::sinks::error::SendError;
use crate::agent::sinks::http::{HttpClient, HttpConfigError, HttpRequest, HttpSettings};
use crate::agent::sinks::retry::{Retry, TokioSleeper};
use reqwest::header::{HeaderMap, HeaderValue};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio_util::sync::CancellationToken;

/// What the destination speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Alertmanager,
    Webhook(Receiver),
}

/// A destination: its URL, client, queue and counters.
#[derive(Debug)]
pub struct Destination {
    pub kind: Kind,
    pub url: String,
    client: HttpClient,
    /// The `Authorization` header's source, read for every request.
    credentials: Option<Credentials>,
    pub queue: Queue,
    pub counters: Counters,
}

/// A destination that cannot be set up, named by its URL.
#[derive(Debug, thiserror::Error)]
#[error("notification target {url}: {source}")]
pub struct TargetError {
    pub url: String,
    #[source]
    pub source: HttpConfigError,
}

impl Destination {
    pub fn new(kind: Kind, target: &Target, capacity: usize) -> Result<Self, TargetError> {
        let fail = |source| TargetError {
            url: target.url.clone(),
            source,
        };
        let url = reqwest::Url::parse(&target.url).map_err(|e| fail(config_error("url", e)))?;
        if let Some(c) = &target.authorization {
            authorization(c).map_err(|e| fail(config_error("authorization", e)))?;
        }
        let tls = &target.tls;
        let (ca_certificates, identity) =
            (tls.parsed()).map_err(|e| fail(config_error("tls_config", e)))?;
        let settings = HttpSettings {
            url,
            timeout: target.timeout,
            headers: HeaderMap::new(),
            ca_certificates,
            identity,
            accept_invalid_certs: tls.insecure_skip_verify,
        };
        Ok(Destination {
            kind,
            url: target.url.clone(),
            client: HttpClient::new(settings).map_err(fail)?,
            credentials: target.authorization.clone(),
            queue: Queue::new(capacity),
            counters: Counters::default(),
        })
    }

    /// The metrics label this destination is reported under.
    pub fn label(&self) -> &'static str {
        match self.kind {
            Kind::Alertmanager => "alertmanager",
            Kind::Webhook(_) => "webhook",
        }
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            label: self.label(),
            url: &self.url,
            counters: &self.counters,
            queue_length: self.queue.len(),
            queue_dropped: self.queue.dropped(),
        }
    }

    /// The requests for one batch: (alerts in it, body, what to log it as).
    fn requests(&self, batch: &[Arc<Alert>]) -> Vec<(usize, Vec<u8>, String)> {
        match &self.kind {
            Kind::Alertmanager => {
                vec![(batch.len(), super::alertmanager::body(batch), String::new())]
            }
            Kind::Webhook(receiver) => receiver
                .notifications(batch, SystemTime::now())
                .into_iter()
                .map(|n| (n.alerts, n.body, n.group_key))
                .collect(),
        }
    }
}

fn config_error(field: &str, msg: impl ToString) -> HttpConfigError {
    HttpConfigError {
        field: field.into(),
        msg: msg.to_string(),
    }
}

/// Sends what `dest` queues until `stop`; then sends what is left once each.
pub async fn run(dest: Arc<Destination>, policy: RetryPolicy, stop: CancellationToken) {
    let mut retry = Retry::new(policy.backoff, TokioSleeper, stop.clone());
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            () = dest.queue.wait() => {}
        }
        while let Some(batch) = dest.queue.next_batch() {
            deliver(&dest, &batch, policy.attempts, &mut retry).await;
        }
    }
    while let Some(batch) = dest.queue.next_batch() {
        deliver(&dest, &batch, 1, &mut retry).await;
    }
}

async fn deliver(dest: &Destination, batch: &[Arc<Alert>], attempts: u32, retry: &mut Retry) {
    for (count, body, group) in dest.requests(batch) {
        let request = HttpRequest {
            body: body.into(),
            content_type: "application/json",
            content_encoding: None,
        };
        if let Err(e) = post(dest, &request, count, attempts, retry).await {
            Counters::add(&dest.counters.dropped, count);
            tracing::error!(url = %dest.url, count, group = %group, error = %e,
                "Dropped alert notifications after the last attempt failed.");
        }
    }
}

/// POSTs until a 2xx, an error not worth retrying, `attempts` tries, or shutdown.
async fn post(
    dest: &Destination,
    request: &HttpRequest,
    count: usize,
    attempts: u32,
    retry: &mut Retry,
) -> Result<(), SendError> {
    let mut attempt = 0;
    loop {
        let begin = Instant::now();
        let header = dest.credentials.as_ref().map(authorization).transpose();
        let sent = match header {
            Ok(header) => dest.client.send_with(request, header).await,
            Err(e) => Err(SendError::Encode(e)),
        };
        let error = match sent {
            Ok(_) => {
                dest.counters.observe(begin.elapsed().as_secs_f64());
                Counters::add(&dest.counters.sent, count);
                return Ok(());
            }
            Err(e) => e,
        };
        Counters::add(&dest.counters.errors, count);
        attempt += 1;
        if !error.is_retryable() || attempt >= attempts {
            return Err(error);
        }
        tracing::warn!(url = %dest.url, count, attempt, error = %error,
            "Error sending alert notifications; retrying.");
        if retry.wait(attempt - 1, error.retry_after()).await.is_err() {
            return Err(error); // shutdown during the wait
        }
    }
}

/// The `Authorization` header as the credentials stand now, marked sensitive.
fn authorization(c: &Credentials) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::try_from(c.read()?.header())
        .map_err(|_| "the credentials are not a valid header value".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}
