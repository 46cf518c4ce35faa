//! The notifier's set of destinations and what it runs with: the static Alertmanagers
//! and webhooks of its configuration and the Alertmanagers discovery found. A change
//! (a reload, or discovery) puts the new set in place by identity: a destination whose
//! kind, target and queue capacity did not change keeps its queue, loop and counters;
//! a new one is started; the ones no longer wanted are handed back to be stopped
//! (they send what they hold once more).

use super::config::{NotifyConfig, RetryPolicy, Target};
use super::discover::Tasks;
use super::send::{self, Destination, Kind, TargetError};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the notifier and its discovery tasks share.
pub struct Inner {
    state: Mutex<State>,
    /// Alerts the alert relabelling dropped, since start.
    pub relabel_dropped: AtomicU64,
    /// Alerts sent while discovery had found no destination, since start.
    pub undelivered: AtomicU64,
    retry: RetryPolicy,
    pub stop: CancellationToken,
}

pub struct State {
    pub live: Vec<Live>,
    /// The configuration running (its `alertmanagers`: the static ones).
    pub config: NotifyConfig,
    /// What each of `config.discovered` found, by entry.
    pub discovered: Vec<Vec<Target>>,
    /// What each entry's relabelling dropped (URLs), by entry.
    pub discovered_dropped: Vec<Vec<String>>,
    pub discovery: Tasks,
}

/// A destination with what identifies it across changes, and its loop.
pub struct Live {
    kind: Kind,
    target: Target,
    capacity: usize,
    pub dest: Arc<Destination>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Inner {
    /// Nothing running yet; [`Inner::swap`] starts `config`'s destinations.
    pub fn new(config: &NotifyConfig) -> Inner {
        Inner {
            state: Mutex::new(State {
                live: Vec::new(),
                config: config.clone(),
                discovered: vec![Vec::new(); config.discovered.len()],
                discovered_dropped: vec![Vec::new(); config.discovered.len()],
                discovery: Tasks::default(),
            }),
            relabel_dropped: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            retry: config.retry.clone(),
            stop: CancellationToken::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `config` with what discovery found so far; or, `reset` (its discovery
    /// changed), with nothing discovered and the running discovery stopped, so that
    /// nothing it still reports is taken. Returns the destinations no longer wanted. An
    /// error changes nothing.
    pub fn swap(&self, config: &NotifyConfig, reset: bool) -> Result<Vec<Live>, TargetError> {
        let mut state = self.lock();
        let discovered = if reset {
            vec![Vec::new(); config.discovered.len()]
        } else {
            state.discovered.clone()
        };
        let gone = self.put(&mut state, config, &discovered)?;
        state.config = config.clone();
        state.discovered = discovered;
        if reset {
            state.discovered_dropped = vec![Vec::new(); config.discovered.len()];
            state.discovery.stop();
        }
        Ok(gone)
    }

    /// What discovery entry `entry` found now (kept, and dropped URLs), from its tasks
    /// of `generation` (a stale generation's word is ignored); returns the
    /// destinations no longer wanted.
    pub fn set_discovered(
        &self,
        generation: u64,
        entry: usize,
        (targets, dropped): (Vec<Target>, Vec<String>),
    ) -> Vec<Live> {
        let mut state = self.lock();
        if state.discovery.generation != generation || entry >= state.discovered.len() {
            return Vec::new();
        }
        let mut discovered = state.discovered.clone();
        discovered[entry] = targets;
        let config = state.config.clone();
        match self.put(&mut state, &config, &discovered) {
            Ok(gone) => {
                state.discovered = discovered;
                state.discovered_dropped[entry] = dropped;
                gone
            }
            Err(e) => {
                tracing::error!(error = %e, "Discovered Alertmanagers not applied.");
                Vec::new()
            }
        }
    }

    /// Puts the destinations of `config` and `discovered` in place.
    fn put(
        &self,
        state: &mut State,
        config: &NotifyConfig,
        discovered: &[Vec<Target>],
    ) -> Result<Vec<Live>, TargetError> {
        let capacity = config.queue_capacity;
        let alertmanagers = config
            .alertmanagers
            .iter()
            .chain(discovered.iter().flatten());
        let hooks = config.webhooks.iter();
        let wanted = (alertmanagers.map(|t| (Kind::Alertmanager, t)))
            .chain(hooks.map(|h| (Kind::Webhook(h.receiver.clone()), &h.target)));
        let mut built = Vec::new();
        let mut claimed = vec![false; state.live.len()];
        for (kind, target) in wanted {
            let kept = state.live.iter().enumerate().position(|(i, l)| {
                !claimed[i] && l.kind == kind && l.target == *target && l.capacity == capacity
            });
            if let Some(i) = kept {
                claimed[i] = true;
            }
            built.push(match kept {
                Some(i) => Ok(i),
                None => Err((
                    Destination::new(kind.clone(), target, capacity)?,
                    kind,
                    target,
                )),
            });
        }
        let mut old: Vec<Option<Live>> = state.live.drain(..).map(Some).collect();
        for b in built {
            let live = match b {
                Ok(i) => old[i].take(),
                Err((dest, kind, target)) => {
                    Some(self.launch(dest, kind, target.clone(), capacity))
                }
            };
            state.live.extend(live);
        }
        Ok(old.into_iter().flatten().collect())
    }

    /// The Alertmanagers sent to, and those relabelling dropped, by URL.
    pub fn alertmanagers(&self) -> (Vec<String>, Vec<String>) {
        let state = self.lock();
        let active = (state.live.iter())
            .filter(|l| l.kind == Kind::Alertmanager)
            .map(|l| l.target.url.clone())
            .collect();
        let dropped = (state.config.dropped_alertmanagers.iter())
            .chain(state.discovered_dropped.iter().flatten())
            .cloned()
            .collect();
        (active, dropped)
    }

    fn launch(&self, dest: Destination, kind: Kind, target: Target, capacity: usize) -> Live {
        let dest = Arc::new(dest);
        let stop = self.stop.child_token();
        let task = tokio::spawn(send::run(dest.clone(), self.retry.clone(), stop.clone()));
        Live {
            kind,
            target,
            capacity,
            dest,
            stop,
            task,
        }
    }
}

/// Stops `lives`; each sends what it holds once more first.
pub async fn stop_all(lives: Vec<Live>) {
    for l in &lives {
        l.stop.cancel();
    }
    for l in lives {
        let _ = l.task.await;
    }
}
