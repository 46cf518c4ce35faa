//! Bench of the Elasticsearch sink's encoder: 1,000 Kubernetes log lines with 200-byte
//! messages into a `_bulk` body, plain and gzipped. Throughput is in body bytes.

use criterion::{black_box, Criterion, Throughput};
use nodepulse::agent::sinks::elasticsearch::{
    BulkRequest, Compression, EsDocument, IndexTarget, KubernetesMeta,
};

fn documents(n: usize) -> Vec<EsDocument> {
    let labels = [
        ("app.kubernetes.io/name", "checkout"),
        ("app.kubernetes.io/instance", "checkout-prod"),
        ("pod-template-hash", "7d9c8b6f5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let meta = KubernetesMeta {
        namespace: "shop".into(),
        pod_name: "checkout-7d9c8b6f5-x2k4q".into(),
        pod_uid: "0c6b5b4e-6f1d-4f7e-9d0a-1b2c3d4e5f60".into(),
        container_name: "app".into(),
        node_name: "ip-10-0-12-34.eu-west-1.compute.internal".into(),
        labels,
    };
    (0..n)
        .map(|i| {
            let mut message = format!(
                "{i:06} GET /api/v1/cart/items?session=9f8e7d6c status=200 bytes=5123 \
                 duration_ms=12.7 user_agent=\"Mozilla/5.0 (X11; Linux x86_64)\" \"quoted\"\t"
            );
            let pad = 200 - message.len();
            message.push_str(&"x".repeat(pad));
            EsDocument {
                unix_nanos: 1_714_564_800_000_000_000 + i as i64 * 1_000_000,
                message,
                stream: "stdout".into(),
                level: Some("info".into()),
                trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
                kubernetes: meta.clone(),
            }
        })
        .collect()
}

pub fn benches(c: &mut Criterion) {
    let docs = documents(1000);
    let target = IndexTarget::index("logs-%Y.%m.%d").expect("a valid pattern");
    let bytes = BulkRequest::encode(&docs, &target).body().len() as u64;
    let mut group = c.benchmark_group("elasticsearch bulk 1000 docs");
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("encode", |b| {
        b.iter(|| BulkRequest::encode(black_box(&docs), &target))
    });
    group.bench_function("encode+gzip", |b| {
        b.iter(|| BulkRequest::encode(black_box(&docs), &target).wire_body(Compression::Gzip))
    });
    group.finish();
}
