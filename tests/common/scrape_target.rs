//! A scripted scrape target for the aggregator's tests: an axum server in the test
//! whose next answer (status, body, gzip, delay) the test sets; and look-ups of what a
//! scrape stored.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use nodepulse::aggregator::model::{MemStore, Querier, Series};
use promql_parser::label::{MatchOp, Matcher};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the scripted target answers next.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub gzip: bool,
    pub delay: Duration,
}

pub fn ok(body: &str) -> Answer {
    Answer {
        status: 200,
        body: body.into(),
        gzip: false,
        delay: Duration::ZERO,
    }
}

pub async fn serve(answer: Arc<Mutex<Answer>>) -> u16 {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let a = answer.lock().unwrap().clone();
            async move {
                tokio::time::sleep(a.delay).await;
                let status = StatusCode::from_u16(a.status).unwrap();
                let ctype = (header::CONTENT_TYPE, "text/plain; version=0.0.4");
                if a.gzip {
                    let mut gz =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    gz.write_all(a.body.as_bytes()).unwrap();
                    let body = gz.finish().unwrap();
                    (status, [ctype, (header::CONTENT_ENCODING, "gzip")], body).into_response()
                } else {
                    (status, [ctype], a.body).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

pub fn series(store: &MemStore, name: &str) -> Vec<Series> {
    store
        .select(
            &[Matcher::new(MatchOp::Equal, "__name__", name)],
            0,
            i64::MAX,
        )
        .unwrap()
}

pub fn last_value(store: &MemStore, name: &str) -> f64 {
    let s = series(store, name);
    assert_eq!(s.len(), 1, "{name}: {s:?}");
    s[0].samples.last().unwrap().v
}
