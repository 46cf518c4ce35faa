//! Which logs are not shipped, by annotation: `nodepulse.io/exclude: "true"` on a pod or
//! on its namespace drops the whole pod; `nodepulse.io/exclude-containers: a,b` on a pod
//! drops those containers (exact names, comma-separated, spaces ignored), as Vector's
//! `vector.dev/exclude-containers`. Pure functions over the cached metadata.

use super::meta::{lookup, NamespaceMeta, PodMeta};

pub const EXCLUDE: &str = "nodepulse.io/exclude";
pub const EXCLUDE_CONTAINERS: &str = "nodepulse.io/exclude-containers";

/// Whether `nodepulse.io/exclude` says "true" (any case, as Kubernetes booleans parse).
fn says_true(annotations: &[(Box<str>, Box<str>)]) -> bool {
    lookup(annotations, EXCLUDE).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Whether nothing of `pod` is shipped (the pod or its namespace is excluded).
pub fn pod_excluded(pod: &PodMeta, namespace: Option<&NamespaceMeta>) -> bool {
    says_true(&pod.annotations) || namespace.is_some_and(|ns| says_true(&ns.annotations))
}

/// Whether container `container` of `pod` is not shipped (the pod or namespace is
/// excluded, or the container is listed in `nodepulse.io/exclude-containers`).
pub fn container_excluded(
    pod: &PodMeta,
    namespace: Option<&NamespaceMeta>,
    container: &str,
) -> bool {
    pod_excluded(pod, namespace)
        || lookup(&pod.annotations, EXCLUDE_CONTAINERS)
            .is_some_and(|list| list.split(',').any(|c| c.trim() == container))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::kube::meta::{AnnotationFilter, Pairs};

    fn pod(annotations: &[(&str, &str)]) -> PodMeta {
        let mut m = PodMeta::from_pod(
            &serde_json::from_str(r#"{"metadata":{"name":"p","namespace":"n","uid":"u"}}"#)
                .expect("pod"),
            &AnnotationFilter::default(),
        )
        .expect("meta");
        m.annotations = pairs(annotations);
        m
    }

    fn pairs(p: &[(&str, &str)]) -> Pairs {
        let mut v: Vec<(Box<str>, Box<str>)> =
            p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        v.sort();
        v.into()
    }

    fn ns(annotations: &[(&str, &str)]) -> NamespaceMeta {
        NamespaceMeta {
            name: "n".into(),
            labels: Pairs::default(),
            annotations: pairs(annotations),
        }
    }

    #[test]
    fn pod_and_namespace_exclusion() {
        assert!(pod_excluded(&pod(&[(EXCLUDE, "true")]), None));
        assert!(pod_excluded(&pod(&[(EXCLUDE, "True")]), None));
        assert!(!pod_excluded(&pod(&[(EXCLUDE, "false")]), None));
        assert!(!pod_excluded(&pod(&[(EXCLUDE, "yes please")]), None));
        assert!(!pod_excluded(&pod(&[]), Some(&ns(&[]))));
        assert!(pod_excluded(&pod(&[]), Some(&ns(&[(EXCLUDE, "true")]))));
    }

    #[test]
    fn container_exclusion_by_exact_name() {
        let p = pod(&[(EXCLUDE_CONTAINERS, "proxy, istio-init")]);
        assert!(container_excluded(&p, None, "proxy"));
        assert!(container_excluded(&p, None, "istio-init"));
        assert!(!container_excluded(&p, None, "app"));
        assert!(!container_excluded(&p, None, "prox"));
        let excluded_ns = ns(&[(EXCLUDE, "true")]);
        assert!(container_excluded(&pod(&[]), Some(&excluded_ns), "app"));
        assert!(!container_excluded(
            &pod(&[(EXCLUDE_CONTAINERS, "")]),
            None,
            "app"
        ));
    }
}
