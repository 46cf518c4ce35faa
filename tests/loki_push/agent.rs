//! The agent's own Loki sink encoder (`agent::sinks::loki::encode`, each format it can
//! send) into the receiver: both halves of nodepulse speak the same push API.

use crate::server::{now, start};
use nodepulse::agent::sinks::loki::{encode, Batch, Format, LokiEntry, StreamLabels};
use nodepulse::aggregator::model::Labels;

fn batch(t: i64) -> Batch {
    let mut b = Batch::new();
    let pod = StreamLabels::new([
        ("namespace", "shop"),
        ("pod", "api-7f9"),
        ("container", "api"),
    ]);
    let node = StreamLabels::new([("job", "node"), ("stream", "stderr")]);
    let entry = |dt: i64, line: &str, meta: &[(&str, &str)]| LokiEntry {
        timestamp_ns: t + dt,
        line: line.to_string(),
        metadata: meta
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    let pod = pod.unwrap();
    b.push(
        &pod,
        entry(0, "GET /cart 200", &[("pod_uid", "u-1"), ("level", "info")]),
    );
    b.push(&pod, entry(1, "unicode ✓ \"quoted\" \\ line", &[]));
    b.push(
        &node.unwrap(),
        entry(2, "kernel: oom", &[("trace.id", "t-9")]),
    );
    b
}

#[tokio::test]
async fn every_agent_format_lands_as_sent() {
    for format in [Format::Protobuf, Format::Json, Format::JsonGzip] {
        let s = start(|_| {}).await;
        let t = now();
        let req = encode(&batch(t), format).unwrap();
        let mut headers = vec![("content-type", req.content_type)];
        if let Some(enc) = req.content_encoding {
            headers.push(("content-encoding", enc));
        }
        let (status, text) = s.post("/loki/api/v1/push", &headers, req.body).await;
        assert_eq!((status, text.as_str()), (204, ""), "{format:?}");
        let dump = s.store.dump();
        let pod = Labels::from_pairs(&[
            ("container", "api"),
            ("namespace", "shop"),
            ("pod", "api-7f9"),
        ]);
        let node = Labels::from_pairs(&[("job", "node"), ("stream", "stderr")]);
        assert_eq!(
            dump.iter().map(|d| d.0.clone()).collect::<Vec<_>>(),
            [pod, node],
            "{format:?}"
        );
        let lines: Vec<_> = dump[0]
            .1
            .iter()
            .map(|e| (e.ts - t, e.line.as_str()))
            .collect();
        assert_eq!(
            lines,
            [(0, "GET /cart 200"), (1, "unicode ✓ \"quoted\" \\ line")],
            "{format:?}"
        );
        let meta = |i: usize, j: usize| dump[i].1[j].metadata.clone();
        let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            meta(0, 0),
            pairs(&[("pod_uid", "u-1"), ("level", "info")]),
            "{format:?}"
        );
        // The agent sanitizes metadata names as label names.
        assert_eq!(meta(1, 0), pairs(&[("trace_id", "t-9")]), "{format:?}");
    }
}
