//! The model-based rotation test at the pipeline level (issue 3): the real [`Pipeline`]
//! runs in process against a temp kubelet log tree (`<pods>/<ns>_<pod>_<uid>/<c>/N.log`
//! and the `<containers>` symlinks) and a local Loki receiver that decodes the real
//! snappy protobuf; random operations drawn from a seed — CRI writes (F lines, P…F
//! sequences, stdout and stderr interleaved, a message left unfinished across other
//! operations but finished before its file rotates), kubelet rename rotation (the runtime writing on to the renamed file),
//! copytruncate, gzip and deletion of rotated files, container restarts with kubelet's
//! GC, new pods, pod deletion, 503/429 answers, short sleeps — run against a model of
//! what was written (tests/common/kubelet.rs). Every message must be acknowledged once,
//! in order per (container instance, stream), with its labels, metadata and timestamp,
//! and nothing else (tests/common/delivered.rs).
//!
//! Loss that no agent can avoid is kept out of the sequences, as real kubelet timing
//! keeps it out, never by weakening the check: a file is unlinked (deleted, gzipped,
//! removed with its pod or by container GC) only once the agent has opened it — one
//! message written straight into it was acknowledged — or every message with a piece in
//! it was. Before that the test waits (bounded: an agent that never reads the file
//! fails the case). Copytruncate copies and truncates with nothing written in between
//! (what logrotate writes there is lost by design); the copy is then read by the agent
//! from where it had read the original, so copytruncate needs no other precaution. A
//! stopped container's unfinished message is finished before it stops.
//!
//! `NODEPULSE_MODEL_SEED=n` replays one case (every case prints its seed);
//! `NODEPULSE_MODEL_CASES=n` runs n cases (from the seed, if given; default 20).
//!
//! The case (settings, agent runs, steps) is in `tests/model/`.

mod common;
mod model;

use model::Case;

const DEFAULT_CASES: u64 = 20;

fn seeds() -> std::ops::Range<u64> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .map(|v: String| v.parse::<u64>().unwrap())
    };
    let (seed, cases) = (var("NODEPULSE_MODEL_SEED"), var("NODEPULSE_MODEL_CASES"));
    let first = seed.unwrap_or(0);
    let n = cases.unwrap_or(if seed.is_some() { 1 } else { DEFAULT_CASES });
    first..first + n
}

/// Issue 3's done-when: every line written is delivered, in order per container, with
/// no duplicates, through rotations, copytruncates, deletions and new containers.
#[test]
fn every_line_is_delivered_once_in_order_through_rotations() {
    let filter = tracing_subscriber::EnvFilter::from_env("NODEPULSE_MODEL_LOG");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for seed in seeds() {
        Case::new(seed, &rt).run();
    }
}
