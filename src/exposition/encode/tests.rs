//! The encoder's output, byte for byte: escaping, OpenMetrics names, values, shared
//! label sets, and Accept negotiation.
use super::*;

fn enc(f: &MetricFamily, fmt: Format) -> String {
    let mut out = Vec::new();
    encode(std::slice::from_ref(f), fmt, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn text_format_escapes_labels_and_help() {
    let f = MetricFamily::gauge("node_x", "Help with \\ and\nnewline.")
        .with(&[("v", "a\"b\\c\nd")], 1.0);
    assert_eq!(
        enc(&f, Format::Text),
        "# HELP node_x Help with \\\\ and\\nnewline.\n# TYPE node_x gauge\nnode_x{v=\"a\\\"b\\\\c\\nd\"} 1\n"
    );
}

#[test]
fn openmetrics_counter_drops_total_from_family_name() {
    let f = MetricFamily::counter("node_forks_total", "Forks \"x\".").value(3.0);
    assert_eq!(
        enc(&f, Format::OpenMetrics),
        "# HELP node_forks Forks \\\"x\\\".\n# TYPE node_forks counter\nnode_forks_total 3\n# EOF\n"
    );
    let u = MetricFamily::untyped("node_netstat_Tcp_InSegs", "h").value(1.0);
    assert!(enc(&u, Format::OpenMetrics).contains("# TYPE node_netstat_Tcp_InSegs unknown\n"));
}

#[test]
fn empty_family_writes_nothing() {
    let f = MetricFamily::gauge("node_x", "h");
    assert_eq!(enc(&f, Format::Text), "");
}

#[test]
fn values_round_trip() {
    for v in [
        0.0,
        1.0,
        -3.0,
        0.5,
        3.022,
        1.795450081e9,
        2.5e21,
        1e-7,
        123456789012345.6,
        f64::MAX,
        f64::MIN_POSITIVE,
    ] {
        let mut out = Vec::new();
        write_value(v, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
    }
    let mut out = Vec::new();
    for v in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        write_value(v, &mut out);
        out.push(b' ');
    }
    assert_eq!(out, b"+Inf -Inf NaN ");
}

#[test]
fn fast_formatting_matches_display() {
    fn display(v: f64) -> String {
        if v == v.trunc() && v.abs() < 1e15 {
            format!("{}", v as i64)
        } else if v.abs() >= 1e-4 && v.abs() < 1e15 {
            format!("{v}")
        } else {
            format!("{v:e}")
        }
    }
    // xorshift64: the same values on every run.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    for i in 0..200_000 {
        let r = next();
        let v = match i % 4 {
            // Counters in ns or µs turned into seconds, as cAdvisor's are.
            0 => (r >> 20) as f64 / 1e9,
            1 => (r >> 30) as f64 / 1e6,
            2 => f64::from_bits(r),
            _ => (r % 1_000_000) as f64 / 1000.0 - 500.0,
        };
        if !v.is_finite() {
            continue;
        }
        out.clear();
        write_value(v, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), display(v), "{v:?}");
    }
}

#[test]
fn shared_labels_are_written_before_own_ones() {
    use crate::exposition::{Label, LabelSet};
    use std::borrow::Cow;
    let set = LabelSet::new(vec![
        (Cow::Borrowed("container"), "a".to_owned()),
        (Cow::Borrowed("id"), "/x\"y".to_owned()),
    ]);
    let mut f = MetricFamily::counter("container_x_total", "h");
    f.push_shared(&set, 1.5);
    f.push_shared(&LabelSet::new(Vec::new()), 2.0);
    f.push_labels(vec![(Cow::Borrowed("cpu"), "total".to_owned())], 3.0);
    let own: Label = (Cow::Borrowed("device"), "/dev/vda".to_owned());
    f.samples.push(crate::exposition::Sample {
        labels: vec![own],
        shared: Some(set),
        value: 4.0,
    });
    assert_eq!(
        enc(&f, Format::Text),
        "# HELP container_x_total h\n# TYPE container_x_total counter\n\
         container_x_total{container=\"a\",id=\"/x\\\"y\"} 1.5\n\
         container_x_total 2\n\
         container_x_total{cpu=\"total\"} 3\n\
         container_x_total{container=\"a\",id=\"/x\\\"y\",device=\"/dev/vda\"} 4\n"
    );
}

#[test]
fn negotiation_follows_accept_header() {
    let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert_eq!(Format::negotiate(Some(prom)), Format::OpenMetrics);
    assert_eq!(Format::negotiate(None), Format::Text);
    assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
    assert_eq!(
        Format::negotiate(Some("text/plain;version=0.0.4")),
        Format::Text
    );
    assert_eq!(
        Format::negotiate(Some("application/openmetrics-text;version=2.0.0")),
        Format::Text
    );
    assert_eq!(
        Format::negotiate(Some("text/plain;q=0.9,application/openmetrics-text;q=0.5")),
        Format::Text
    );
}
