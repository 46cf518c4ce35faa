//! The shutdown signal both binaries stop on.

/// Completes on the first SIGTERM or SIGINT (logged).
pub async fn signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!(signal = "SIGTERM", "Shutting down."),
        _ = int.recv() => tracing::info!(signal = "SIGINT", "Shutting down."),
    }
}
