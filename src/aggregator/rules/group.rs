//! A rule group: its rules evaluated in order at one explicit timestamp
//! ([`Group::eval`], pure over the [`RuleContext`]'s querier, appender, log reader and
//! sink: a test drives it as `promtool test rules` does), as Prometheus's
//! `Group.Eval`: each rule's result appended at the timestamp (so later rules read a
//! recording rule's series), a stale marker for every series a rule yielded last time
//! and not now, alerts that need sending sent, health and last error kept per rule.

use super::alerting::{AlertingRule, TemplateEnv};
use super::file::{GroupDef, RuleDef, RuleKind};
use super::query::{QuerySources, RuleExpr};
use super::recording::RecordingRule;
use super::restore::{restore_for_state, RestoreOptions};
use super::send::{due, generator_url, AlertSink};
use crate::aggregator::model::logs::LogReader;
use crate::aggregator::model::{stale_nan, Appender, Labels, Querier, Sample};
use crate::aggregator::promql::QueryOptions;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// Settings every group shares (Prometheus's flags and the config's globals).
#[derive(Clone, Debug, PartialEq)]
pub struct RuleOptions {
    pub query: QueryOptions,
    pub env: TemplateEnv,
    /// `--rules.alert.resend-delay` (1 m).
    pub resend_delay_ms: i64,
    pub restore: RestoreOptions,
    /// `global.evaluation_interval` (1 m): for groups without their own.
    pub default_interval_ms: i64,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            query: QueryOptions::default(),
            env: TemplateEnv::default(),
            resend_delay_ms: 60_000,
            restore: RestoreOptions::default(),
            default_interval_ms: 60_000,
        }
    }
}

/// What groups read, write and send to.
pub struct RuleContext {
    pub metrics: Arc<dyn Querier>,
    pub appender: Arc<dyn Appender>,
    pub logs: Option<Arc<dyn LogReader>>,
    pub sink: Arc<dyn AlertSink>,
    pub opts: RuleOptions,
}

#[derive(Debug)]
pub enum Rule {
    Alerting(AlertingRule),
    Recording(RecordingRule),
}

impl Rule {
    pub fn expr(&self) -> &RuleExpr {
        match self {
            Rule::Alerting(r) => &r.expr,
            Rule::Recording(r) => &r.expr,
        }
    }
}

/// A rule's health, as the rules API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Health {
    #[default]
    Unknown,
    Good,
    Bad,
}

/// What the last evaluation of a rule did.
#[derive(Clone, Debug, Default)]
pub struct RuleStatus {
    pub health: Health,
    pub last_error: Option<String>,
    pub last_evaluation: Option<SystemTime>,
    pub evaluation_time: Duration,
}

pub struct Group {
    pub file: String,
    pub def: GroupDef,
    pub interval_ms: i64,
    pub(super) rules: Vec<(Rule, RuleStatus)>,
    pub(super) previous: Vec<HashSet<Labels>>,
    /// Series of rules gone at a reload: marked stale at the next evaluation.
    pub(super) stale_series: Vec<Labels>,
    pub(super) should_restore: bool,
    pub(super) ctx: Arc<RuleContext>,
    pub last_evaluation: Option<SystemTime>,
    pub evaluation_time: Duration,
    /// The timestamp (ms) of the last evaluation.
    pub last_eval_ts: Option<i64>,
    /// Rule evaluations, and those that failed (query or append), since the group
    /// started (Prometheus's `rule_evaluations_total` / `rule_evaluation_failures_total`).
    pub evaluations: u64,
    pub failures: u64,
}

