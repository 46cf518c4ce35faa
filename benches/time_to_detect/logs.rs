//! The pods whose error lines jump: every 100 ms the bench pushes two lines per pod
//! (`{namespace="ttd", pod="pod-<i>"}`) to the aggregator's `/loki/api/v1/push` (JSON),
//! stamped now. Before pod i's jump instant one line in 25 is an error (4 %), from it on
//! one in 2 (50 %); the pattern is fixed, so no pod crosses early by chance.

use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often the bench pushes, and how many lines per pod each time (20 lines/s a pod).
const EVERY: Duration = Duration::from_millis(100);
const LINES: u64 = 2;

/// The pods' jump instants (none jumps until they are set).
#[derive(Default)]
pub struct Jumps(Mutex<Vec<Instant>>);

impl Jumps {
    pub fn set(&self, jumps: Vec<Instant>) {
        *self.0.lock().unwrap() = jumps;
    }

    fn jumped(&self, pod: usize, now: Instant) -> bool {
        self.0.lock().unwrap().get(pod).is_some_and(|j| now >= *j)
    }
}

/// Whether pod line `k` is an error, before or after the jump.
fn is_error(k: u64, jumped: bool) -> bool {
    if jumped {
        k % 2 == 1
    } else {
        k % 25 == 24
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

/// One push: `LINES` lines for each of `pods` pods, line numbers from `k`.
fn body(pods: usize, k: u64, jumps: &Jumps) -> String {
    let (now, ns) = (Instant::now(), now_ns());
    let streams: Vec<_> = (0..pods)
        .map(|p| {
            let jumped = jumps.jumped(p, now);
            let values: Vec<_> = (0..LINES)
                .map(|j| {
                    let level = if is_error(k + j, jumped) {
                        "error"
                    } else {
                        "info"
                    };
                    let line = format!("level={level} msg=\"request {}\"", k + j);
                    json!([(ns + u128::from(j)).to_string(), line])
                })
                .collect();
            let stream = json!({"namespace": "ttd", "pod": format!("pod-{p}")});
            json!({"stream": stream, "values": values})
        })
        .collect();
    json!({ "streams": streams }).to_string()
}

/// Pushes to `url` every `EVERY` until the task is aborted; a refused push panics (the
/// bench would measure nothing).
pub async fn push_forever(url: String, pods: usize, jumps: Arc<Jumps>) {
    let http = reqwest::Client::new();
    let mut tick = tokio::time::interval(EVERY);
    let mut k = 0;
    loop {
        tick.tick().await;
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body(pods, k, &jumps))
            .send()
            .await
            .unwrap_or_else(|e| panic!("pushing to {url}: {e}"));
        let status = resp.status();
        assert!(
            status.is_success(),
            "{url}: {status}: {:?}",
            resp.text().await
        );
        k += LINES;
    }
}
