//! The walk over real-shaped trees of both drivers, and version detection.

use super::*;

const A: &str = "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b";
const B: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const C1: &str = "8d3f0a2b4c6e8f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a";
const C2: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";

fn tree(dirs: &[String]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for d in dirs {
        std::fs::create_dir_all(root.path().join(d)).unwrap();
    }
    root
}

#[test]
fn systemd_tree_with_every_qos_conmon_and_system_slices() {
    let (a, b) = (A.replace('-', "_"), B.replace('-', "_"));
    let burst = format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{a}.slice");
    let guar = format!("kubepods.slice/kubepods-pod{b}.slice");
    let root = tree(&[
        format!("{burst}/crio-{C1}.scope"),
        format!("{burst}/crio-conmon-{C1}.scope"),
        format!("{burst}/crio-{C2}.scope/init.scope"),
        format!("{guar}/cri-containerd-{C2}.scope"),
        "kubepods.slice/kubepods-besteffort.slice".to_owned(),
        "system.slice/containerd.service".to_owned(),
        "user.slice/user-1000.slice".to_owned(),
    ]);
    let errors = Errors::default();
    let pods = walk(root.path(), &WalkLimits::default(), &errors);
    let got: Vec<_> = pods
        .iter()
        .map(|p| (p.uid.as_str(), p.qos, p.rel.as_str(), p.containers.len()))
        .collect();
    assert_eq!(
        got,
        [
            (A, Qos::Burstable, burst.as_str(), 2),
            (B, Qos::Guaranteed, guar.as_str(), 1)
        ]
    );
    assert_eq!(
        pods[0].containers[0].rel,
        format!("{burst}/crio-{C2}.scope")
    );
    assert_eq!(pods[0].containers[1].id, C1);
}

#[test]
fn cgroupfs_tree_and_limits() {
    let root = tree(&[
        format!("kubepods/burstable/pod{A}/{C1}"),
        format!("kubepods/burstable/pod{A}/{C2}"),
        format!("kubepods/pod{B}/crio-{C2}"),
        format!("kubepods/besteffort/not-a-pod/{C1}"),
    ]);
    let errors = Errors::default();
    let pods = walk(root.path(), &WalkLimits::default(), &errors);
    let rels: Vec<_> = pods.iter().map(|p| p.rel.as_str()).collect();
    assert_eq!(
        rels,
        [
            format!("kubepods/burstable/pod{A}"),
            format!("kubepods/pod{B}")
        ]
    );
    assert_eq!(pods[1].containers[0].id, C2);
    assert_eq!(errors.over_limit.load(Ordering::Relaxed), 0);

    let one_container = WalkLimits {
        max_containers_per_pod: 1,
        ..WalkLimits::default()
    };
    let pods = walk(root.path(), &one_container, &errors);
    assert_eq!(pods[0].containers.len(), 1);
    assert_eq!(
        errors.over_limit.load(Ordering::Relaxed),
        1,
        "pod A's second container"
    );
    let one_pod = WalkLimits {
        max_pods: 1,
        ..WalkLimits::default()
    };
    assert_eq!(walk(root.path(), &one_pod, &errors).len(), 1);
    assert_eq!(errors.over_limit.load(Ordering::Relaxed), 2, "and one pod");
    let shallow = WalkLimits {
        max_depth: 2,
        ..WalkLimits::default()
    };
    let pods = walk(root.path(), &shallow, &errors);
    assert_eq!(pods.len(), 1, "only the Guaranteed pod is within depth 2");
}

#[test]
fn detects_the_version() {
    let v2 = tree(&[]);
    std::fs::write(
        v2.path().join("cgroup.controllers"),
        "cpuset cpu io memory pids\n",
    )
    .unwrap();
    assert_eq!(
        Hierarchy::detect(v2.path()),
        Hierarchy::V2 {
            root: v2.path().to_owned()
        }
    );
    let v1 = tree(&[
        "cpu,cpuacct".into(),
        "memory".into(),
        "blkio".into(),
        "pids".into(),
    ]);
    let Hierarchy::V1(V1Roots {
        cpu,
        cpuacct,
        memory,
        ..
    }) = Hierarchy::detect(v1.path())
    else {
        panic!("not v1");
    };
    assert_eq!(cpu, v1.path().join("cpu,cpuacct"));
    assert_eq!(cpuacct, v1.path().join("cpu,cpuacct"));
    assert_eq!(memory, v1.path().join("memory"));
    let split = tree(&["cpu".into(), "cpuacct".into()]);
    let Hierarchy::V1(V1Roots { cpu, cpuacct, .. }) = Hierarchy::detect(split.path()) else {
        panic!("not v1");
    };
    assert_eq!(
        (cpu, cpuacct),
        (split.path().join("cpu"), split.path().join("cpuacct"))
    );
}
