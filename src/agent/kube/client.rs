//! Which API server to talk to: `--kube.api` and `--kubeconfig` → a `kube::Client`, or
//! none. `auto` prefers what a DaemonSet has: a given kubeconfig file, else the
//! in-cluster service account (`KUBERNETES_SERVICE_HOST`), else no API server (a local
//! run: log enrichment from paths only). An `http(s)://` URL talks to that server
//! without credentials (tests run a fake API server this way; also `kubectl proxy`).

use crate::agent::config::KubeApi;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ClientError {
    #[error("reading kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        source: kube::config::KubeconfigError,
    },
    #[error("in-cluster Kubernetes configuration: {0}")]
    InCluster(#[from] kube::config::InClusterError),
    #[error("Kubernetes API server URL {url:?}: {msg}")]
    Url { url: String, msg: String },
    #[error("building the Kubernetes client: {0}")]
    Build(#[from] kube::Error),
}

/// The client `api` names, or `Ok(None)` when there is no API server to use.
pub async fn client(
    api: &KubeApi,
    kubeconfig: Option<&Path>,
) -> Result<Option<Client>, ClientError> {
    let Some(config) = config(api, kubeconfig).await? else {
        return Ok(None);
    };
    Ok(Some(Client::try_from(config)?))
}

async fn config(api: &KubeApi, kubeconfig: Option<&Path>) -> Result<Option<Config>, ClientError> {
    match (api, kubeconfig) {
        (KubeApi::Off, _) => Ok(None),
        (KubeApi::Url(url), _) => url_config(url).map(Some),
        (KubeApi::Auto, Some(path)) => kubeconfig_config(path).await.map(Some),
        (KubeApi::Auto, None) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
            Ok(Some(Config::incluster()?))
        }
        (KubeApi::Auto, None) => Ok(None),
    }
}

fn url_config(url: &str) -> Result<Config, ClientError> {
    let bad = |msg: String| ClientError::Url {
        url: url.to_owned(),
        msg,
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some() => Ok(Config::new(uri)),
        _ => Err(bad("not an http:// or https:// URL".into())),
    }
}

async fn kubeconfig_config(path: &Path) -> Result<Config, ClientError> {
    let wrap = |source| ClientError::Kubeconfig {
        path: path.display().to_string(),
        source,
    };
    let file = Kubeconfig::read_from(path).map_err(wrap)?;
    Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
        .await
        .map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sources() {
        assert!(config(&KubeApi::Off, Some(Path::new("/k")))
            .await
            .expect("off")
            .is_none());
        let c = config(&KubeApi::Url("http://127.0.0.1:6443".into()), None)
            .await
            .expect("url")
            .expect("some");
        assert_eq!(c.cluster_url.to_string(), "http://127.0.0.1:6443/");
        assert!(config(&KubeApi::Url("ftp://x".into()), None).await.is_err());
        assert!(config(&KubeApi::Url("127.0.0.1:80".into()), None)
            .await
            .is_err());
        let missing = config(&KubeApi::Auto, Some(Path::new("/nonexistent/kubeconfig"))).await;
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("/nonexistent/kubeconfig"));
    }

    #[tokio::test]
    async fn kubeconfig_file_names_its_server() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://10.0.0.1:6443\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n",
        )
        .expect("write");
        let c = config(&KubeApi::Auto, Some(&path))
            .await
            .expect("kubeconfig")
            .expect("some");
        assert_eq!(c.cluster_url.to_string(), "https://10.0.0.1:6443/");
    }
}
