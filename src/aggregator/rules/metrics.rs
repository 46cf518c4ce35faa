//! The rule groups' own metrics on `/metrics`, Prometheus's `prometheus_rule_*`
//! families under our prefix, one row per group (`rule_group="<file>;<name>"`, as
//! Prometheus labels them).

use super::snapshot::GroupSnapshot;
use crate::aggregator::notify::metrics::{Family, Row};
use std::time::UNIX_EPOCH;

/// The families of every group in `groups`.
pub fn families(groups: &[GroupSnapshot]) -> Vec<Family> {
    let rows = |value: &dyn Fn(&GroupSnapshot) -> f64| -> Vec<Row> {
        groups
            .iter()
            .map(|g| Row {
                suffix: "",
                labels: vec![("rule_group", format!("{};{}", g.file, g.name))],
                value: value(g),
            })
            .collect()
    };
    vec![
        (
            "nodepulse_rule_evaluations_total",
            "Rule evaluations.",
            "counter",
            rows(&|g| g.evaluations as f64),
        ),
        (
            "nodepulse_rule_evaluation_failures_total",
            "Rule evaluations that failed (query or storage).",
            "counter",
            rows(&|g| g.failures as f64),
        ),
        (
            "nodepulse_rule_group_iterations_total",
            "Scheduled evaluations of the group.",
            "counter",
            rows(&|g| g.iterations_scheduled as f64),
        ),
        (
            "nodepulse_rule_group_iterations_missed_total",
            "Scheduled evaluations skipped because the previous one was late.",
            "counter",
            rows(&|g| g.iterations_missed as f64),
        ),
        (
            "nodepulse_rule_group_iterations_extra_total",
            "Extra evaluations of the group right after a scrape or a push it reads.",
            "counter",
            rows(&|g| g.iterations_extra as f64),
        ),
        (
            "nodepulse_rule_group_extra_dropped_total",
            "Extra evaluations not run because the group's next tick came first.",
            "counter",
            rows(&|g| g.extra_dropped as f64),
        ),
        (
            "nodepulse_rule_group_last_duration_seconds",
            "How long the group's last evaluation took.",
            "gauge",
            rows(&|g| g.evaluation_time.as_secs_f64()),
        ),
        (
            "nodepulse_rule_group_last_evaluation_timestamp_seconds",
            "When the group was last evaluated (0: never).",
            "gauge",
            rows(&|g| {
                g.last_evaluation
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0.0, |d| d.as_secs_f64())
            }),
        ),
        (
            "nodepulse_rule_group_interval_seconds",
            "The group's evaluation interval.",
            "gauge",
            rows(&|g| g.interval_ms as f64 / 1000.0),
        ),
        (
            "nodepulse_rule_group_rules",
            "Rules in the group.",
            "gauge",
            rows(&|g| g.rules.len() as f64),
        ),
    ]
}
