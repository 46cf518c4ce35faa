//! Bad bodies: each gets a clear error (or a limit), is counted, and the server keeps
//! taking good pushes afterwards.

use crate::server::{gzip, now, proto, snappy, start, Running};
use flate2::write::GzEncoder;
use flate2::Compression;
use nodepulse::aggregator::loki::{Reason, Refusal};
use std::io::Write;

type Headers<'a> = Vec<(&'a str, &'a str)>;

/// A good push still lands after whatever came before.
async fn still_works(s: &Running) {
    let body = snappy(&proto(&[(r#"{probe="1"}"#, vec![(now(), "alive", &[])])]));
    assert_eq!(s.push_proto(body).await, (204, String::new()));
    assert!(s
        .store
        .lines(&[("probe", "1")])
        .contains(&"alive".to_string()));
    assert_eq!(s.get("/ready", &[]).await, (200, "ready\n".to_string()));
}

#[tokio::test]
async fn garbage_bodies_get_400_with_the_reason() {
    let s = start(|_| {}).await;
    let good = proto(&[(r#"{a="1"}"#, vec![(now(), "hello", &[])])]);
    let mut bad_utf8 = good.clone();
    let at = bad_utf8.windows(5).position(|w| w == b"hello").unwrap();
    bad_utf8[at] = 0xc3; // a lead byte without its continuation
    let pb = ("content-type", "application/x-protobuf");
    let json = ("content-type", "application/json");
    let cases: Vec<(Headers, Vec<u8>, &str)> = vec![
        (vec![pb], snappy(&good[..good.len() / 2]), "protobuf: "),
        (vec![pb], good[..good.len() - 3].to_vec(), "snappy: "),
        (vec![pb], b"\x05\xff\xff\xff".to_vec(), "snappy: "),
        (vec![pb], snappy(&bad_utf8), "UTF-8"),
        (
            vec![json],
            b"{\"streams\":[{\"stream\":{\"a\":\"\xc3\"}}]}".to_vec(),
            "invalid UTF-8 at byte 28",
        ),
        (vec![json], b"{\"streams\":[".to_vec(), "JSON: EOF"),
        (
            vec![json],
            br#"{"streams":[{"stream":{"a":"1"},"values":[[1,"x"]]}]}"#.to_vec(),
            "JSON: invalid type",
        ),
        (
            vec![json, ("content-encoding", "gzip")],
            b"not gzip".to_vec(),
            "gzip: ",
        ),
        (
            vec![json, ("content-encoding", "br")],
            b"{}".to_vec(),
            "Content-Encoding \"br\" not supported",
        ),
        (
            vec![pb],
            snappy(&proto(&[(r#"{a="1"#, vec![(now(), "x", &[])])])),
            "Error parsing labels '{a=\"1' with error: parse error at char 5: unterminated string",
        ),
        (
            vec![pb],
            snappy(&proto(&[("{}", vec![(now(), "x", &[])])])),
            "error at least one label pair is required per stream",
        ),
    ];
    for (headers, body, want) in cases {
        let (status, text) = s.post("/loki/api/v1/push", &headers, body).await;
        assert_eq!(status, 400, "{headers:?} {want}: {text}");
        assert!(
            text.contains(want),
            "{headers:?}: wanted {want:?} in {text:?}"
        );
    }
    assert_eq!(s.loki.stats.refused(Refusal::Malformed), 9);
    assert_eq!(s.loki.stats.discarded(Reason::InvalidLabels), 1);
    assert_eq!(s.loki.stats.discarded(Reason::MissingLabels), 1);
    assert_eq!(s.store.stream_count(), 0);
    still_works(&s).await;
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_the_decompressed_limit() {
    let s = start(|l| l.limits.max_decompressed_bytes = 8 << 20).await;
    // A JSON start, then 1024 gzip members of 1 MiB of spaces: ~1 MiB sent, 1 GiB inside.
    let mut bomb = gzip(br#"{"streams":[{"stream":{"a":"1"},"values":[["1","#);
    let mut member = GzEncoder::new(Vec::new(), Compression::best());
    member.write_all(&vec![b' '; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    for _ in 0..1024 {
        bomb.extend_from_slice(&member);
    }
    assert!(bomb.len() < 2 << 20, "the bomb is small: {}", bomb.len());
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    let (status, text) = s.post("/loki/api/v1/push", &headers, bomb).await;
    assert_eq!(status, 413, "{text}");
    assert_eq!(
        text,
        "request body too large: 8388609 bytes, limit: 8388608 bytes\n"
    );
    assert_eq!(s.loki.stats.refused(Refusal::TooLarge), 1);
    still_works(&s).await;
}

#[tokio::test]
async fn snappy_declaring_a_huge_length_is_refused_before_allocating() {
    let s = start(|_| {}).await;
    // A varint of 2^31 followed by junk: nothing is decompressed.
    let body = b"\x80\x80\x80\x80\x08junk".to_vec();
    let (status, text) = s.push_proto(body).await;
    assert_eq!(status, 413);
    assert_eq!(
        text,
        "request body too large: 2147483648 bytes, limit: 67108864 bytes\n"
    );
    still_works(&s).await;
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let s = start(|l| l.limits.max_body_bytes = 1000).await;
    let (status, text) = s.push_proto(vec![0u8; 1001]).await;
    assert_eq!(
        (status, text.as_str()),
        (
            413,
            "request body too large: 1001 bytes, limit: 1000 bytes\n"
        )
    );
    still_works(&s).await;
}

#[tokio::test]
async fn long_lines_and_labels_in_lokis_words() {
    let s = start(|_| {}).await;
    let t = now();
    let long_line = "x".repeat((256 << 10) + 1);
    let long_value = format!(r#"{{a="{}"}}"#, "v".repeat(2049));
    let long_name = format!(r#"{{{}="1"}}"#, "n".repeat(1025));
    let many: Vec<String> = (0..16).map(|i| format!("l{i}=\"v\"")).collect();
    let many = format!("{{{}}}", many.join(","));
    let cases = [
        (r#"{a="1"}"#.to_string(), long_line.as_str(), "Max entry size '262144' bytes exceeded for stream '{a=\"1\"}' while adding an entry with length '262145' bytes"),
        (long_value.clone(), "x", "has label value too long: 'vvvv"),
        (long_name.clone(), "x", "has label name too long: 'nnnn"),
        (many.clone(), "x", "has 16 label names; limit 15"),
    ];
    for (labels, line, want) in &cases {
        let body = snappy(&proto(&[(labels.as_str(), vec![(t, *line, &[])])]));
        let (status, text) = s.push_proto(body).await;
        assert_eq!(status, 400, "{want}");
        assert!(
            text.contains(want),
            "wanted {want:?} in {:?}",
            &text[..text.len().min(300)]
        );
    }
    for r in [
        Reason::LineTooLong,
        Reason::LabelValueTooLong,
        Reason::LabelNameTooLong,
        Reason::MaxLabelNames,
    ] {
        assert_eq!(s.loki.stats.discarded(r), 1, "{r:?}");
    }
    assert_eq!(s.store.stream_count(), 0);
    still_works(&s).await;
}

#[tokio::test]
async fn long_lines_can_be_truncated_instead() {
    let s = start(|l| {
        l.limits.max_line_size = 10;
        l.limits.truncate_long_lines = true;
    })
    .await;
    let json = format!(
        r#"{{"streams":[{{"stream":{{"a":"1"}},"values":[["{}","0123456789abcdef"]]}}]}}"#,
        now()
    );
    assert_eq!(s.push_json(&json).await.0, 204);
    assert_eq!(s.store.lines(&[("a", "1")]), ["0123456789"]);
}
