use super::*;
use promql_parser::label::{MatchOp, Matcher};

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchOp::Equal, name, value)
}

#[test]
fn labels_are_sorted_deduplicated_last_wins_and_empty_values_dropped() {
    let l = Labels::new(vec![
        ("job".into(), "a".into()),
        ("__name__".into(), "up".into()),
        ("job".into(), "b".into()),
        ("empty".into(), String::new()),
    ]);
    let pairs: Vec<_> = l.iter().collect();
    assert_eq!(pairs, [("__name__", "up"), ("job", "b")]);
    assert_eq!(l.get("job"), Some("b"));
    assert_eq!(l.get("empty"), None);
    assert_eq!(l.to_string(), r#"{__name__="up", job="b"}"#);
}

#[test]
fn an_absent_label_matches_as_empty() {
    let l = Labels::from_pairs(&[("__name__", "up")]);
    assert!(l.matches(&[eq("job", "")]));
    assert!(!l.matches(&[eq("job", "x")]));
    let re = Matcher::new_matcher(
        promql_parser::parser::token::T_EQL_REGEX,
        "__name__".into(),
        "u.".into(),
    )
    .unwrap();
    assert!(l.matches(&[re]));
}

#[test]
fn stale_marker_is_one_nan_pattern() {
    assert!(is_stale(stale_nan()));
    assert!(!is_stale(f64::NAN));
}

#[test]
fn mem_store_selects_in_range_and_refuses_out_of_order_and_changed_duplicates() {
    let store = MemStore::new();
    let up = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
    let s = |t, v| Sample { t, v };
    let out = store
        .append(&[(up.clone(), vec![s(10, 1.0), s(20, 1.0)])])
        .unwrap();
    assert_eq!(out.appended, 2);
    let out = store
        .append(&[(
            up.clone(),
            vec![s(15, 0.0), s(20, 1.0), s(20, 2.0), s(30, 0.0)],
        )])
        .unwrap();
    assert_eq!(
        out,
        AppendOutcome {
            appended: 1,
            out_of_order: 1,
            duplicate: 1
        }
    );
    let got = store.select(&[eq("job", "a")], 11, 30).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].samples, [s(20, 1.0), s(30, 0.0)]);
    assert!(store.select(&[eq("job", "a")], 31, 40).unwrap().is_empty());
    assert_eq!(store.label_names(&[], 0, 100).unwrap(), ["__name__", "job"]);
    assert_eq!(store.label_values("job", &[], 0, 100).unwrap(), ["a"]);
}

/// The packed form orders, compares and hashes as the sorted `(name, value)` pairs do,
/// whatever the text's boundaries (`a`+`bc` and `ab`+`c` pack to the same text).
#[test]
fn packed_labels_order_and_compare_as_their_pairs() {
    use std::collections::HashSet;
    let sets: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("a", "bc")],
        vec![("ab", "c")],
        vec![("a", "b"), ("c", "d")],
        vec![("a", "b")],
        vec![("a", "b"), ("cd", "")],
        vec![("a", "bb")],
        vec![("__name__", "up"), ("job", "x")],
    ];
    let labels: Vec<Labels> = sets.iter().map(|p| Labels::from_pairs(p)).collect();
    for (i, a) in labels.iter().enumerate() {
        for (j, b) in labels.iter().enumerate() {
            let pa: Vec<(&str, &str)> = a.iter().collect();
            let pb: Vec<(&str, &str)> = b.iter().collect();
            assert_eq!(a.cmp(b), pa.cmp(&pb), "{a} vs {b}");
            assert_eq!(a == b, pa == pb, "{i} {j}");
        }
    }
    let distinct: HashSet<&Labels> = labels.iter().collect();
    assert_eq!(
        distinct.len(),
        7,
        "`cd` with an empty value is dropped: two sets equal"
    );
    let l = Labels::from_pairs(&[("job", "x"), ("__name__", "up"), ("i", "7")]);
    assert_eq!(
        (l.get("i"), l.get("job"), l.get("j")),
        (Some("7"), Some("x"), None)
    );
    assert_eq!(l.name(), Some("up"));
    assert_eq!(
        l.filtered(|n| n != "i"),
        Labels::from_pairs(&[("__name__", "up"), ("job", "x")])
    );
    assert_eq!(Labels::new(l.to_pairs()), l);
    assert_eq!(l.to_string(), r#"{__name__="up", i="7", job="x"}"#);
}
