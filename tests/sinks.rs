//! The sinks' delivery over real sockets, against local receivers that speak the real
//! wire formats (tests/common/receivers.rs): Loki's snappy protobuf decoded with the
//! real schema, JSON+gzip, Elasticsearch's `_bulk` NDJSON checked line by line; retries
//! with the delays the backoff asked for recorded, `Retry-After`, rejections counted,
//! connections refused and back, 413 splits, shutdown, auth headers.

mod common;

use common::receivers::{Receiver, Reply};
use common::sleeper::RecordingSleeper;
use nodepulse::agent::sinks::backoff::{Backoff, BackoffConfig};
use nodepulse::agent::sinks::elasticsearch::{
    bulk_url, BulkRequest, BulkSender, Compression, EsDocument, IndexTarget,
};
use nodepulse::agent::sinks::error::SendError;
use nodepulse::agent::sinks::http::{AuthConfig, HttpClient, HttpConfig};
use nodepulse::agent::sinks::loki::proto::{PushRequest, Timestamp};
use nodepulse::agent::sinks::loki::{
    encode, Batch, Delivery, Format, LokiEntry, LokiSender, StreamLabels, PUSH_PATH,
};
use nodepulse::agent::sinks::retry::{Retry, Sleeper, TokioSleeper};
use prost::Message;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const FAST: Duration = Duration::from_millis(2);

fn backoff() -> Backoff {
    Backoff::new(&BackoffConfig {
        min: Duration::from_millis(10),
        max: Duration::from_millis(100),
        jitter_ratio: None,
        retry_after_cap: Duration::from_secs(5),
    })
    .unwrap()
}

fn client(url: String, auth: Option<AuthConfig>) -> HttpClient {
    let mut config = HttpConfig::new(url);
    config.timeout = Duration::from_secs(10);
    config.auth = auth;
    config
        .headers
        .insert("X-Scope-OrgID".into(), "team-a".into());
    HttpClient::from_config(&config).unwrap()
}

fn loki_sender<S: Sleeper>(rx: &Receiver, sleeper: S, cancel: CancellationToken) -> LokiSender<S> {
    let client = client(
        format!("{}{PUSH_PATH}", rx.url()),
        Some(AuthConfig::bearer("t0k3n")),
    );
    LokiSender::new(client, Retry::new(backoff(), sleeper, cancel))
}

fn batch() -> Batch {
    let labels = StreamLabels::new([("namespace", "shop"), ("pod", "web-0")]).unwrap();
    let mut batch = Batch::new();
    for (i, line) in ["first line", "second \"quoted\" line", "ünïcödé"]
        .iter()
        .enumerate()
    {
        batch.push(
            &labels,
            LokiEntry {
                timestamp_ns: 1_700_000_000_000_000_000 + i as i64,
                line: line.to_string(),
                metadata: vec![("trace_id".into(), format!("t{i}"))],
            },
        );
    }
    batch
}

fn protobuf(batch: &Batch) -> nodepulse::agent::sinks::loki::EncodedRequest {
    encode(batch, Format::Protobuf).unwrap()
}

