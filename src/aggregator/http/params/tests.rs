use super::*;

#[test]
fn times_as_prometheus_parses_them() {
    let cases: &[(&str, i64)] = &[
        ("0", 0),
        ("1435781451.781", 1_435_781_451_781),
        ("1435781451", 1_435_781_451_000),
        // Go's Modf leaves 0.000499999..., which rounds down (checked on Prometheus).
        ("1.0005", 1000),
        ("1.0015", 1002),
        ("-1.5", -1500),
        ("2015-07-01T20:10:51.781Z", 1_435_781_451_781),
        ("2015-07-01T20:10:51.7819Z", 1_435_781_451_781),
        ("2015-07-01T22:10:51+02:00", 1_435_781_451_000),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.5Z", -500),
        ("2024-02-29T00:00:00-00:30", 1_709_166_600_000),
    ];
    for &(s, want) in cases {
        assert_eq!(parse_time(s), Ok(want), "{s}");
    }
}

#[test]
fn bad_times_are_refused_with_prometheus_message() {
    for s in [
        "",
        "abc",
        "NaN",
        "Inf",
        "1e300",
        "2015-02-30T00:00:00Z",
        "2015-07-01 20:10:51Z",
        "2015-07-01T20:10:51",
        "2015-07-01T20:10:51.Z",
    ] {
        assert_eq!(
            parse_time(s),
            Err(format!("cannot parse {s:?} to a valid timestamp")),
            "{s}"
        );
    }
}

#[test]
fn durations_as_prometheus_parses_them() {
    let cases: &[(&str, i64)] = &[
        ("15", 15_000),
        ("0.5", 500),
        ("1h30m", 5_400_000),
        ("1d", 86_400_000),
        ("1w2d", 9 * 86_400_000),
        ("100ms", 100),
        ("1m1s1ms", 61_001),
        ("0", 0),
        ("-3", -3000),
    ];
    for &(s, want) in cases {
        assert_eq!(parse_duration(s), Ok(want), "{s}");
    }
    for s in ["", "1x", "1s1m", "1h1h", "h", "1.5h", "-1h"] {
        assert_eq!(
            parse_duration(s),
            Err(format!("cannot parse {s:?} to a valid duration")),
            "{s}"
        );
    }
    assert!(parse_duration("1e300")
        .unwrap_err()
        .contains("overflows int64"));
    assert!(prometheus_duration_ms("99999999999999999y").is_none());
}

#[test]
fn form_body_comes_before_the_query_string() {
    let p = Params::parse(
        Some(b"query=up&match%5B%5D=a"),
        Some("query=down&match[]=b&time=1"),
    );
    assert_eq!(p.get("query"), "up");
    assert_eq!(p.all("match[]"), vec!["a", "b"]);
    assert_eq!(p.get("time"), "1");
    assert_eq!(p.get("absent"), "");
}

#[test]
fn matcher_sets_need_a_non_empty_matcher() {
    let sets = matcher_sets(&["up{job=\"a\"}", "{__name__=~\"x.*\"}"]).unwrap();
    assert_eq!(sets.len(), 2);
    assert!(sets[0]
        .iter()
        .any(|m| m.name == "__name__" && m.value == "up"));
    for bad in ["{job=~\".*\"}", "{a=\"\"}"] {
        assert_eq!(
            matcher_sets(&[bad]).unwrap_err(),
            "match[] must contain at least one non-empty matcher"
        );
    }
    assert!(matcher_sets(&["rate(x[5m])"]).is_err());
    assert!(matcher_sets(&["up{"]).is_err());
}
