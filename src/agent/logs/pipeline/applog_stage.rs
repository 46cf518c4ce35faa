//! The app-log stage: redacts secrets in each event's line, then lifts level, message,
//! trace and span ids from the redacted line (JSON, or a logfmt `level=`) into the
//! event's structured metadata. Redacting first means a secret cannot leave through a
//! lifted field; the shipped line is otherwise left as the application wrote it.

use super::event::{Event, Stage};
use super::record;
use crate::agent::logs::applog::{self, AppLogStats};
use crate::agent::logs::redact::{RedactStats, Redactor};
use crate::exposition::MetricFamily;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// The stage's counters, shared with `/metrics`.
#[derive(Debug, Default)]
pub struct AppLogCounters {
    inner: Mutex<(RedactStats, AppLogStats)>,
}

impl AppLogCounters {
    /// Appends `nodepulse_log_redacted_*` and `nodepulse_log_applog_*` families.
    pub fn collect(&self, out: &mut Vec<MetricFamily>) {
        let (redact, applog) = self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone();
        out.push(
            MetricFamily::counter(
                "nodepulse_log_redacted_lines_total",
                "Log lines in which at least one secret was redacted.",
            )
            .value(redact.lines_redacted as f64),
        );
        let mut per_rule = MetricFamily::counter(
            "nodepulse_log_redactions_total",
            "Secrets replaced in log lines, by redaction rule.",
        );
        for r in &redact.per_rule {
            per_rule.push(&[("rule", &r.rule)], r.replacements as f64);
        }
        out.push(per_rule);
        let mut shapes = MetricFamily::counter(
            "nodepulse_log_applog_lines_total",
            "Log lines looked at for structured fields, by what they turned out to be.",
        );
        for (shape, n) in [
            ("json", applog.json),
            ("logfmt", applog.logfmt),
            ("invalid_json", applog.invalid_json),
            ("too_long", applog.too_long),
        ] {
            shapes.push(&[("shape", shape)], n as f64);
        }
        out.push(shapes);
        out.push(
            MetricFamily::counter(
                "nodepulse_log_applog_unknown_level_total",
                "Log lines whose level field held no known level (left out).",
            )
            .value(applog.unknown_level as f64),
        );
    }
}

pub struct AppLogStage {
    redactor: Redactor,
    max_lift_bytes: usize,
    counters: Arc<AppLogCounters>,
    /// Counted here per line and copied to `counters` by [`AppLogStage::publish`]: no
    /// lock per line.
    local: (RedactStats, AppLogStats),
}

impl AppLogStage {
    pub fn new(redactor: Redactor, max_lift_bytes: usize, counters: Arc<AppLogCounters>) -> Self {
        let local = (redactor.new_stats(), AppLogStats::default());
        *counters.inner.lock().unwrap_or_else(|e| e.into_inner()) = local.clone();
        AppLogStage {
            redactor,
            max_lift_bytes,
            counters,
            local,
        }
    }

    /// Redacts `line`, and appends the fields lifted from the redacted line to `lifted`
    /// as record pairs ([`record::put_pair`]). Returns the line to ship.
    pub fn run<'a>(&mut self, line: &'a str, lifted: &mut Vec<u8>) -> Cow<'a, str> {
        let (redact_stats, applog_stats) = &mut self.local;
        let line = self.redactor.redact(line, redact_stats);
        let (shape, fields) = applog::lift(&line, self.max_lift_bytes);
        applog_stats.count(shape, &fields);
        if let Some(level) = fields.level {
            record::put_pair(lifted, "level", level.as_str());
        }
        for (key, value) in [
            ("message", &fields.message),
            ("trace_id", &fields.trace_id),
            ("span_id", &fields.span_id),
        ] {
            if let Some(v) = value {
                record::put_pair(lifted, key, v);
            }
        }
        drop(fields);
        line
    }

    /// Copies the counters to what `/metrics` reads.
    pub fn publish(&self) {
        let mut shared = self
            .counters
            .inner
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        shared.clone_from(&self.local);
    }
}

impl Stage for AppLogStage {
    fn apply(&mut self, event: &mut Event) {
        let mut lifted = Vec::new();
        if let Cow::Owned(redacted) = self.run(&event.line, &mut lifted) {
            event.line = redacted;
        }
        let owned = |(k, v): (&str, &str)| (k.to_owned(), v.to_owned());
        event.metadata.extend(record::pairs(&lifted).map(owned));
        self.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::logs::redact::RedactConfig;
    use std::path::Path;

    fn stage() -> (AppLogStage, Arc<AppLogCounters>) {
        let counters = Arc::new(AppLogCounters::default());
        let redactor = Redactor::new(&RedactConfig::default()).unwrap();
        (
            AppLogStage::new(redactor, 64 * 1024, counters.clone()),
            counters,
        )
    }

    fn event(line: &str) -> Event {
        let live = Path::new("/var/log/pods/ns_p_u/c/0.log");
        Event::enriched(live, "n", "stdout", 1, line.into())
    }

    fn meta<'a>(e: &'a Event, key: &str) -> Option<&'a str> {
        e.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn json_lines_are_redacted_then_lifted() {
        let (mut s, counters) = stage();
        let mut e =
            event(r#"{"level":"WARNING","msg":"login","password":"hunter2","trace_id":"abc"}"#);
        s.apply(&mut e);
        assert!(!e.line.contains("hunter2"), "{}", e.line);
        assert!(e.line.contains("[REDACTED]"));
        assert_eq!(meta(&e, "level"), Some("warn"));
        assert_eq!(meta(&e, "message"), Some("login"));
        assert_eq!(meta(&e, "trace_id"), Some("abc"));
        assert_eq!(meta(&e, "pod_uid"), Some("u"), "path metadata is kept");
        let mut out = Vec::new();
        counters.collect(&mut out);
        let redacted = out
            .iter()
            .find(|f| f.name == "nodepulse_log_redacted_lines_total");
        assert_eq!(redacted.unwrap().samples[0].value, 1.0);
    }

    #[test]
    fn plain_lines_pass_unchanged() {
        let (mut s, _) = stage();
        let mut e = event("GET /healthz 200");
        let before = e.clone();
        s.apply(&mut e);
        assert_eq!(e, before);
    }
}
