//! The web configuration as it stands: the file (and the certificate files it names)
//! read again when one of them changed, as the exporter toolkit reads its file on every
//! request, so a renewed certificate or a new user is taken without a restart. A
//! change is noticed by each file's modification time and size, looked at on every
//! request and handshake. A file that no longer loads is logged once and refuses what
//! it guards (500 for requests, no handshake) until it loads again; so is one that drops
//! `tls_server_config` from a server started with TLS (whether to speak TLS is decided at
//! start, as the toolkit decides it).

use super::config::WebConfig;
use super::tls::server_config;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The loaded configuration and what it makes.
#[derive(Debug)]
pub struct Loaded {
    pub config: WebConfig,
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// A file's modification time and size (None: unreadable).
type Stamp = Option<(SystemTime, u64)>;

pub struct State {
    path: PathBuf,
    /// Whether the server speaks TLS, decided at start (as the toolkit does).
    tls: bool,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The files read last time, their stamps then, and what came of it.
    files: Vec<PathBuf>,
    stamps: Vec<Stamp>,
    loaded: Result<Arc<Loaded>, String>,
}

impl State {
    /// Loads `path`; an error if it does not load (the program should not start).
    pub fn open(path: &Path) -> Result<State, String> {
        let (files, stamps, loaded) = load(path);
        let loaded = loaded?;
        Ok(State {
            path: path.to_owned(),
            tls: loaded.tls.is_some(),
            inner: Mutex::new(Inner {
                files,
                stamps,
                loaded: Ok(loaded),
            }),
        })
    }

    /// Whether the server speaks TLS (decided when the file was opened).
    pub fn serves_tls(&self) -> bool {
        self.tls
    }

    /// The configuration now: read again if a file changed.
    pub fn current(&self) -> Result<Arc<Loaded>, String> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner
            .files
            .iter()
            .map(|f| stamp(f))
            .ne(inner.stamps.iter().copied())
        {
            let (files, stamps, mut loaded) = load(&self.path);
            if self.tls && loaded.as_ref().is_ok_and(|l| l.tls.is_none()) {
                // else every handshake would fail with only a debug line to say why
                loaded = Err(format!(
                    "{}: tls_server_config removed; the server speaks TLS until it restarts",
                    self.path.display()
                ));
            }
            match &loaded {
                Ok(_) => tracing::info!(file = %self.path.display(),
                    "Web configuration reloaded."),
                Err(e) => tracing::error!(file = %self.path.display(), error = %e,
                    "Web configuration not reloaded; requests are refused until it loads."),
            }
            *inner = Inner {
                files,
                stamps,
                loaded,
            };
        }
        inner.loaded.clone()
    }
}

/// The files' stamps (taken first: a change while reading is seen next time), the
/// configuration and its TLS server configuration.
fn load(path: &Path) -> (Vec<PathBuf>, Vec<Stamp>, Result<Arc<Loaded>, String>) {
    let mut files = vec![path.to_owned()];
    let mut stamps = vec![stamp(path)];
    let config = match WebConfig::load(path) {
        Ok(c) => c,
        Err(e) => return (files, stamps, Err(e)),
    };
    for f in config.files() {
        stamps.push(stamp(&f));
        files.push(f);
    }
    let tls = config.tls.as_ref().map(server_config).transpose();
    let loaded = tls
        .map(|tls| Arc::new(Loaded { config, tls }))
        .map_err(|e| format!("{}: tls_server_config: {e}", path.display()));
    (files, stamps, loaded)
}

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}
