//! One configuration's run: the targets (the demo one and one per killed-target trial),
//! the webhook, the peers and the log pusher started; once both servers have scraped
//! every target and evaluated every rule group (and the log window is full of baseline
//! lines) the trials' crossing, kill and jump instants are drawn; then the bench waits
//! until every path delivered every trial (or a bounded time passed) and turns first
//! receipts into rows.

use crate::common::rng::Rng;
use crate::hook::{Hook, Key, Route};
use crate::kill::Kills;
use crate::logs::{self, Jumps};
use crate::peers::{self, Peers, LOG_WINDOW_SECS};
use crate::report::{self, Row};
use crate::target::{self, Scraper, Target};
use crate::Config;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Setup<'a> {
    pub config: Config,
    pub trials: usize,
    pub seed: u64,
    pub aggregator: &'a Path,
    pub with_prometheus: bool,
}

/// A path measured: the alert, its route, and the scraper behind it (None for logs and
/// killed targets: nothing after the kill reaches a dead target).
struct Measured {
    alert: &'static str,
    route: Route,
    label: String,
    scraper: Option<Scraper>,
}

/// The scenarios: alert, row label prefix, whether Prometheus runs it, and which
/// scraper's scrapes split its times.
const SCENARIOS: [(&str, &str, bool, Option<Scraper>); 3] = [
    ("DemoHigh", "metric", true, Some(Scraper::Ours)),
    ("TargetDown", "kill", true, None),
    ("ErrorShareHigh", "logs", false, None),
];

pub struct RunResult {
    pub rows: Vec<Row>,
    config: &'static str,
    odd: Vec<String>,
}

/// How often the bench looks at what arrived.
const POLL: Duration = Duration::from_millis(100);

/// The paths this run can measure with the peers it has.
fn measured(p: &Peers) -> Vec<Measured> {
    let (am, prom) = (p.alertmanager.is_some(), p.prometheus.is_some());
    let mut out = Vec::new();
    for (alert, name, prometheus_too, ours_scraper) in SCENARIOS {
        let mut m = |route, path: &str, scraper| {
            out.push(Measured {
                alert,
                route,
                label: format!("{name}: {path}"),
                scraper,
            })
        };
        m(Route::OursDirect, "ours → webhook", ours_scraper);
        if am {
            m(Route::OursAm, "ours → Alertmanager → webhook", ours_scraper);
        }
        if am && prom && prometheus_too {
            let theirs = ours_scraper.map(|_| Scraper::Prometheus);
            m(Route::PrometheusAm, PROMETHEUS_PATH, theirs);
        }
    }
    out
}

const PROMETHEUS_PATH: &str = "Prometheus → Alertmanager → webhook";

/// Polls until `done` or `limit` passed (a bound on the wait, not an assertion).
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(POLL);
    }
    true
}

/// `n` instants drawn uniformly over `spread` from `base`.
fn draw(rng: &mut Rng, base: Instant, spread: Duration, n: usize) -> Vec<Instant> {
    let ms = spread.as_millis() as u64;
    (0..n)
        .map(|_| base + Duration::from_millis(rng.below(ms)))
        .collect()
}

