//! The containers collector over kubelet-shaped cgroup trees built in temp dirs from
//! real file contents: cgroup v1 and v2 × systemd and cgroupfs drivers (containerd,
//! CRI-O and docker names), every container_* value checked against numbers computed by
//! hand from the files; series of a removed container gone at the next scrape; and
//! `promtool check metrics` on a 110 pods × 3 containers node.

mod cgroup_tree;
mod common;

use cgroup_tree::expected::key;
use cgroup_tree::node::{app, big_node, Node};
use cgroup_tree::{Driver, Runtime, Tree, Version};
use nodepulse::agent::containers::logdir::LogDirNames;
use nodepulse::agent::containers::{ContainersCollector, ContainersSettings};
use nodepulse::agent::node::{Collector, HostPaths};
use nodepulse::exposition::{encode, normalize, Format, MetricFamily};
use std::collections::BTreeMap;
use std::sync::Arc;

fn collector(tree: &Tree) -> ContainersCollector {
    let paths = HostPaths {
        procfs: tree.path("proc"),
        sysfs: tree.path("sys"),
        rootfs: tree.path(""),
    };
    let names = LogDirNames::new(tree.path("log/containers"), tree.path("log/pods"));
    ContainersCollector::new(&paths, Arc::new(names), &ContainersSettings::default())
}

/// `name{labels as emitted}` → value, failing on a duplicate series.
fn scrape(c: &ContainersCollector) -> BTreeMap<String, f64> {
    let mut out: Vec<MetricFamily> = Vec::new();
    c.collect(&mut out).unwrap();
    let mut series = BTreeMap::new();
    for f in &out {
        for s in &f.samples {
            let labels: Vec<String> = s.label_pairs().map(|(k, v)| format!("{k}={v:?}")).collect();
            let key = format!("{}{{{}}}", f.name, labels.join(","));
            assert!(
                series.insert(key.clone(), s.value).is_none(),
                "duplicate {key}"
            );
        }
    }
    series
}

fn check_node(version: Version, driver: Driver, runtime: Runtime) {
    let node = Node::build(version, driver, runtime);
    let c = collector(&node.tree);
    let s = scrape(&c);
    let what = format!("{version:?} {driver:?} {runtime:?}");
    for (series, want) in node.expected() {
        let got = s.get(&series).copied();
        assert_eq!(got, want, "{what}: {series}");
    }
    let usage: Vec<_> = s
        .keys()
        .filter(|k| k.starts_with("container_memory_usage_bytes{"))
        .collect();
    assert_eq!(
        usage.len(),
        7,
        "{what}: 2 pods + 5 containers, no conmon: {usage:#?}"
    );
    assert!(!s.keys().any(|k| k.contains("conmon")), "{what}");

    node.tree.remove(&node.a_proxy.id[1..]);
    let s = scrape(&c);
    let proxy_id = node.a_proxy.name.as_str();
    assert!(
        !s.keys().any(|k| k.contains(proxy_id)),
        "{what}: the removed container's series are gone"
    );
    assert_eq!(
        s.keys()
            .filter(|k| k.starts_with("container_memory_usage_bytes{"))
            .count(),
        6
    );
    assert_eq!(
        s.get(&key("container_threads", &node.a_app, None)),
        Some(&9.0),
        "{what}"
    );
}

#[test]
fn v2_systemd_containerd() {
    check_node(Version::V2, Driver::Systemd, Runtime::Containerd);
}

#[test]
fn v2_cgroupfs_crio() {
    check_node(Version::V2, Driver::Cgroupfs, Runtime::Crio);
}

#[test]
fn v2_systemd_crio_skips_conmon() {
    check_node(Version::V2, Driver::Systemd, Runtime::Crio);
}

#[test]
fn v1_systemd_docker() {
    check_node(Version::V1, Driver::Systemd, Runtime::Docker);
}

#[test]
fn v1_cgroupfs_containerd() {
    check_node(Version::V1, Driver::Cgroupfs, Runtime::Containerd);
}

/// Files held open between scrapes (read again from offset 0) give each scrape's new
/// values, on both hierarchies.
fn fresh_values_every_scrape(version: Version) {
    let node = Node::build(version, Driver::Systemd, Runtime::Containerd);
    let c = collector(&node.tree);
    let usage = key("container_memory_usage_bytes", &node.a_app, None);
    let threads = key("container_threads", &node.a_app, None);
    let before = scrape(&c);
    assert_eq!(before.get(&threads), Some(&9.0), "{version:?}");
    let open = before["nodepulse_containers_open_files{}"];
    assert!(open >= 7.0, "{version:?}: 7 cgroups held open, got {open}");
    for n in [1u64, 2] {
        let vals = cgroup_tree::Vals {
            memory_current: 1_000_000 * n,
            pids_current: 40 + n,
            ..app()
        };
        node.tree.cgroup_files(&node.a_app.id[1..], &vals);
        let s = scrape(&c);
        assert_eq!(
            s.get(&usage),
            Some(&(1_000_000.0 * n as f64)),
            "{version:?}"
        );
        assert_eq!(s.get(&threads), Some(&(40.0 + n as f64)), "{version:?}");
        assert_eq!(s["nodepulse_containers_open_files{}"], open, "{version:?}");
        assert_eq!(s["nodepulse_containers_uncached_opens_total{}"], 0.0);
    }
}

