//! Sink outages through the real agent binary, with far more written than the memory
//! buffer holds. The Loki receiver (tests/common/receivers.rs) answers 503 for a while,
//! then refuses connections (listener closed), then comes back:
//! - memory only: reading stops (backpressure) within the configured bound, nothing is
//!   lost, order is kept, delivery resumes;
//! - with the disk spool: reading goes on through the outage, the spool holds what
//!   memory cannot, nothing is lost, order is kept;
//! - SIGKILL while the spool holds batches and the sink is down: the restarted agent
//!   replays them before anything new, reads nothing twice, loses nothing.
//!
//! Memory is `/proc/<pid>/status` (VmRSS sampled through the outage, VmHWM at the end)
//! against the RSS measured after a warm-up, plus the buffer bound, plus
//! [`ALLOWANCE_MIB`].

mod common;

use common::logs::{
    agent, all_arrived, assert_complete_in_order, checkpoints, metric, status_kib, wait_all,
    Container, Dirs, RssSampler,
};
use common::receivers::{Receiver, Reply};
use common::Server;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;
/// Message bytes per line: ~1 KiB lines, so 40 MiB is ~40,000 lines.
const MSG: usize = 1000;
/// Delivery after an outage waits for the sender's next retry (backoff up to 60 s).
const RESUME_TIMEOUT: Duration = Duration::from_secs(240);
/// Generous waits for a loaded 2-core machine (debug build).
const WAIT: Duration = Duration::from_secs(120);
/// 503 answers before the listener closes.
const REFUSALS: usize = 4;

/// What the agent may hold besides the buffer's bound, in MiB:
/// - the reader ─▶ processor channel: 4 polls of up to 512 KiB of raw lines each (the
///   defaults), plus per-line bookkeeping (`RawLine`, ~10% on 1 KiB lines): 3 (18 when
///   it was 16 polls of 1 MiB; the allowance was kept);
/// - batches outside the buffer: the batcher's open one, the one waiting in `push`, the
///   one in flight and its encoded request (protobuf, snappy, the HTTP body): ~6;
/// - the buffer's own overhead beyond payload bytes (a `Vec` per record) and the
///   allocator's slack (per-thread arenas, fragmentation): 8.
const ALLOWANCE_MIB: u64 = 32;

fn pods(d: &Dirs) -> (Container, Container) {
    (
        Container::new(&d.pods, "default_web-1_11111111-aaaa", "app"),
        Container::new(&d.pods, "kube-system_dns-2_22222222-bbbb", "dns"),
    )
}

