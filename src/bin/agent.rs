//! `nodepulse-agent`: parse flags, load and validate the config, serve until SIGTERM or
//! SIGINT.

use anyhow::Context;
use clap::Parser;
use nodepulse::agent::{self, config::AgentConfig, config::Flags};

fn main() {
    keep_freed_memory();
    if let Err(e) = run() {
        eprintln!("nodepulse-agent: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let config = AgentConfig::load(Flags::parse()).context("invalid configuration")?;
    agent::logging::init(config.log_format, config.log_level);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(8)
        .thread_keep_alive(std::time::Duration::from_secs(120))
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen_address)
            .await
            .with_context(|| format!("binding {}", config.listen_address))?;
        agent::run(config, listener, shutdown_signal()).await?;
        tracing::info!("Shut down cleanly.");
        Ok(())
    })
}

/// Tells glibc's malloc to keep freed memory for reuse instead of giving it back to the
/// kernel at once. A log batch's buffer (about `--logs.batch.max-bytes`) is allocated,
/// filled and freed again and again; with glibc's defaults each was mapped fresh (or the
/// heap trimmed under it) and every page of it faulted in and zeroed by the kernel
/// again: about a tenth of the agent's CPU when shipping at full speed (BENCHMARKS.md).
/// The price is heap fragmentation: peak RSS in the throughput harness went from 35 to
/// about 50 MiB (budget 64 MiB); memory stays bounded by the buffers' own limits.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any other thread
    // exists. A refusal (0) leaves glibc's defaults, which are correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 16 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

/// Completes on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!(signal = "SIGTERM", "Shutting down."),
        _ = int.recv() => tracing::info!(signal = "SIGINT", "Shutting down."),
    }
}
