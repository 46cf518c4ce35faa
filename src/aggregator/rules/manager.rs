//! The rule manager, as Prometheus's `rules.Manager`: loads the rule files the patterns
//! name and runs each group on its own loop. [`Manager::reload`] loads every file
//! first; any error rejects the whole new set (with every file's errors) and the old
//! rules keep running. Otherwise a group whose definition is unchanged keeps running
//! untouched; a changed one is stopped and its alerts and series carried to the new one
//! by rule identity; a removed one is stopped and its series marked stale two
//! intervals later. `for` state is restored only for the groups of the first load.
//! [`Manager::update`] does the same for a reloaded configuration: new `rule_files`
//! patterns and, when the shared options changed (external labels or URL, the global
//! evaluation interval, query limits), every group rebuilt with its state carried.

use super::carry::copy_state;
use super::file::{self, GroupDef};
use super::group::{Group, RuleContext};
use super::paths;
use super::reads::Reads;
use super::run::{lock, Clock, GroupHandle};
use super::snapshot::GroupSnapshot;
use crate::aggregator::model::{stale_nan, Labels, Sample};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A group's key: its file and name.
type Key = (String, String);

/// Why a reload was refused; the old rules keep running.
#[derive(Debug, thiserror::Error)]
#[error("error loading rules, previous rule set restored:\n{}", .0.join("\n"))]
pub struct ReloadError(pub Vec<String>);

pub struct Manager {
    /// What groups read, write and send to; its options change with a reload.
    ctx: std::sync::RwLock<Arc<RuleContext>>,
    clock: Arc<dyn Clock>,
    /// The `rule_files` patterns; a config reload may change them.
    patterns: std::sync::Mutex<Vec<String>>,
    state: tokio::sync::Mutex<State>,
    /// The running groups' handles for `eval_now` and snapshots without the reload lock.
    running: std::sync::RwLock<Vec<Arc<GroupHandle>>>,
}

#[derive(Default)]
struct State {
    groups: BTreeMap<Key, Arc<GroupHandle>>,
    /// Whether a load has succeeded (later loads do not restore `for` state).
    loaded: bool,
}

impl Manager {
    pub fn new(ctx: Arc<RuleContext>, clock: Arc<dyn Clock>, patterns: Vec<String>) -> Manager {
        Manager {
            ctx: std::sync::RwLock::new(ctx),
            clock,
            patterns: std::sync::Mutex::new(patterns),
            state: Default::default(),
            running: Default::default(),
        }
    }

    /// Loads the files of new `patterns` (a reloaded configuration's `rule_files`)
    /// with new options (`None`: the same); on error the old patterns, options and
    /// rules stay.
    pub async fn update(
        &self,
        patterns: Vec<String>,
        opts: Option<super::RuleOptions>,
    ) -> Result<(), ReloadError> {
        self.load(&patterns, opts).await?;
        *self.patterns.lock().unwrap_or_else(|e| e.into_inner()) = patterns;
        Ok(())
    }

