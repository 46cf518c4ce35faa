//! A tail whose client stops reading: pushes still answer 204 (they never wait for a
//! tail), the lines the tail could not queue are dropped and counted
//! (`nodepulse_loki_tail_dropped_entries_total`), and once the client reads again they
//! are named in `dropped_entries`; every pushed line is either received or counted.

use crate::server::{now, Running};
use crate::tail::{frame_into, push, read_until, tail_url, Read, Ws, HANG, S};
use futures::StreamExt;
use nodepulse::aggregator::loki::LokiApi;
use std::sync::atomic::Ordering;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::MaybeTlsStream;

const PUSHES: i64 = 5;
const PER_PUSH: i64 = 100;
const LINE_BYTES: usize = 64 << 10;

/// A websocket whose socket takes in little: the server's writes fill it quickly.
async fn connect_small_window(s: &Running, url: &str) -> Ws {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(8 << 10).unwrap();
    let addr = s.base.trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let req = url.into_client_request().unwrap();
    let (ws, _) = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    ws
}

fn dropped(s: &Running) -> u64 {
    s.loki.stats.tail_dropped_entries.load(Ordering::Relaxed)
}

fn big_limits(l: &mut LokiApi) {
    l.limits.ingestion_rate_bytes = 1 << 30;
    l.limits.ingestion_burst_bytes = 1 << 30;
    l.limits.max_body_bytes = 64 << 20;
    l.limits.max_decompressed_bytes = 64 << 20;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_stall_pushes_and_its_drops_are_counted() {
    let s = crate::server::start(big_limits).await;
    let mut ws = connect_small_window(&s, &tail_url(&s, r#"{app="big"}"#, "")).await;
    let t0 = now() - 300 * S;
    let line = "x".repeat(LINE_BYTES);
    for p in 0..PUSHES {
        let entries = (0..PER_PUSH)
            .map(|i| (t0 + (p * PER_PUSH + i) * 1000, line.as_str()))
            .collect();
        // Answered while the client reads nothing.
        push(&s, &[(r#"{app="big"}"#, entries)]).await;
    }
    let total = (PUSHES * PER_PUSH) as u64;
    crate::tail::eventually("drops counted", || dropped(&s) > 0).await;

    // Reading again: every line arrives or was counted (then the queue is empty).
    let mut read = Read::default();
    let drain = async {
        while read.lines.len() as u64 + dropped(&s) < total {
            if let Message::Text(t) = ws.next().await.expect("open").expect("frame") {
                frame_into(&mut read, &t);
            }
        }
    };
    tokio::time::timeout(HANG, drain)
        .await
        .expect("lines neither sent nor counted");
    let counted = dropped(&s);
    assert!(counted > 0 && counted < total, "{counted}");

    // The next line carries the report of what was dropped, if not reported yet.
    push(&s, &[(r#"{app="big"}"#, vec![(t0 + 100 * S, "after")])]).await;
    let rest = read_until(&mut ws, "after").await;
    read.dropped.extend(rest.dropped);
    assert_eq!(read.dropped.len() as u64, counted);
    for d in &read.dropped {
        assert_eq!(d["labels"]["app"], "big", "{d}");
        let ts: i64 = d["timestamp"].as_str().unwrap().parse().unwrap();
        assert!((t0..t0 + total as i64 * 1000).contains(&ts), "{d}");
    }
    let row = s
        .loki
        .metrics()
        .into_iter()
        .find(|r| r.0 == "nodepulse_loki_tail_dropped_entries_total");
    assert_eq!(row.map(|r| r.3), Some(counted));
}
