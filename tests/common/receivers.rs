//! Loki and Elasticsearch stand-ins for the sink tests: real HTTP servers on
//! 127.0.0.1 that decode what the agent sends with the real schemas (snappy block +
//! `logproto.PushRequest`, JSON optionally gzipped; `_bulk` NDJSON line by line), answer
//! from a script (statuses, `Retry-After`, per-item bulk statuses, 413 above a size),
//! record everything, and can be stopped (connections refused) and restarted on the same
//! port. Also a plain JSON endpoint for webhooks and Alertmanager's API.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use flate2::read::GzDecoder;
use nodepulse::agent::sinks::loki::proto::PushRequest;
use prost::Message;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status for the whole request, with a `Retry-After` value if given.
    Status(u16, Option<&'static str>),
    /// `_bulk`: 200 with these per-item statuses (missing ones 201).
    Items(Vec<u16>),
}

/// What a receiver got in one request.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    /// Loki: the decoded push request. ES: every document line, parsed.
    pub push: Option<PushRequest>,
    pub json: Option<Value>,
    /// ES: every action line, parsed (one per document, in order).
    pub actions: Vec<Value>,
    pub docs: Vec<Value>,
    /// The status answered.
    pub status: u16,
    /// The JSON endpoint: the request's path.
    pub path: String,
}

#[derive(Default)]
pub struct Script {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
    /// ES: documents answered 2xx, in order (exactly-once checks).
    accepted: Mutex<Vec<Value>>,
    /// ES: answer 413 to a request of more documents than this.
    max_docs: Mutex<Option<usize>>,
}

impl Script {
    pub fn push(&self, reply: Reply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// What was received from the `start`th request on (to read incrementally).
    /// The JSON bodies received whose `status` is `status` (webhook payloads).
    pub fn json_with_status(&self, status: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter_map(|r| r.json)
            .filter(|p| p["status"] == status)
            .collect()
    }

    pub fn received_from(&self, start: usize) -> Vec<Received> {
        let received = self.received.lock().unwrap();
        received
            .get(start..)
            .map_or_else(Vec::new, <[Received]>::to_vec)
    }

    pub fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap().clone()
    }

    pub fn set_max_docs(&self, n: usize) {
        *self.max_docs.lock().unwrap() = Some(n);
    }

    fn next(&self) -> Option<Reply> {
        self.replies.lock().unwrap().pop_front()
    }
}

