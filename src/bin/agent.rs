//! `nodepulse-agent`: parse flags, load and validate the config, serve until SIGTERM or
//! SIGINT.

use anyhow::Context;
use clap::Parser;
use nodepulse::agent::{self, config::AgentConfig, config::Flags};

fn main() {
    if let Err(e) = run() {
        eprintln!("nodepulse-agent: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let config = AgentConfig::load(Flags::parse()).context("invalid configuration")?;
    agent::logging::init(config.log_format, config.log_level);
    // Before any collector is built: the containers collector holds up to half of the
    // soft limit open (as cAdvisor and other Go programs, raised to the hard limit).
    match agent::fdlimit::raise() {
        Ok(limit) => tracing::debug!(limit, "Open-file limit raised to the hard limit."),
        Err(e) => tracing::warn!(error = %e, "Cannot raise the open-file limit."),
    }
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
        agent::run(config, listener, nodepulse::shutdown::signal()).await?;
        tracing::info!("Shut down cleanly.");
        Ok(())
    })
}
