//! How tails end, leaving nothing running: the client closes or goes away, the server
//! shuts down (1001), `tail_max_duration` passes (1011, Loki's words); and
//! `max_tailers`, whose permits come back when tails end.

use crate::server::{start, Running};
use crate::tail::{connect, eventually, refused, tail_url, Ws, HANG};
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn tails_over_max_tailers_are_refused_until_one_closes() {
    let s = start(|l| l.limits.max_tailers = 2).await;
    let url = tail_url(&s, r#"{app="api"}"#, "");
    let mut first = connect(&url, &[]).await.unwrap();
    let _second = connect(&url, &[]).await.unwrap();
    let (status, body) = refused(&url, &[]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        "max concurrent tail requests limit exceeded, count > limit (3 > 2)\n"
    );
    let refusals = s
        .loki
        .stats
        .refused(nodepulse::aggregator::loki::Refusal::TooManyTails);
    assert_eq!(refusals, 1, "counted");
    first.close(None).await.unwrap();
    eventually("the first tail ended", || s.loki.tail.active() == 1).await;
    assert!(connect(&url, &[]).await.is_ok());
}

/// The close frame the server sends next (other frames skipped).
async fn close_frame(ws: &mut Ws) -> CloseFrame {
    let wait = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.expect("a close code"),
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    };
    tokio::time::timeout(HANG, wait)
        .await
        .expect("never closed")
}

async fn nothing_left_running(s: &Running) {
    tokio::time::timeout(HANG, s.loki.tail.idle())
        .await
        .expect("tail left running");
}

#[tokio::test]
async fn a_client_gone_or_a_shutdown_ends_its_tail() {
    let mut s = start(|_| {}).await;
    let url = tail_url(&s, r#"{app="api"}"#, "");
    let ws = connect(&url, &[]).await.unwrap();
    let rows = s.loki.metrics();
    let active = rows.iter().find(|r| r.0 == "nodepulse_loki_tails_active");
    assert_eq!(active.map(|r| (r.2, r.3)), Some(("gauge", 1)));
    drop(ws); // the TCP connection closes without a close frame
    nothing_left_running(&s).await;

    let mut ws = connect(&url, &[]).await.unwrap();
    s.stop();
    let close = close_frame(&mut ws).await;
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (1001, "server shutting down")
    );
    nothing_left_running(&s).await;
}

#[tokio::test]
async fn a_tail_is_closed_after_tail_max_duration() {
    let s = start(|l| l.limits.tail_max_duration = Duration::from_millis(200)).await;
    let mut ws = connect(&tail_url(&s, r#"{app="api"}"#, ""), &[])
        .await
        .unwrap();
    let close = close_frame(&mut ws).await;
    let want = (1011, "reached tail max duration limit");
    assert_eq!((u16::from(close.code), close.reason.as_str()), want);
    nothing_left_running(&s).await;
}
