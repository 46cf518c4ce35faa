//! Who a container cgroup belongs to: the names the kubelet puts on cAdvisor series
//! (`namespace`, `pod`, `container`, `image`), looked up by the pod uid and runtime id
//! read from the cgroup path. Sources implement [`ContainerNames`]: the pod cache when an
//! API server is reachable, the kubelet's log directories otherwise
//! ([`super::logdir::LogDirNames`]); [`FirstOf`] asks several in order.

use std::sync::Arc;

/// The names of one container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerName {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The runtime's image reference; empty when the source does not know it.
    pub image: String,
}

/// The names of one pod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodName {
    pub namespace: String,
    pub pod: String,
}

/// A source of container and pod names. Lookups run on the scrape path: they must not
/// block on I/O beyond what [`ContainerNames::refresh`] does once per scrape.
pub trait ContainerNames: Send + Sync {
    /// Called once at the start of every scrape, before any lookup.
    fn refresh(&self) {}

    /// The names of the container with runtime id `container_id` (64 hex digits) in the
    /// pod with uid `pod_uid`; `None` for a pod sandbox (pause container) or when unknown.
    fn container(&self, pod_uid: &str, container_id: &str) -> Option<ContainerName>;

    /// The names of the pod with uid `pod_uid`, `None` when unknown.
    fn pod(&self, pod_uid: &str) -> Option<PodName>;
}

/// Asks each source in turn; the first that knows wins.
pub struct FirstOf(pub Vec<Arc<dyn ContainerNames>>);

impl ContainerNames for FirstOf {
    fn refresh(&self) {
        self.0.iter().for_each(|s| s.refresh());
    }

    fn container(&self, pod_uid: &str, container_id: &str) -> Option<ContainerName> {
        self.0
            .iter()
            .find_map(|s| s.container(pod_uid, container_id))
    }

    fn pod(&self, pod_uid: &str) -> Option<PodName> {
        self.0.iter().find_map(|s| s.pod(pod_uid))
    }
}

/// Knows nothing: every series carries only what the cgroup path tells.
pub struct NoNames;

impl ContainerNames for NoNames {
    fn container(&self, _: &str, _: &str) -> Option<ContainerName> {
        None
    }

    fn pod(&self, _: &str) -> Option<PodName> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(&'static str);
    impl ContainerNames for One {
        fn container(&self, _: &str, id: &str) -> Option<ContainerName> {
            (id == self.0).then(|| ContainerName {
                container: self.0.to_owned(),
                ..ContainerName::default()
            })
        }
        fn pod(&self, uid: &str) -> Option<PodName> {
            (uid == self.0).then(PodName::default)
        }
    }

    #[test]
    fn first_of_asks_in_order() {
        let names = FirstOf(vec![
            Arc::new(NoNames),
            Arc::new(One("a")),
            Arc::new(One("b")),
        ]);
        names.refresh();
        assert_eq!(names.container("u", "a").unwrap().container, "a");
        assert_eq!(names.container("u", "b").unwrap().container, "b");
        assert_eq!(names.container("u", "c"), None);
        assert!(names.pod("b").is_some());
        assert!(names.pod("c").is_none());
    }
}
