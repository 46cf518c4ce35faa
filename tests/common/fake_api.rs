//! A fake Kubernetes API server over real HTTP (hyper 1): `/api/v1/pods`,
//! `/api/v1/namespaces`, `/api/v1/endpoints` and `/api/v1/services`, each answering a
//! list (PodList / NamespaceList / ... with
//! `metadata.resourceVersion`) or, with `watch=true`, a chunked stream of watch events,
//! one JSON object per `\n`-terminated line, held open until the test closes it. The
//! pod `fieldSelector=spec.nodeName=<node>` is honoured on lists and watches. Tests
//! script events (ADDED / MODIFIED / DELETED / BOOKMARK / ERROR 410), raw chunks split
//! mid-line, and read the request log; every other path answers a 404 Status (and is
//! logged, so a per-pod GET shows).

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[path = "fake_api_http.rs"]
mod http;

pub const PODS: &str = "pods";
pub const NAMESPACES: &str = "namespaces";
pub const ENDPOINTS: &str = "endpoints";
pub const SERVICES: &str = "services";

/// The `kind` of a served collection's objects.
pub fn kind(resource: &str) -> &'static str {
    match resource {
        PODS => "Pod",
        NAMESPACES => "Namespace",
        ENDPOINTS => "Endpoints",
        _ => "Service",
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Logged {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_watch(&self) -> bool {
        self.param("watch") == Some("true")
    }

    /// The served collection asked for, else None.
    pub fn resource(&self) -> Option<&'static str> {
        match self.path.as_str() {
            "/api/v1/pods" => Some(PODS),
            "/api/v1/namespaces" => Some(NAMESPACES),
            "/api/v1/endpoints" => Some(ENDPOINTS),
            "/api/v1/services" => Some(SERVICES),
            _ => None,
        }
    }
}

struct Watch {
    node: Option<String>,
    tx: mpsc::UnboundedSender<Bytes>,
}

#[derive(Default)]
struct Collection {
    items: Vec<Value>,
    watches: Vec<Watch>,
}

#[derive(Default)]
struct State {
    rv: u64,
    collections: std::collections::BTreeMap<String, Collection>,
    log: Vec<Logged>,
    /// Watch requests still to answer with this HTTP error status instead of a stream.
    failing_watches: Option<(u16, usize)>,
}

impl State {
    fn collection(&mut self, resource: &str) -> &mut Collection {
        self.collections.entry(resource.to_owned()).or_default()
    }

    fn next_rv(&mut self) -> String {
        self.rv += 1;
        self.rv.to_string()
    }
}

/// The running server; stops accepting when dropped.
pub struct FakeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.accept.abort();
        let mut s = self.state.lock().expect("state");
        for c in s.collections.values_mut() {
            c.watches.clear();
        }
    }
}

impl FakeApi {
    pub async fn start() -> FakeApi {
        Self::serve(TcpListener::bind("127.0.0.1:0").await.expect("bind")).await
    }

    /// On a given port (the "API server comes up later" case).
    pub async fn start_on(port: u16) -> FakeApi {
        let listener = TcpListener::bind(("127.0.0.1", port)).await;
        Self::serve(listener.unwrap_or_else(|e| panic!("binding port {port} again: {e}"))).await
    }

