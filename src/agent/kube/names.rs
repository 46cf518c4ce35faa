//! The pod cache as a source of cAdvisor's container names
//! ([`crate::agent::containers::naming::ContainerNames`]): a container's runtime id
//! (from `containerStatuses[].containerID`) gives its pod, name and image, as the
//! kubelet's own labels. One snapshot is taken per scrape.

use super::cache::{PodCache, Snapshot};
use crate::agent::containers::naming::{ContainerName, ContainerNames, PodName};
use std::sync::{Arc, Mutex};

pub struct CacheNames {
    cache: Arc<PodCache>,
    snapshot: Mutex<Arc<Snapshot>>,
}

impl CacheNames {
    pub fn new(cache: Arc<PodCache>) -> Self {
        let snapshot = Mutex::new(cache.snapshot());
        CacheNames { cache, snapshot }
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl ContainerNames for CacheNames {
    fn refresh(&self) {
        *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = self.cache.snapshot();
    }

    fn container(&self, pod_uid: &str, container_id: &str) -> Option<ContainerName> {
        let snapshot = self.current();
        let (pod, container) = snapshot.by_container_id(container_id)?;
        if &*pod.meta.uid != pod_uid {
            return None;
        }
        let image = container.status.as_ref().map(|s| &*s.image);
        Some(ContainerName {
            namespace: pod.meta.namespace.to_string(),
            pod: pod.meta.name.to_string(),
            container: container.name.to_string(),
            image: image.unwrap_or(&container.image_spec).to_owned(),
        })
    }

    fn pod(&self, pod_uid: &str) -> Option<PodName> {
        let snapshot = self.current();
        let pod = &snapshot.by_uid(pod_uid)?.meta;
        Some(PodName {
            namespace: pod.namespace.to_string(),
            pod: pod.name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::kube::meta::{AnnotationFilter, PodMeta};

    #[test]
    fn a_container_id_gives_the_pod_name_and_image_of_the_cache() {
        let pod = serde_json::from_str(include_str!("testdata/pod_checkout.json")).unwrap();
        let meta = PodMeta::from_pod(&pod, &AnnotationFilter::default()).unwrap();
        let uid = meta.uid.to_string();
        let id = meta.containers[0]
            .status
            .as_ref()
            .unwrap()
            .container_id
            .to_string();
        let cache = Arc::new(PodCache::default());
        let names = CacheNames::new(cache.clone());
        cache.publish(Snapshot::from_metas([meta], []));
        assert_eq!(names.container(&uid, &id), None, "before the first refresh");
        names.refresh();
        let id = id.rsplit("://").next().unwrap();
        let got = names.container(&uid, id).expect("known");
        assert_eq!(
            (got.namespace.as_str(), got.container.as_str()),
            ("shop", "app")
        );
        assert_eq!(got.pod, "checkout-7d9f8b6c5d-x2x9q");
        assert!(
            got.image.starts_with("ghcr.io/acme/checkout"),
            "{}",
            got.image
        );
        assert_eq!(names.container("other-uid", id), None, "uid checked");
        assert_eq!(names.pod(&uid).unwrap().namespace, "shop");
    }
}
