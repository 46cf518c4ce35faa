//! The readers' side of the pod cache: an immutable [`Snapshot`] (pods by uid, by
//! namespace and name, by container id; namespaces by name) swapped whole on every
//! change, and a generation counter readers compare cheaply. No `.await` anywhere: the
//! scrape (blocking pool) and the log processor thread read it directly.

use super::meta::{runtime_id, ContainerMeta, NamespaceMeta, PodMeta};
use super::tracked::Tracked;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// A pod as readers see it: its metadata and whether it is deleted (kept for the grace
/// period).
#[derive(Debug, Clone)]
pub struct CachedPod {
    pub meta: Arc<PodMeta>,
    pub deleted: bool,
}

/// One consistent view of the cache.
#[derive(Debug, Default)]
pub struct Snapshot {
    pods: HashMap<Box<str>, CachedPod>,
    /// namespace → name → uid: the live pod of that name, else its latest tombstone.
    by_name: HashMap<Box<str>, HashMap<Box<str>, Box<str>>>,
    /// runtime id (scheme stripped) → (uid, index into `containers`).
    by_container: HashMap<Box<str>, (Box<str>, usize)>,
    namespaces: HashMap<Box<str>, Arc<NamespaceMeta>>,
}

impl Snapshot {
    /// The pod with this uid (live or deleted within the grace period).
    pub fn by_uid(&self, uid: &str) -> Option<&CachedPod> {
        self.pods.get(uid)
    }

    /// The pod `namespace/name`: the live one, else the latest deleted one.
    pub fn by_name(&self, namespace: &str, name: &str) -> Option<&CachedPod> {
        let uid = self.by_name.get(namespace)?.get(name)?;
        self.pods.get(uid)
    }

    /// The pod and container of a runtime container id (`<64 hex>` or `containerd://…`).
    pub fn by_container_id(&self, id: &str) -> Option<(&CachedPod, &ContainerMeta)> {
        let (uid, index) = self.by_container.get(runtime_id(id))?;
        let pod = self.pods.get(uid)?;
        Some((pod, pod.meta.containers.get(*index)?))
    }

    pub fn namespace(&self, name: &str) -> Option<&NamespaceMeta> {
        self.namespaces.get(name).map(|n| &**n)
    }

    /// Every pod, deleted ones included, in no particular order.
    pub fn pods(&self) -> impl Iterator<Item = &CachedPod> {
        self.pods.values()
    }

    /// The pods not deleted.
    pub fn live_pods(&self) -> impl Iterator<Item = &Arc<PodMeta>> {
        self.pods.values().filter(|p| !p.deleted).map(|p| &p.meta)
    }

    /// A snapshot of these pods (all live) and namespaces, as the watch would publish
    /// them: for tests and benches of the readers (enrichment, container naming).
    pub fn from_metas(
        pods: impl IntoIterator<Item = PodMeta>,
        namespaces: impl IntoIterator<Item = NamespaceMeta>,
    ) -> Self {
        let mut tracked_pods = Tracked::new(std::time::Duration::ZERO);
        for p in pods {
            tracked_pods.apply(&p.uid.clone(), p);
        }
        let mut tracked_namespaces = Tracked::new(std::time::Duration::ZERO);
        for n in namespaces {
            tracked_namespaces.apply(&n.name.clone(), n);
        }
        Self::build(&tracked_pods, &tracked_namespaces)
    }

    /// Builds the indices over the writer's current state.
    pub(crate) fn build(pods: &Tracked<PodMeta>, namespaces: &Tracked<NamespaceMeta>) -> Self {
        let mut s = Snapshot::default();
        for (uid, entry) in pods.items() {
            let pod = CachedPod {
                meta: entry.meta.clone(),
                deleted: entry.deadline.is_some(),
            };
            s.pods.insert(uid.into(), pod);
            s.index_name(uid);
            s.index_containers(uid);
        }
        let live = namespaces.items().filter(|(_, e)| e.deadline.is_none());
        let gone = namespaces.items().filter(|(_, e)| e.deadline.is_some());
        // Live namespaces win over a tombstone of the same name.
        for (name, entry) in gone.chain(live) {
            s.namespaces.insert(name.into(), entry.meta.clone());
        }
        s
    }

    fn index_name(&mut self, uid: &str) {
        let pod = &self.pods[uid];
        let names = self.by_name.entry(pod.meta.namespace.clone()).or_default();
        let keep_other = names.get(&*pod.meta.name).is_some_and(|other| {
            let other = &self.pods[other];
            // A live pod beats a tombstone; between tombstones, any (both are in grace).
            pod.deleted && !other.deleted
        });
        if !keep_other {
            names.insert(pod.meta.name.clone(), uid.into());
        }
    }

    fn index_containers(&mut self, uid: &str) {
        let meta = &self.pods[uid].meta;
        for (i, c) in meta.containers.iter().enumerate() {
            let Some(status) = &c.status else { continue };
            let id = runtime_id(&status.container_id);
            if !id.is_empty() {
                self.by_container.insert(id.into(), (uid.into(), i));
            }
        }
    }
}

/// The shared handle: readers call [`PodCache::snapshot`]; the watch task publishes.
#[derive(Debug, Default)]
pub struct PodCache {
    current: RwLock<Arc<Snapshot>>,
    generation: AtomicU64,
}

impl PodCache {
    /// The current view (an `Arc` clone under a short read lock).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Bumped on every publish: a reader holding a snapshot of generation g only needs a
    /// new one when this differs from g.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes `snapshot` the current view (the watch task; benches of the readers).
    pub fn publish(&self, snapshot: Snapshot) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        *current = Arc::new(snapshot);
        self.generation.fetch_add(1, Ordering::Release);
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
