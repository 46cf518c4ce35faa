//! What both programs' HTTP servers share: the web configuration file
//! (`--web.config.file`, the Prometheus exporter toolkit's format, as node_exporter and
//! Prometheus take it: TLS, client certificates, basic-auth users, response headers)
//! and [`serve`], which serves a router plainly or over TLS by it. [`config`] reads and
//! checks the file, [`state`] reads it again when it or a certificate changes,
//! [`tls`] makes the rustls configuration, [`listener`] runs the handshakes and
//! [`auth`] checks users and adds the headers.

pub mod auth;
pub mod config;
pub mod listener;
pub mod state;
pub mod tls;

use axum::Router;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A server's web configuration at run time.
pub struct Web {
    pub state: state::State,
    /// Paths served without basic auth (the kubelet's probes send no credentials).
    pub open_paths: &'static [&'static str],
    cache: auth::Cache,
}

impl Web {
    /// Loads the file at `path`; an error says why it cannot be used.
    pub fn open(path: &Path, open_paths: &'static [&'static str]) -> Result<Arc<Web>, String> {
        Ok(Arc::new(Web {
            state: state::State::open(path)?,
            open_paths,
            cache: auth::Cache::default(),
        }))
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes in-flight
/// requests: plain HTTP without a web configuration; with one, over TLS if it has
/// `tls_server_config`, with its users and headers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    web: Option<Arc<Web>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Some(web) = web else {
        return axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let router = router.layer(axum::middleware::from_fn_with_state(
        web.clone(),
        auth::check,
    ));
    if web.state.serves_tls() {
        let listener = listener::TlsListener::new(listener, web);
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    } else {
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}
