//! Recognisers of kubelet and runtime cgroup directory names (one path component at a
//! time): pod cgroups of the systemd and cgroupfs drivers, container cgroups of
//! containerd, CRI-O and docker. Pure functions, no I/O.
//!
//! Names (kubernetes pkg/kubelet/cm/cgroup_manager_linux.go, containerd CRI, CRI-O):
//! - systemd: `kubepods-burstable-pod<uid with _>.slice`, `kubepods-pod<uid>.slice`
//!   (Guaranteed), with any `--cgroup-root` prefix (`kubelet-kubepods-…`);
//!   containers `cri-containerd-<id>.scope`, `crio-<id>.scope`, `docker-<id>.scope`;
//!   CRI-O's monitor `crio-conmon-<id>.scope` is not a container.
//! - cgroupfs: `pod<uid>`; containers `<id>` (containerd, docker) or `crio-<id>`.

/// The QoS class of a pod, from where its cgroup sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    Guaranteed,
    Burstable,
    BestEffort,
}

/// A pod cgroup's uid (with `-`, as the API has it) and QoS class, or `None`.
pub fn pod(component: &str) -> Option<(String, Qos)> {
    if let Some(slice) = component.strip_suffix(".slice") {
        return systemd_pod(slice);
    }
    let uid = component.strip_prefix("pod")?;
    is_uid(uid, b'-').then(|| (uid.to_owned(), Qos::Guaranteed))
}

/// `…kubepods-[burstable-|besteffort-]pod<uid_>` (the `.slice` already cut).
fn systemd_pod(slice: &str) -> Option<(String, Qos)> {
    let at = slice.rfind("-pod")?;
    let (prefix, uid) = (&slice[..at], &slice[at + 4..]);
    if !is_uid(uid, b'_') {
        return None;
    }
    let qos = if prefix.ends_with("kubepods-burstable") {
        Qos::Burstable
    } else if prefix.ends_with("kubepods-besteffort") {
        Qos::BestEffort
    } else if prefix.ends_with("kubepods") {
        Qos::Guaranteed
    } else {
        return None;
    };
    Some((uid.replace('_', "-"), qos))
}

/// 36 characters: hex digits in 8-4-4-4-12 groups separated by `sep`.
fn is_uid(s: &str, sep: u8) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == sep,
            _ => c.is_ascii_hexdigit(),
        })
}

/// A container cgroup's runtime id (64 hex digits), or `None` (conmon, `init.scope`,
/// anything else).
pub fn container(component: &str) -> Option<&str> {
    let id = match component.strip_suffix(".scope") {
        Some(unit) => ["cri-containerd-", "crio-", "docker-"]
            .iter()
            .find_map(|p| unit.strip_prefix(p))?,
        None => component.strip_prefix("crio-").unwrap_or(component),
    };
    is_id(id).then_some(id)
}

fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether the walk should look for pods below this directory: the kubepods tree
/// (`kubepods`, `kubepods.slice`, `kubepods-burstable.slice`, `burstable`, ...).
pub fn may_hold_pods(component: &str) -> bool {
    component.contains("kubepods") || component == "burstable" || component == "besteffort"
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b";
    const ID: &str = "8d3f0a2b4c6e8f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a";

    #[test]
    fn pods_of_both_drivers_and_every_qos() {
        let u = UID.replace('-', "_");
        let cases = [
            (format!("kubepods-burstable-pod{u}.slice"), Qos::Burstable),
            (format!("kubepods-besteffort-pod{u}.slice"), Qos::BestEffort),
            (format!("kubepods-pod{u}.slice"), Qos::Guaranteed),
            (
                format!("kubelet-kubepods-burstable-pod{u}.slice"),
                Qos::Burstable,
            ),
            (format!("pod{UID}"), Qos::Guaranteed),
        ];
        for (name, qos) in cases {
            assert_eq!(pod(&name), Some((UID.to_owned(), qos)), "{name}");
        }
    }

    #[test]
    fn not_pods() {
        let u = UID.replace('-', "_");
        for name in [
            "kubepods.slice".to_owned(),
            "kubepods-burstable.slice".to_owned(),
            "burstable".to_owned(),
            format!("pod{u}"),
            format!("kubepods-pod{UID}.slice"),
            format!("system-pod{u}.slice"),
            format!("pod{}", &UID[..35]),
            "podman.slice".to_owned(),
        ] {
            assert_eq!(pod(&name), None, "{name}");
        }
    }

    #[test]
    fn containers_of_every_runtime_and_driver() {
        for name in [
            format!("cri-containerd-{ID}.scope"),
            format!("crio-{ID}.scope"),
            format!("docker-{ID}.scope"),
            format!("crio-{ID}"),
            ID.to_owned(),
        ] {
            assert_eq!(container(&name), Some(ID), "{name}");
        }
    }

    #[test]
    fn not_containers() {
        for name in [
            format!("crio-conmon-{ID}.scope"),
            format!("crio-conmon-{ID}"),
            "init.scope".to_owned(),
            format!("{}.scope", ID),
            ID.to_uppercase(),
            ID[..63].to_owned(),
            format!("cri-containerd-{ID}.mount"),
        ] {
            assert_eq!(container(&name), None, "{name}");
        }
    }

    #[test]
    fn descends_only_into_the_kubepods_tree() {
        for name in [
            "kubepods",
            "kubepods.slice",
            "kubepods-besteffort.slice",
            "burstable",
        ] {
            assert!(may_hold_pods(name), "{name}");
        }
        for name in ["system.slice", "user.slice", "init.scope"] {
            assert!(!may_hold_pods(name), "{name}");
        }
    }
}