impl Group {
    /// A group from its definition. `restored`: whether its alerting rules start
    /// restored (false only at start-up, when `for` state is restored from storage).
    pub fn new(
        file: &str,
        def: GroupDef,
        ctx: Arc<RuleContext>,
        restored: bool,
    ) -> Result<Group, String> {
        let rules = def
            .rules
            .iter()
            .map(|r| {
                Ok((
                    build_rule(def.language, r, restored)?,
                    RuleStatus::default(),
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Group {
            file: file.to_string(),
            interval_ms: def.interval_ms.unwrap_or(ctx.opts.default_interval_ms),
            previous: vec![HashSet::new(); rules.len()],
            rules,
            def,
            stale_series: Vec::new(),
            should_restore: !restored,
            ctx,
            last_evaluation: None,
            evaluation_time: Duration::ZERO,
            last_eval_ts: None,
            evaluations: 0,
            failures: 0,
        })
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    pub fn rules(&self) -> impl Iterator<Item = &(Rule, RuleStatus)> {
        self.rules.iter()
    }

    /// Evaluates every rule at `ts` (ms).
    pub fn eval(&mut self, ts: i64) {
        let started = (Instant::now(), SystemTime::now());
        for i in 0..self.rules.len() {
            self.eval_rule(i, ts);
        }
        let stale = std::mem::take(&mut self.stale_series);
        self.append_stale(stale, ts);
        self.evaluation_time = started.0.elapsed();
        self.last_evaluation = Some(started.1);
        self.last_eval_ts = Some(ts);
    }

    fn eval_rule(&mut self, i: usize, ts: i64) {
        let ctx = Arc::clone(&self.ctx);
        let src = QuerySources {
            metrics: ctx.metrics.as_ref(),
            logs: ctx.logs.as_deref(),
            opts: &ctx.opts.query,
        };
        let limit = self.def.limit;
        let started = (Instant::now(), SystemTime::now());
        self.evaluations += 1;
        let (rule, status) = &mut self.rules[i];
        let result = match rule {
            Rule::Alerting(r) => r.eval(src, ts, &ctx.opts.env, limit),
            Rule::Recording(r) => r.eval(src, ts, limit),
        };
        status.last_evaluation = Some(started.1);
        let vector = match result {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(group = %self.def.name, rule = i, error = %e, "Evaluating rule failed.");
                self.failures += 1;
                status.health = Health::Bad;
                status.last_error = Some(e);
                status.evaluation_time = started.0.elapsed();
                return;
            }
        };
        status.health = Health::Good;
        status.last_error = None;
        if let Rule::Alerting(r) = rule {
            let url = generator_url(&ctx.opts.env.external_url, &r.expr.text());
            let interval = self.interval_ms;
            let sent = due(
                r.active.values_mut(),
                ts,
                ctx.opts.resend_delay_ms,
                interval,
                &url,
            );
            if !sent.is_empty() {
                ctx.sink.send(sent);
            }
        }
        self.append_result(i, vector, ts);
        self.rules[i].1.evaluation_time = started.0.elapsed();
    }

    /// Appends rule `i`'s samples, and stale markers for its series that went away.
    fn append_result(&mut self, i: usize, vector: Vec<(Labels, f64)>, ts: i64) {
        let batch: Vec<(Labels, Vec<Sample>)> = vector
            .into_iter()
            .map(|(l, v)| (l, vec![Sample { t: ts, v }]))
            .collect();
        let status = &mut self.rules[i].1;
        match self.ctx.appender.append(&batch) {
            Ok(out) if out.out_of_order > 0 || out.duplicate > 0 => {
                let what = if out.out_of_order > 0 {
                    "out of order sample"
                } else {
                    "duplicate sample for timestamp"
                };
                status.health = Health::Bad;
                status.last_error = Some(what.to_string());
                self.failures += 1;
            }
            Ok(_) => {}
            Err(e) => {
                self.failures += 1;
                status.health = Health::Bad;
                status.last_error = Some(e.to_string());
                return;
            }
        }
        let returned: HashSet<Labels> = batch.into_iter().map(|(l, _)| l).collect();
        let gone: Vec<Labels> = self.previous[i].difference(&returned).cloned().collect();
        self.previous[i] = returned;
        self.append_stale(gone, ts);
    }

    /// Stale markers at `ts`; refusals (another rule wrote the series) are expected.
    fn append_stale(&self, series: Vec<Labels>, ts: i64) {
        if series.is_empty() {
            return;
        }
        let batch: Vec<_> = series
            .into_iter()
            .map(|l| {
                (
                    l,
                    vec![Sample {
                        t: ts,
                        v: stale_nan(),
                    }],
                )
            })
            .collect();
        if let Err(e) = self.ctx.appender.append(&batch) {
            tracing::warn!(group = %self.def.name, error = %e, "Adding stale samples failed.");
        }
    }

    /// Restores every alerting rule's `for` state at `ts` (after the second evaluation
    /// at start-up).
    pub fn restore_for_state(&mut self, ts: i64) {
        let ctx = Arc::clone(&self.ctx);
        for (rule, _) in &mut self.rules {
            if let Rule::Alerting(r) = rule {
                restore_for_state(r, ctx.metrics.as_ref(), ts, ctx.opts.restore);
            }
        }
        self.should_restore = false;
    }

    /// Every series this group wrote last time (to mark stale when it goes away).
    pub(super) fn written_series(&self) -> Vec<Labels> {
        let mut all: Vec<Labels> = self.previous.iter().flatten().cloned().collect();
        all.extend(self.stale_series.iter().cloned());
        all
    }
}

fn build_rule(
    lang: super::file::QueryLanguage,
    r: &RuleDef,
    restored: bool,
) -> Result<Rule, String> {
    let expr = RuleExpr::parse(lang, &r.expr)?;
    Ok(match &r.kind {
        RuleKind::Record { name } => Rule::Recording(RecordingRule {
            name: name.clone(),
            expr,
            labels: r.labels.clone(),
        }),
        RuleKind::Alert {
            name,
            for_ms,
            keep_firing_for_ms,
            annotations,
        } => Rule::Alerting(AlertingRule {
            name: name.clone(),
            expr,
            hold_ms: *for_ms,
            keep_firing_for_ms: *keep_firing_for_ms,
            labels: r.labels.clone(),
            annotations: annotations.clone(),
            active: Default::default(),
            restored,
        }),
    })
}
