//! The watched Kubernetes objects of one discovery: a watcher stream per (kind,
//! namespace), each feeding a [`Slot`] that follows list, watch and relist (a relist
//! replaces the slot's objects when it is done), and [`All`] to look objects up across
//! slots and build the role's targets.

use super::{endpoints, pod, Role};
use futures::stream::BoxStream;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Pod,
    Endpoints,
    Service,
}

#[derive(Debug, Clone)]
pub enum Obj {
    Pod(Box<Pod>),
    Endpoints(Box<Endpoints>),
    Service(Box<Service>),
}

type ObjEvent = Result<Event<Obj>, watcher::Error>;

/// The watcher of `kind` in `namespace` (all when `None`).
pub fn stream(client: Client, namespace: Option<&str>, kind: Kind) -> BoxStream<'static, ObjEvent> {
    match kind {
        Kind::Pod => typed(api::<Pod>(client, namespace), |p| Obj::Pod(Box::new(p))),
        Kind::Endpoints => typed(api::<Endpoints>(client, namespace), |e| {
            Obj::Endpoints(Box::new(e))
        }),
        Kind::Service => typed(api::<Service>(client, namespace), |s| {
            Obj::Service(Box::new(s))
        }),
    }
}

fn api<K>(client: Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    K::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

fn typed<K>(api: Api<K>, wrap: fn(K) -> Obj) -> BoxStream<'static, ObjEvent>
where
    K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
    K::DynamicType: Default,
{
    let mut config = watcher::Config::default().any_semantic();
    config.page_size = None;
    watcher::watcher(api, config)
        .default_backoff()
        .map(move |e| {
            e.map(|e| match e {
                Event::Apply(k) => Event::Apply(wrap(k)),
                Event::Delete(k) => Event::Delete(wrap(k)),
                Event::Init => Event::Init,
                Event::InitApply(k) => Event::InitApply(wrap(k)),
                Event::InitDone => Event::InitDone,
            })
        })
        .boxed()
}

/// The objects of one stream by namespace/name, and those of a relist in progress.
#[derive(Default, Clone)]
pub struct Slot {
    objects: BTreeMap<String, Obj>,
    relisting: BTreeMap<String, Obj>,
}

impl Slot {
    /// Applies one event; true when the objects changed.
    pub fn apply(&mut self, event: ObjEvent) -> bool {
        match event {
            Ok(Event::Apply(o)) => {
                self.objects.insert(key(&o), o);
                true
            }
            Ok(Event::Delete(o)) => self.objects.remove(&key(&o)).is_some(),
            Ok(Event::Init) => {
                self.relisting.clear();
                false
            }
            Ok(Event::InitApply(o)) => {
                self.relisting.insert(key(&o), o);
                false
            }
            Ok(Event::InitDone) => {
                self.objects = std::mem::take(&mut self.relisting);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "Kubernetes discovery watch failed; retrying with backoff.");
                false
            }
        }
    }
}

fn key(o: &Obj) -> String {
    let m = match o {
        Obj::Pod(p) => &p.metadata,
        Obj::Endpoints(e) => &e.metadata,
        Obj::Service(s) => &s.metadata,
    };
    format!(
        "{}/{}",
        m.namespace.as_deref().unwrap_or(""),
        m.name.as_deref().unwrap_or("")
    )
}

/// Every object of every slot, by kind and namespace/name.
#[derive(Default)]
pub struct All<'a> {
    pods: BTreeMap<&'a str, &'a Pod>,
    endpoints: Vec<&'a Endpoints>,
    services: BTreeMap<&'a str, &'a Service>,
}

impl<'a> All<'a> {
    pub fn gather(slots: &'a [Slot]) -> All<'a> {
        let mut all = All::default();
        for (k, o) in slots.iter().flat_map(|s| s.objects.iter()) {
            match o {
                Obj::Pod(p) => {
                    all.pods.insert(k.as_str(), p);
                }
                Obj::Endpoints(e) => all.endpoints.push(e),
                Obj::Service(s) => {
                    all.services.insert(k.as_str(), s);
                }
            }
        }
        all
    }

    /// The targets of `role` over these objects.
    pub fn targets(&self, role: Role) -> Vec<Vec<(String, String)>> {
        match role {
            Role::Pod => self.pods.values().flat_map(|p| pod::targets(p)).collect(),
            Role::Endpoints => self
                .endpoints
                .iter()
                .flat_map(|e| {
                    let key = format!(
                        "{}/{}",
                        e.metadata.namespace.as_deref().unwrap_or(""),
                        e.metadata.name.as_deref().unwrap_or("")
                    );
                    let service = self.services.get(key.as_str()).copied();
                    endpoints::targets(e, service, |ns, name| {
                        self.pods.get(format!("{ns}/{name}").as_str()).copied()
                    })
                })
                .collect(),
        }
    }
}