pub fn run(rt: &tokio::runtime::Runtime, s: &Setup) -> RunResult {
    let c = s.config;
    eprintln!(
        "[{}] starting the target, the webhook and the peers ...",
        c.name
    );
    let target = Arc::new(Target::default());
    let port = rt.block_on(target::serve(target.clone(), s.trials));
    let kills = Kills::start(rt, s.trials);
    let kill_ports = kills.ports();
    let hook = Arc::new(Hook::default());
    let hook_url = rt.block_on(crate::hook::serve(hook.clone()));
    let plan = peers::Plan {
        interval: c.interval,
        with_prometheus: s.with_prometheus,
        aggregator: s.aggregator,
        target: port,
        kill_targets: &kill_ports,
        hook: &hook_url,
    };
    let peers = peers::start_all(&plan);
    let jumps = Arc::new(Jumps::default());
    let push_url = peers.ours.url("/loki/api/v1/push");
    let pusher = rt.spawn(logs::push_forever(push_url, s.trials, jumps.clone()));
    let started = Instant::now();
    let scraped = |who| target.scrapes(who) > 0;
    let want_prom = peers.prometheus.is_some();
    let first = c.period * 2 + Duration::from_secs(30);
    let ok = wait_until(first, || {
        scraped(Scraper::Ours)
            && (!want_prom || scraped(Scraper::Prometheus))
            && kills.scraped(want_prom)
            && peers.evaluated()
    });
    assert!(
        ok,
        "[{}] the targets were not all scraped and the groups evaluated within {first:?}; ours:\n{}",
        c.name,
        peers.ours.log_tail(20)
    );
    let baseline = Duration::from_secs(LOG_WINDOW_SECS + 2);
    std::thread::sleep(baseline.saturating_sub(started.elapsed()));

    // Spread over at least one interval (and 10 s), starting a second from now.
    let mut rng = Rng::new(s.seed);
    let spread = c.period.max(Duration::from_secs(10));
    let base = Instant::now() + Duration::from_secs(1);
    let crossings = draw(&mut rng, base, spread, s.trials);
    let jump_at = draw(&mut rng, base, spread, s.trials);
    let kill_at = draw(&mut rng, base, spread, s.trials);
    target.set_crossings(crossings.clone());
    kills.schedule(rt, &kill_at);
    jumps.set(jump_at.clone());
    eprintln!(
        "[{}] {} trials over {spread:?}; waiting for the alerts ...",
        c.name, s.trials
    );

    let paths = measured(&peers);
    let keys = |m: &Measured| {
        (0..s.trials)
            .map(|i| (m.alert.to_owned(), m.route, i))
            .collect::<Vec<Key>>()
    };
    let all: Vec<Key> = paths.iter().flat_map(keys).collect();
    // Prometheus's worst case: a whole scrape interval, then a whole evaluation interval.
    let limit = spread + c.period * 3 + Duration::from_secs(LOG_WINDOW_SECS + 20);
    wait_until(limit, || all.iter().all(|k| hook.first(k).is_some()));
    pusher.abort();
    let killed = kills.killed_at(&kill_at);
    let rows = paths
        .iter()
        .map(|m| {
            let starts = match m.alert {
                "DemoHigh" => &crossings,
                "TargetDown" => &killed,
                _ => &jump_at,
            };
            row(c.name, m, starts, &hook, &target)
        })
        .collect();
    drop(peers);
    RunResult {
        rows,
        config: c.name,
        odd: hook.odd(),
    }
}

/// A path's row: each trial's time from `starts[i]` to its first receipt; a trial never
/// received, or received before its start (a false alarm), counts as missing.
fn row(config: &str, m: &Measured, starts: &[Instant], hook: &Hook, target: &Target) -> Row {
    let mut r = Row {
        config: config.to_owned(),
        path: m.label.clone(),
        times: Vec::new(),
        scrape_waits: Vec::new(),
        missing: 0,
    };
    for (i, start) in starts.iter().enumerate() {
        let got = hook.first(&(m.alert.to_owned(), m.route, i));
        let Some(time) = got.and_then(|g| g.checked_duration_since(*start)) else {
            r.missing += 1;
            continue;
        };
        r.times.push(time);
        let scrape = m.scraper.and_then(|w| target.first_scrape_from(w, *start));
        if let Some(wait) = scrape.map(|at| at - *start) {
            r.scrape_waits.push(wait);
        }
    }
    r
}

impl RunResult {
    /// The quick run's check: every path delivered every trial, and nothing odd came.
    pub fn check_complete(&self) {
        for r in &self.rows {
            assert!(
                r.missing == 0,
                "[{}] {}: {} trials never arrived\n{}",
                self.config,
                r.path,
                r.missing,
                report::table(&self.rows)
            );
        }
        assert!(
            self.odd.is_empty(),
            "[{}] unplaceable alerts: {:?}",
            self.config,
            self.odd
        );
    }

    /// The budget: our median against Prometheus's, direct and through Alertmanager,
    /// for the threshold and the killed-target scenarios.
    pub fn budget_lines(&self) -> Vec<String> {
        let find = |p: String| self.rows.iter().find(|r| r.path == p);
        let mut out = Vec::new();
        for scenario in ["metric", "kill"] {
            let Some(prom) = find(format!("{scenario}: {PROMETHEUS_PATH}")) else {
                out.push(format!(
                    "[{}] {scenario}: no Prometheus in this run: no budget",
                    self.config
                ));
                continue;
            };
            for p in ["ours → webhook", "ours → Alertmanager → webhook"] {
                if let Some(ours) = find(format!("{scenario}: {p}")) {
                    out.push(report::budget_line(
                        &format!("[{}] {scenario}: {p} vs Prometheus", self.config),
                        ours,
                        prom,
                    ));
                }
            }
        }
        out
    }
}
