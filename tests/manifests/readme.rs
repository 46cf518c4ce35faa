//! The README's examples work: its Prometheus scrape config (loaded with the
//! aggregator's loader, which takes Prometheus's shape) scrapes the three parts of each
//! agent, once each, labelled with the node; its kustomize patch moves the agents' sink.

use crate::programs::{agent, agent_config, aggregator, base};
use crate::render::render_overlay;
use crate::scrape::{running, scraped};
use nodepulse::aggregator::config::{AggregatorConfig, FileConfig, Flags};

/// The first fenced ```yaml block after the heading `## <section>`.
fn readme_yaml(section: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let readme = readme.unwrap();
    let at = readme
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("no README section {section:?}"));
    let start = at + readme[at..].find("```yaml\n").expect("no yaml block") + 8;
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_owned()
}

#[test]
fn the_readme_prometheus_config_scrapes_the_three_parts_of_each_agent() {
    let Some(r) = base() else { return };
    let file = FileConfig::parse(&readme_yaml("Use an existing Prometheus")).unwrap();
    let config = AggregatorConfig::merge(Flags::default(), file).unwrap();
    let jobs = config.scrape.scrape_configs;
    let got = scraped(&jobs, &running(&agent(r), "10.0.0.7"));
    let want: Vec<(String, String, String)> = [
        ("node-exporter", "node"),
        ("cadvisor", "cadvisor"),
        ("kube-state-metrics", "kube-state"),
    ]
    .iter()
    .map(|(job, part)| {
        let url = format!("http://10.0.0.7:9101/metrics/{part}");
        (job.to_string(), url, "node-a".to_owned())
    })
    .collect();
    assert_eq!(got, want);
    assert_eq!(scraped(&jobs, &running(&aggregator(r), "10.0.0.9")), vec![]);
}

#[test]
fn the_readme_sink_patch_points_the_agents_elsewhere() {
    let text = readme_yaml("Ship logs to an existing Loki or Elasticsearch");
    let Some(r) = render_overlay(&text.replace("../nodepulse/manifests", "BASE")) else {
        return;
    };
    let loki = agent_config(&agent(&r), None)
        .sinks
        .loki
        .expect("no Loki sink");
    assert_eq!(
        loki.http.url,
        "http://loki-gateway.loki.svc/loki/api/v1/push"
    );
}
