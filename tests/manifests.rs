//! The install (manifests/, rendered by `kubectl kustomize`) read with the programs' own
//! parsers: the DaemonSet's args parse with the agent's flag parser and every path they
//! name lies under a mount of the right kind; ports agree across args, containerPorts,
//! probes, annotations, the Service and the agents' sink URL; the aggregator's config
//! loads with its loader and the rule files as the kubelet mounts them; RBAC; the
//! retention caps fit the volume. In manifests/: the auth component ([`auth`]), who
//! scrapes what through the aggregator's pod discovery ([`scrape`]), the README's
//! examples ([`readme`]). Needs kubectl: skipped with an install hint when it is
//! missing, failed under `CI=true`.

// The readers of a render (kubectl kustomize; the pod template; the mounts laid out in
// a temp dir; the programs' own parsers), then the tests by subject.
#[path = "manifests/layout.rs"]
mod layout;
#[path = "manifests/pod.rs"]
mod pod;
#[path = "manifests/programs.rs"]
mod programs;
#[path = "manifests/render.rs"]
mod render;

#[path = "manifests/auth.rs"]
mod auth;
#[path = "manifests/readme.rs"]
mod readme;
#[path = "manifests/scrape.rs"]
mod scrape;

use layout::Layout;
use nodepulse::agent::config::defaults;
use nodepulse::aggregator::rules;
use pod::field_value;
use programs::{agent, agent_config, aggregator, aggregator_config, base, rule_file_names};
use render::manifests_dir;
use serde_json::json;
use std::path::Path;

#[test]
fn agent_args_parse_and_each_path_lies_under_a_mount_of_its_kind() {
    let Some(r) = base() else { return };
    let pod = agent(r);
    let c = agent_config(&pod, None);
    assert_eq!(
        pod.container("agent")["command"],
        json!(["/usr/local/bin/nodepulse-agent"])
    );
    assert_eq!(
        c.node_name,
        field_value("spec.nodeName"),
        "--node-name from the downward API"
    );
    // What the agent reads: read-only host paths, each reaching the host path the
    // agent reads when it runs on the host itself (its defaults).
    let reads = [
        ("--path.procfs", &c.paths.procfs, "/proc"),
        ("--path.sysfs", &c.paths.sysfs, "/sys"),
        ("--path.rootfs", &c.paths.rootfs, "/"),
        ("--logs.pods-dir", &c.pods_dir, defaults::PODS_DIR),
        (
            "--logs.containers-dir",
            &c.containers_dir,
            defaults::CONTAINERS_DIR,
        ),
    ];
    for (flag, path, host) in reads {
        let m = pod
            .mount_of("agent", path)
            .unwrap_or_else(|| panic!("{flag}={} lies under no mount", path.display()));
        assert!(m.read_only(), "{flag}: its mount is writable");
        assert_eq!(m.host_path().as_deref(), Some(Path::new(host)), "{flag}");
    }
    // Under cri-dockerd, /var/log/pods/*/*/N.log are absolute symlinks into Docker's
    // container dir: reachable read-only at the same path.
    let docker = Path::new("/var/lib/docker/containers/0a1b/0a1b-json.log");
    let m = pod
        .mount_of("agent", docker)
        .expect("Docker's container dir under no mount");
    assert!(
        m.read_only(),
        "Docker's container dir: its mount is writable"
    );
    assert_eq!(m.host_path().as_deref(), Some(docker));
    // /var/log/containers/* are absolute symlinks into the host's /var/log/pods.
    assert_eq!(
        c.pods_dir,
        Path::new(defaults::PODS_DIR),
        "pods dir not at its host path"
    );
    let root = pod.mount_of("agent", &c.paths.rootfs).unwrap();
    assert_eq!(
        root.mount["mountPropagation"], "HostToContainer",
        "/ must be rslave"
    );
    // What it writes: the data dir, a writable host path, and nothing else.
    let data = pod
        .mount_of("agent", &c.data_dir)
        .expect("--data-dir under no mount");
    assert!(!data.read_only(), "--data-dir: its mount is read-only");
    assert_eq!(
        data.host_path().as_deref(),
        Some(Path::new(defaults::DATA_DIR))
    );
    for (mount, _) in pod.mounts("agent") {
        let at = mount["mountPath"].as_str().unwrap();
        assert!(
            mount["readOnly"] == true || Path::new(at) == c.data_dir,
            "{at} writable"
        );
    }
    assert_eq!(
        pod.container("agent")["securityContext"]["readOnlyRootFilesystem"],
        true
    );
}

#[test]
fn agent_ports_probes_and_annotations_agree() {
    let Some(r) = base() else { return };
    let pod = agent(r);
    let port = agent_config(&pod, None).listen_address.port();
    let c = pod.container("agent");
    for p in c["ports"].as_array().unwrap() {
        assert_eq!(
            p["containerPort"], port,
            "containerPort vs --web.listen-address"
        );
    }
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        let get = &c[probe]["httpGet"];
        assert_eq!(pod.port("agent", &get["port"]), port, "{probe} port");
        assert_eq!(get["path"], path, "{probe} path");
    }
    assert_eq!(pod.annotation("prometheus.io/scrape"), "true");
    assert_eq!(pod.annotation("prometheus.io/port"), port.to_string());
    assert_eq!(pod.annotation("prometheus.io/path"), "/metrics");
}

