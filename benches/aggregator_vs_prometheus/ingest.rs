//! Sending the workload: scrape rounds in time order, cut into remote_write requests of
//! `WINDOW` rounds × a slice of the series (a few thousand samples), each encoded once
//! and posted to both servers by one sender thread per server (bounded queues), so
//! neither waits for the other. A refused request stops the run.

use super::workload::{Workload, STEP_MS};
use nodepulse::aggregator::model::Sample;
use nodepulse::aggregator::remote_write::encode;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Scrape rounds per request (2 minutes at 15 s).
pub const WINDOW: usize = 8;
/// Samples per request, about (Prometheus's own sender ships up to 2,000–10,000).
const SAMPLES_PER_REQUEST: usize = 4_000;
/// Encoded requests queued per sender.
const QUEUE: usize = 8;

/// What was sent: samples, requests, and each server's wall time to take them all.
pub struct Sent {
    pub samples: u64,
    pub requests: u64,
    pub rounds: usize,
    pub last_round_ms: i64,
    pub elapsed: Vec<Duration>,
}

/// Sends `rounds` scrape rounds starting at `start` (ms) to every `write_urls` entry.
pub fn send(w: &mut Workload, start: i64, rounds: usize, write_urls: &[String]) -> Sent {
    let began = Instant::now();
    let (senders, handles): (Vec<_>, Vec<_>) = write_urls
        .iter()
        .map(|url| {
            let (tx, rx) = sync_channel::<Arc<Vec<u8>>>(QUEUE);
            (tx, spawn_sender(url.clone(), rx, began))
        })
        .unzip();
    let per_request = (SAMPLES_PER_REQUEST / WINDOW).max(1);
    let (mut samples, mut requests) = (0u64, 0u64);
    let mut buf: Vec<Vec<Sample>> = vec![Vec::with_capacity(WINDOW); w.len()];
    for window in (0..rounds).step_by(WINDOW) {
        buf.iter_mut().for_each(Vec::clear);
        for k in window..(window + WINDOW).min(rounds) {
            w.scrape(start + k as i64 * STEP_MS, &mut buf);
        }
        for (labels, series) in w.labels.chunks(per_request).zip(buf.chunks(per_request)) {
            let batch: Vec<_> = labels.iter().cloned().zip(series.iter().cloned()).collect();
            samples += series.iter().map(|s| s.len() as u64).sum::<u64>();
            requests += 1;
            let body = Arc::new(encode(&batch));
            for tx in &senders {
                tx.send(body.clone()).expect("a sender thread stopped");
            }
        }
    }
    drop(senders);
    let elapsed = handles
        .into_iter()
        .map(|h| h.join().expect("a sender thread panicked"))
        .collect();
    Sent {
        samples,
        requests,
        rounds,
        last_round_ms: start + (rounds as i64 - 1) * STEP_MS,
        elapsed,
    }
}

/// Posts every queued body to `url`; the time from `began` to the last answer.
fn spawn_sender(url: String, rx: Receiver<Arc<Vec<u8>>>, began: Instant) -> JoinHandle<Duration> {
    std::thread::spawn(move || {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("http client");
        for body in rx {
            let r = http
                .post(&url)
                .header("Content-Type", "application/x-protobuf")
                .header("Content-Encoding", "snappy")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .body(body.to_vec())
                .send()
                .unwrap_or_else(|e| panic!("remote_write to {url}: {e}"));
            let status = r.status().as_u16();
            if status != 204 && status != 200 {
                panic!(
                    "{url} refused a write ({status}): {}",
                    r.text().unwrap_or_default()
                );
            }
        }
        began.elapsed()
    })
}
