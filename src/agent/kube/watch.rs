//! The watch task: one watcher on this node's pods (field selector
//! `spec.nodeName=<node>`), one on namespaces, both listing from the API server's watch
//! cache (`resourceVersion=0`: `any_semantic` with `page_size: None` — with a page size
//! kube-rs silently drops the resourceVersion) and backing off on errors. Their events
//! feed our own [`Tracked`] state (not kube's `reflector::Store`, which deletes at once
//! and keys by name); a new [`Snapshot`] is published after every change. Never a
//! per-pod GET.

use super::cache::{PodCache, Snapshot};
use super::meta::{AnnotationFilter, NamespaceMeta, PodMeta};
use super::status::{KubeStatus, Resource};
use super::tracked::Tracked;
use super::KubeSettings;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs until dropped (the handle aborts it).
pub(crate) async fn run(
    client: Client,
    settings: KubeSettings,
    cache: Arc<PodCache>,
    status: Arc<KubeStatus>,
) {
    let selector = format!("spec.nodeName={}", settings.node_name);
    let pods = stream(Api::<Pod>::all(client.clone()), Some(&selector), &settings);
    let namespaces = stream(Api::<Namespace>::all(client), None, &settings);
    let (mut pods, mut namespaces) = (pods.boxed(), namespaces.boxed());
    let mut state = State {
        pods: Tracked::new(settings.delete_grace),
        namespaces: Tracked::new(settings.delete_grace),
        filter: settings.annotations.clone(),
    };
    loop {
        let sweep = state
            .next_deadline()
            .map_or_else(far_future, tokio::time::Instant::from_std);
        let changed = tokio::select! {
            Some(e) = pods.next() => match e {
                Ok(e) => { answered(&status, Resource::Pods, &e); state.on_pod(e, &status) }
                Err(e) => { failed(&status, Resource::Pods, &e); false }
            },
            Some(e) = namespaces.next() => match e {
                Ok(e) => { answered(&status, Resource::Namespaces, &e); state.on_namespace(e, &status) }
                Err(e) => { failed(&status, Resource::Namespaces, &e); false }
            },
            () = tokio::time::sleep_until(sweep) => state.sweep(),
        };
        if changed {
            status.set_pods_cached(state.pods.items().count());
            cache.publish(Snapshot::build(&state.pods, &state.namespaces));
        }
    }
}

/// Every event but `Init` carries what the API server sent; kube-rs emits `Init`
/// before it even tries to list.
fn answered<K>(status: &KubeStatus, r: Resource, e: &Event<K>) {
    if !matches!(e, Event::Init) {
        status.answered(r);
    }
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(3600)
}

/// A watcher over `api` that lists from the API server's cache, with backoff.
fn stream<K>(
    api: Api<K>,
    fields: Option<&str>,
    settings: &KubeSettings,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut config = watcher::Config::default()
        .any_semantic()
        .timeout(settings.watch_timeout_secs);
    if let Some(fields) = fields {
        config = config.fields(fields);
    }
    config.page_size = None;
    watcher::watcher(api, config).backoff((settings.backoff)())
}

fn failed(status: &KubeStatus, r: Resource, e: &watcher::Error) {
    status.failed(r, unreachable(e), e);
    if forbidden(e) {
        status.forbidden(r);
    }
}

/// A 403: the service account lacks get/list/watch on pods or namespaces.
fn forbidden(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 403,
        watcher::Error::WatchError(s) => s.code == 403,
        _ => false,
    }
}

/// Whether the request got no HTTP answer at all (connection refused, reset, timeout):
/// the API server counts as down. An error status (403, 410, 500) is an answer.
fn unreachable(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::InitialListFailed(c)
        | watcher::Error::WatchStartFailed(c)
        | watcher::Error::WatchFailed(c) => !matches!(c, kube::Error::Api(_)),
        watcher::Error::WatchError(_) | watcher::Error::NoResourceVersion => false,
    }
}

struct State {
    pods: Tracked<PodMeta>,
    namespaces: Tracked<NamespaceMeta>,
    filter: AnnotationFilter,
}

impl State {
    /// Applies one pod event; whether readers must see a new snapshot.
    fn on_pod(&mut self, e: Event<Pod>, status: &KubeStatus) -> bool {
        let filter = &self.filter;
        let meta = |p: &Pod| PodMeta::from_pod(p, filter).map(|m| (m.uid.clone(), m));
        on_event(&mut self.pods, e, meta, || status.relisted(Resource::Pods))
    }

    fn on_namespace(&mut self, e: Event<Namespace>, status: &KubeStatus) -> bool {
        let filter = &self.filter;
        let meta =
            |n: &Namespace| NamespaceMeta::from_namespace(n, filter).map(|m| (m.name.clone(), m));
        on_event(&mut self.namespaces, e, meta, || {
            status.relisted(Resource::Namespaces)
        })
    }

    fn sweep(&mut self) -> bool {
        let now = Instant::now();
        // Both sweeps must run: no short-circuit.
        self.pods.sweep(now) | self.namespaces.sweep(now)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let pods = self.pods.next_deadline();
        let namespaces = self.namespaces.next_deadline();
        pods.into_iter().chain(namespaces).min()
    }
}

/// Applies one watcher event to `tracked`; whether readers must see a new snapshot.
/// Objects `meta` cannot key (no uid or name) are skipped.
fn on_event<K, T>(
    tracked: &mut Tracked<T>,
    e: Event<K>,
    meta: impl Fn(&K) -> Option<(Box<str>, T)>,
    relisted: impl FnOnce(),
) -> bool {
    match e {
        Event::Init => {
            tracked.relist_start();
            false
        }
        Event::InitApply(o) => {
            if let Some((key, m)) = meta(&o) {
                tracked.relist_apply(&key, m);
            }
            false
        }
        Event::InitDone => {
            relisted();
            tracked.relist_done(Instant::now());
            true
        }
        Event::Apply(o) => meta(&o).map(|(key, m)| tracked.apply(&key, m)).is_some(),
        Event::Delete(o) => meta(&o)
            .map(|(key, m)| tracked.delete(&key, m, Instant::now()))
            .is_some(),
    }
}
