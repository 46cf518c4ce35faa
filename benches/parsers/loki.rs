//! Benches of the Loki push encoding: 1,000 realistic entries (200-byte lines, 10
//! streams, structured metadata) batched, then encoded as snappy protobuf and as
//! JSON + gzip. Throughput is in uncompressed protobuf bytes of the batch, so the
//! figures of both formats compare.

use criterion::{black_box, Criterion, Throughput};
use nodepulse::agent::sinks::loki::{encode, Batch, Format, LokiEntry, StreamLabels};

/// A JSON-ish application log line padded to 200 bytes, varied per entry as real lines
/// are (so snappy and gzip do not see one line repeated).
fn line(i: usize) -> String {
    let mut l = format!(
        r#"{{"ts":"2024-05-01T12:00:{:02}.{:06}Z","level":"info","msg":"request served","method":"GET","path":"/api/v1/items/{}","status":200,"duration_ms":{}"#,
        i % 60,
        i * 7919 % 1_000_000,
        i * 31 % 10_000,
        i % 250
    );
    while l.len() < 199 {
        l.push(' ');
    }
    l.push('}');
    l
}

fn entries() -> Vec<(StreamLabels, LokiEntry)> {
    let streams: Vec<StreamLabels> = (0..10)
        .map(|s| {
            StreamLabels::new([
                ("namespace", "shop".to_owned()),
                ("pod", format!("checkout-7d9f8b6c5-{s:05}")),
                ("container", "app".to_owned()),
                ("node", "ip-10-0-1-23.ec2.internal".to_owned()),
                (
                    "stream",
                    if s % 3 == 0 { "stderr" } else { "stdout" }.to_owned(),
                ),
            ])
            .expect("labels are non-empty")
        })
        .collect();
    (0..1000)
        .map(|i| {
            let entry = LokiEntry {
                timestamp_ns: 1_714_564_800_000_000_000 + i as i64 * 1_000_003,
                line: line(i),
                metadata: vec![
                    (
                        "pod_uid".into(),
                        format!("6f1c2b7e-3d4a-4f5b-9c8d-{:012x}", i % 10),
                    ),
                    ("level".into(), "info".into()),
                    (
                        "trace_id".into(),
                        format!("{:032x}", i as u128 * 0x9e37_79b9),
                    ),
                ],
            };
            (streams[i % 10].clone(), entry)
        })
        .collect()
}

pub fn benches(c: &mut Criterion) {
    let input = entries();
    let mut batch = Batch::new();
    for (labels, entry) in input.iter().cloned() {
        batch.push(&labels, entry);
    }
    let mut group = c.benchmark_group("loki 1000 entries");
    group.throughput(Throughput::Bytes(batch.encoded_len() as u64));
    group.bench_function("batch", |b| {
        b.iter_batched(
            || input.clone(),
            |input| {
                let mut batch = Batch::new();
                for (labels, entry) in input {
                    batch.push(&labels, entry);
                }
                batch
            },
            criterion::BatchSize::LargeInput,
        )
    });
    for format in [Format::Protobuf, Format::JsonGzip, Format::Json] {
        group.bench_function(format!("encode {format:?}"), |b| {
            b.iter(|| encode(black_box(&batch), format))
        });
    }
    group.finish();
}
