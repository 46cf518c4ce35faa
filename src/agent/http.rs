//! The agent's HTTP server: `/metrics` (text 0.0.4 or OpenMetrics by `Accept`, gzip by
//! `Accept-Encoding`) and its three parts `/metrics/node`, `/metrics/cadvisor` and
//! `/metrics/kube-state` ([`Part`]), `/healthz`, `/readyz` and a small landing page;
//! over TLS and behind basic auth when `--web.config.file` says so ([`crate::web`]). It
//! takes a bound listener and a shutdown future, so tests bind `127.0.0.1:0`.

use super::{Agent, Part};
use crate::exposition::Format;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The probes' paths, served without basic auth (the kubelet sends no credentials).
pub const OPEN_PATHS: &[&str] = &["/healthz", "/readyz"];

/// Serves until `shutdown` completes, then finishes in-flight requests; over TLS and
/// with basic auth when `web` says so.
pub async fn serve(
    listener: TcpListener,
    agent: Arc<Agent>,
    web: Option<Arc<crate::web::Web>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::web::serve(listener, router(agent), web, shutdown).await
}

fn router(agent: Arc<Agent>) -> Router {
    Router::new()
        .route("/", get(landing))
        .route("/metrics", get(|s, h| metrics(s, h, Part::All)))
        .route("/metrics/node", get(|s, h| metrics(s, h, Part::Node)))
        .route(
            "/metrics/cadvisor",
            get(|s, h| metrics(s, h, Part::Cadvisor)),
        )
        .route(
            "/metrics/kube-state",
            get(|s, h| metrics(s, h, Part::KubeState)),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(|| async { "ok\n" }))
        .with_state(agent)
}

async fn landing() -> Html<&'static str> {
    Html(
        "<html><head><title>nodepulse agent</title></head><body><h1>nodepulse agent</h1>\
         <p><a href=\"/metrics\">Metrics</a> (all), or by exporter: \
         <a href=\"/metrics/node\">node</a>, <a href=\"/metrics/cadvisor\">cadvisor</a>, \
         <a href=\"/metrics/kube-state\">kube-state</a></p></body></html>\n",
    )
}

async fn metrics(State(agent): State<Arc<Agent>>, headers: HeaderMap, part: Part) -> Response {
    let format = Format::negotiate(header_str(&headers, header::ACCEPT));
    let gzip = accepts_gzip(header_str(&headers, header::ACCEPT_ENCODING));
    // Collectors read files synchronously; keep them off the reactor thread.
    let body = tokio::task::spawn_blocking(move || {
        let body = agent.scrape_part(format, part);
        if gzip {
            crate::gzip::compress_fast(&body)
        } else {
            body
        }
    })
    .await;
    let Ok(body) = body else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "scrape failed\n").into_response();
    };
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    resp
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// True when `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|v| {
        v.split(',').any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .is_some_and(|q| q.parse::<f32>().ok() == Some(0.0))
            });
            coding.eq_ignore_ascii_case("gzip") && !q_zero
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("br, gzip;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(None));
    }
}