/// A running receiver; stop and restart keep the port.
pub struct Receiver {
    pub addr: SocketAddr,
    pub script: Arc<Script>,
    router: Router,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Receiver {
    /// A Loki push endpoint (any path).
    pub async fn loki() -> Receiver {
        let script = Arc::new(Script::default());
        let router = Router::new().fallback(loki).with_state(script.clone());
        Receiver::start(router, script).await
    }

    /// An Elasticsearch `_bulk` endpoint (any path).
    pub async fn elasticsearch() -> Receiver {
        let script = Arc::new(Script::default());
        let router = Router::new().fallback(bulk).with_state(script.clone());
        Receiver::start(router, script).await
    }

    /// A JSON endpoint (any path): a webhook, or Alertmanager's `/api/v2/alerts`.
    /// Answers 200 unless scripted otherwise.
    pub async fn json() -> Receiver {
        let script = Arc::new(Script::default());
        let router = Router::new().fallback(json_post).with_state(script.clone());
        Receiver::start(router, script).await
    }

    async fn start(router: Router, script: Arc<Script>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = Receiver {
            addr,
            script,
            router,
            running: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: TcpListener) {
        let (tx, rx) = oneshot::channel::<()>();
        let app = self.router.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        self.running = Some((tx, task));
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes the listener and every connection: new connections are refused.
    pub async fn stop(&mut self) {
        if let Some((tx, task)) = self.running.take() {
            let _ = tx.send(());
            task.await.unwrap();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

fn gunzip_if(headers: &HeaderMap, body: &[u8]) -> Vec<u8> {
    if header(headers, "content-encoding") != "gzip" {
        return body.to_vec();
    }
    let mut out = Vec::new();
    GzDecoder::new(body).read_to_end(&mut out).unwrap();
    out
}

/// Scripted status answer, or `ok` when the script says nothing.
fn scripted(script: &Script, ok: u16) -> Response {
    match script.next() {
        Some(Reply::Status(status, retry_after)) => status_reply(status, retry_after),
        Some(Reply::Items(_)) => panic!("per-item statuses scripted for Loki"),
        None => StatusCode::from_u16(ok).unwrap().into_response(),
    }
}

fn status_reply(status: u16, retry_after: Option<&'static str>) -> Response {
    let body =
        json!({"error": {"type": "scripted", "reason": "scripted answer"}, "status": status});
    let mut r = (StatusCode::from_u16(status).unwrap(), body.to_string()).into_response();
    if let Some(v) = retry_after {
        r.headers_mut().insert("retry-after", v.parse().unwrap());
    }
    r
}

async fn loki(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> Response {
    let (push, json) = match header(&headers, "content-type") {
        "application/x-protobuf" => {
            let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            (Some(PushRequest::decode(raw.as_slice()).unwrap()), None)
        }
        "application/json" => (
            None,
            Some(serde_json::from_slice(&gunzip_if(&headers, &body)).unwrap()),
        ),
        other => panic!("unexpected Content-Type {other:?}"),
    };
    let response = scripted(&script, 204);
    script.received.lock().unwrap().push(Received {
        headers,
        push,
        json,
        actions: Vec::new(),
        docs: Vec::new(),
        status: response.status().as_u16(),
        path: String::new(),
    });
    response
}

async fn json_post(
    State(script): State<Arc<Script>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    assert_eq!(header(&headers, "content-type"), "application/json");
    let json = serde_json::from_slice(&body).unwrap();
    let response = scripted(&script, 200);
    script.received.lock().unwrap().push(Received {
        headers,
        push: None,
        json: Some(json),
        actions: Vec::new(),
        docs: Vec::new(),
        status: response.status().as_u16(),
        path: uri.path().to_owned(),
    });
    response
}

/// Parses a `_bulk` body line by line: pairs of a `create` action and a document, every
/// line ending in a newline. Returns the actions and the documents.
fn bulk_lines(body: &[u8]) -> (Vec<Value>, Vec<Value>) {
    assert!(
        body.ends_with(b"\n"),
        "the bulk body must end with a newline"
    );
    let lines: Vec<&[u8]> = body[..body.len() - 1].split(|&b| b == b'\n').collect();
    assert_eq!(
        lines.len() % 2,
        0,
        "action and document lines come in pairs"
    );
    lines
        .chunks(2)
        .map(|pair| {
            let action: Value = serde_json::from_slice(pair[0]).unwrap();
            assert!(action["create"]["_index"].is_string(), "{action}");
            (action, serde_json::from_slice(pair[1]).unwrap())
        })
        .unzip()
}

async fn bulk(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> Response {
    assert_eq!(header(&headers, "content-type"), "application/x-ndjson");
    let (actions, docs) = bulk_lines(&gunzip_if(&headers, &body));
    let too_large = script
        .max_docs
        .lock()
        .unwrap()
        .is_some_and(|max| docs.len() > max);
    let (status, response, accepted) = if too_large {
        (413, status_reply(413, None), Vec::new())
    } else {
        match script.next() {
            Some(Reply::Status(status, retry_after)) => {
                (status, status_reply(status, retry_after), Vec::new())
            }
            Some(Reply::Items(statuses)) => items_reply(&docs, &statuses),
            None => items_reply(&docs, &[]),
        }
    };
    // The request is on record before its documents count as accepted: a test that
    // waits on `accepted` then reads `received` sees the request.
    script.received.lock().unwrap().push(Received {
        headers,
        push: None,
        json: None,
        actions,
        docs,
        status,
        path: String::new(),
    });
    script.accepted.lock().unwrap().extend(accepted);
    response
}

/// A 200 bulk reply with an item per document (`statuses`, 201 where missing), and the
/// documents it accepted.
fn items_reply(docs: &[Value], statuses: &[u16]) -> (u16, Response, Vec<Value>) {
    let mut items = Vec::new();
    let mut accepted = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let status = statuses.get(i).copied().unwrap_or(201);
        if (200..300).contains(&status) {
            accepted.push(doc.clone());
            items.push(json!({"create": {"status": status}}));
        } else {
            let kind = match status {
                429 => "es_rejected_execution_exception",
                _ => "mapper_parsing_exception",
            };
            let error = json!({"type": kind, "reason": "scripted"});
            items.push(json!({"create": {"status": status, "error": error}}));
        }
    }
    let errors = items.iter().any(|i| i["create"].get("error").is_some());
    let body = json!({"errors": errors, "items": items});
    (
        200,
        (StatusCode::OK, body.to_string()).into_response(),
        accepted,
    )
}
