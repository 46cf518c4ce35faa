//! The aggregator's scraper against real HTTP targets: a scripted target served by an
//! axum server in the test (bodies, status codes, gzip, slowness chosen per scrape),
//! and Debian's real node_exporter. Samples land in `MemStore`, the reference store.
//! Kubernetes discovery: `aggregator_kube_sd.rs`.

mod common;

use common::scrape_target::{last_value, ok, series, serve, Answer};

use nodepulse::aggregator::model::{is_stale, Labels, MemStore};
use nodepulse::aggregator::scrape::config::Config;
use nodepulse::aggregator::scrape::run::Loop;
use nodepulse::aggregator::scrape::{target, Manager};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn config(port: u16, extra: &str) -> Config {
    Config::parse(&format!(
        "scrape_configs:\n  - job_name: app\n    scrape_interval: 1h\n    scrape_timeout: 2s\n    body_size_limit: 1KB\n{extra}    static_configs:\n      - targets: ['127.0.0.1:{port}']\n        labels: {{team: a}}\n"
    ))
    .unwrap()
}

fn scrape_loop(port: u16, extra: &str, store: &Arc<MemStore>) -> Loop {
    let job = Arc::new(config(port, extra).scrape_configs.remove(0));
    let t = target::targets(&job).remove(0);
    Loop::new(t, job, reqwest::Client::new(), store.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_get_target_labels_synthesized_series_and_staleness() {
    let answer = Arc::new(Mutex::new(ok(
        "# TYPE a counter\na_total{job=\"inner\"} 3\nb 1\n",
    )));
    let port = serve(answer.clone()).await;
    let store = Arc::new(MemStore::new());
    let mut l = scrape_loop(port, "", &store);
    let stored = l.stats.scrapes_stored.subscribe();
    l.scrape_once().await;
    assert_eq!(*stored.borrow(), 1, "the stored scrape is announced");
    let names = l.stats.take_names_stored();
    assert!(
        names.contains("a_total") && names.contains("up"),
        "{names:?}"
    );
    assert!(l.stats.take_names_stored().is_empty(), "taken once");

    let a = series(&store, "a_total");
    let instance = format!("127.0.0.1:{port}");
    let want = Labels::from_pairs(&[
        ("__name__", "a_total"),
        ("exported_job", "inner"),
        ("instance", &instance),
        ("job", "app"),
        ("team", "a"),
    ]);
    assert_eq!(
        a[0].labels, want,
        "the scraped job label is kept as exported_job"
    );
    assert_eq!(last_value(&store, "up"), 1.0);
    assert_eq!(last_value(&store, "scrape_samples_scraped"), 2.0);
    assert_eq!(
        last_value(&store, "scrape_samples_post_metric_relabeling"),
        2.0
    );
    assert_eq!(last_value(&store, "scrape_series_added"), 2.0);
    assert!(last_value(&store, "scrape_duration_seconds") > 0.0);

    // `b` leaves the body: a staleness marker ends it; a gzip body is read.
    *answer.lock().unwrap() = Answer {
        gzip: true,
        ..ok("a_total{job=\"inner\"} 4\n")
    };
    l.scrape_once().await;
    assert!(is_stale(last_value(&store, "b")));
    assert_eq!(last_value(&store, "a_total"), 4.0);
    assert_eq!(last_value(&store, "scrape_series_added"), 0.0);

    // A failed scrape: up 0, every series of the last scrape stale, the error kept.
    *answer.lock().unwrap() = Answer {
        status: 500,
        ..ok("oops")
    };
    l.scrape_once().await;
    assert_eq!(last_value(&store, "up"), 0.0);
    assert!(is_stale(last_value(&store, "a_total")));
    let status = l.status.lock().unwrap().clone();
    assert_eq!(
        (status.health, status.last_error.as_str()),
        (
            "down",
            "server returned HTTP status 500 Internal Server Error"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_timeouts_and_garbage_fail_the_scrape_with_a_reason() {
    let answer = Arc::new(Mutex::new(ok("")));
    let port = serve(answer.clone()).await;
    let store = Arc::new(MemStore::new());
    let mut l = scrape_loop(port, "    sample_limit: 2\n", &store);
    let cases = [
        (ok(&"x 1\n".repeat(300)), "body size limit exceeded"),
        (
            Answer {
                gzip: true,
                ..ok(&format!("x 1\n{}", "#".repeat(5000)))
            },
            "body size limit exceeded",
        ),
        (ok("a 1\nb 2\nc 3\n"), "sample limit exceeded"),
        (ok("a{b=\"1\" 1\n"), "line 1:"),
        (
            Answer {
                delay: Duration::from_secs(5),
                ..ok("a 1\n")
            },
            "context deadline exceeded",
        ),
        (ok("a 1\nb 2\n"), ""),
    ];
    for (a, want) in cases {
        *answer.lock().unwrap() = a;
        l.scrape_once().await;
        let status = l.status.lock().unwrap().clone();
        assert!(
            status.last_error.contains(want),
            "{:?} lacks {want:?}",
            status.last_error
        );
        assert_eq!(
            last_value(&store, "up"),
            if want.is_empty() { 1.0 } else { 0.0 }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_relabelling_and_honor_labels() {
    let answer = Arc::new(Mutex::new(ok(
        "go_gc 1\nhttp_requests_total{job=\"x\",team=\"b\"} 5\n",
    )));
    let port = serve(answer).await;
    let store = Arc::new(MemStore::new());
    let extra = "    honor_labels: true\n    metric_relabel_configs:\n      - {source_labels: [__name__], regex: 'go_.*', action: drop}\n";
    scrape_loop(port, extra, &store).scrape_once().await;
    assert!(series(&store, "go_gc").is_empty());
    let s = series(&store, "http_requests_total");
    assert_eq!(
        (s[0].labels.get("job"), s[0].labels.get("team")),
        (Some("x"), Some("b")),
        "honored"
    );
    assert_eq!(last_value(&store, "scrape_samples_scraped"), 2.0);
    assert_eq!(
        last_value(&store, "scrape_samples_post_metric_relabeling"),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manager_scrapes_the_real_node_exporter_and_marks_everything_stale_at_stop() {
    let Some(ne) = common::peer("prometheus-node-exporter") else {
        return;
    };
    let server = tokio::task::spawn_blocking(move || {
        common::Server::start(
            &ne,
            &[
                "--collector.disable-defaults",
                "--collector.loadavg",
                "--collector.meminfo",
            ],
            "/metrics",
        )
    })
    .await
    .unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 200ms\n    static_configs: [{{targets: ['127.0.0.1:{}']}}]\n",
        server.port
    );
    let store = Arc::new(MemStore::new());
    let manager = Manager::start(&Config::parse(&yaml).unwrap(), store.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while series(&store, "node_load1").is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no node_load1 scraped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let t = &manager.targets().await[0];
    assert_eq!(
        (t.job.as_str(), t.target.url.clone()),
        ("node", format!("http://127.0.0.1:{}/metrics", server.port))
    );
    assert_eq!(last_value(&store, "up"), 1.0);
    manager.stop().await;
    for name in [
        "node_load1",
        "node_memory_MemTotal_bytes",
        "up",
        "scrape_series_added",
    ] {
        assert!(
            is_stale(last_value(&store, name)),
            "{name} not stale after stop"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_series_repeated_in_one_body_keeps_its_first_sample_and_is_counted() {
    let port = serve(Arc::new(Mutex::new(ok("a 1\na 2\nb 3\n")))).await;
    let store = Arc::new(MemStore::new());
    let mut l = scrape_loop(port, "", &store);
    l.scrape_once().await;
    assert_eq!(last_value(&store, "a"), 1.0);
    assert_eq!(
        last_value(&store, "scrape_samples_post_metric_relabeling"),
        2.0
    );
    let dup = &l.stats.samples_duplicate;
    assert_eq!(dup.load(std::sync::atomic::Ordering::Relaxed), 1);
}
