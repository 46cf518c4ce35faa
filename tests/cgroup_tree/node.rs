//! Two nodes: a small one whose every container_* value is known by hand (pod A named
//! through the kubelet's log dirs, pod B unnamed), and a big one (N pods × M containers)
//! for promtool and the benchmark.

use super::{id, net_dev, uid, Driver, Qos, Runtime, Tree, Vals, Version};

/// The kubelet labels of one row (image is always "" without an API server).
#[derive(Debug, Clone)]
pub struct Labels {
    pub container: String,
    pub id: String,
    pub name: String,
    pub namespace: String,
    pub pod: String,
}

pub struct Node {
    pub tree: Tree,
    pub version: Version,
    pub a_pod: Labels,
    pub a_sandbox: Labels,
    pub a_app: Labels,
    pub a_proxy: Labels,
    pub b_pod: Labels,
    pub b_sandbox: Labels,
    pub b_app: Labels,
}

pub const NS: &str = "shop";
pub const POD: &str = "checkout-7d9f8b6c5d-x2x9q";
/// Creation-time mtimes: the directory's, and the older one of cgroup.events / clone_children.
pub const DIR_MTIME: u64 = 1_764_900_000;
pub const FILE_MTIME: u64 = 1_764_899_000;

pub fn app() -> Vals {
    Vals {
        usage_usec: 2_553_407,
        user_usec: 1_610_000,
        system_usec: 940_000,
        nr_periods: 1452,
        nr_throttled: 12,
        throttled_usec: 345_678,
        memory_current: 30_000_000,
        memory_peak: 41_943_040,
        anon: 9_043_968,
        file: 20_480_000,
        file_mapped: 6_209_536,
        inactive_file: 12_288_000,
        swap: 4096,
        events_max: 7,
        oom_kill: 1,
        io: Some((1_097_728, 4096, 41, 1)),
        pids_current: 9,
        procs: vec![4242, 4243],
        quota_usec: Some(50_000),
        weight: 10,
        shares: 256,
        memory_max: Some(536_870_912),
    }
}

/// No CPU used yet, no limits, more inactive file pages than usage.
pub fn proxy() -> Vals {
    Vals {
        usage_usec: 0,
        user_usec: 0,
        system_usec: 0,
        nr_periods: 0,
        nr_throttled: 0,
        throttled_usec: 0,
        memory_current: 5_000_000,
        memory_peak: 6_000_000,
        anon: 1_000_000,
        file: 6_000_000,
        file_mapped: 0,
        inactive_file: 6_000_000,
        swap: 0,
        events_max: 0,
        oom_kill: 0,
        io: None,
        pids_current: 3,
        procs: vec![4250],
        quota_usec: None,
        weight: 1,
        shares: 2,
        memory_max: None,
    }
}

pub fn sandbox(pid: u32) -> Vals {
    Vals {
        usage_usec: 30_000,
        user_usec: 10_000,
        system_usec: 20_000,
        memory_current: 1_048_576,
        memory_peak: 1_048_576,
        anon: 393_216,
        file: 0,
        inactive_file: 0,
        pids_current: 1,
        procs: vec![pid],
        ..proxy()
    }
}

pub fn pod() -> Vals {
    Vals {
        usage_usec: 9_000_000,
        user_usec: 6_000_000,
        system_usec: 3_000_000,
        memory_current: 80_000_000,
        memory_peak: 90_000_000,
        anon: 20_000_000,
        file: 50_000_000,
        file_mapped: 7_000_000,
        inactive_file: 10_000_000,
        swap: 4096,
        events_max: 7,
        oom_kill: 1,
        pids_current: 13,
        procs: vec![],
        weight: 4,
        shares: 82,
        ..app()
    }
}

impl Node {
    pub fn build(version: Version, driver: Driver, runtime: Runtime) -> Node {
        let tree = Tree::new(version, driver, runtime);
        let (a, b) = (uid(1), uid(2));
        let a_rel = tree.pod_rel(&a, Qos::Burstable);
        let b_rel = tree.pod_rel(&b, Qos::Guaranteed);
        let row = |rel: &str, container: &str, name: &str, named: bool| Labels {
            container: container.into(),
            id: format!("/{rel}"),
            name: name.into(),
            namespace: if named { NS.into() } else { String::new() },
            pod: if named { POD.into() } else { String::new() },
        };
        let cgroup = |rel: &str, v: &Vals| {
            tree.cgroup_files(rel, v);
            rel.to_owned()
        };
        let a_pod = row(&cgroup(&a_rel, &pod()), "", "", true);
        let b_pod = row(&cgroup(&b_rel, &pod()), "", "", false);
        let ids = [id(10), id(11), id(12), id(20), id(21)];
        let c = |pod: &str, i: usize| tree.container_rel(pod, &ids[i]);
        let a_sandbox = row(&cgroup(&c(&a_rel, 0), &sandbox(4200)), "", &ids[0], true);
        let a_app = row(&cgroup(&c(&a_rel, 1), &app()), "app", &ids[1], true);
        let a_proxy = row(&cgroup(&c(&a_rel, 2), &proxy()), "proxy", &ids[2], true);
        let b_sandbox = row(&cgroup(&c(&b_rel, 3), &sandbox(5200)), "", &ids[3], false);
        let b_app = row(
            &cgroup(
                &c(&b_rel, 4),
                &Vals {
                    procs: vec![5242],
                    ..app()
                },
            ),
            "",
            &ids[4],
            false,
        );
        tree.process(4200, "pause", &net_dev(180_507_737, 632_052));
        tree.process(5200, "pause", &net_dev(1000, 2000));
        tree.process(5242, "nginx", &net_dev(1000, 2000));
        tree.log_names(NS, POD, &a, "app", &ids[1]);
        tree.log_names(NS, POD, &a, "proxy", &ids[2]);
        for l in [
            &a_pod, &b_pod, &a_sandbox, &a_app, &a_proxy, &b_sandbox, &b_app,
        ] {
            tree.set_mtimes(&l.id[1..], DIR_MTIME, FILE_MTIME);
        }
        Node {
            tree,
            version,
            a_pod,
            a_sandbox,
            a_app,
            a_proxy,
            b_pod,
            b_sandbox,
            b_app,
        }
    }
}

/// `pods` Burstable pods of `containers` app containers plus a sandbox each, all named.
pub fn big_node(pods: u64, containers: u64) -> Tree {
    let tree = Tree::new(Version::V2, Driver::Systemd, Runtime::Containerd);
    for p in 0..pods {
        let (u, name) = (uid(1000 + p), format!("web-{p}"));
        let rel = tree.pod_rel(&u, Qos::Burstable);
        tree.cgroup_files(&rel, &pod());
        let pid = 10_000 + p as u32 * 10;
        tree.cgroup_files(
            &tree.container_rel(&rel, &id(100_000 + p * 10)),
            &sandbox(pid),
        );
        tree.process(pid, "pause", &net_dev(1000 * p, 2000 * p));
        for c in 1..=containers {
            let cid = id(100_000 + p * 10 + c);
            let v = Vals {
                procs: vec![pid + c as u32],
                ..app()
            };
            tree.cgroup_files(&tree.container_rel(&rel, &cid), &v);
            tree.log_names("default", &name, &u, &format!("c{c}"), &cid);
        }
    }
    tree
}
