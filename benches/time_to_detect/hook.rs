//! The bench's webhook receiver: Alertmanager's webhook (`/am`) and our aggregator's
//! own webhook (`/direct`) post here. It notes the instant each request arrived and keeps, for every firing alert, the first arrival per path and
//! trial. Alerts through Alertmanager are told apart by the `source` external label each
//! sender adds (`prometheus` or `nodepulse`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How an alert reached the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// Prometheus → Alertmanager → webhook.
    PrometheusAm,
    /// nodepulse-aggregator → Alertmanager → webhook.
    OursAm,
    /// nodepulse-aggregator → webhook.
    OursDirect,
}

/// An alert's identity in the bench: its name, its route and its trial.
pub type Key = (String, Route, usize);

/// First arrivals of firing alerts; `odd` counts payloads the bench cannot place.
#[derive(Default)]
pub struct Hook {
    first: Mutex<HashMap<Key, Instant>>,
    odd: Mutex<Vec<String>>,
}

impl Hook {
    pub fn first(&self, key: &Key) -> Option<Instant> {
        self.first.lock().unwrap().get(key).copied()
    }

    /// Payloads or alerts that name no known route or trial.
    pub fn odd(&self) -> Vec<String> {
        self.odd.lock().unwrap().clone()
    }

    fn record(&self, path: &str, at: Instant, body: &[u8]) {
        let payload: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return self.note(format!("{path}: not JSON: {e}")),
        };
        let alerts = payload["alerts"].as_array().cloned().unwrap_or_default();
        for alert in alerts.iter().filter(|a| a["status"] == "firing") {
            match key(path, &alert["labels"]) {
                Some(k) => {
                    self.first.lock().unwrap().entry(k).or_insert(at);
                }
                None => self.note(format!("{path}: {}", alert["labels"])),
            }
        }
    }

    fn note(&self, what: String) {
        self.odd.lock().unwrap().push(what);
    }
}

/// The alert's key: its route from the path and the `source` label; its trial from the
/// `trial` label (metric rule) or the `pod` label `pod-<i>` (log rule).
fn key(path: &str, labels: &Value) -> Option<Key> {
    let route = match (path, labels["source"].as_str()?) {
        ("am", "prometheus") => Route::PrometheusAm,
        ("am", "nodepulse") => Route::OursAm,
        ("direct", "nodepulse") => Route::OursDirect,
        _ => return None,
    };
    let trial = match labels["trial"].as_str() {
        Some(t) => t.parse().ok()?,
        None => labels["pod"].as_str()?.strip_prefix("pod-")?.parse().ok()?,
    };
    Some((labels["alertname"].as_str()?.to_owned(), route, trial))
}

async fn receive(State(hook): State<Arc<Hook>>, Path(path): Path<String>, body: Bytes) {
    // The handler runs once the body is read: a few KB on loopback, well under 1 ms.
    let at = Instant::now();
    hook.record(&path, at, &body);
}

/// Serves `hook` on a free loopback port; returns its base URL.
pub async fn serve(hook: Arc<Hook>) -> String {
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(receive))
        .with_state(hook);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
