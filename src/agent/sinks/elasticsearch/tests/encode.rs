//! The bulk body checked line by line as Elasticsearch reads it.

use super::*;
use flate2::read::GzDecoder;
use serde_json::json;
use std::io::Read;

#[test]
fn body_is_action_document_pairs_with_a_trailing_newline() {
    let req = BulkRequest::encode(&docs(3), &fixed());
    let lines = lines(req.body());
    assert_eq!(lines.len(), 6);
    for (i, pair) in lines.chunks(2).enumerate() {
        assert_eq!(pair[0], json!({"create": {"_index": "k8s-logs"}}));
        assert_eq!(pair[1]["message"], format!("line {i}"));
    }
    assert_eq!(req.len(), 3);
    assert_eq!(req.positions(), &[0, 1, 2]);
}

#[test]
fn document_uses_ecs_field_names() {
    let mut d = doc("hello");
    d.trace_id = Some("4bf92f3577b34da6a3ce929d0e0e4736".into());
    let lines = lines(BulkRequest::encode(&[d], &fixed()).body());
    assert_eq!(
        lines[1],
        json!({
            "@timestamp": "2024-05-01T12:00:00.123456789Z",
            "message": "hello",
            "stream": "stdout",
            "log": {"level": "info"},
            "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
            "kubernetes": {
                "namespace": "shop",
                "pod": {"name": "web-0", "uid": "0c6b5b4e-6f1d-4f7e-9d0a-1b2c3d4e5f60"},
                "container": {"name": "app"},
                "node": {"name": "node-1"},
                "labels": {"app_kubernetes_io/name": "web", "tier": "front"}
            }
        })
    );
}

#[test]
fn absent_level_trace_and_labels_are_left_out() {
    let mut d = doc("x");
    d.level = None;
    d.kubernetes.labels.clear();
    let lines = lines(BulkRequest::encode(&[d], &fixed()).body());
    let obj = lines[1].as_object().unwrap();
    assert!(!obj.contains_key("log") && !obj.contains_key("trace"));
    assert!(!lines[1]["kubernetes"]
        .as_object()
        .unwrap()
        .contains_key("labels"));
}

#[test]
fn messages_with_control_characters_and_unicode_stay_on_one_line() {
    let messages = [
        "two\nlines",
        "cr\r\nlf",
        "tab\tbell\u{7}nul\u{0}esc\u{1b}[31m",
        "quote \" and backslash \\",
        "unicode: żółw 日本語 🦀",
        "separators \u{2028} \u{2029}",
        "{\"create\":{\"_index\":\"evil\"}}",
        "",
    ];
    let batch: Vec<_> = messages.iter().map(|m| doc(m)).collect();
    let req = BulkRequest::encode(&batch, &fixed());
    let lines = lines(req.body());
    assert_eq!(lines.len(), 2 * messages.len());
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(lines[2 * i + 1]["message"], *m);
    }
}

#[test]
fn gzip_round_trips() {
    let req = BulkRequest::encode(&docs(100), &fixed());
    let wire = req.wire_body(Compression::Gzip);
    assert!(wire.len() < req.body().len() / 3);
    let mut back = Vec::new();
    GzDecoder::new(&wire[..]).read_to_end(&mut back).unwrap();
    assert_eq!(back, req.body());
    assert_eq!(req.wire_body(Compression::None), req.body());
    assert_eq!(Compression::Gzip.content_encoding(), Some("gzip"));
    assert_eq!(Compression::None.content_encoding(), None);
}

#[test]
fn daily_pattern_names_each_document_by_its_own_date() {
    let target = IndexTarget::index("logs-%Y.%m.%d").unwrap();
    let mut late = doc("before midnight");
    late.unix_nanos = 1_735_689_599_999_999_999; // 2024-12-31T23:59:59.999999999Z
    let mut early = doc("after midnight");
    early.unix_nanos = late.unix_nanos + 1;
    let lines = lines(BulkRequest::encode(&[late, early, doc("may")], &target).body());
    let index = |i: usize| {
        lines[2 * i]["create"]["_index"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(index(0), "logs-2024.12.31");
    assert_eq!(index(1), "logs-2025.01.01");
    assert_eq!(index(2), "logs-2024.05.01");
}

#[test]
fn index_settings_table() {
    let ok: &[(&str, i64, &str)] = &[
        ("k8s", T0, "k8s"),
        ("logs-%Y.%m.%d", T0, "logs-2024.05.01"),
        ("%Y-%m-%d", T0, "2024-05-01"),
        ("app-%Y%m", 0, "app-197001"),
        ("logs-%d.%m.%Y-x", T0, "logs-01.05.2024-x"),
    ];
    for &(setting, nanos, want) in ok {
        let target = IndexTarget::index(setting).unwrap();
        assert_eq!(target.name_at(nanos), want, "{setting}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "empty"),
        ("Logs", "lowercase"),
        ("logs %Y", "forbidden"),
        ("a/b", "forbidden"),
        ("a,b", "forbidden"),
        ("_logs", "must not start"),
        ("..", "must not start"),
        ("logs-%H", "%H"),
        ("logs-%", "only %Y"),
        ("logs-%%", "only %Y"),
    ];
    for &(setting, needle) in bad {
        let err = IndexTarget::index(setting).unwrap_err().to_string();
        assert!(err.contains(needle), "{setting}: {err}");
    }
    assert!(IndexTarget::index(&"a".repeat(256)).is_err());
}

#[test]
fn data_streams_get_create_actions() {
    let target = IndexTarget::data_stream("logs-kubernetes-default").unwrap();
    let lines = lines(BulkRequest::encode(&docs(1), &target).body());
    assert_eq!(
        lines[0],
        json!({"create": {"_index": "logs-kubernetes-default"}})
    );
    assert!(IndexTarget::data_stream("Logs").is_err());
}
