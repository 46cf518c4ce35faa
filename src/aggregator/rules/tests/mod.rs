//! The rule engine's tests: shared fixtures (a MemStore, a recording sink, groups
//! built from YAML) and the test files by subject.

mod eval;
mod files;
mod logql;
mod manager;
mod manager_restart;
mod restore;

use super::send::{Alert, AlertSink};
use super::{file, Group, RuleContext, RuleOptions};
use crate::aggregator::model::{Appender, Labels, MemStore, Querier, Sample};
use promql_parser::label::{MatchOp, Matcher};
use std::sync::{Arc, Mutex};

/// An [`AlertSink`] that keeps every batch.
#[derive(Default)]
pub(super) struct Recorded(pub Mutex<Vec<Vec<Alert>>>);

impl AlertSink for Recorded {
    fn send(&self, alerts: Vec<Alert>) {
        self.0.lock().unwrap().push(alerts);
    }
}

impl Recorded {
    pub fn take(&self) -> Vec<Vec<Alert>> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

pub(super) struct Fixture {
    pub store: Arc<MemStore>,
    pub sink: Arc<Recorded>,
    pub ctx: Arc<RuleContext>,
}

pub(super) fn fixture() -> Fixture {
    let store = Arc::new(MemStore::new());
    let sink = Arc::new(Recorded::default());
    let mut opts = RuleOptions::default();
    opts.env.external_url = "http://np:9201".into();
    let ctx = Arc::new(RuleContext {
        metrics: store.clone(),
        appender: store.clone(),
        logs: None,
        sink: sink.clone(),
        opts,
    });
    Fixture { store, sink, ctx }
}

impl Fixture {
    /// The first group of `yaml`, its alerting rules restored unless `restore`.
    pub fn group(&self, yaml: &str, restore: bool) -> Group {
        let def = file::parse("t.yml", yaml).expect("valid rules").remove(0);
        Group::new("t.yml", def, self.ctx.clone(), !restore).expect("group")
    }

    /// Appends `v` at each of `ts_s` (seconds) to the series `labels`.
    pub fn put(&self, labels: &[(&str, &str)], ts_s: impl IntoIterator<Item = i64>, v: f64) {
        let samples = ts_s
            .into_iter()
            .map(|t| Sample { t: t * 1000, v })
            .collect();
        self.store
            .append(&[(Labels::from_pairs(labels), samples)])
            .expect("append");
    }

    /// The samples of the series named `name` with `labels` among its labels, as
    /// (seconds, value) with stale markers as NaN.
    pub fn samples(&self, name: &str, labels: &[(&str, &str)]) -> Vec<(i64, f64)> {
        let mut m = vec![Matcher::new(MatchOp::Equal, "__name__", name)];
        m.extend(
            labels
                .iter()
                .map(|(n, v)| Matcher::new(MatchOp::Equal, n, v)),
        );
        let series = self.store.select(&m, i64::MIN, i64::MAX).expect("select");
        assert!(series.len() <= 1, "{series:?}");
        series
            .first()
            .map(|s| s.samples.iter().map(|x| (x.t / 1000, x.v)).collect())
            .unwrap_or_default()
    }
}
