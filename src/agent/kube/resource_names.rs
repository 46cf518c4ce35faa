//! How kube-state-metrics names resources in `kube_pod_container_resource_*`: the unit
//! per resource kind and the sanitized resource label value.

use std::borrow::Cow;

/// KSM's unit of a resource; `None` for resources KSM does not export.
pub fn unit(resource: &str) -> Option<&'static str> {
    match resource {
        "cpu" => Some("core"),
        "memory" | "storage" | "ephemeral-storage" => Some("byte"),
        r if r.starts_with("hugepages-") || r.starts_with("attachable-volumes-") => Some("byte"),
        // Extended resources: a domain-prefixed name outside kubernetes.io
        // (`nvidia.com/gpu`), counted in integers.
        r if r.contains('/') && !r.starts_with("kubernetes.io/") => Some("integer"),
        _ => None,
    }
}

/// Prometheus label-value form KSM uses for resource names (`nvidia.com/gpu` →
/// `nvidia_com_gpu`).
pub fn sanitize(name: &str) -> Cow<'_, str> {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Cow::Borrowed(name);
    }
    let mapped = name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    });
    Cow::Owned(mapped.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_names() {
        assert_eq!(unit("cpu"), Some("core"));
        assert_eq!(unit("hugepages-2Mi"), Some("byte"));
        assert_eq!(unit("example.com/foo"), Some("integer"));
        assert_eq!(unit("kubernetes.io/bar"), None);
        assert_eq!(unit("pods"), None);
        assert_eq!(sanitize("hugepages-2Mi"), "hugepages_2Mi");
        assert!(matches!(sanitize("cpu"), Cow::Borrowed("cpu")));
    }
}