#[tokio::test]
async fn loki_protobuf_batch_arrives_decoded_exactly_with_its_headers() {
    let rx = Receiver::loki().await;
    let mut sender = loki_sender(&rx, RecordingSleeper::new(FAST), CancellationToken::new());
    let batch = batch();
    let outcome = sender.deliver(protobuf(&batch)).await;
    assert!(
        matches!(outcome, Delivery::Delivered { attempts: 1 }),
        "{outcome:?}"
    );

    let got = rx.script.received();
    assert_eq!(got.len(), 1);
    let push = got[0].push.clone().unwrap();
    let expected = PushRequest::decode(nodepulse::agent::sinks::loki::protobuf(&batch).as_slice());
    assert_eq!(push, expected.unwrap());
    assert_eq!(push.streams.len(), 1);
    assert_eq!(push.streams[0].labels, r#"{namespace="shop", pod="web-0"}"#);
    let lines: Vec<&str> = push.streams[0]
        .entries
        .iter()
        .map(|e| e.line.as_str())
        .collect();
    assert_eq!(lines, ["first line", "second \"quoted\" line", "ünïcödé"]);
    let first = &push.streams[0].entries[0];
    assert_eq!(
        first.timestamp,
        Some(Timestamp::from_unix_nanos(1_700_000_000_000_000_000))
    );
    assert_eq!(first.structured_metadata[0].name, "trace_id");
    assert_eq!(first.structured_metadata[0].value, "t0");

    let h = &got[0].headers;
    assert_eq!(h["authorization"], "Bearer t0k3n");
    assert_eq!(h["x-scope-orgid"], "team-a");
    assert_eq!(h["content-type"], "application/x-protobuf");
    assert!(h["user-agent"].to_str().unwrap().starts_with("nodepulse/"));
    assert_eq!(sender.stats().batches_delivered, 1);
}

#[tokio::test]
async fn loki_json_gzip_arrives_with_basic_auth() {
    let rx = Receiver::loki().await;
    let url = format!("{}{PUSH_PATH}", rx.url());
    let client = client(url, Some(AuthConfig::basic("loki", "pw")));
    let retry = Retry::new(
        backoff(),
        RecordingSleeper::new(FAST),
        CancellationToken::new(),
    );
    let mut sender = LokiSender::new(client, retry);
    let outcome = sender
        .deliver(encode(&batch(), Format::JsonGzip).unwrap())
        .await;
    assert!(
        matches!(outcome, Delivery::Delivered { attempts: 1 }),
        "{outcome:?}"
    );

    let got = rx.script.received();
    assert_eq!(got[0].headers["content-encoding"], "gzip");
    assert_eq!(got[0].headers["authorization"], "Basic bG9raTpwdw==");
    let stream = &got[0].json.as_ref().unwrap()["streams"][0];
    assert_eq!(
        stream["stream"],
        json!({"namespace": "shop", "pod": "web-0"})
    );
    assert_eq!(
        stream["values"][1],
        json!(["1700000000000000001", "second \"quoted\" line", {"trace_id": "t1"}])
    );
}

#[tokio::test]
async fn loki_503_three_times_then_204_is_delivered_once_after_four_attempts() {
    let rx = Receiver::loki().await;
    for _ in 0..3 {
        rx.script.push(Reply::Status(503, None));
    }
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = loki_sender(&rx, sleeper.clone(), CancellationToken::new());
    let outcome = sender.deliver(protobuf(&batch())).await;
    assert!(
        matches!(outcome, Delivery::Delivered { attempts: 4 }),
        "{outcome:?}"
    );

    let statuses: Vec<u16> = rx.script.received().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 503, 204]);
    // Full jitter under a base doubling from 10ms: retry n waits at most 10ms·2ⁿ.
    let asked = sleeper.asked();
    assert_eq!(asked.len(), 3);
    for (n, delay) in asked.iter().enumerate() {
        assert!(
            *delay <= Duration::from_millis(10 << n),
            "retry {n}: {delay:?}"
        );
    }
    assert_eq!(sender.stats().retries, 3);
    assert_eq!(sender.stats().requests, 4);
}

#[tokio::test]
async fn loki_429_retry_after_sets_the_wait() {
    let rx = Receiver::loki().await;
    rx.script.push(Reply::Status(429, Some("1")));
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = loki_sender(&rx, sleeper.clone(), CancellationToken::new());
    let outcome = sender.deliver(protobuf(&batch())).await;
    assert!(
        matches!(outcome, Delivery::Delivered { attempts: 2 }),
        "{outcome:?}"
    );
    assert_eq!(sleeper.asked(), [Duration::from_secs(1)]);
}

