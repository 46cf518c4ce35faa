//! `promtool check metrics` on the agent's text output: no parse error, and no lint
//! finding beyond those node_exporter's own output gets on the same host (it flags
//! names we keep for compatibility: node_memory_MemTotal_bytes is camelCase,
//! node_entropy_available_bits has a non-base unit, ...).
//!
//! OpenMetrics cannot go through `check metrics`, by design of promtool: Prometheus
//! 2.42's `check metrics` lints with client_golang's text-format 0.0.4 parser (promlint
//! over expfmt.TextParser), which rejects OpenMetrics' `# TYPE x unknown`. promtool's
//! other reader of the format, `tsdb create-blocks-from openmetrics`, uses Prometheus's
//! own OpenMetrics parser (the scraper's); it needs a timestamp on every sample, so the
//! test adds one to each sample line and asks it to parse the agent's OpenMetrics body.
//! A real Prometheus server scraping OpenMetrics is tests/prometheus_server.rs.

mod common;

use common::promtool::check_metrics;
use common::{peer, spawn_agent, Server, EQUIVALENT_FLAGS};
use std::path::Path;
use std::process::Command;

fn scrape_text(server: &Server) -> String {
    let resp = common::get(&server.url("/metrics"), &[]);
    assert_eq!(resp.status, 200, "{} /metrics", server.name);
    resp.text()
}

#[test]
fn agent_text_lints_no_worse_than_node_exporter() {
    let (Some(promtool), Some(ne_bin)) = (peer("promtool"), peer("prometheus-node-exporter"))
    else {
        return;
    };
    let ne = Server::start(&ne_bin, &EQUIVALENT_FLAGS, "/");
    let agent = spawn_agent(&EQUIVALENT_FLAGS);
    let ne_lint = check_metrics(&promtool, &scrape_text(&ne));
    let agent_lint = check_metrics(&promtool, &scrape_text(&agent));
    assert_eq!(ne_lint.parse_error, None, "node_exporter's output");
    assert_eq!(agent_lint.parse_error, None, "the agent's output");
    let beyond: Vec<_> = agent_lint.findings.difference(&ne_lint.findings).collect();
    assert!(
        beyond.is_empty(),
        "findings node_exporter's output does not get: {beyond:#?}"
    );
    let own: Vec<_> = agent_lint
        .findings
        .iter()
        .filter(|(name, _)| name.starts_with("nodepulse_") || name.starts_with("process_"))
        .collect();
    assert!(
        own.is_empty(),
        "findings on the agent's own families: {own:#?}"
    );
}

/// The check itself: a finding and a parse error are both seen.
#[test]
fn check_metrics_reports_findings_and_parse_errors() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let lint = check_metrics(&promtool, "# TYPE x_total counter\nx_total 1\n");
    assert_eq!(lint.parse_error, None);
    let expected = ("x_total".to_owned(), "no help text".to_owned());
    assert!(lint.findings.contains(&expected), "{:?}", lint.findings);
    let lint = check_metrics(&promtool, "x{a=\"1\"} 1 2 3\n");
    assert!(lint.parse_error.is_some());
}

/// Runs `promtool tsdb create-blocks-from openmetrics` on `body` with a timestamp added
/// to every sample line; returns whether it parsed and promtool's output.
fn backfill_openmetrics(promtool: &Path, body: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let stamped: String = body
        .lines()
        .map(|l| match l.starts_with('#') {
            true => format!("{l}\n"),
            false => format!("{l} 1700000000\n"),
        })
        .collect();
    let input = dir.path().join("metrics.om");
    std::fs::write(&input, stamped).unwrap();
    let out = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(dir.path().join("blocks"))
        .output()
        .expect("running promtool");
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text.into_owned())
}

#[test]
fn agent_openmetrics_parses_with_prometheus_openmetrics_parser() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let agent = spawn_agent(&EQUIVALENT_FLAGS);
    let accept = [("accept", "application/openmetrics-text; version=1.0.0")];
    let body = common::get(&agent.url("/metrics"), &accept).text();
    assert!(body.ends_with("# EOF\n"));
    let samples = body.lines().filter(|l| !l.starts_with('#')).count();
    let (ok, out) = backfill_openmetrics(&promtool, &body);
    assert!(
        ok,
        "promtool could not parse the agent's OpenMetrics: {out}"
    );
    // The block table's NUM SAMPLES column: every sample was read.
    assert!(
        out.split_whitespace().any(|w| w == samples.to_string()),
        "{samples} samples expected in {out}"
    );
}

/// The OpenMetrics check itself: garbage and a missing `# EOF` are refused.
#[test]
fn backfill_refuses_broken_openmetrics() {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let good = "# TYPE x counter\nx_total{a=\"b c\"} 1\n# EOF\n";
    assert!(backfill_openmetrics(&promtool, good).0);
    for bad in ["garbage{\n# EOF\n", "# TYPE x counter\nx_total 1\n"] {
        assert!(
            !backfill_openmetrics(&promtool, bad).0,
            "{bad:?} was accepted"
        );
    }
}