    /// Loads (or reloads) the rule files; see the module comment.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let patterns = self
            .patterns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        self.load(&patterns, None).await
    }

    fn ctx(&self) -> Arc<RuleContext> {
        Arc::clone(&self.ctx.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The context groups are built with: the current one, or a copy with `opts` when
    /// they differ (then every group is rebuilt).
    fn next_ctx(&self, opts: Option<super::RuleOptions>) -> (Arc<RuleContext>, bool) {
        let current = self.ctx();
        match opts.filter(|o| *o != current.opts) {
            None => (current, false),
            Some(opts) => {
                let c = &*current;
                let next = RuleContext {
                    metrics: Arc::clone(&c.metrics),
                    appender: Arc::clone(&c.appender),
                    logs: c.logs.clone(),
                    sink: Arc::clone(&c.sink),
                    opts,
                };
                (Arc::new(next), true)
            }
        }
    }

    async fn load(
        &self,
        patterns: &[String],
        opts: Option<super::RuleOptions>,
    ) -> Result<(), ReloadError> {
        let defs = load_all(patterns)?;
        let mut state = self.state.lock().await;
        let (ctx, rebuild) = self.next_ctx(opts);
        // Every new group is built before anything running is touched.
        let mut built = Vec::new();
        for ((file, name), def) in defs {
            let key = (file.clone(), name);
            let unchanged =
                (state.groups.get(&key)).filter(|h| !rebuild && lock(&h.group).def == def);
            let new = match unchanged {
                Some(_) => None,
                None => Some(
                    Group::new(&file, def, Arc::clone(&ctx), state.loaded)
                        .map_err(|e| ReloadError(vec![format!("{file}: {e}")]))?,
                ),
            };
            built.push((key, new));
        }
        let mut old = std::mem::take(&mut state.groups);
        let mut next = BTreeMap::new();
        for (key, new) in built {
            let prev = old.remove(&key);
            let handle = match (new, prev) {
                (None, Some(running)) => running,
                (Some(mut group), prev) => {
                    if let Some(h) = prev {
                        h.stop().await;
                        copy_state(&mut group, &mut lock(&h.group));
                    }
                    Arc::new(GroupHandle::start(group, Arc::clone(&self.clock)))
                }
                (None, None) => unreachable!("an unchanged group is a running one"),
            };
            next.insert(key, handle);
        }
        for (_, h) in old {
            h.stop().await;
            self.mark_stale_later(&lock(&h.group));
        }
        state.groups = next;
        state.loaded = true;
        *self.ctx.write().unwrap_or_else(|e| e.into_inner()) = ctx;
        *self.running.write().unwrap_or_else(|e| e.into_inner()) =
            state.groups.values().cloned().collect();
        Ok(())
    }

    /// An extra evaluation of every group now (e.g. right after a scrape was appended).
    pub fn eval_now(&self) {
        self.eval_now_where(&|_| true);
    }

    /// An extra evaluation now of the groups that read a metric for which `wrote` is
    /// true (call it right after a scrape is appended, with that scrape's names).
    pub fn eval_now_reading(&self, wrote: &dyn Fn(&str) -> bool) {
        self.eval_now_where(&|r| r.affected_by(wrote));
    }

    /// Evaluates now the groups whose LogQL rules read the log store (after a push).
    pub fn eval_now_reading_logs(&self) {
        self.eval_now_where(&|r| r.logs);
    }

    fn eval_now_where(&self, reads: &dyn Fn(&Reads) -> bool) {
        let running = self.running.read().unwrap_or_else(|e| e.into_inner());
        for h in running.iter().filter(|h| reads(&h.reads)) {
            h.eval_now();
        }
    }

    /// The groups, rules and alerts as they are now.
    pub fn snapshot(&self) -> Vec<GroupSnapshot> {
        let running = self.running.read().unwrap_or_else(|e| e.into_inner());
        running
            .iter()
            .map(|h| {
                let mut s = GroupSnapshot::of(&lock(&h.group));
                s.iterations_scheduled = h.stats.scheduled.load(Ordering::Relaxed);
                s.iterations_missed = h.stats.missed.load(Ordering::Relaxed);
                s.iterations_extra = h.stats.extra.load(Ordering::Relaxed);
                s.extra_dropped = h.stats.extra_dropped.load(Ordering::Relaxed);
                s
            })
            .collect()
    }

    /// Stops every group (no stale markers: the series stay for `for` state restore).
    pub async fn stop(&self) {
        let mut state = self.state.lock().await;
        self.running
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        for (_, h) in std::mem::take(&mut state.groups) {
            h.stop().await;
        }
    }

    /// A removed group's series are marked stale two intervals after it stopped (so a
    /// renamed rule has time to write its own first), as Prometheus does.
    fn mark_stale_later(&self, group: &Group) {
        let series: Vec<Labels> = group.written_series();
        let wait = Duration::from_millis(2 * group.interval_ms.max(0) as u64);
        let (appender, clock) = (Arc::clone(&self.ctx().appender), Arc::clone(&self.clock));
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let t = clock.now_ns().div_euclid(1_000_000);
            let batch: Vec<_> = series
                .into_iter()
                .map(|l| (l, vec![Sample { t, v: stale_nan() }]))
                .collect();
            if let Err(e) = appender.append(&batch) {
                tracing::warn!(error = %e, "Marking a removed group's series stale failed.");
            }
        });
    }
}

/// What `--check-config` says of the rule files `patterns` name: how many files and
/// groups, or every file's errors, as a (re)load would refuse them.
pub fn check_files(patterns: &[String]) -> Result<(usize, usize), ReloadError> {
    let files = paths::expand(patterns).map_err(|e| ReloadError(vec![e]))?;
    let groups = load_all(patterns)?;
    Ok((files.len(), groups.len()))
}

/// Every group of every file, or every file's errors.
fn load_all(patterns: &[String]) -> Result<Vec<(Key, GroupDef)>, ReloadError> {
    let files = paths::expand(patterns).map_err(|e| ReloadError(vec![e]))?;
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for f in files {
        let shown = f.display().to_string();
        match file::load(&f) {
            Ok(groups) => out.extend(
                groups
                    .into_iter()
                    .map(|g| ((shown.clone(), g.name.clone()), g)),
            ),
            Err(e) => errs.extend(e.0),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(ReloadError(errs))
    }
}