#[test]
fn v2_fresh_values_every_scrape() {
    fresh_values_every_scrape(Version::V2);
}

#[test]
fn v1_fresh_values_every_scrape() {
    fresh_values_every_scrape(Version::V1);
}

/// Odd files: garbage, empty and missing files cost their series and count as errors;
/// the scrape goes on and nothing panics.
#[test]
fn odd_files_are_counted_not_fatal() {
    let node = Node::build(Version::V2, Driver::Systemd, Runtime::Containerd);
    let dir = node.tree.cgroup().join(&node.a_app.id[1..]);
    std::fs::write(dir.join("cpu.stat"), "usage_usec lots\n").unwrap();
    std::fs::write(dir.join("memory.stat"), "").unwrap();
    std::fs::write(dir.join("io.stat"), "253:0 rbytes\n").unwrap();
    std::fs::remove_file(dir.join("memory.peak")).unwrap();
    std::fs::write(dir.join("cgroup.procs"), "\u{0}\u{1}").unwrap();
    let s = scrape(&collector(&node.tree));
    let a = &node.a_app;
    assert_eq!(
        s.get(&key("container_cpu_user_seconds_total", a, None)),
        None
    );
    assert_eq!(
        s.get(&key("container_memory_usage_bytes", a, None)),
        Some(&30_000_000.0)
    );
    assert_eq!(
        s.get(&key("container_memory_working_set_bytes", a, None)),
        Some(&30_000_000.0),
        "no inactive_file: usage"
    );
    assert_eq!(
        s.get(&key("container_memory_max_usage_bytes", a, None)),
        Some(&0.0)
    );
    assert_eq!(s.get(&key("container_processes", a, None)), None);
    let parse_errors = "nodepulse_containers_errors_total{reason=\"parse\"}";
    assert_eq!(
        s.get(parse_errors),
        Some(&3.0),
        "cpu.stat, io.stat, cgroup.procs"
    );
}

/// 110 pods × 3 containers (+ sandboxes): promtool finds no parse error and no lint
/// beyond the one cAdvisor's own names get; normalization drops no duplicate.
#[test]
fn promtool_on_a_full_node() {
    let tree = big_node(110, 3);
    let mut out = Vec::new();
    collector(&tree).collect(&mut out).unwrap();
    let samples: usize = out.iter().map(|f| f.samples.len()).sum();
    assert!(samples > 110 * 4 * 25, "{samples} samples");
    let (families, dropped) = normalize(out);
    assert_eq!(dropped.duplicate_series, 0);
    let mut body = Vec::new();
    encode(&families, Format::Text, &mut body);
    let Some(promtool) = common::peer("promtool") else {
        return;
    };
    let lint = common::promtool::check_metrics(&promtool, &String::from_utf8(body).unwrap());
    assert_eq!(lint.parse_error, None);
    let findings: Vec<_> = lint.findings.iter().collect();
    let expected = (
        "container_memory_failcnt".to_owned(),
        "counter metrics should have \"_total\" suffix".to_owned(),
    );
    assert_eq!(
        findings,
        [&expected],
        "only cAdvisor's own counter without _total"
    );
}

/// `--collectors.disable=containers` turns the collector off; it is on by default.
#[test]
fn disable_flag() {
    use clap::Parser;
    use nodepulse::agent::config::{AgentConfig, FileConfig, Flags};
    let node = Node::build(Version::V2, Driver::Systemd, Runtime::Containerd);
    let scrape_with = |extra: &[&str]| {
        let sys = format!("--path.sysfs={}", node.tree.path("sys").display());
        let proc = format!("--path.procfs={}", node.tree.path("proc").display());
        let mut args = vec!["nodepulse-agent", &sys, &proc];
        args.extend_from_slice(extra);
        let config =
            AgentConfig::merge(Flags::try_parse_from(args).unwrap(), FileConfig::default())
                .unwrap();
        String::from_utf8(nodepulse::agent::Agent::new(&config).scrape(Format::Text)).unwrap()
    };
    assert!(scrape_with(&[]).contains("container_memory_working_set_bytes{"));
    let off = scrape_with(&["--collectors.disable=containers"]);
    assert!(!off.contains("container_"), "disabled");
}
