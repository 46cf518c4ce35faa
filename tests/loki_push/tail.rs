//! `/loki/api/v1/tail` with a real websocket client (tokio-tungstenite): the backlog,
//! then lines pushed afterwards, filtered as `/query_range` filters; refusals before
//! the upgrade (metric or bad query, token). How tails end and their limit:
//! tail_ends.rs; a client that stops reading: tail_slow.rs.

use crate::server::{now, proto, snappy, start, Running};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderName;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const S: i64 = 1_000_000_000;
/// A guard against hangs only: every wait below ends on an event long before.
pub const HANG: Duration = Duration::from_secs(60);

pub fn tail_url(s: &Running, query: &str, extra: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let base = s.base.replacen("http://", "ws://", 1);
    format!("{base}/loki/api/v1/tail?query={q}{extra}")
}

pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Ws, WsError> {
    let mut req = url.into_client_request().unwrap();
    for (n, v) in headers {
        let name = HeaderName::from_bytes(n.as_bytes()).expect("header name");
        req.headers_mut()
            .insert(name, v.parse().expect("header value"));
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// The refusal's status and body.
pub async fn refused(url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    match connect(url, headers).await {
        Err(WsError::Http(r)) => {
            let body = String::from_utf8_lossy(r.body().as_deref().unwrap_or_default());
            (r.status().as_u16(), body.into_owned())
        }
        Err(e) => panic!("not an HTTP refusal: {e}"),
        Ok(_) => panic!("upgraded: {url}"),
    }
}

/// One line a tail sent: its stream's `app`, time and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub app: String,
    pub ts: i64,
    pub line: String,
}

/// Frames read: their lines, and every dropped entry they reported.
#[derive(Default)]
pub struct Read {
    pub lines: Vec<Line>,
    pub dropped: Vec<Value>,
}

/// Reads frames until a line equal to `last` arrived.
pub async fn read_until(ws: &mut Ws, last: &str) -> Read {
    let mut read = Read::default();
    let work = async {
        while !read.lines.iter().any(|l| l.line == last) {
            match ws.next().await.expect("socket open").expect("frame") {
                Message::Text(t) => frame_into(&mut read, &t),
                Message::Close(c) => panic!("closed before {last:?}: {c:?}"),
                _ => {}
            }
        }
    };
    tokio::time::timeout(HANG, work)
        .await
        .expect("hung waiting for a line");
    read
}

pub fn frame_into(read: &mut Read, text: &str) {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    for s in v["streams"].as_array().expect("streams") {
        let app = s["stream"]["app"].as_str().unwrap_or_default().to_string();
        for pair in s["values"].as_array().unwrap() {
            read.lines.push(Line {
                app: app.clone(),
                ts: pair[0].as_str().unwrap().parse().unwrap(),
                line: pair[1].as_str().unwrap().to_string(),
            });
        }
    }
    if let Some(d) = v.get("dropped_entries") {
        read.dropped.extend(d.as_array().unwrap().iter().cloned());
    }
}

pub async fn push(s: &Running, streams: &[(&str, Vec<(i64, &str)>)]) {
    let body: Vec<_> = streams
        .iter()
        .map(|(l, e)| (*l, e.iter().map(|(t, x)| (*t, *x, &[][..])).collect()))
        .collect();
    assert_eq!(
        s.push_proto(snappy(&proto(&body))).await,
        (204, String::new())
    );
}

/// Polls `cond` (a counter another task moves) until it holds.
pub async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let wait = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(HANG, wait)
        .await
        .unwrap_or_else(|_| panic!("never: {what}"));
}

pub fn lines_of(read: &Read) -> Vec<(&str, &str)> {
    read.lines
        .iter()
        .map(|l| (l.app.as_str(), l.line.as_str()))
        .collect()
}

