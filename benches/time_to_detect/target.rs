//! The scrape target both servers scrape: `demo_value{trial="i"}` is 1 before trial i's
//! crossing instant and 100 from it on, decided when the scrape arrives (so the crossing
//! is exact to the request, whatever the scrape phase). It notes when each scraper (told
//! apart by `User-Agent`) scraped, so the run can wait until both have scraped once and
//! split a detection time into the wait for the next scrape and what came after it.

use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the target serves: the trials' crossing instants (empty until they are drawn)
/// and the scrapes seen.
#[derive(Default)]
pub struct Target {
    crossings: Mutex<Vec<Instant>>,
    scrapes: Mutex<Scrapes>,
}

/// Who scraped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scraper {
    Prometheus,
    Ours,
}

/// When each scraper's requests arrived, in order.
#[derive(Default)]
struct Scrapes {
    prometheus: Vec<Instant>,
    ours: Vec<Instant>,
}

impl Scrapes {
    fn of(&self, who: Scraper) -> &Vec<Instant> {
        match who {
            Scraper::Prometheus => &self.prometheus,
            Scraper::Ours => &self.ours,
        }
    }
}

impl Target {
    /// Sets the crossing instants; trial `i` is `crossings[i]`.
    pub fn set_crossings(&self, crossings: Vec<Instant>) {
        *self.crossings.lock().unwrap() = crossings;
    }

    /// How many times `who` scraped.
    pub fn scrapes(&self, who: Scraper) -> usize {
        self.scrapes.lock().unwrap().of(who).len()
    }

    /// The first scrape by `who` at or after `t`.
    pub fn first_scrape_from(&self, who: Scraper, t: Instant) -> Option<Instant> {
        let scrapes = self.scrapes.lock().unwrap();
        scrapes.of(who).iter().copied().find(|s| *s >= t)
    }

    /// The exposition body at `now`: one series per trial.
    fn body(&self, trials: usize, now: Instant) -> String {
        let crossings = self.crossings.lock().unwrap();
        let mut body = String::from("# TYPE demo_value gauge\n");
        for i in 0..trials {
            let crossed = crossings.get(i).is_some_and(|c| now >= *c);
            let v = if crossed { 100 } else { 1 };
            body.push_str(&format!("demo_value{{trial=\"{i}\"}} {v}\n"));
        }
        body
    }

    fn note(&self, headers: &HeaderMap, at: Instant) {
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut s = self.scrapes.lock().unwrap();
        if agent.starts_with("Prometheus/") {
            s.prometheus.push(at);
        } else {
            s.ours.push(at);
        }
    }
}

/// Serves `target` on a free loopback port (on the current runtime); returns the port.
pub async fn serve(target: Arc<Target>, trials: usize) -> u16 {
    let app =
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move |headers: HeaderMap| {
                let now = Instant::now();
                target.note(&headers, now);
                let body = target.body(trials, now);
                async move {
                    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}
