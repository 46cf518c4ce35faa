use super::*;

fn rule(yaml: &str) -> RelabelConfig {
    let f: RelabelFile = serde_norway::from_str(yaml).unwrap();
    f.compile().unwrap()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

#[test]
fn replace_joins_sources_and_expands_groups_and_an_unmatched_regex_changes_nothing() {
    let r = rule(
        "{source_labels: [a, b], regex: '(.*);(.*)', target_label: c, replacement: '${2}-$1'}",
    );
    let got = process(pairs(&[("a", "x"), ("b", "y")]), std::slice::from_ref(&r)).unwrap();
    assert_eq!(sorted(got), pairs(&[("a", "x"), ("b", "y"), ("c", "y-x")]));
    let r = rule("{source_labels: [a], regex: 'z+', target_label: c}");
    assert_eq!(
        process(pairs(&[("a", "x")]), &[r]).unwrap(),
        pairs(&[("a", "x")])
    );
}

#[test]
fn the_regex_is_anchored_and_an_empty_replacement_removes_the_target() {
    let keep = rule("{source_labels: [a], regex: 'x', action: keep}");
    assert!(
        process(pairs(&[("a", "xx")]), std::slice::from_ref(&keep)).is_none(),
        "anchored"
    );
    assert!(process(pairs(&[("a", "x")]), &[keep]).is_some());
    let r = rule("{source_labels: [a], target_label: b, replacement: ''}");
    assert_eq!(
        process(pairs(&[("a", "x"), ("b", "y")]), &[r]).unwrap(),
        pairs(&[("a", "x")])
    );
}

#[test]
fn drop_labelmap_labeldrop_labelkeep_and_case() {
    let drop = rule("{source_labels: [__name__], regex: 'go_.*', action: drop}");
    assert!(process(pairs(&[("__name__", "go_gc")]), std::slice::from_ref(&drop)).is_none());
    assert!(process(pairs(&[("__name__", "up")]), &[drop]).is_some());
    let map = rule("{regex: '__meta_kubernetes_pod_label_(.+)', action: labelmap}");
    let got = process(pairs(&[("__meta_kubernetes_pod_label_app", "web")]), &[map]).unwrap();
    assert_eq!(
        sorted(got),
        pairs(&[("__meta_kubernetes_pod_label_app", "web"), ("app", "web")])
    );
    let ldrop = rule("{regex: 'tmp_.*', action: labeldrop}");
    assert_eq!(
        process(pairs(&[("tmp_a", "1"), ("b", "2")]), &[ldrop]).unwrap(),
        pairs(&[("b", "2")])
    );
    let lkeep = rule("{regex: 'b', action: labelkeep}");
    assert_eq!(
        process(pairs(&[("tmp_a", "1"), ("b", "2")]), &[lkeep]).unwrap(),
        pairs(&[("b", "2")])
    );
    let low = rule("{source_labels: [a], target_label: l, action: lowercase}");
    assert_eq!(
        sorted(process(pairs(&[("a", "XyZ")]), &[low]).unwrap()),
        pairs(&[("a", "XyZ"), ("l", "xyz")])
    );
}

#[test]
fn hashmod_takes_the_last_eight_bytes_of_md5() {
    // md5("foo") = acbd18db4cc2f85cedef654fccc4a4d8 (`printf foo | md5sum`).
    let r = rule("{source_labels: [a], modulus: 1000, target_label: h, action: hashmod}");
    let got = process(pairs(&[("a", "foo")]), &[r]).unwrap();
    let want = (0xedef654fccc4a4d8u64 % 1000).to_string();
    assert_eq!(sorted(got), pairs(&[("a", "foo"), ("h", &want)]));
}

#[test]
fn label_names_are_checked() {
    assert!(valid_label_name("_a1"));
    assert!(!valid_label_name("1a"));
    assert!(!valid_label_name("a-b"));
    assert!(!valid_label_name(""));
}
