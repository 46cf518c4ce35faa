//! A Loki-compatible receiver that acknowledges and discards: an in-process hyper
//! server on 127.0.0.1 that takes `POST /loki/api/v1/push` (snappy block + protobuf
//! `PushRequest`), counts streams' entries and line bytes by walking the protobuf (no
//! message is built, so the receiver costs little of the machine the agent runs on),
//! and answers 204. In probe mode it also reads the write time each latency probe line
//! carries (`t=<ns since epoch>`) and records write ─▶ acknowledged.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;

/// What the receiver counted; shared with the harness.
#[derive(Default)]
pub struct Counts {
    pub requests: AtomicU64,
    pub entries: AtomicU64,
    pub line_bytes: AtomicU64,
    /// Bodies that did not decompress or parse (answered 400).
    pub bad: AtomicU64,
    /// When the last request was acknowledged.
    pub last_ack: Mutex<Option<Instant>>,
    /// Probe mode: write ─▶ acknowledged, in nanoseconds, one per probe line.
    pub latencies_ns: Mutex<Vec<u64>>,
}

/// A running receiver; stops with the runtime when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    pub counts: Arc<Counts>,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    /// Starts serving on a free port, on one worker thread of its own.
    pub fn start(probe: bool) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("the receiver's runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let counts = Arc::new(Counts::default());
        runtime.spawn(serve(listener, counts.clone(), probe));
        Receiver {
            addr,
            counts,
            _runtime: runtime,
        }
    }

    pub fn push_url(&self) -> String {
        format!("http://{}/loki/api/v1/push", self.addr)
    }

    pub fn entries(&self) -> u64 {
        self.counts.entries.load(Ordering::Acquire)
    }
}

async fn serve(listener: TcpListener, counts: Arc<Counts>, probe: bool) {
    while let Ok((stream, _)) = listener.accept().await {
        let counts = counts.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let counts = counts.clone();
                async move { Ok::<_, hyper::Error>(handle(req, &counts, probe).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(req: Request<Incoming>, counts: &Counts, probe: bool) -> Response<Empty<Bytes>> {
    let status = match req.into_body().collect().await {
        Ok(body) => match count(&body.to_bytes(), counts, probe) {
            Some(()) => StatusCode::NO_CONTENT,
            None => StatusCode::BAD_REQUEST,
        },
        Err(_) => StatusCode::BAD_REQUEST,
    };
    if status != StatusCode::NO_CONTENT {
        counts.bad.fetch_add(1, Ordering::Relaxed);
    }
    let mut resp = Response::new(Empty::new());
    *resp.status_mut() = status;
    resp
}

/// Decompresses and walks one push body, adding to the counts.
fn count(body: &[u8], counts: &Counts, probe: bool) -> Option<()> {
    let raw = snap::raw::Decoder::new().decompress_vec(body).ok()?;
    let (mut entries, mut bytes) = (0u64, 0u64);
    let mut latencies = Vec::new();
    let now = now_ns();
    for stream in fields(&raw, 1) {
        for entry in fields(stream?, 2) {
            let line = fields(entry?, 2).next().unwrap_or(Some(&[]))?;
            entries += 1;
            bytes += line.len() as u64;
            if probe {
                latencies.extend(probe_time(line).map(|t| now.saturating_sub(t)));
            }
        }
    }
    counts.latencies_ns.lock().unwrap().extend(latencies);
    *counts.last_ack.lock().unwrap() = Some(Instant::now());
    counts.requests.fetch_add(1, Ordering::Relaxed);
    counts.line_bytes.fetch_add(bytes, Ordering::Relaxed);
    counts.entries.fetch_add(entries, Ordering::AcqRel);
    Some(())
}

/// The write time a probe line carries after `t=`.
fn probe_time(line: &[u8]) -> Option<u64> {
    let at = line.windows(2).position(|w| w == b"t=")? + 2;
    let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&line[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

pub fn now_ns() -> u64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    d.as_nanos() as u64
}

/// The length-delimited fields numbered `tag` of one protobuf message, in order; other
/// fields are skipped by wire type. `None` items: the message is malformed.
fn fields(mut msg: &[u8], tag: u64) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || loop {
        if msg.is_empty() {
            return None;
        }
        let Some(key) = varint(&mut msg) else {
            msg = &[];
            return Some(None);
        };
        let value = match key & 7 {
            0 => varint(&mut msg).map(|_| None),
            1 => take(&mut msg, 8).map(|_| None),
            2 => varint(&mut msg)
                .and_then(|n| take(&mut msg, n as usize))
                .map(Some),
            5 => take(&mut msg, 4).map(|_| None),
            _ => None::<Option<&[u8]>>,
        };
        match value {
            None => {
                msg = &[];
                return Some(None);
            }
            Some(Some(bytes)) if key >> 3 == tag => return Some(Some(bytes)),
            Some(_) => {}
        }
    })
}

fn varint(msg: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, &b) in msg.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *msg = &msg[i + 1..];
            return Some(value);
        }
    }
    None
}

fn take<'a>(msg: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if msg.len() < n {
        return None;
    }
    let (head, tail) = msg.split_at(n);
    *msg = tail;
    Some(head)
}