#[tokio::test]
async fn loki_retry_after_is_waited_for_real() {
    let rx = Receiver::loki().await;
    rx.script.push(Reply::Status(503, Some("1")));
    let mut sender = loki_sender(&rx, TokioSleeper, CancellationToken::new());
    let start = Instant::now();
    let outcome = sender.deliver(protobuf(&batch())).await;
    assert!(
        matches!(outcome, Delivery::Delivered { attempts: 2 }),
        "{outcome:?}"
    );
    // A lower bound only: a loaded machine may take longer, never shorter.
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn loki_400_is_rejected_not_retried_and_counted() {
    let rx = Receiver::loki().await;
    rx.script.push(Reply::Status(400, None));
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = loki_sender(&rx, sleeper.clone(), CancellationToken::new());
    let outcome = sender.deliver(protobuf(&batch())).await;
    let Delivery::Rejected {
        attempts,
        error,
        body,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert_eq!(attempts, 1);
    assert!(
        matches!(error, SendError::Status { status: 400, .. }),
        "{error}"
    );
    assert!(body.contains("scripted answer"), "{body}");
    assert_eq!(rx.script.received().len(), 1);
    assert!(sleeper.asked().is_empty());
    assert_eq!(sender.stats().batches_rejected, 1);
    assert_eq!(sender.stats().rejected_by_status[&400], 1);
}

#[tokio::test]
async fn loki_connection_refused_until_the_receiver_comes_back() {
    let mut rx = Receiver::loki().await;
    rx.stop().await;
    let sleeper = RecordingSleeper::new(Duration::from_millis(20));
    let mut sender = loki_sender(&rx, sleeper.clone(), CancellationToken::new());
    let delivery = tokio::spawn(async move { sender.deliver(protobuf(&batch())).await });
    while sleeper.asked().len() < 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rx.restart().await;
    let outcome = delivery.await.unwrap();
    let Delivery::Delivered { attempts } = outcome else {
        panic!("{outcome:?}");
    };
    assert!(attempts >= 4, "{attempts}");
    assert_eq!(rx.script.received().len(), 1);
}

#[tokio::test]
async fn shutdown_stops_the_retry_loop_promptly() {
    let rx = Receiver::loki().await;
    for _ in 0..100 {
        rx.script.push(Reply::Status(503, Some("300")));
    }
    let cancel = CancellationToken::new();
    let mut sender = loki_sender(&rx, TokioSleeper, cancel.clone());
    let delivery = tokio::spawn(async move { sender.deliver(protobuf(&batch())).await });
    while rx.script.received().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    let outcome = tokio::time::timeout(Duration::from_secs(5), delivery).await;
    let outcome = outcome.expect("the loop ends at shutdown").unwrap();
    assert!(
        matches!(outcome, Delivery::Cancelled { attempts: 1 }),
        "{outcome:?}"
    );
}

fn docs(n: usize) -> Vec<EsDocument> {
    (0..n)
        .map(|i| EsDocument {
            unix_nanos: 1_700_000_000_000_000_000 + i as i64,
            message: format!("line {i}"),
            stream: "stdout".into(),
            ..EsDocument::default()
        })
        .collect()
}

fn bulk(n: usize) -> BulkRequest {
    BulkRequest::encode(&docs(n), &IndexTarget::index("logs-test").unwrap())
}

fn es_sender(rx: &Receiver, sleeper: RecordingSleeper) -> BulkSender<RecordingSleeper> {
    let client = client(
        bulk_url(&rx.url()),
        Some(AuthConfig::basic("elastic", "changeme")),
    );
    let retry = Retry::new(backoff(), sleeper, CancellationToken::new());
    BulkSender::new(client, retry, Compression::Gzip)
}

fn messages(docs: &[serde_json::Value]) -> Vec<&str> {
    docs.iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn es_partial_failure_resends_only_the_429_item() {
    let rx = Receiver::elasticsearch().await;
    rx.script.push(Reply::Items(vec![201, 429, 400]));
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = es_sender(&rx, sleeper.clone());
    let outcome = sender.deliver(bulk(3)).await;
    assert_eq!(outcome.attempts, 2);
    assert_eq!((outcome.accepted, outcome.rejected), (2, 1));
    assert!(outcome.is_complete());

    let got = rx.script.received();
    assert_eq!(messages(&got[0].docs), ["line 0", "line 1", "line 2"]);
    assert_eq!(messages(&got[1].docs), ["line 1"]);
    // Every accepted document exactly once; the 400 one never accepted.
    assert_eq!(messages(&rx.script.accepted()), ["line 0", "line 1"]);
    assert_eq!(sender.stats().rejected.get("mapper_parsing_exception"), 1);
    assert_eq!(sender.stats().documents_accepted, 2);
    assert_eq!(sleeper.asked().len(), 1);

    let h = &got[0].headers;
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(h["authorization"], "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==");
    assert_eq!(h["x-scope-orgid"], "team-a");
}

#[tokio::test]
async fn es_413_splits_until_the_halves_fit() {
    let rx = Receiver::elasticsearch().await;
    rx.script.set_max_docs(2);
    let mut sender = es_sender(&rx, RecordingSleeper::new(FAST));
    let outcome = sender.deliver(bulk(5)).await;
    assert_eq!((outcome.accepted, outcome.rejected), (5, 0));
    let mut accepted = messages(&rx.script.accepted())
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    accepted.sort();
    let expected: Vec<String> = (0..5).map(|i| format!("line {i}")).collect();
    assert_eq!(accepted, expected);
    let statuses: Vec<u16> = rx.script.received().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 413).count() as u64,
        sender.stats().splits
    );
    assert!(sender.stats().splits >= 2);
}

#[tokio::test]
async fn es_one_document_too_large_is_rejected_and_counted() {
    let rx = Receiver::elasticsearch().await;
    rx.script.set_max_docs(0);
    let mut sender = es_sender(&rx, RecordingSleeper::new(FAST));
    let outcome = sender.deliver(bulk(2)).await;
    assert_eq!((outcome.accepted, outcome.rejected), (0, 2));
    assert_eq!(sender.stats().rejected.get("request_too_large"), 2);
}

#[tokio::test]
async fn es_whole_batch_429_waits_its_retry_after_then_delivers() {
    let rx = Receiver::elasticsearch().await;
    rx.script.push(Reply::Status(429, Some("2")));
    rx.script.push(Reply::Status(502, None));
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = es_sender(&rx, sleeper.clone());
    let outcome = sender.deliver(bulk(3)).await;
    assert_eq!((outcome.attempts, outcome.accepted), (3, 3));
    assert_eq!(sleeper.asked()[0], Duration::from_secs(2));
    assert_eq!(rx.script.accepted().len(), 3);
}

#[tokio::test]
async fn es_whole_batch_400_is_rejected_by_reason() {
    let rx = Receiver::elasticsearch().await;
    rx.script.push(Reply::Status(400, None));
    let sleeper = RecordingSleeper::new(FAST);
    let mut sender = es_sender(&rx, sleeper.clone());
    let outcome = sender.deliver(bulk(4)).await;
    assert_eq!((outcome.attempts, outcome.rejected), (1, 4));
    assert_eq!(sender.stats().rejected.get("scripted"), 4);
    assert!(sleeper.asked().is_empty());
}

#[tokio::test]
async fn es_connection_refused_until_the_receiver_comes_back() {
    let mut rx = Receiver::elasticsearch().await;
    rx.stop().await;
    let sleeper = RecordingSleeper::new(Duration::from_millis(20));
    let mut sender = es_sender(&rx, sleeper.clone());
    let delivery = tokio::spawn(async move { sender.deliver(bulk(2)).await });
    while sleeper.asked().len() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    rx.restart().await;
    let outcome = delivery.await.unwrap();
    assert_eq!(outcome.accepted, 2);
    assert_eq!(messages(&rx.script.accepted()), ["line 0", "line 1"]);
}
