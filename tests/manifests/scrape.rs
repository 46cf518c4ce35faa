//! Who scrapes what: the rendered pods, as the API server lists them once running (on
//! a node, with an IP), through the aggregator's own pod discovery and a job's
//! relabelling: each agent once, in its own job; the aggregator itself once.

use crate::layout::Layout;
use crate::pod::{field_value, Pod};
use crate::programs::{agent, aggregator, aggregator_config, base};
use k8s_openapi::api::core::v1::Pod as KubePod;
use nodepulse::aggregator::scrape::config::ScrapeConfig;
use nodepulse::aggregator::scrape::kube_sd::{self, Role};
use nodepulse::aggregator::scrape::target;
use serde_json::json;

/// `pod`'s template as the API server lists it once running on node-a at `ip`.
pub fn running(pod: &Pod, ip: &str) -> KubePod {
    let t = &pod.workload["spec"]["template"];
    let mut v = json!({
        "metadata": t["metadata"],
        "spec": t["spec"],
        "status": {"phase": "Running", "podIP": ip},
    });
    let name = pod.workload["metadata"]["name"].as_str().unwrap();
    v["metadata"]["name"] = json!(format!("{name}-0"));
    v["metadata"]["namespace"] = pod.workload["metadata"]["namespace"].clone();
    v["spec"]["nodeName"] = json!(field_value("spec.nodeName"));
    serde_json::from_value(v).unwrap()
}

/// `(job, url, instance)` of every target the jobs make of `pod` (pod discovery only:
/// no Service is annotated, so the endpoints role finds nothing here).
pub fn scraped(jobs: &[ScrapeConfig], pod: &KubePod) -> Vec<(String, String, String)> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let mut out = Vec::new();
    for job in jobs {
        let watched = job.kube_sd.iter().any(|sd| {
            sd.role == Role::Pod && (sd.namespaces.is_empty() || sd.namespaces.contains(&ns))
        });
        if !watched {
            continue;
        }
        for t in target::from_discovered(kube_sd::pod::targets(pod), job) {
            let instance = t.labels.get("instance").unwrap_or("").to_owned();
            out.push((job.job_name.clone(), t.url, instance));
        }
    }
    out
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn the_aggregator_scrapes_each_agent_once_and_itself() {
    let Some(r) = base() else { return };
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let jobs = aggregator_config(&pod, &layout).scrape.scrape_configs;
    let url = "http://10.0.0.7:9101/metrics";
    let want = owned(&[("nodepulse-agent", url, "10.0.0.7:9101")]);
    assert_eq!(scraped(&jobs, &running(&agent(r), "10.0.0.7")), want);
    let url = "http://10.0.0.9:9201/metrics";
    let want = owned(&[("kubernetes-pods", url, "10.0.0.9:9201")]);
    assert_eq!(scraped(&jobs, &running(&pod, "10.0.0.9")), want);
}

/// The agent writes the measured pod's `namespace`/`pod`/`node` on container_* and
/// kube_pod_*: its job must keep them (honor_labels) and add no pod labels of its own
/// (the node's series would be the agent pod's).
#[test]
fn the_agents_job_keeps_the_measured_pods_labels() {
    let Some(r) = base() else { return };
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let jobs = aggregator_config(&pod, &layout).scrape.scrape_configs;
    let job = jobs.iter().find(|j| j.job_name == "nodepulse-agent");
    let job = job.expect("a nodepulse-agent job");
    assert!(
        job.honor_labels,
        "the agents' job must honor the scraped labels"
    );
    let agent = running(&agent(r), "10.0.0.7");
    for t in target::from_discovered(kube_sd::pod::targets(&agent), job) {
        for name in ["namespace", "pod", "container"] {
            assert_eq!(t.labels.get(name), None, "target label {name} set");
        }
        assert_eq!(
            t.labels.get("node"),
            Some(field_value("spec.nodeName").as_str())
        );
    }
}