/// Writes ~`mib` MiB across the containers, a chunk at a time.
async fn write_mib(containers: &mut [&mut Container], mib: u64) {
    let start: u64 = containers.iter().map(|c| c.bytes).sum();
    while containers.iter().map(|c| c.bytes).sum::<u64>() - start < mib * MIB {
        for c in containers.iter_mut() {
            c.write(256, MSG);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn written(containers: &[&Container]) -> u64 {
    containers.iter().map(|c| c.bytes).sum()
}

/// Ships a little and waits for it: the baseline RSS then includes a running pipeline
/// (HTTP client, threads, allocator arenas).
async fn warm_up(
    receiver: &Receiver,
    server: &Server,
    web: &mut Container,
    dns: &mut Container,
) -> u64 {
    web.write(500, MSG);
    dns.write(500, MSG);
    wait_all(receiver, &[web, dns], server, WAIT).await;
    status_kib(server.pid(), "VmRSS")
}

/// Answers 503 `REFUSALS` times, then closes the listener once they were all answered.
async fn outage(receiver: &mut Receiver, server: &Server) {
    let deadline = Instant::now() + WAIT;
    while refused(receiver) < REFUSALS {
        assert!(
            Instant::now() < deadline,
            "503s not all answered:\n{}",
            server.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    receiver.stop().await;
}

fn refused(receiver: &Receiver) -> usize {
    let received = receiver.script.received();
    received.iter().filter(|r| r.status == 503).count()
}

/// Waits until `nodepulse_log_read_bytes_total` and the checkpoints have not moved for
/// `quiet`; returns the bytes read.
async fn wait_for_stall(server: &Server, d: &Dirs, quiet: Duration) -> u64 {
    let deadline = Instant::now() + WAIT;
    let mut last = (
        metric(server, "nodepulse_log_read_bytes_total").await,
        checkpoints(d),
    );
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = (
            metric(server, "nodepulse_log_read_bytes_total").await,
            checkpoints(d),
        );
        if now != last {
            (last, since) = (now, Instant::now());
        } else if since.elapsed() >= quiet {
            return last.0 as u64;
        }
        assert!(
            Instant::now() < deadline,
            "reading never stalled:\n{}",
            server.log_tail(20)
        );
    }
}

/// Asserts the sampled and peak RSS against `baseline + bound + ALLOWANCE_MIB`.
fn assert_rss_bound(server: &Server, sampler: RssSampler, baseline_kib: u64, bound: u64) {
    let during = sampler.stop();
    let peak = status_kib(server.pid(), "VmHWM");
    let limit = baseline_kib + (bound + ALLOWANCE_MIB * MIB) / 1024;
    eprintln!("RSS: baseline {baseline_kib} KiB, max sampled {during} KiB, VmHWM {peak} KiB, limit {limit} KiB");
    assert!(during <= limit, "VmRSS {during} KiB over {limit} KiB");
    assert!(peak <= limit, "VmHWM {peak} KiB over {limit} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_stops_reading_within_the_memory_bound_and_loses_nothing() {
    const BUFFER: u64 = 4 * MIB;
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let (mut web, mut dns) = pods(&d);
    let mut receiver = Receiver::loki().await;
    let buffer_flag = format!("--logs.buffer.max-bytes={BUFFER}");
    let server = agent(&d, &receiver, &[&buffer_flag]).await;
    let baseline = warm_up(&receiver, &server, &mut web, &mut dns).await;
    let sampler = RssSampler::start(server.pid());

    for _ in 0..REFUSALS {
        receiver.script.push(Reply::Status(503, None));
    }
    write_mib(&mut [&mut web, &mut dns], 40).await;
    outage(&mut receiver, &server).await;
    // Backpressure: reading stops well before the end of the files, and stays stopped.
    let read = wait_for_stall(&server, &d, Duration::from_secs(3)).await;
    let total = written(&[&web, &dns]);
    assert!(read + 10 * MIB < total, "read {read} of {total} bytes");
    // Stopped because the buffer is full (a batch is ~1 MiB: less than that is free).
    let held = metric(&server, "nodepulse_log_buffer_bytes").await as u64;
    assert!(
        held > BUFFER - 2 * MIB && held <= BUFFER,
        "buffer holds {held}"
    );
    let acked: u64 = checkpoints(&d).values().sum();
    assert!(acked < read, "checkpoints {acked} past what was sent");
    assert!(!all_arrived(&receiver, &[&web, &dns]));

    receiver.restart().await;
    wait_all(&receiver, &[&web, &dns], &server, RESUME_TIMEOUT).await;
    assert_complete_in_order(&receiver, &[&web, &dns]);
    assert_eq!(
        refused(&receiver),
        REFUSALS,
        "the scripted 503s were answered"
    );
    assert_rss_bound(&server, sampler, baseline, BUFFER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_spool_reading_goes_on_through_an_outage_and_nothing_is_lost() {
    const BUFFER: u64 = 2 * MIB;
    const SPOOL: u64 = 64 * MIB;
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let (mut web, mut dns) = pods(&d);
    let mut receiver = Receiver::loki().await;
    let flags = [
        format!("--logs.buffer.max-bytes={BUFFER}"),
        format!("--logs.spool.max-bytes={SPOOL}"),
    ];
    let server = agent(&d, &receiver, &[&flags[0], &flags[1]]).await;
    let baseline = warm_up(&receiver, &server, &mut web, &mut dns).await;
    let sampler = RssSampler::start(server.pid());

    for _ in 0..REFUSALS {
        receiver.script.push(Reply::Status(503, None));
    }
    write_mib(&mut [&mut web, &mut dns], 40).await;
    outage(&mut receiver, &server).await;
    // Reading goes on: every byte written is read while the sink is down.
    let total = written(&[&web, &dns]);
    let deadline = Instant::now() + WAIT;
    while metric(&server, "nodepulse_log_read_bytes_total").await as u64 != total {
        assert!(
            Instant::now() < deadline,
            "not all read:\n{}",
            server.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let spooled = metric(&server, "nodepulse_log_spool_bytes").await as u64;
    assert!(spooled > 10 * BUFFER, "spool holds {spooled} bytes");
    // The spool rolls segments of a quarter of its cap: as many as its bytes need (at
    // least two here). How many more depends on how much was shipped before the outage.
    let segments = metric(&server, "nodepulse_log_spool_segments").await;
    let need = spooled.div_ceil(SPOOL / 4);
    assert!(
        segments >= need as f64,
        "{segments} segments hold {spooled} bytes"
    );
    assert!(!all_arrived(&receiver, &[&web, &dns]));

    receiver.restart().await;
    wait_all(&receiver, &[&web, &dns], &server, RESUME_TIMEOUT).await;
    assert_complete_in_order(&receiver, &[&web, &dns]);
    assert_rss_bound(&server, sampler, baseline, BUFFER);
    // Every batch acknowledged: every segment deleted but the open one.
    let deadline = Instant::now() + WAIT;
    while metric(&server, "nodepulse_log_spool_segments").await > 1.0 {
        assert!(Instant::now() < deadline, "spool never emptied");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_batches_in_the_spool_replays_them_first_and_reads_nothing_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dirs::under(tmp.path());
    let (mut web, mut dns) = pods(&d);
    let mut receiver = Receiver::loki().await;
    receiver.stop().await; // down from the start: nothing is delivered before the kill
    let flags = [
        format!("--logs.buffer.max-bytes={}", MIB),
        format!("--logs.spool.max-bytes={}", 64 * MIB),
    ];
    let server = agent(&d, &receiver, &[&flags[0], &flags[1]]).await;
    write_mib(&mut [&mut web, &mut dns], 8).await;
    // Everything read, spooled, and the checkpoints persisted at the files' ends.
    let files = [(&web, web.file.clone()), (&dns, dns.file.clone())];
    let deadline = Instant::now() + WAIT;
    loop {
        let at = checkpoints(&d);
        let done = files
            .iter()
            .all(|(c, path)| at.get(&path.display().to_string()) == Some(&c.bytes));
        if done {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoints {at:?}:\n{}",
            server.log_tail(20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(metric(&server, "nodepulse_log_spool_batches_total").await > 4.0);
    drop(server); // SIGKILL

    let before = written(&[&web, &dns]);
    web.write(100, MSG);
    dns.write(100, MSG);
    receiver.restart().await;
    let server = agent(&d, &receiver, &[&flags[0], &flags[1]]).await;
    wait_all(&receiver, &[&web, &dns], &server, WAIT).await;
    let repeats = assert_complete_in_order(&receiver, &[&web, &dns]);
    assert_eq!(repeats, [0; 4], "nothing was delivered before the kill");
    assert!(metric(&server, "nodepulse_log_spool_replayed_batches_total").await > 4.0);
    let reread = metric(&server, "nodepulse_log_read_bytes_total").await as u64;
    assert_eq!(
        reread,
        written(&[&web, &dns]) - before,
        "only new lines were read"
    );
}
