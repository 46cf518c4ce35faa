//! Structured logs with `tracing`, as text or JSON lines on stderr.

use super::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. `RUST_LOG`, when set, refines the level per module.
pub fn init(format: LogFormat, level: tracing::Level) {
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    // kube-client logs every failed connection at ERROR, once per watcher retry; the
    // pod cache says "unreachable" once per outage itself (kube/status.rs). RUST_LOG
    // brings it back.
    let filter = match std::env::var_os("RUST_LOG") {
        Some(_) => filter,
        None => filter.add_directive(
            "kube_client::client::builder=off"
                .parse()
                .expect("a valid directive"),
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
