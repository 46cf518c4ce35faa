use super::*;

const NOW: i64 = 1_700_000_000_000_000_000;

fn entry(ts: i64, line: &str) -> LogEntry {
    LogEntry {
        ts,
        line: line.into(),
        metadata: vec![],
    }
}

fn text(t: &str, entries: Vec<LogEntry>) -> RawStream {
    RawStream {
        labels: LabelSource::Text(t.into()),
        entries,
    }
}

fn one(t: &str, limits: &LokiLimits) -> (Validated, LokiStats) {
    let stats = LokiStats::default();
    let v = validate(vec![text(t, vec![entry(NOW, "x")])], limits, NOW, &stats);
    (v, stats)
}

#[test]
fn label_refusals_in_lokis_words() {
    let l = LokiLimits {
        max_label_names: 2,
        max_label_name_length: 5,
        max_label_value_length: 6,
        ..LokiLimits::default()
    };
    let cases: &[(&str, Reason, &str)] = &[
        (
            "{}",
            Reason::MissingLabels,
            "error at least one label pair is required per stream",
        ),
        (
            r#"{a=""}"#,
            Reason::MissingLabels,
            "error at least one label pair is required per stream",
        ),
        (
            r#"{a="1",b="2",c="3"}"#,
            Reason::MaxLabelNames,
            r#"entry for stream '{a="1",b="2",c="3"}' has 3 label names; limit 2"#,
        ),
        (
            r#"{abcdef="1"}"#,
            Reason::LabelNameTooLong,
            r#"stream '{abcdef="1"}' has label name too long: 'abcdef'"#,
        ),
        (
            r#"{a="1234567"}"#,
            Reason::LabelValueTooLong,
            r#"stream '{a="1234567"}' has label value too long: '1234567'"#,
        ),
        (
            r#"{b="1", b="2"}"#,
            Reason::DuplicateLabelNames,
            r#"stream '{b="1", b="2"}' has duplicate label name: 'b'"#,
        ),
        (
            r#"{a-b="1"}"#,
            Reason::InvalidLabels,
            r#"Error parsing labels '{a-b="1"}' with error: parse error at char 3: expected '=', found '-'"#,
        ),
    ];
    for (t, reason, msg) in cases {
        let (v, stats) = one(t, &l);
        assert!(v.streams.is_empty(), "{t}");
        assert_eq!(v.first_error.as_deref(), Some(*msg), "{t}");
        assert_eq!(stats.discarded(*reason), 1, "{t}");
    }
}

#[test]
fn labels_are_sorted_and_empty_values_dropped() {
    let (v, _) = one(r#"{z="1", a="2", m=""}"#, &LokiLimits::default());
    assert_eq!(v.first_error, None);
    let got = &v.streams[0];
    assert_eq!(
        got.stream.labels,
        Labels::from_pairs(&[("a", "2"), ("z", "1")])
    );
    assert_eq!(got.text, r#"{z="1", a="2", m=""}"#);
}

#[test]
fn json_label_names_are_checked() {
    let stats = LokiStats::default();
    let raw = RawStream {
        labels: LabelSource::Pairs(vec![("a.b".into(), "1".into())]),
        entries: vec![entry(NOW, "x")],
    };
    let v = validate(vec![raw], &LokiLimits::default(), NOW, &stats);
    let e = v.first_error.unwrap();
    assert_eq!(
        e,
        r#"Error parsing labels '{a.b="1"}' with error: invalid label name "a.b""#
    );
}

#[test]
fn entry_refusals_keep_the_rest() {
    let l = LokiLimits {
        max_line_size: 10,
        ..LokiLimits::default()
    };
    let hour = 3_600_000_000_000;
    let mut meta = entry(NOW, "meta");
    meta.metadata = (0..200).map(|i| (format!("k{i}"), "v".into())).collect();
    let entries = vec![
        entry(NOW, "fine"),
        entry(NOW - 8 * 24 * hour, "old"),
        entry(NOW + hour, "new"),
        entry(NOW, "a line that is too long"),
        meta,
        entry(NOW - hour, "fine too"),
    ];
    let stats = LokiStats::default();
    let v = validate(vec![text(r#"{a="1"}"#, entries)], &l, NOW, &stats);
    let lines: Vec<_> = v.streams[0]
        .stream
        .entries
        .iter()
        .map(|e| e.line.as_str())
        .collect();
    assert_eq!(lines, ["fine", "fine too"]);
    assert_eq!(v.bytes(), 12);
    assert_eq!(
        v.first_error.as_deref(),
        Some(
            "entry for stream '{a=\"1\"}' has timestamp too old: 2023-11-06 22:13:20 +0000 UTC, \
             oldest acceptable timestamp is: 2023-11-07 22:13:20 +0000 UTC"
        )
    );
    for r in [
        Reason::TooOld,
        Reason::TooNew,
        Reason::LineTooLong,
        Reason::MetadataTooMany,
    ] {
        assert_eq!(stats.discarded(r), 1, "{r:?}");
    }
}

#[test]
fn line_messages_and_truncation() {
    let mut l = LokiLimits {
        max_line_size: 5,
        ..LokiLimits::default()
    };
    let stats = LokiStats::default();
    let v = validate(
        vec![text(r#"{a="1"}"#, vec![entry(NOW, "héllo!")])],
        &l,
        NOW,
        &stats,
    );
    assert_eq!(
        v.first_error.as_deref(),
        Some("Max entry size '5' bytes exceeded for stream '{a=\"1\"}' while adding an entry with length '7' bytes")
    );
    l.truncate_long_lines = true;
    let v = validate(
        vec![text(r#"{a="1"}"#, vec![entry(NOW, "héllo!")])],
        &l,
        NOW,
        &stats,
    );
    assert_eq!(v.first_error, None);
    assert_eq!(v.streams[0].stream.entries[0].line, "héll");
    assert_eq!(
        stats
            .lines_truncated
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn go_times() {
    assert_eq!(go_time(NOW), "2023-11-14 22:13:20 +0000 UTC");
    assert_eq!(
        go_time(NOW + 120_000),
        "2023-11-14 22:13:20.00012 +0000 UTC"
    );
    assert_eq!(go_time(-1), "1969-12-31 23:59:59.999999999 +0000 UTC");
}
