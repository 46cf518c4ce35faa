//! The oracle: Debian's prometheus-node-exporter and the agent on the same machine,
//! with equivalent settings, must agree on every family both expose (TYPE, HELP, label
//! names, series, values), and the REQUIRED families must be there.
//!
//! Scrapes go node_exporter (A), agent (B), node_exporter (C) in quick succession. A
//! busy host can still move a value outside its bracket now and then, so a round with
//! differences is repeated, and only the differences seen in every round are reported.

mod common;
mod oracle;

use common::{peer, spawn_agent, Http, Server, EQUIVALENT_FLAGS};
use oracle::{compare, Scrape};
use std::collections::BTreeMap;

const ROUNDS: usize = 3;

#[test]
fn agent_agrees_with_node_exporter() {
    let Some(ne_bin) = peer("prometheus-node-exporter") else {
        return;
    };
    let ne = Server::start(&ne_bin, &EQUIVALENT_FLAGS, "/");
    let agent = spawn_agent(&EQUIVALENT_FLAGS);
    assert_agrees(&ne, &agent);
}

/// The oracle's own rules on this host's real data: node_exporter in the agent's place
/// must pass, or a tolerance is too tight (or a constant is not one).
#[test]
fn node_exporter_agrees_with_itself() {
    let Some(ne_bin) = peer("prometheus-node-exporter") else {
        return;
    };
    let ne = Server::start(&ne_bin, &EQUIVALENT_FLAGS, "/");
    let other = Server::start(&ne_bin, &EQUIVALENT_FLAGS, "/");
    assert_agrees(&ne, &other);
}

/// Panics with every difference between `ne` and `candidate` seen in all rounds.
fn assert_agrees(ne: &Server, candidate: &Server) {
    let http = Http::new();
    let mut persistent: Option<BTreeMap<String, String>> = None;
    for round in 1..=ROUNDS {
        let (a, b, c) = scrape_round(&http, ne, candidate);
        if round == 1 {
            summarize(&a, &b);
        }
        let found: BTreeMap<String, String> = compare(&a, &b, &c)
            .into_iter()
            .map(|m| (m.key, m.detail))
            .collect();
        if !found.is_empty() {
            let keys: Vec<&str> = found.keys().map(String::as_str).collect();
            eprintln!(
                "round {round}: {} differences: {}",
                keys.len(),
                keys.join("; ")
            );
        }
        let kept = match persistent {
            None => found,
            Some(before) => found
                .into_iter()
                .filter(|(k, _)| before.contains_key(k))
                .collect(),
        };
        if kept.is_empty() {
            return;
        }
        persistent = Some(kept);
    }
    let report = persistent.unwrap_or_default();
    let lines: Vec<&str> = report.values().map(String::as_str).collect();
    panic!(
        "{} differs from node_exporter in {} ways (seen in all {ROUNDS} rounds):\n  {}",
        candidate.name,
        lines.len(),
        lines.join("\n  ")
    );
}

/// Scrapes node_exporter, the candidate, node_exporter, and only then parses.
fn scrape_round(http: &Http, ne: &Server, candidate: &Server) -> (Scrape, Scrape, Scrape) {
    let bodies = [ne, candidate, ne].map(|s| {
        let resp = http.get(&s.url("/metrics"), &[]);
        assert_eq!(resp.status, 200, "{} /metrics", s.name);
        resp.text()
    });
    let [a, b, c] = bodies.map(|b| Scrape::parse(&b));
    (a, b, c)
}

/// What was compared and what the agent does not have yet (shown with --nocapture or
/// when the test fails).
fn summarize(ne: &Scrape, candidate: &Scrape) {
    let shared = ne
        .families
        .keys()
        .filter(|f| candidate.families.contains_key(*f));
    let series: usize = shared
        .clone()
        .map(|f| candidate.families[f].series.len())
        .sum();
    eprintln!(
        "comparing {} families ({series} series) both expose",
        shared.count()
    );
    let missing: Vec<&str> = ne
        .families
        .keys()
        .filter(|f| !candidate.families.contains_key(*f))
        .map(String::as_str)
        .collect();
    eprintln!(
        "node_exporter families missing from the other side ({}): {}",
        missing.len(),
        missing.join(" ")
    );
}