#[tokio::test]
async fn the_backlog_then_lines_pushed_afterwards_filtered_as_query_range() {
    let s = start(|_| {}).await;
    let t0 = now() - 120 * S;
    push(
        &s,
        &[
            (
                r#"{app="api"}"#,
                vec![
                    (t0, "error level=crit old"),
                    (t0 + S, "info level=crit old"),
                ],
            ),
            (r#"{app="db"}"#, vec![(t0 + 2 * S, "error level=crit db")]),
        ],
    )
    .await;
    let q = r#"{app=~"api|web"} |= "error" | logfmt | level="crit""#;
    let mut ws = connect(&tail_url(&s, q, &format!("&start={}", t0 - S)), &[])
        .await
        .unwrap();
    let backlog = read_until(&mut ws, "error level=crit old").await;
    assert_eq!(lines_of(&backlog), [("api", "error level=crit old")]);
    assert_eq!(backlog.lines[0].ts, t0);

    push(
        &s,
        &[
            (
                r#"{app="api"}"#,
                vec![
                    (t0 + 10 * S, "error level=crit one"),
                    (t0 + 11 * S, "error level=low"),
                ],
            ),
            (
                r#"{app="web"}"#,
                vec![
                    (t0 + 12 * S, "info level=crit"),
                    (t0 + 13 * S, "error level=crit two"),
                ],
            ),
            (r#"{app="db"}"#, vec![(t0 + 14 * S, "error level=crit db")]),
        ],
    )
    .await;
    push(
        &s,
        &[(
            r#"{app="web"}"#,
            vec![(t0 + 20 * S, "error level=crit last")],
        )],
    )
    .await;
    let live = read_until(&mut ws, "error level=crit last").await;
    assert_eq!(
        lines_of(&live),
        [
            ("api", "error level=crit one"),
            ("web", "error level=crit two"),
            ("web", "error level=crit last")
        ]
    );
    // The labels a pipeline adds are the stream's, as in /query_range.
    let (status, body) = s
        .get(
            &format!(
                "/loki/api/v1/query_range?query={}&start={}&direction=forward",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>(),
                t0 - S
            ),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let ranged: usize = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["values"].as_array().unwrap().len())
        .sum();
    assert_eq!(ranged, backlog.lines.len() + live.lines.len());
}

#[tokio::test]
async fn bad_requests_are_refused_before_the_upgrade_with_lokis_text() {
    let s = start(|_| {}).await;
    let cases = [
        (
            tail_url(&s, r#"count_over_time({app="api"}[1m])"#, ""),
            "only log selector is supported",
        ),
        (tail_url(&s, r#"{app="api""#, ""), "parse error"),
        (
            tail_url(&s, r#"{app="api"}"#, "&delay_for=6"),
            "delay_for can't be greater than 5",
        ),
        (
            tail_url(&s, r#"{app="api"}"#, "&limit=-1"),
            "limit must be a positive value",
        ),
    ];
    for (url, want) in cases {
        let (status, body) = refused(&url, &[]).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(body.contains(want), "{url}: {body}");
    }
    // Not a websocket request at all.
    let (status, _) = s
        .get("/loki/api/v1/tail?query=%7Bapp%3D%22api%22%7D", &[])
        .await;
    assert_eq!(status, 400);
    assert_eq!(s.loki.tail.active(), 0);
}

#[tokio::test]
async fn the_query_token_is_required() {
    let s = start(|l| l.auth.query_token = Some("read-secret".into())).await;
    let url = tail_url(&s, r#"{app="api"}"#, "");
    let (status, body) = refused(&url, &[]).await;
    assert_eq!((status, body.as_str()), (401, "unauthorized\n"));
    let wrong = [("authorization", "Bearer nope")];
    assert_eq!(refused(&url, &wrong).await.0, 401);
    let ws = connect(&url, &[("authorization", "Bearer read-secret")]).await;
    assert!(ws.is_ok());
}

#[tokio::test]
async fn a_line_stamped_ahead_is_sent_when_its_time_comes_held_by_delay_for() {
    let s = start(|_| {}).await;
    let mut ws = connect(&tail_url(&s, r#"{app="api"}"#, "&delay_for=1"), &[])
        .await
        .unwrap();
    let ahead = now() + S;
    push(&s, &[(r#"{app="api"}"#, vec![(ahead, "from the future")])]).await;
    let read = read_until(&mut ws, "from the future").await;
    assert_eq!(read.lines[0].ts, ahead);
    // Not before its time plus the delay (no push woke the tail then: its timer did).
    assert!(now() >= ahead + S);
}
