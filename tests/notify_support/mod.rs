#![allow(dead_code)] // each test file uses its own subset

//! What the notifier tests share: alerts, a notifier over given destinations with fast
//! retries, polling with a deadline, metric values, and a server that accepts
//! connections and never answers (timeouts, a hung destination).

use nodepulse::agent::sinks::backoff::{Backoff, BackoffConfig};
use nodepulse::aggregator::model::Labels;
use nodepulse::aggregator::notify::{Alert, Notifier, NotifyConfig, RetryPolicy};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;

/// How long a test waits for something that should happen at once.
const DEADLINE: Duration = Duration::from_secs(30);

pub fn alert(name: &str, extra: &[(&str, &str)], ends_at: Option<SystemTime>) -> Alert {
    let mut labels = vec![("alertname", name)];
    labels.extend_from_slice(extra);
    Alert {
        labels: Labels::from_pairs(&labels),
        annotations: Labels::from_pairs(&[("summary", &format!("{name} fired"))]),
        starts_at: SystemTime::now() - Duration::from_secs(30),
        ends_at,
        generator_url: "http://aggregator:9201/graph?g0.expr=up".into(),
    }
}

/// Retries 1–2 ms apart, `attempts` in all.
pub fn fast_retries(attempts: u32) -> RetryPolicy {
    let backoff = Backoff::new(&BackoffConfig {
        min: Duration::from_millis(1),
        max: Duration::from_millis(2),
        jitter_ratio: None,
        retry_after_cap: Duration::from_millis(2),
    })
    .unwrap();
    RetryPolicy { attempts, backoff }
}

pub fn start(config: NotifyConfig) -> Notifier {
    Notifier::start(&config).expect("valid notifier config")
}

/// Polls `done` every 5 ms until it holds; panics with `what` after the deadline.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The value of `name` for the row whose label value is `url` (0 when absent).
pub fn metric(n: &Notifier, name: &str, url: &str) -> f64 {
    let families = n.metrics();
    let Some((_, _, _, rows)) = families.iter().find(|f| f.0 == name) else {
        return 0.0;
    };
    rows.iter()
        .find(|r| r.suffix.is_empty() && r.labels.iter().any(|(_, v)| v == url))
        .map_or(0.0, |r| r.value)
}

/// Accepts connections, reads nothing back and never answers; counts connections.
pub struct Silent {
    pub url: String,
    pub connections: Arc<AtomicUsize>,
}

impl Silent {
    pub async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(socket);
            }
        });
        Silent { url, connections }
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
