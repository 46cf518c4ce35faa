//! The pure parser of kubelet's log paths:
//! `<pods_dir>/<namespace>_<pod>_<uid>/<container>/<restart>.log` (kubelet's
//! `BuildPodLogsDirectory` and `BuildContainerLogsDirectory`, pkg/kubelet/kuberuntime/helpers.go),
//! and of the names of rotated files, `<restart>.log.<YYYYMMDD-hhmmss>` (kubelet's
//! container log manager, pkg/kubelet/logs/container_log_manager.go, `timestampFormat =
//! "20060102-150405"`; it gzips older ones to `….gz`, via `….gz.tmp`, never tailed).
//!
//! Splitting the pod directory on '_' is unambiguous: a namespace is an RFC 1123 label
//! (`[a-z0-9-]`), a pod name an RFC 1123 subdomain (`[a-z0-9.-]`) and a uid a UUID, none
//! of which may hold '_'. To stay safe with odd names anyway, the namespace ends at the
//! first '_' and the uid starts after the last: a pod name with '_' in it still parses.

/// What a log path says about its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodLogPath<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub pod_uid: &'a str,
    pub container: &'a str,
    pub restart_count: u32,
}

/// Parses the last three components of a live log path (`…/<ns>_<pod>_<uid>/<container>/<N>.log`).
pub fn parse(path: &str) -> Option<PodLogPath<'_>> {
    let mut parts = path.rsplitn(4, '/');
    let file = parts.next()?;
    let container = parts.next()?;
    let pod_dir = parts.next()?;
    let (namespace, pod, pod_uid) = parse_pod_dir(pod_dir)?;
    if container.is_empty() {
        return None;
    }
    Some(PodLogPath {
        namespace,
        pod,
        pod_uid,
        container,
        restart_count: parse_live_name(file)?,
    })
}

/// `<namespace>_<pod>_<uid>` ─▶ its three parts, none empty.
pub fn parse_pod_dir(name: &str) -> Option<(&str, &str, &str)> {
    let (namespace, rest) = name.split_once('_')?;
    let (pod, uid) = rest.rsplit_once('_')?;
    let parts = [namespace, pod, uid];
    parts
        .iter()
        .all(|p| !p.is_empty())
        .then_some((namespace, pod, uid))
}

/// `<N>.log` ─▶ N.
pub fn parse_live_name(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".log")?;
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    all_digits.then(|| digits.parse().ok()).flatten()
}

/// `<N>.log.<YYYYMMDD-hhmmss>` ─▶ (N, timestamp). Compressed (`.gz`) and temporary
/// (`.tmp`) files are not rotated *log* files: they do not match.
pub fn parse_rotated_name(name: &str) -> Option<(u32, &str)> {
    let (live, stamp) = name.split_at(name.find(".log.")? + 4);
    let stamp = &stamp[1..];
    let b = stamp.as_bytes();
    let shape = b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit());
    shape
        .then(|| parse_live_name(live).map(|n| (n, stamp)))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// namespace, pod, uid, container, restart count.
    type Parts<'a> = (&'a str, &'a str, &'a str, &'a str, u32);

    #[test]
    fn parses_kubelet_paths() {
        let uid = "5f3a2b1c-0000-4000-8000-1234567890ab";
        let cases: &[(&str, Option<Parts>)] = &[
            (
                "/var/log/pods/default_web-7d9f8b6c5-x2x4q_5f3a2b1c-0000-4000-8000-1234567890ab/nginx/0.log",
                Some(("default", "web-7d9f8b6c5-x2x4q", uid, "nginx", 0)),
            ),
            // Dots and dashes in pod names (static pods carry the node name).
            (
                "/var/log/pods/kube-system_etcd-node-1.example.com_5f3a2b1c-0000-4000-8000-1234567890ab/etcd/12.log",
                Some(("kube-system", "etcd-node-1.example.com", uid, "etcd", 12)),
            ),
            // A '_' in a pod name cannot happen, but would still parse.
            ("/p/ns_a_b_uid/c/3.log", Some(("ns", "a_b", "uid", "c", 3))),
            ("relative/ns_pod_uid/c/0.log", Some(("ns", "pod", "uid", "c", 0))),
            ("/p/ns_pod_uid/c/0.log.20240101-000000", None),
            ("/p/ns_pod_uid/c/x.log", None),
            ("/p/ns_pod_uid/c/.log", None),
            ("/p/ns_pod_uid/c/0.txt", None),
            ("/p/nspod_uid/c/0.log", None),
            ("/p/ns__uid/c/0.log", None),
            ("/p/_pod_uid/c/0.log", None),
            ("/p/ns_pod_uid//0.log", None),
            ("ns_pod_uid/0.log", None),
            ("/p/ns_pod_uid/c/99999999999.log", None),
        ];
        for (path, want) in cases {
            let got =
                parse(path).map(|p| (p.namespace, p.pod, p.pod_uid, p.container, p.restart_count));
            assert_eq!(got, *want, "{path}");
        }
    }

    #[test]
    fn parses_rotated_names_and_refuses_compressed_ones() {
        let cases: &[(&str, Option<(u32, &str)>)] = &[
            ("0.log.20240101-000000", Some((0, "20240101-000000"))),
            ("3.log.20991231-235959", Some((3, "20991231-235959"))),
            ("0.log.20240101-000000.gz", None),
            ("0.log.20240101-000000.gz.tmp", None),
            ("0.log.20240101-00000", None),
            ("0.log.2024010100-0000", None),
            ("0.log", None),
            ("x.log.20240101-000000", None),
            ("0.log.1", None),
        ];
        for (name, want) in cases {
            assert_eq!(parse_rotated_name(name), *want, "{name}");
        }
    }
}
