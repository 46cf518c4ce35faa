//! `kubernetes_sd_configs`: Kubernetes service discovery as Prometheus does it, for role
//! `pod` ([`pod`]): one kube-rs watcher on Pods (all namespaces, or the configured
//! ones), listing from the API server's cache, default backoff on errors; every change
//! publishes the job's whole set of discovered targets, which the job's relabel_configs
//! then shape (the `prometheus.io/scrape|port|path` annotation convention is such a set
//! of rules, see the README). Role `endpoints` is refused at load for now.

pub mod pod;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use serde::Deserialize;
use std::collections::BTreeMap;
use tokio::sync::watch;

/// One `kubernetes_sd_configs` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeSdFile {
    pub role: String,
    pub api_server: Option<String>,
    #[serde(default)]
    pub namespaces: NamespacesFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespacesFile {
    #[serde(default)]
    pub names: Vec<String>,
}

/// A checked entry.
#[derive(Debug, Clone)]
pub struct KubeSdConfig {
    /// The API server's URL (used without credentials); in-cluster config when absent.
    pub api_server: Option<String>,
    /// Namespaces watched; all when empty.
    pub namespaces: Vec<String>,
}

impl KubeSdFile {
    pub fn compile(self) -> Result<KubeSdConfig, String> {
        match self.role.as_str() {
            "pod" => Ok(KubeSdConfig {
                api_server: self.api_server,
                namespaces: self.namespaces.names,
            }),
            "endpoints" | "endpointslice" | "service" | "node" | "ingress" => Err(format!(
                "role {:?} is not supported yet (only \"pod\")",
                self.role
            )),
            other => Err(format!("unknown Kubernetes SD role {other:?}")),
        }
    }
}

/// The client for `sd`: its `api_server`, or the in-cluster configuration.
pub async fn client(sd: &KubeSdConfig) -> Result<Client, String> {
    let config = match &sd.api_server {
        Some(url) => kube::Config::new(
            url.parse()
                .map_err(|e| format!("api_server {url:?}: {e}"))?,
        ),
        None => kube::Config::incluster()
            .map_err(|e| format!("no in-cluster Kubernetes configuration: {e}"))?,
    };
    Client::try_from(config).map_err(|e| e.to_string())
}

/// Watches the pods of `sd` and publishes every target's labels on `out` after each
/// change; runs until `out` has no receivers.
pub async fn run(client: Client, sd: KubeSdConfig, out: watch::Sender<Vec<Vec<(String, String)>>>) {
    let apis: Vec<Api<Pod>> = if sd.namespaces.is_empty() {
        vec![Api::all(client)]
    } else {
        sd.namespaces
            .iter()
            .map(|ns| Api::namespaced(client.clone(), ns))
            .collect()
    };
    let streams = apis.into_iter().enumerate().map(|(i, api)| {
        let mut config = watcher::Config::default().any_semantic();
        config.page_size = None;
        watcher::watcher(api, config)
            .default_backoff()
            .map(move |e| (i, e))
            .boxed()
    });
    let mut events = futures::stream::select_all(streams);
    // Per namespace stream: pods by uid; a relist rebuilds the stream's map.
    let mut pods: Vec<BTreeMap<String, Pod>> = vec![BTreeMap::new(); sd.namespaces.len().max(1)];
    let mut relisting: Vec<BTreeMap<String, Pod>> = pods.clone();
    while let Some((i, event)) = events.next().await {
        let changed = match event {
            Ok(Event::Apply(p)) => {
                pods[i].insert(key(&p), p);
                true
            }
            Ok(Event::Delete(p)) => pods[i].remove(&key(&p)).is_some(),
            Ok(Event::Init) => {
                relisting[i].clear();
                false
            }
            Ok(Event::InitApply(p)) => {
                relisting[i].insert(key(&p), p);
                false
            }
            Ok(Event::InitDone) => {
                pods[i] = std::mem::take(&mut relisting[i]);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "Kubernetes pod discovery failed; retrying with backoff.");
                false
            }
        };
        if changed {
            let targets = pods
                .iter()
                .flat_map(|m| m.values())
                .flat_map(pod::targets)
                .collect();
            if out.send(targets).is_err() {
                return;
            }
        }
    }
}

fn key(p: &Pod) -> String {
    p.metadata
        .uid
        .clone()
        .unwrap_or_else(|| format!("{:?}/{:?}", p.metadata.namespace, p.metadata.name))
}
