//! The comparison itself, on hand-made scrapes: it must see every kind of difference
//! and nothing else.

use super::*;

/// A text-format body from `(family, type, help, series, value)` rows.
fn body(rows: &[(&str, &str, &str, &str, f64)]) -> String {
    let mut out = String::new();
    let mut last = "";
    for (family, kind, help, series, value) in rows {
        if *family != last {
            out.push_str(&format!("# HELP {family} {help}\n# TYPE {family} {kind}\n"));
            last = family;
        }
        out.push_str(&format!("{family}{series} {value}\n"));
    }
    out
}

/// The mismatch keys, without the REQUIRED families these tiny scrapes lack.
fn keys(a: &str, b: &str, c: &str) -> Vec<String> {
    let (a, b, c) = (Scrape::parse(a), Scrape::parse(b), Scrape::parse(c));
    let mut keys: Vec<String> = compare(&a, &b, &c)
        .into_iter()
        .map(|m| m.key)
        .filter(|k| !k.contains(" required "))
        .collect();
    keys.sort();
    keys
}

#[rustfmt::skip]
const NE: &[(&str, &str, &str, &str, f64)] = &[
    ("node_forks_total", "counter", "Total number of forks.", "", 100.0),
    ("node_load1", "gauge", "1m load average.", "", 0.5),
    ("node_memory_MemTotal_bytes", "gauge", "Memory field MemTotal_bytes.", "", 4e9),
    ("node_network_up", "gauge", "Up.", "{device=\"eth0\"}", 1.0),
    ("node_network_up", "gauge", "Up.", "{device=\"lo\"}", 0.0),
    ("node_procs_running", "gauge", "Running.", "", 1.0),
    ("node_scrape_collector_success", "gauge", "S.", "{collector=\"loadavg\"}", 1.0),
    ("node_scrape_collector_success", "gauge", "S.", "{collector=\"zfs\"}", 0.0),
    ("go_goroutines", "gauge", "Goroutines.", "", 8.0),
];

#[test]
fn identical_scrapes_agree() {
    let ne = body(NE);
    assert_eq!(keys(&ne, &ne, &ne), Vec::<String>::new());
}

#[test]
fn moving_values_inside_the_bracket_or_tolerance_agree() {
    let mut a = NE.to_vec();
    let mut b = NE.to_vec();
    let mut c = NE.to_vec();
    a[0].4 = 100.0; // counter A ≤ B ≤ C
    b[0].4 = 101.0;
    c[0].4 = 102.0;
    a[1].4 = 0.9; // gauge between C and A
    b[1].4 = 0.7;
    c[1].4 = 0.5;
    b[5].4 = 9.0; // procs_running within its tolerance
    b[8].4 = 99.0; // go_* is ignored
    a[4].3 = "{device=\"tun0\"}"; // series only in A: came and went, not judged
    assert_eq!(keys(&body(&a), &body(&b), &body(&c)), Vec::<String>::new());
}

#[test]
fn reports_every_kind_of_difference() {
    let ne = body(NE);
    let mut b = NE.to_vec();
    b[0].4 = 99.0; // counter below A
    b[1].1 = "untyped"; // type
    b[2].4 = 4e9 + 4096.0; // constant
    b[3].2 = "Link up."; // help
    b[4].3 = "{device=\"lo\",x=\"1\"}"; // label names, series missing and extra
    b[5].4 = 50.0; // beyond the tolerance
    b[6].4 = 0.0; // collector failed where node_exporter's succeeded
    b.remove(7); // a collector only node_exporter runs: not a difference
    let expected = [
        "node_forks_total node_forks_total{}",
        "node_load1 type",
        "node_memory_MemTotal_bytes node_memory_MemTotal_bytes{}",
        "node_network_up help",
        "node_network_up label names",
        "node_network_up node_network_up{device=\"lo\",x=\"1\"}",
        "node_network_up node_network_up{device=\"lo\"}",
        "node_procs_running node_procs_running{}",
        "node_scrape_collector_success success loadavg",
    ];
    assert_eq!(keys(&ne, &body(&b), &ne), expected);
}

#[test]
fn required_families_missing_on_either_side_are_reported() {
    let ne = Scrape::parse(&body(NE));
    let found = compare(&ne, &ne, &ne);
    let load1: Vec<_> = found
        .iter()
        .filter(|m| m.key.starts_with("node_load1 "))
        .collect();
    assert!(load1.is_empty(), "{load1:?}");
    let cpu = found
        .iter()
        .filter(|m| m.key.starts_with("node_cpu_seconds_total required"))
        .count();
    assert_eq!(cpu, 2, "missing in node_exporter and in the agent");
}

#[test]
fn judge_checks() {
    let exact = Check::Exact;
    let bracket = Check::Bracket { abs: 0.0, rel: 0.0 };
    assert_eq!(judge(exact, false, 1.0, 1.0, 1.0), None);
    assert!(judge(exact, false, 1.0, 2.0, 1.0).is_some());
    assert_eq!(
        judge(bracket, true, 1.0, 1.0 + 1e-12, 1.0),
        None,
        "float epsilon"
    );
    assert!(
        judge(bracket, true, 3.0, 2.0, 1.0).is_some(),
        "counter went back"
    );
    assert_eq!(
        judge(bracket, false, 3.0, 2.0, 1.0),
        None,
        "gauge went down"
    );
    assert_eq!(judge(bracket, false, f64::NAN, f64::NAN, f64::NAN), None);
    assert!(judge(bracket, false, 1.0, f64::NAN, 1.0).is_some());
    assert_eq!(judge(Check::Skip, false, 1.0, 9.0, 1.0), None);
}