    async fn serve(listener: TcpListener) -> FakeApi {
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State {
            rv: 100,
            ..State::default()
        }));
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(http::handle(&state, req)) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new();
                    let _ = conn.serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        FakeApi {
            addr,
            state,
            accept,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("state"))
    }

    /// Replaces what a list answers (no events are sent).
    pub fn set_items(&self, resource: &str, items: Vec<Value>) {
        self.with(|s| {
            let items = items
                .into_iter()
                .map(|mut o| {
                    o["metadata"]["resourceVersion"] = json!(s.next_rv());
                    o
                })
                .collect();
            s.collection(resource).items = items;
        });
    }

    /// Sends `kind` (ADDED / MODIFIED / DELETED) for `object` to every open watch of
    /// `resource` and updates what a list answers accordingly.
    pub fn event(&self, resource: &str, kind: &str, mut object: Value) {
        self.with(|s| {
            object["metadata"]["resourceVersion"] = json!(s.next_rv());
            let c = s.collection(resource);
            let key = |o: &Value| o["metadata"]["uid"].clone();
            c.items.retain(|o| key(o) != key(&object));
            if kind != "DELETED" {
                c.items.push(object.clone());
            }
            let mut typed = object.clone();
            typed["kind"] = json!(self::kind(resource));
            typed["apiVersion"] = json!("v1");
            let line = json!({"type": kind, "object": typed});
            broadcast(c, Some(&object), line_bytes(&line));
        });
    }

    /// Sends `bytes` as one chunk to every open watch of `resource` (lines split across
    /// chunks, garbage).
    pub fn raw(&self, resource: &str, bytes: &[u8]) {
        self.with(|s| broadcast(s.collection(resource), None, Bytes::copy_from_slice(bytes)));
    }

    /// A BOOKMARK with a new resourceVersion; returns it.
    pub fn bookmark(&self, resource: &str) -> String {
        self.with(|s| {
            let rv = s.next_rv();
            let line = json!({"type": "BOOKMARK", "object": {"kind": kind(resource), "apiVersion": "v1",
                "metadata": {"resourceVersion": rv, "creationTimestamp": null}}});
            broadcast(s.collection(resource), None, line_bytes(&line));
            rv
        })
    }

    /// The watch cache's "too old resource version": an in-stream ERROR 410, then the
    /// stream ends (what the real API server does).
    pub fn expire(&self, resource: &str) {
        self.with(|s| {
            let line = json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                "metadata": {}, "status": "Failure", "reason": "Expired", "code": 410,
                "message": format!("too old resource version: 1 ({})", s.rv)}});
            let c = s.collection(resource);
            broadcast(c, None, line_bytes(&line));
            c.watches.clear();
        });
    }

    /// Answers the next `n` watch requests with HTTP `code` and a Status body.
    pub fn fail_watches(&self, code: u16, n: usize) {
        self.with(|s| s.failing_watches = Some((code, n)));
    }

    /// Ends every open watch of `resource` (as at timeoutSeconds).
    pub fn close_watches(&self, resource: &str) {
        self.with(|s| s.collection(resource).watches.clear());
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.with(|s| s.log.clone())
    }

    /// Requests of `resource` that were watches (`true`) or lists (`false`).
    pub fn count(&self, resource: &str, watch: bool) -> usize {
        let log = self.requests();
        log.iter()
            .filter(|r| r.resource() == Some(resource) && r.is_watch() == watch)
            .count()
    }

    /// Waits (generously) until at least `n` watch requests of `resource` are open
    /// or were made.
    pub async fn wait_watches(&self, resource: &str, n: usize) {
        let open = || self.with(|s| s.collection(resource).watches.len());
        wait_for(
            || open() >= 1 && self.count(resource, true) >= n,
            "watch requests",
        )
        .await;
    }
}

/// Polls `cond` every 10 ms for up to 30 s (a loaded 2-core machine), then panics.
pub async fn wait_for(mut cond: impl FnMut() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn line_bytes(v: &Value) -> Bytes {
    let mut line = serde_json::to_vec(v).expect("json");
    line.push(b'\n');
    Bytes::from(line)
}

/// Sends to the watches whose node selector matches `object` (all when `None`); drops
/// closed ones.
fn broadcast(c: &mut Collection, object: Option<&Value>, bytes: Bytes) {
    c.watches.retain(|w| match (object, &w.node) {
        (Some(o), Some(node)) if !on_node(o, node) => !w.tx.is_closed(),
        _ => w.tx.send(bytes.clone()).is_ok(),
    });
}

fn on_node(object: &Value, node: &str) -> bool {
    object["spec"]["nodeName"].as_str() == Some(node)
}
