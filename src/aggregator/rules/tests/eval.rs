//! A group evaluated at explicit timestamps over a MemStore, as `promtool test rules`
//! drives Prometheus: `for`, keep_firing_for, sending and resending, ALERTS series and
//! their stale markers, recording rules read by later rules in the same evaluation.

use super::fixture;
use crate::aggregator::model::Labels;
use crate::aggregator::rules::group::{Group, Health, Rule};
use crate::aggregator::rules::{ActiveAlert, AlertState};

fn alerts(g: &Group) -> Vec<ActiveAlert> {
    g.rules()
        .filter_map(|(r, _)| match r {
            Rule::Alerting(r) => Some(r.active.values().cloned()),
            Rule::Recording(_) => None,
        })
        .flatten()
        .collect()
}

const HIGH: &str = r#"
groups:
  - name: g
    rules:
      - alert: High
        expr: m > 10
        for: 2m
        labels: {severity: page, where: "{{ $labels.instance }}"}
        annotations: {summary: "{{ $labels.instance }} at {{ $value }}"}
"#;

#[test]
fn an_alert_goes_pending_then_firing_after_for_and_is_sent_then_resent() {
    let f = fixture();
    let m = [("__name__", "m"), ("instance", "a")];
    f.put(&m, (0..300).step_by(15), 20.0);
    f.put(&m, (300..=1300).step_by(15), 5.0);
    let mut g = f.group(HIGH, false);
    let mut sent_at = Vec::new();
    for t in (0..=1260).step_by(60) {
        g.eval(t * 1000);
        for batch in f.sink.take() {
            assert_eq!(batch.len(), 1);
            sent_at.push((t, batch[0].clone()));
        }
        let state = alerts(&g).first().map(|a| a.state);
        let want = match t {
            0 | 60 => Some(AlertState::Pending),
            120..=240 => Some(AlertState::Firing),
            300..=1200 => Some(AlertState::Inactive),
            _ => None,
        };
        assert_eq!(state, want, "at {t}s");
    }
    let times: Vec<i64> = sent_at.iter().map(|(t, _)| *t).collect();
    // Firing: at once, then when more than the resend delay (1m) has passed. Resolved:
    // at once, then on the same cadence for 15 min.
    assert_eq!(times, [120, 240, 300, 420, 540, 660, 780, 900, 1020, 1140]);
    let first = &sent_at[0].1;
    let labels = [
        ("alertname", "High"),
        ("instance", "a"),
        ("severity", "page"),
        ("where", "a"),
    ];
    assert_eq!(first.labels, Labels::from_pairs(&labels));
    assert_eq!(
        first.annotations,
        Labels::from_pairs(&[("summary", "a at 20")])
    );
    assert_eq!(
        (first.starts_at, first.ends_at),
        (120_000, 120_000 + 4 * 60_000)
    );
    assert_eq!(
        first.generator_url,
        "http://np:9201/graph?g0.expr=m+%3E+10&g0.tab=1"
    );
    assert_eq!(
        sent_at[2].1.ends_at, 300_000,
        "a resolved alert ends when it resolved"
    );
    assert_eq!(sent_at[2].1.starts_at, 120_000);

    let pending = f.samples(
        "ALERTS",
        &[("alertstate", "pending"), ("alertname", "High")],
    );
    assert_eq!(pending[..2], [(0, 1.0), (60, 1.0)]);
    assert!(pending[2].0 == 120 && pending[2].1.is_nan() && pending.len() == 3);
    let firing = f.samples("ALERTS", &[("alertstate", "firing")]);
    assert_eq!(firing[..3], [(120, 1.0), (180, 1.0), (240, 1.0)]);
    assert!(firing[3].0 == 300 && firing[3].1.is_nan() && firing.len() == 4);
    let for_state = f.samples(
        "ALERTS_FOR_STATE",
        &[("alertname", "High"), ("severity", "page")],
    );
    assert_eq!(
        for_state[..5],
        [(0, 0.0), (60, 0.0), (120, 0.0), (180, 0.0), (240, 0.0)]
    );
}

#[test]
fn a_pending_alert_that_goes_away_is_dropped_unsent() {
    let f = fixture();
    let m = [("__name__", "m"), ("instance", "a")];
    f.put(&m, [0, 60], 20.0);
    f.put(&m, [120], 1.0);
    let mut g = f.group(HIGH, false);
    for t in [0, 60, 120] {
        g.eval(t * 1000);
    }
    assert!(alerts(&g).is_empty());
    assert!(f.sink.take().is_empty());
}

