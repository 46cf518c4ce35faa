//! The pod cache with a full node (110 pods × 3 containers, kubelet's default maxPods):
//! heap bytes the cache keeps (PodMeta + snapshot indices, counted by a counting global
//! allocator after the full `Pod`s are dropped), peak heap of one kube_pod_* scrape
//! (families + encoded body), and CPU per kube_pod_* scrape (criterion): built, and
//! while the cache is unchanged (the encoded section reused). The cache is
//! held twice in the agent at most for a moment (old and new snapshot while a reader
//! still holds the old one); the writer's state shares the `Arc<PodMeta>`s.
//!
//! `cargo bench --bench kube_cache`. Without `--bench` it runs each case once.

#[path = "../tests/common/pods.rs"]
#[allow(dead_code)]
mod pods;

use criterion::{criterion_group, criterion_main, Criterion};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use nodepulse::agent::kube::encoded::EncodedPods;
use nodepulse::agent::kube::{ksm, AnnotationFilter, NamespaceMeta, PodCache, PodMeta, Snapshot};
use nodepulse::exposition::{encode, normalize, Format};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const MIB: f64 = 1024.0 * 1024.0;

fn full_node() -> Snapshot {
    let filter = AnnotationFilter::default();
    let pods: Vec<PodMeta> = pods::node_full_of_pods(110)
        .into_iter()
        .map(|v| serde_json::from_value::<Pod>(v).expect("pod"))
        .map(|p| PodMeta::from_pod(&p, &filter).expect("meta"))
        .collect();
    let namespaces: Vec<NamespaceMeta> = (0..10)
        .map(|i| pods::namespace(&format!("ns-{i}"), &[("team", "t")], &[]))
        .map(|v| serde_json::from_value::<Namespace>(v).expect("namespace"))
        .map(|n| NamespaceMeta::from_namespace(&n, &filter).expect("meta"))
        .collect();
    Snapshot::from_metas(pods, namespaces)
}

fn scrape(snapshot: &Snapshot) -> Vec<u8> {
    let mut families = Vec::new();
    ksm::collect(snapshot, &mut families);
    let (families, _) = normalize(families);
    let mut body = Vec::with_capacity(64 * 1024);
    encode(&families, Format::Text, &mut body);
    body
}

fn memory() -> Snapshot {
    let before = LIVE.load(Ordering::Relaxed);
    let snapshot = full_node();
    let cache = LIVE.load(Ordering::Relaxed) - before;
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let body = scrape(&snapshot);
    let scrape_peak = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "kube cache, 110 pods x 3 containers: {:.2} MiB kept ({:.0} B/pod); one kube_pod_* scrape: peak {:.2} MiB, body {:.0} KiB, {} lines",
        cache as f64 / MIB,
        cache as f64 / 110.0,
        scrape_peak as f64 / MIB,
        body.len() as f64 / 1024.0,
        body.iter().filter(|&&b| b == b'\n').count()
    );
    snapshot
}

fn bench(c: &mut Criterion) {
    let snapshot = memory();
    c.bench_function("kube_pod_scrape_110x3", |b| b.iter(|| scrape(&snapshot)));
    c.bench_function("kube_pod_json_to_snapshot_110x3", |b| b.iter(full_node));
    // What a scrape costs while the cache does not change: the encoded section copied.
    let cache = PodCache::default();
    cache.publish(snapshot);
    let pods = EncodedPods::default();
    c.bench_function("kube_pod_scrape_unchanged_110x3", |b| {
        b.iter(|| {
            let section = pods.section(&cache, Format::Text);
            let mut body = Vec::with_capacity(64 * 1024);
            body.extend_from_slice(&section.body);
            body
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
