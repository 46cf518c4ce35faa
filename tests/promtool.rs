//! `promtool check metrics` on the agent's text output: no parse error, and no lint
//! finding beyond those node_exporter's own output gets on the same host (it flags
//! names we keep for compatibility: node_memory_MemTotal_bytes is camelCase,
//! node_entropy_available_bits has a non-base unit, ...).
//!
//! OpenMetrics is not checked here, by design of promtool: Prometheus 2.42's
//! `check metrics` lints with client_golang's text-format 0.0.4 parser (promlint over
//! expfmt.TextParser). On OpenMetrics it fails on `# TYPE x unknown` ("unknown metric
//! type") and reports a false "no help text" for every counter, whose OpenMetrics
//! HELP/TYPE name has no `_total`. The OpenMetrics output is validated instead by a
//! real Prometheus server, which negotiates it by default (tests/prometheus_server.rs).

mod common;

use common::promtool::check_metrics;
use common::{peer, spawn_agent, Server, EQUIVALENT_FLAGS};

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
