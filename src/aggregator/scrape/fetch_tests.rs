use super::*;

#[test]
fn openmetrics_exemplars_are_cut_and_timestamps_become_milliseconds() {
    let om = "# TYPE a counter\n# UNIT a seconds\na_total{x=\"a # b}\\\"\"} 1 # {trace_id=\"1\"} 1 1.5\nb 2 1700000000.25\nc{y=\"1\"} 3\n# EOF\n";
    let text = from_openmetrics(om);
    assert_eq!(
        text,
        "# TYPE a counter\na_total{x=\"a # b}\\\"\"} 1\nb 2 1700000000250\nc{y=\"1\"} 3\n"
    );
    let parsed = parse(&text).unwrap();
    assert_eq!(parsed.samples[1].timestamp_ms, Some(1_700_000_000_250));
}

#[test]
fn gzip_is_inflated_within_the_limit() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&[b'a'; 10_000]).unwrap();
    let gz = gz.finish().unwrap();
    assert_eq!(inflate(&gz, 10_000).unwrap().len(), 10_000);
    assert!(matches!(inflate(&gz, 9_999), Err(FetchError::TooBig)));
    assert!(matches!(
        inflate(b"not gzip", 100),
        Err(FetchError::Parse(_))
    ));
}
