//! The Grafana dashboards of manifests/components/grafana-dashboards work against
//! nodepulse's own APIs: every panel reads its data source through `${datasource}`;
//! every PromQL query parses with the aggregator's parser and reads only metric names
//! nodepulse exposes, every LogQL query parses with our LogQL parser; and, run by a
//! `nodepulse-aggregator` holding samples and logs for them, every template variable
//! resolves (in order, as Grafana does) and every query answers `/api/v1/query_range`
//! or `/loki/api/v1/query_range` with 200, status success and data. The node and pods
//! dashboards also over a real agent: real_agent.rs.

mod api;
#[path = "../cgroup_tree/mod.rs"]
mod cgroup_tree;
#[path = "../common/mod.rs"]
mod common;
mod data;
mod model;
mod real_agent;

use common::exposed::{exposed_names, read_names};
use common::Server;
use model::{Dashboard, Lang, Variable};
use std::path::Path;

const AGGREGATOR: &str = env!("CARGO_BIN_EXE_nodepulse-aggregator");

/// The values each variable takes with the test's data.
fn placeholders(d: &Dashboard) -> Vec<(String, String)> {
    (d.variables.iter())
        .map(|v| {
            let value = match v {
                Variable::Text { default, .. } => default.as_str(),
                Variable::LabelValues { name, .. } => match name.as_str() {
                    "node" => data::NODE,
                    "instance" => data::INSTANCE,
                    "namespace" => data::NAMESPACE,
                    "pod" => data::POD,
                    other => panic!("{}: no test value for ${other}", d.file),
                },
            };
            (v.name().to_string(), value.to_string())
        })
        .collect()
}

/// Every query of `d` (variables' selectors, then panels), substituted with `values`.
fn queries(d: &Dashboard, values: &[(String, String)]) -> Vec<(String, String)> {
    let vars = d.variables.iter().filter_map(|v| match v {
        Variable::LabelValues {
            name,
            selector: Some(s),
            ..
        } => Some((format!("${name}"), s.clone())),
        _ => None,
    });
    vars.chain(d.queries.iter().cloned())
        .map(|(what, q)| (what, model::substitute(&q, values)))
        .collect()
}

#[test]
fn every_panel_reads_its_data_source_through_the_variable() {
    let dashboards = model::load_all();
    assert_eq!(dashboards.len(), 4);
    for d in &dashboards {
        assert!(
            d.json["uid"].as_str().is_some_and(|u| !u.is_empty()),
            "{}",
            d.file
        );
        let mut ids = std::collections::BTreeSet::new();
        for p in model::panels(&d.json) {
            assert!(ids.insert(p["id"].as_i64()), "{}: panel id twice", d.file);
            let sources = std::iter::once(&p["datasource"]).chain(
                p["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| &t["datasource"]),
            );
            for s in sources {
                assert_eq!(s["uid"], "${datasource}", "{} {}", d.file, p["title"]);
            }
        }
        assert!(!d.queries.is_empty(), "{}", d.file);
    }
    let names: Vec<_> = dashboards
        .iter()
        .map(|d| {
            d.variables
                .iter()
                .map(|v| v.name().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for var in ["node", "namespace", "pod"] {
        assert!(
            names.iter().any(|n| n.iter().any(|v| v == var)),
            "no ${var}: {names:?}"
        );
    }
}

#[test]
fn every_query_parses_and_reads_only_exposed_metrics() {
    let exposed = exposed_names();
    let mut read = std::collections::BTreeSet::new();
    for d in model::load_all() {
        for (what, q) in queries(&d, &placeholders(&d)) {
            match d.lang {
                Lang::PromQL => {
                    let names =
                        read_names(&q).unwrap_or_else(|e| panic!("{} {what}: {q}: {e}", d.file));
                    for n in names {
                        assert!(
                            exposed.contains(&n),
                            "{} {what}: {n} is not exposed by nodepulse",
                            d.file
                        );
                        read.insert(n);
                    }
                }
                Lang::LogQL => {
                    nodepulse::aggregator::logql::parse(&q)
                        .unwrap_or_else(|e| panic!("{} {what}: {q}: {e}", d.file));
                }
            }
        }
    }
    assert!(read.len() >= 40, "{read:?}");
}

#[test]
fn every_query_answers_through_the_aggregator() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let storage = format!("--storage.path={}", dir.path().display());
    let server = Server::start(Path::new(AGGREGATOR), &[&storage], "/-/ready");
    let dashboards = model::load_all();
    let end_ms = data::now_ms();
    let http = reqwest::blocking::Client::new();

    let promql: Vec<String> = (dashboards.iter().filter(|d| d.lang == Lang::PromQL))
        .flat_map(|d| queries(d, &placeholders(d)).into_iter().map(|(_, q)| q))
        .collect();
    let r = http
        .post(server.url("/api/v1/write"))
        .body(data::series_for(&promql, end_ms))
        .send();
    assert_eq!(r.expect("remote_write").status().as_u16(), 204);
    let r = http
        .post(server.url("/loki/api/v1/push"))
        .header("content-type", "application/json")
        .body(data::log_push(end_ms).to_string())
        .send();
    assert_eq!(r.expect("a Loki push").status().as_u16(), 204);

    let failures: Vec<String> = (dashboards.iter())
        .flat_map(|d| api::run_panels(&server, d, end_ms - 1_800_000, end_ms))
        .collect();
    assert!(
        failures.is_empty(),
        "{} queries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