#[test]
fn aggregator_ports_agree_with_its_service_and_the_agents_sink() {
    let Some(r) = base() else { return };
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let port = aggregator_config(&pod, &layout).listen_address.port();
    let c = pod.container("aggregator");
    assert_eq!(c["command"], json!(["/usr/local/bin/nodepulse-aggregator"]));
    for p in c["ports"].as_array().unwrap() {
        assert_eq!(
            p["containerPort"], port,
            "containerPort vs --web.listen-address"
        );
    }
    let probes = [
        ("startupProbe", "/-/healthy"),
        ("livenessProbe", "/-/healthy"),
        ("readinessProbe", "/-/ready"),
    ];
    for (probe, path) in probes {
        let get = &c[probe]["httpGet"];
        assert_eq!(pod.port("aggregator", &get["port"]), port, "{probe} port");
        assert_eq!(get["path"], path, "{probe} path");
    }
    assert_eq!(pod.annotation("prometheus.io/port"), port.to_string());
    let name = pod.workload["spec"]["serviceName"].as_str().unwrap();
    let svc = r.get("Service", name);
    let labels = &pod.workload["spec"]["template"]["metadata"]["labels"];
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&labels[k], v, "the Service's selector misses the pod ({k})");
    }
    let svc_port = svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| pod.port("aggregator", &p["targetPort"]) == port)
        .expect("no Service port reaches the aggregator's");
    let ns = svc["metadata"]["namespace"].as_str().unwrap();
    let push = format!(
        "http://{name}.{ns}.svc:{}/loki/api/v1/push",
        svc_port["port"]
    );
    let sinks = agent_config(&agent(r), None).sinks;
    assert_eq!(
        sinks.loki.expect("no Loki sink").http.url,
        push,
        "the agents' sink URL"
    );
}

#[test]
fn aggregator_config_loads_with_the_rules_as_mounted() {
    let Some(r) = base() else { return };
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let config = aggregator_config(&pod, &layout);
    let files = rules::paths::expand(&config.rule_files).unwrap();
    let mut names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, rule_file_names(), "rule_files as mounted");
    for f in &files {
        if let Err(e) = rules::file::load(f) {
            panic!("{}: {e:?}", f.display());
        }
    }
    let args = pod.args("aggregator");
    let storage = args.iter().find_map(|a| a.strip_prefix("--storage.path="));
    let storage = Path::new(storage.expect("no --storage.path"));
    let m = pod
        .mount_of("aggregator", storage)
        .expect("--storage.path under no mount");
    assert!(
        m.volume["persistentVolumeClaim"].is_object(),
        "storage not on the claim"
    );
    assert!(!m.read_only(), "storage mount is read-only");
    let sc = &pod.container("aggregator")["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(pod.spec()["securityContext"]["runAsNonRoot"], true);
}

#[test]
fn every_rule_file_is_in_the_rules_configmap() {
    let Some(r) = base() else { return };
    let name = aggregator(r).volume("rules")["configMap"]["name"].clone();
    let data = r.get("ConfigMap", name.as_str().unwrap())["data"]
        .as_object()
        .unwrap();
    let mut keys: Vec<&String> = data.keys().collect();
    keys.sort();
    assert_eq!(keys, rule_file_names().iter().collect::<Vec<_>>());
    for (key, text) in data {
        let file = std::fs::read_to_string(manifests_dir().join("rules").join(key)).unwrap();
        assert_eq!(
            text.as_str(),
            Some(file.as_str()),
            "{key} differs from its file"
        );
    }
}

#[test]
fn retention_caps_fit_the_volume() {
    let Some(r) = base() else { return };
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let config = aggregator_config(&pod, &layout);
    let capped = config.retention_size + config.logs.store.retention_bytes;
    let claim = &pod.volume("data")["persistentVolumeClaim"]["resources"]["requests"]["storage"];
    let gi: u64 = claim
        .as_str()
        .unwrap()
        .strip_suffix("Gi")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        config.retention_size > 0 && config.logs.store.retention_bytes > 0,
        "no size caps"
    );
    assert!(
        capped < gi << 30,
        "caps {capped} B do not fit the {gi}Gi volume"
    );
}

#[test]
fn each_service_account_may_read_what_its_program_watches() {
    let Some(r) = base() else { return };
    let cases = [
        (agent(r), vec!["namespaces", "pods"]),
        (aggregator(r), vec!["endpoints", "pods", "services"]),
    ];
    for (pod, want) in cases {
        let sa = pod.spec()["serviceAccountName"].as_str().unwrap();
        let ns = pod.workload["metadata"]["namespace"].clone();
        let binding = r
            .all("ClusterRoleBinding")
            .into_iter()
            .find(|b| b["subjects"][0]["name"] == sa && b["subjects"][0]["namespace"] == ns)
            .unwrap_or_else(|| panic!("{sa} is bound to no ClusterRole"));
        let role = r.get("ClusterRole", binding["roleRef"]["name"].as_str().unwrap());
        let mut got: Vec<&str> = Vec::new();
        for rule in role["rules"].as_array().unwrap() {
            assert_eq!(
                rule["verbs"],
                json!(["get", "list", "watch"]),
                "{sa}: read-only"
            );
            got.extend(
                rule["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap()),
            );
        }
        got.sort();
        assert_eq!(got, want, "{sa}'s resources");
    }
}
