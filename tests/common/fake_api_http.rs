//! The fake API server's HTTP side: the request log, list answers (filtered by the
//! pod field selector), chunked watch responses fed by a channel, Status errors.

use super::{kind, on_node, Logged, State, Watch};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Mutex;
use tokio::sync::mpsc;

type Body = BoxBody<Bytes, Infallible>;

pub(super) fn handle(state: &Mutex<State>, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let logged = Logged {
        method: req.method().to_string(),
        path: req.uri().path().to_owned(),
        query,
    };
    let mut s = state.lock().expect("state");
    s.log.push(logged.clone());
    let Some(resource) = logged.resource() else {
        return status(
            404,
            "NotFound",
            "the fake API server serves pod and namespace lists only",
        );
    };
    let node = logged
        .param("fieldSelector")
        .and_then(|f| f.strip_prefix("spec.nodeName="))
        .map(str::to_owned);
    if logged.is_watch() {
        if let Some((code, n)) = s.failing_watches.filter(|(_, n)| *n > 0) {
            s.failing_watches = Some((code, n - 1));
            return status(code, "InternalError", "scripted watch failure");
        }
        let (tx, rx) = mpsc::unbounded_channel();
        s.collection(resource).watches.push(Watch { node, tx });
        return watch_response(rx);
    }
    let rv = s.rv.to_string();
    let c = s.collection(resource);
    let items: Vec<&Value> = c
        .items
        .iter()
        .filter(|o| node.as_deref().is_none_or(|n| on_node(o, n)))
        .collect();
    let kind = format!("{}List", kind(resource));
    let list = json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": rv}, "items": items});
    json_response(200, &list)
}

fn watch_response(rx: mpsc::UnboundedReceiver<Bytes>) -> Response<Body> {
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), rx))
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(BodyExt::boxed(StreamBody::new(frames)))
        .expect("response")
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(v).expect("json"))).boxed())
        .expect("response")
}

fn status(code: u16, reason: &str, message: &str) -> Response<Body> {
    let s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    json_response(code, &s)
}