#[test]
fn keep_firing_for_holds_a_firing_alert_after_its_series_goes() {
    let f = fixture();
    let yaml =
        "groups:\n- name: g\n  rules:\n  - alert: K\n    expr: m > 10\n    keep_firing_for: 2m\n";
    let (a, b) = (
        [("__name__", "m"), ("i", "a")],
        [("__name__", "m"), ("i", "b")],
    );
    f.put(&a, [0], 20.0);
    f.put(&a, (60..=400).step_by(60), 1.0);
    // b comes back within the window: keep_firing_since is cleared.
    for t in (0..=420).step_by(60) {
        f.put(
            &b,
            [t],
            if [0, 120, 240].contains(&t) {
                20.0
            } else {
                1.0
            },
        );
    }
    let mut g = f.group(yaml, false);
    let mut states = Vec::new();
    for t in (0..=420).step_by(60) {
        g.eval(t * 1000);
        let s: Vec<_> = alerts(&g)
            .iter()
            .map(|x| (x.state, x.keep_firing_since.map(|k| k / 1000)))
            .collect();
        states.push((t, s));
    }
    use AlertState::{Firing, Inactive};
    assert_eq!(states[0].1, [(Firing, None), (Firing, None)]);
    assert_eq!(states[1].1, [(Firing, Some(60)), (Firing, Some(60))]);
    assert_eq!(states[2].1, [(Firing, Some(60)), (Firing, None)]);
    assert_eq!(states[3].1, [(Inactive, Some(60)), (Firing, Some(180))]);
    assert_eq!(states[6].1, [(Inactive, Some(60)), (Firing, Some(300))]);
    assert_eq!(states[7].1, [(Inactive, Some(60)), (Inactive, Some(300))]);
    let resolved: Vec<_> = alerts(&g).iter().map(|x| x.resolved_at).collect();
    assert_eq!(resolved, [Some(180_000), Some(420_000)]);
}

#[test]
fn recording_rules_feed_later_rules_in_the_same_evaluation_and_go_stale() {
    let f = fixture();
    let yaml = r#"
groups:
  - name: rec
    rules:
      - record: job:m:sum
        expr: sum by (job) (m)
      - record: job:m:double
        expr: job:m:sum * 2
        labels: {kind: doubled}
      - alert: Big
        expr: job:m:double > 50
"#;
    f.put(
        &[("__name__", "m"), ("job", "a"), ("i", "1")],
        [0, 30, 60],
        10.0,
    );
    f.put(
        &[("__name__", "m"), ("job", "a"), ("i", "2")],
        [0, 30, 60],
        20.0,
    );
    let mut g = f.group(yaml, false);
    g.eval(60_000);
    assert_eq!(f.samples("job:m:sum", &[("job", "a")]), [(60, 30.0)]);
    assert_eq!(
        f.samples("job:m:double", &[("kind", "doubled")]),
        [(60, 60.0)]
    );
    let a = alerts(&g);
    let want = Labels::from_pairs(&[("alertname", "Big"), ("job", "a"), ("kind", "doubled")]);
    assert_eq!(
        (a.len(), &a[0].labels, a[0].state),
        (1, &want, AlertState::Firing)
    );
    // Five minutes after the last sample the inputs are gone: every output goes stale.
    g.eval(600_000);
    for name in ["job:m:sum", "job:m:double", "ALERTS", "ALERTS_FOR_STATE"] {
        let s = f.samples(name, &[]);
        assert!(
            s.last().is_some_and(|(t, v)| *t == 600 && v.is_nan()),
            "{name}: {s:?}"
        );
    }
    assert!(g.rules().all(|(_, s)| s.health == Health::Good));
}

#[test]
fn same_labelsets_and_limits_make_a_rule_unhealthy() {
    let f = fixture();
    let yaml = "groups:\n- name: g\n  limit: 1\n  rules:\n  - record: r\n    expr: m\n    labels: {i: same}\n  - alert: A\n    expr: m\n";
    f.put(&[("__name__", "m"), ("i", "1")], [0], 1.0);
    f.put(&[("__name__", "m"), ("i", "2")], [0], 1.0);
    let mut g = f.group(yaml, false);
    g.eval(0);
    let errs: Vec<_> = g
        .rules()
        .map(|(_, s)| (s.health, s.last_error.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        errs[0],
        (
            Health::Bad,
            "vector contains metrics with the same labelset after applying rule labels".into()
        )
    );
    assert_eq!(
        errs[1],
        (Health::Bad, "exceeded limit of 1 with 2 alerts".into())
    );
    assert!(f.samples("r", &[]).is_empty());
}
