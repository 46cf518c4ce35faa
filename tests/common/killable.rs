//! A scrape target that can be killed as a process dies — its listener closed and
//! every connection dropped at once, so new connections are refused — or that closes
//! connections left idle for a while, as servers with an idle timeout do. It serves a
//! fixed body and counts the connections it accepted, the requests it served (by
//! User-Agent) and the idle connections it closed. Used by the killed-target tests and
//! the time-to-detect bench.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// What the target saw.
#[derive(Default)]
struct Seen {
    accepted: AtomicUsize,
    idle_closed: AtomicUsize,
    agents: Mutex<Vec<String>>,
}

/// A running target on a loopback port (on the current runtime).
pub struct Killable {
    pub port: u16,
    seen: Arc<Seen>,
    kill: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Killable {
    /// Serves `body` (text 0.0.4) at any path; `idle`: close connections idle that long.
    pub async fn start(body: &str, idle: Option<Duration>) -> Killable {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        let body = Bytes::from(body.to_owned());
        let kill = Arc::new(Notify::new());
        let task = tokio::spawn(accept(listener, body, idle, seen.clone(), kill.clone()));
        Killable {
            port,
            seen,
            kill,
            task,
        }
    }

    /// Kills the target: the listener is closed, then every connection dropped (as a
    /// dying process's descriptors are closed, the listener's being the lowest).
    pub fn kill(&self) {
        self.kill.notify_one();
    }

    pub fn accepted(&self) -> usize {
        self.seen.accepted.load(Ordering::SeqCst)
    }

    pub fn idle_closed(&self) -> usize {
        self.seen.idle_closed.load(Ordering::SeqCst)
    }

    pub fn served(&self) -> usize {
        self.seen.agents.lock().unwrap().len()
    }

    /// Requests whose User-Agent starts with `prefix`.
    pub fn served_by(&self, prefix: &str) -> usize {
        let agents = self.seen.agents.lock().unwrap();
        agents.iter().filter(|a| a.starts_with(prefix)).count()
    }
}

impl Drop for Killable {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts until killed; the connections are tasks of a set dropped after the listener.
async fn accept(
    listener: TcpListener,
    body: Bytes,
    idle: Option<Duration>,
    seen: Arc<Seen>,
    kill: Arc<Notify>,
) {
    let mut conns = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = kill.notified() => {
                drop(listener);
                conns.abort_all();
                return;
            }
        };
        let Ok((stream, _)) = accepted else {
            continue;
        };
        seen.accepted.fetch_add(1, Ordering::SeqCst);
        conns.spawn(serve(stream, body.clone(), idle, seen.clone()));
        while conns.try_join_next().is_some() {}
    }
}

async fn serve(stream: TcpStream, body: Bytes, idle: Option<Duration>, seen: Arc<Seen>) {
    let last = Arc::new(Mutex::new(Instant::now()));
    let (last2, seen2) = (last.clone(), seen.clone());
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let agent = req.headers().get("user-agent");
        let agent = agent.and_then(|v| v.to_str().ok()).unwrap_or("");
        seen2.agents.lock().unwrap().push(agent.to_owned());
        *last2.lock().unwrap() = Instant::now();
        let resp = Response::builder()
            .header("content-type", "text/plain; version=0.0.4")
            .body(Full::new(body.clone()))
            .unwrap();
        async move { Ok::<_, Infallible>(resp) }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let Some(idle) = idle else {
        let _ = conn.await;
        return;
    };
    loop {
        let deadline = *last.lock().unwrap() + idle;
        tokio::select! {
            _ = conn.as_mut() => return,
            () = tokio::time::sleep_until(deadline) => {
                if last.lock().unwrap().elapsed() >= idle {
                    seen.idle_closed.fetch_add(1, Ordering::SeqCst);
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                    return;
                }
            }
        }
    }
}
