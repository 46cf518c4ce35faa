//! One open tail: the backlog, then a pass over the store on every push (over the streams
//! pushed to) and every second (for lines held back by `delay_for` or stamped in the
//! future), each pass's lines handed to the [`Outbox`]. A writer task owns the socket's
//! sending half, so a client that stops reading fills the outbox's queue and later
//! lines are dropped and counted; pushes never wait for a tail. The session ends when
//! the client closes or goes away (a tail pings every minute, as Loki does, so a dead
//! peer shows as a failed write), at shutdown (a close frame, 1001), or after
//! `tail_max_duration` (1011, Loki's words); either way the writer ends too and the
//! permit is given back.

use super::follow::Follow;
use super::frame::{Closed, Outbox, QUEUE_FRAMES};
use super::hub::{TailPermit, Touched};
use crate::aggregator::loki::LokiApi;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

/// How often a tail looks for lines whose delay has passed without a push.
const TICK: Duration = Duration::from_secs(1);
/// How often a tail pings its client (Loki's `wsPingPeriod`), so a dead peer shows as
/// a failed write.
const PING: Duration = Duration::from_secs(60);
/// How long the writer gets to send the close frame before it is stopped.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// WebSocket close codes (RFC 6455): the server is going away; it failed.
const GOING_AWAY: u16 = 1001;
const INTERNAL_ERROR: u16 = 1011;

/// Why a session ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Shutdown,
    ClientGone,
    StoreFailed,
    /// Open for `tail_max_duration` (Loki closes it then too).
    MaxDuration,
}

/// Runs one tail until it ends; `permit` is given back when it returns.
pub async fn run(
    api: Arc<LokiApi>,
    socket: WebSocket,
    follow: Follow,
    delay_ns: i64,
    permit: TailPermit,
) {
    let (sink, incoming) = socket.split();
    let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
    let mut writer = tokio::spawn(write(sink, rx));
    let end = follow_until_end(&api, incoming, tx.clone(), follow, delay_ns).await;
    tracing::debug!(?end, "A Loki tail ended.");
    let close = match end {
        End::Shutdown => Some((GOING_AWAY, "server shutting down")),
        End::StoreFailed => Some((INTERNAL_ERROR, "reading the log store failed")),
        End::MaxDuration => Some((INTERNAL_ERROR, "reached tail max duration limit")),
        End::ClientGone => None,
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tx.try_send(Message::Close(Some(frame)));
    }
    drop(tx);
    if tokio::time::timeout(CLOSE_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    drop(permit);
}

/// Sends queued messages until the session drops its sender or the client fails.
async fn write(mut sink: SplitSink<WebSocket, Message>, mut rx: mpsc::Receiver<Message>) {
    while let Some(m) = rx.recv().await {
        if sink.send(m).await.is_err() {
            return;
        }
    }
    let _ = sink.close().await;
}

/// The backlog, then passes until the session ends.
async fn follow_until_end(
    api: &Arc<LokiApi>,
    mut incoming: SplitStream<WebSocket>,
    tx: mpsc::Sender<Message>,
    follow: Follow,
    delay_ns: i64,
) -> End {
    let mut outbox = Outbox::new(tx, &api.stats.tail_dropped_entries);
    let mut appended = api.tail.subscribe();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut ping = tokio::time::interval_at(Instant::now() + PING, PING);
    let expire = tokio::time::sleep(api.limits.tail_max_duration);
    tokio::pin!(expire);
    let mut state = Some(follow);
    // Pushes from here on are named to the passes; the backlog sees the earlier ones.
    let mut generation = api.tail.generation();
    let backlog = Step::Backlog((api.now)());
    if let Err(end) = step(api, &mut state, &mut outbox, backlog).await {
        return end;
    }
    loop {
        tokio::select! {
            _ = api.tail.stopped() => return End::Shutdown,
            _ = &mut expire => return End::MaxDuration,
            _ = outbox.closed() => return End::ClientGone,
            _ = ping.tick() => {
                outbox.ping();
                continue;
            }
            m = incoming.next() => match m {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::ClientGone,
                Some(Ok(_)) => continue,
            },
            r = appended.changed() => if r.is_err() { return End::Shutdown },
            _ = tick.tick() => {}
        }
        let end = (api.now)().saturating_sub(delay_ns);
        let touched;
        (generation, touched) = api.tail.touched_since(generation);
        let pass = Step::Pass(end, touched.map(Arc::new));
        if let Err(end) = step(api, &mut state, &mut outbox, pass).await {
            return end;
        }
    }
}

/// What one blocking step reads.
#[derive(Clone)]
enum Step {
    /// The backlog up to this time.
    Backlog(i64),
    /// New entries before this time, in these streams (none: in every stream).
    Pass(i64, Option<Arc<Touched>>),
}

/// Runs `what` on the blocking pool (passes again while one stops at its bound) and
/// queues what it found.
async fn step(
    api: &Arc<LokiApi>,
    state: &mut Option<Follow>,
    outbox: &mut Outbox<'_>,
    what: Step,
) -> Result<(), End> {
    loop {
        let mut follow = state.take().ok_or(End::StoreFailed)?;
        let reader = api.reader.clone();
        let what = what.clone();
        let task = tokio::task::spawn_blocking(move || {
            let found = match what {
                Step::Backlog(end) => follow.backlog(&*reader, end).map(|l| (l, false)),
                Step::Pass(end, touched) => follow
                    .pass(&*reader, end, touched.as_deref())
                    .map(|p| (p.lines, p.more)),
            };
            (follow, found)
        });
        let (follow, found) = task.await.map_err(|_| End::StoreFailed)?;
        *state = Some(follow);
        let (lines, more) = found.map_err(|e| {
            tracing::warn!(error = %e, "A Loki tail could not read the log store.");
            End::StoreFailed
        })?;
        outbox.offer(lines).map_err(|Closed| End::ClientGone)?;
        if !more {
            return Ok(());
        }
    }
}
