//! `kubernetes_sd_configs`: Kubernetes service discovery as Prometheus does it, for the
//! roles `pod` ([`pod`]) and `endpoints` ([`endpoints`]): kube-rs watchers on Pods (and
//! Endpoints and Services), in all namespaces or the configured ones, listing from the
//! API server's cache, default backoff on errors ([`objects`]); every change
//! publishes the job's whole set of discovered targets, which the job's relabel_configs
//! then shape (the `prometheus.io/scrape|port|path` annotation convention is such a set
//! of rules, see the README). Other roles are refused at load.

pub mod endpoints;
mod objects;
pub mod pod;

use futures::StreamExt;
use kube::Client;
use objects::Kind;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One `kubernetes_sd_configs` entry as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KubeSdFile {
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_server: Option<String>,
    #[serde(default, skip_serializing_if = "NamespacesFile::is_empty")]
    pub namespaces: NamespacesFile,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamespacesFile {
    #[serde(default)]
    pub names: Vec<String>,
}

impl NamespacesFile {
    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What is discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Pod,
    Endpoints,
}

/// A checked entry.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeSdConfig {
    pub role: Role,
    /// The API server's URL (used without credentials); in-cluster config when absent.
    pub api_server: Option<String>,
    /// Namespaces watched; all when empty.
    pub namespaces: Vec<String>,
}

impl KubeSdFile {
    pub fn compile(self) -> Result<KubeSdConfig, String> {
        let role = match self.role.as_str() {
            "pod" => Role::Pod,
            "endpoints" => Role::Endpoints,
            "endpointslice" | "service" | "node" | "ingress" => {
                return Err(format!(
                    "role {:?} is not supported yet (only \"pod\" and \"endpoints\")",
                    self.role
                ))
            }
            other => return Err(format!("unknown Kubernetes SD role {other:?}")),
        };
        Ok(KubeSdConfig {
            role,
            api_server: self.api_server,
            namespaces: self.namespaces.names,
        })
    }
}

/// Discovered label sets, as one entry publishes them.
pub type Groups = Vec<Vec<(String, String)>>;

/// Every entry of `sds` discovered at once, as a scrape job's or an Alertmanager
/// entry's `kubernetes_sd_configs`: entry i's latest label sets at i, `None` until it
/// first lists (an entry whose client cannot be built publishes an empty set, logged
/// with `owner`). The watches run on the current runtime until the returned tasks are
/// aborted.
pub fn watch_all(
    sds: &[KubeSdConfig],
    owner: &str,
) -> (watch::Receiver<Vec<Option<Groups>>>, Vec<JoinHandle<()>>) {
    let (publish, all) = watch::channel::<Vec<Option<Groups>>>(vec![None; sds.len()]);
    let mut tasks = Vec::new();
    for (i, sd) in sds.iter().cloned().enumerate() {
        let (tx, mut rx) = watch::channel(Groups::new());
        let publish = publish.clone();
        let owner = owner.to_owned();
        tasks.push(tokio::spawn(async move {
            match client(&sd).await {
                Ok(c) => {
                    // Ends when `rx` is dropped: with this task.
                    tokio::spawn(run(c, sd, tx));
                    while rx.changed().await.is_ok() {
                        let g = rx.borrow_and_update().clone();
                        publish.send_modify(|all| all[i] = Some(g));
                    }
                }
                Err(e) => {
                    tracing::error!(%owner, error = %e, "Kubernetes discovery cannot start.");
                    publish.send_modify(|all| all[i] = Some(Groups::new()));
                }
            }
        }));
    }
    (all, tasks)
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

/// Watches what `sd`'s role needs (pods; or endpoints, services and pods) and
/// publishes every target's labels on `out` after each change; runs until `out` has
/// no receivers.
pub async fn run(client: Client, sd: KubeSdConfig, out: watch::Sender<Vec<Vec<(String, String)>>>) {
    let namespaces: Vec<Option<String>> = if sd.namespaces.is_empty() {
        vec![None]
    } else {
        sd.namespaces.iter().cloned().map(Some).collect()
    };
    let kinds: &[Kind] = match sd.role {
        Role::Pod => &[Kind::Pod],
        Role::Endpoints => &[Kind::Endpoints, Kind::Service, Kind::Pod],
    };
    let mut streams = Vec::new();
    for ns in &namespaces {
        for kind in kinds {
            let slot = streams.len();
            streams.push(
                objects::stream(client.clone(), ns.as_deref(), *kind)
                    .map(move |e| (slot, e))
                    .boxed(),
            );
        }
    }
    let mut slots = vec![objects::Slot::default(); streams.len()];
    let mut events = futures::stream::select_all(streams);
    while let Some((i, event)) = events.next().await {
        if slots[i].apply(event) {
            let all = objects::All::gather(&slots);
            if out.send(all.targets(sd.role)).is_err() {
                return;
            }
        }
    }
}
