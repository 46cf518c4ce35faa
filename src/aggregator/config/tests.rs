use super::*;

fn flags(args: &[&str]) -> Flags {
    use clap::Parser;
    let mut all = vec!["nodepulse-aggregator"];
    all.extend_from_slice(args);
    Flags::try_parse_from(all).unwrap()
}

#[test]
fn defaults_are_documented_ones() {
    let c = AggregatorConfig::merge(Flags::default(), FileConfig::default()).unwrap();
    assert_eq!(c.listen_address.to_string(), "0.0.0.0:9201");
    assert_eq!(c.storage_path, PathBuf::from("./data"));
    assert_eq!(c.retention, Duration::from_secs(15 * 86_400));
    assert_eq!(c.query.timeout, Duration::from_secs(120));
    assert_eq!(c.query.lookback, Duration::from_secs(300));
    assert_eq!(c.write_limits, Limits::default());
    assert_eq!(c.log_level, tracing::Level::INFO);
    assert_eq!(c.retention_size, 0);
}

#[test]
fn retention_size_takes_prometheus_units() {
    let size = |s: &str| {
        let file = FileConfig::parse(&format!("storage:\n  retention_size: {s}\n")).unwrap();
        AggregatorConfig::merge(Flags::default(), file).map(|c| c.retention_size)
    };
    assert_eq!(size("512MB").unwrap(), 512 << 20);
    assert_eq!(size("1GiB").unwrap(), 1 << 30);
    assert_eq!(size("100").unwrap(), 100);
    assert_eq!(size("7B").unwrap(), 7);
    for bad in ["1.5GB", "MB", "10XB", "-1", "99999999999EB", "1iB"] {
        let e = size(bad).unwrap_err().to_string();
        assert!(e.contains("storage.retention_size"), "{bad}: {e}");
    }
    let c = AggregatorConfig::merge(
        flags(&["--storage.retention.size=2GB"]),
        FileConfig::default(),
    );
    assert_eq!(c.unwrap().retention_size, 2 << 30);
}

#[test]
fn flags_win_over_the_file() {
    let file = FileConfig::parse(
        "storage:\n  path: /var/lib/agg\n  retention: 30d\nweb:\n  listen_address: 127.0.0.1:1\n\
         remote_write:\n  max_series_per_request: 7\nquery:\n  max_points: 50\n",
    )
    .unwrap();
    let c = AggregatorConfig::merge(
        flags(&["--storage.retention=12h", "--log.level=debug"]),
        file,
    )
    .unwrap();
    assert_eq!(c.storage_path, PathBuf::from("/var/lib/agg"));
    assert_eq!(c.retention, Duration::from_secs(12 * 3600));
    assert_eq!(c.listen_address.to_string(), "127.0.0.1:1");
    assert_eq!(c.write_limits.max_series, 7);
    assert_eq!(c.query.max_points, 50);
    assert_eq!(c.log_level, tracing::Level::DEBUG);
}

#[test]
fn bad_values_name_their_key_and_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--storage.retention=forever"],
            "storage.retention (flag --storage.retention)",
        ),
        (&["--storage.retention=0"], "storage.retention"),
        (&["--web.listen-address=nowhere"], "web.listen_address"),
        (&["--log.level=loud"], "log.level"),
        (&["--query.timeout=-1s"], "query.timeout"),
    ];
    for (args, want) in cases {
        let err = AggregatorConfig::merge(flags(args), FileConfig::default()).unwrap_err();
        assert!(err.to_string().contains(want), "{args:?}: {err}");
    }
}

#[test]
fn the_file_refuses_unknown_keys_and_garbage() {
    assert!(FileConfig::parse("storage:\n  pth: x\n")
        .unwrap_err()
        .contains("pth"));
    assert!(FileConfig::parse("[[[").is_err());
    assert!(FileConfig::parse("").is_ok());
}

#[test]
fn the_example_files_load_with_their_scrape_jobs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let jobs = |name: &str| -> Vec<String> {
        let file = FileConfig::read(&dir.join(name)).unwrap();
        let c = AggregatorConfig::merge(Flags::default(), file).unwrap();
        c.scrape
            .scrape_configs
            .iter()
            .map(|j| j.job_name.clone())
            .collect()
    };
    assert_eq!(jobs("aggregator-local.yml"), ["agent", "aggregator"]);
    assert_eq!(
        jobs("aggregator-kubernetes.yml"),
        ["kubernetes-pods", "kubernetes-service-endpoints"]
    );
}

#[test]
fn a_bad_scrape_section_is_refused_with_its_place() {
    let file =
        FileConfig::parse("scrape_configs:\n  - job_name: a\n    scrape_interval: 1x\n").unwrap();
    let err = AggregatorConfig::merge(Flags::default(), file)
        .unwrap_err()
        .to_string();
    assert!(err.contains("scrape_configs[a].scrape_interval"), "{err}");
}

#[test]
fn the_rendered_configuration_loads_back_to_itself() {
    let text = std::fs::read_to_string("examples/aggregator-kubernetes.yml").unwrap();
    let file = FileConfig::parse(&text).unwrap();
    let args = ["--storage.retention=30d", "--storage.retention.size=2GiB"];
    let c = AggregatorConfig::merge(flags(&args), file).unwrap();
    let shown = render(&c);
    assert!(shown.contains("retention: 30d\n"), "{shown}");
    assert!(shown.contains("retention_size: 2GiB\n"), "{shown}");
    assert!(shown.contains("  - role: pod\n"), "{shown}");
    let again = AggregatorConfig::merge(Flags::default(), FileConfig::parse(&shown).unwrap());
    assert_eq!(render(&again.unwrap()), shown);
}

fn logs_of(yaml: &str, args: &[&str]) -> Result<logs::LogsConfig, ConfigError> {
    let file = FileConfig::parse(yaml).map_err(ConfigError::File)?;
    AggregatorConfig::merge(flags(args), file).map(|c| c.logs)
}

#[test]
fn logs_default_to_lokis_limits_and_the_storage_retention() {
    let c = logs_of("storage:\n  retention: 30d\n", &[]).unwrap();
    assert_eq!(c.limits, crate::aggregator::loki::LokiLimits::default());
    assert_eq!(c.store.retention, Duration::from_secs(30 * 86_400));
    assert_eq!(c.store.retention_bytes, 0);
    assert_eq!(c.store.creation_grace, c.limits.creation_grace);
    assert_eq!(c.store.max_line_bytes, c.limits.max_line_size);
    assert_eq!(c.auth, crate::aggregator::loki::LokiAuth::default());
}

#[test]
fn logs_keys_reach_the_store_and_the_receiver() {
    let yaml = "logs:\n  retention: 0s\n  retention_size: 1GB\n  max_streams_held: 9\n  \
                max_memory: 32MiB\n  limits:\n    max_line_size: 1KB\n    \
                max_line_size_truncate: true\n    max_label_names_per_series: 3\n    \
                max_global_streams_per_user: 7\n    ingestion_rate_mb: 0.5\n    \
                reject_old_samples: false\n    creation_grace_period: 1m\n    \
                max_concurrent_tail_requests: 2\n    tail_max_duration: 10m\n";
    let c = logs_of(yaml, &["--logs.retention=2d"]).unwrap();
    assert_eq!(
        c.store.retention,
        Duration::from_secs(2 * 86_400),
        "flag wins"
    );
    assert_eq!(c.store.retention_bytes, 1 << 30);
    assert_eq!(c.store.max_streams, 9);
    assert_eq!(c.store.max_memory_bytes, 32 << 20);
    assert_eq!(
        (c.limits.max_line_size, c.store.max_line_bytes),
        (1024, 1024)
    );
    assert!(c.limits.truncate_long_lines);
    assert_eq!(c.limits.max_label_names, 3);
    assert_eq!(c.limits.max_streams, 7);
    assert_eq!(c.limits.ingestion_rate_bytes, 512 << 10);
    assert_eq!(c.limits.reject_older_than, None);
    assert_eq!(c.limits.max_tailers, 2);
    assert_eq!(c.limits.tail_max_duration, Duration::from_secs(600));
    let minute = Duration::from_secs(60);
    assert_eq!(
        (c.limits.creation_grace, c.store.creation_grace),
        (minute, minute)
    );
    let c = logs_of("logs:\n  retention: 0s\n", &[]).unwrap();
    assert_eq!(
        c.store.retention,
        Duration::ZERO,
        "0s keeps logs by age forever"
    );
}

#[test]
fn the_chunk_format_is_4_unless_set_to_2() {
    use crate::aggregator::logstore::block::Layout;
    let c = logs_of("logs:\n  retention: 0s\n", &[]).unwrap();
    assert_eq!(c.store.block_layout, Layout::Fields);
    let shown = serde_norway::to_string(&logs::shown(&c)).unwrap();
    assert!(shown.contains("chunk_format: 4\n"), "{shown}");
    // 3 is written as its successor, 4
    let c = logs_of("logs:\n  chunk_format: 3\n", &[]).unwrap();
    assert_eq!(c.store.block_layout, Layout::Fields);
    let c = logs_of("logs:\n  chunk_format: 2\n", &[]).unwrap();
    assert_eq!(c.store.block_layout, Layout::Columns);
    let shown = serde_norway::to_string(&logs::shown(&c)).unwrap();
    assert!(shown.contains("chunk_format: 2\n"), "{shown}");
}

#[test]
fn logs_line_size_zero_is_unlimited_up_to_the_body() {
    let c = logs_of("logs:\n  limits:\n    max_line_size: 0\n", &[]).unwrap();
    assert_eq!(c.limits.max_line_size, 0);
    assert_eq!(c.store.max_line_bytes, c.limits.max_decompressed_bytes);
}

#[test]
fn bad_logs_values_name_their_key() {
    let cases = [
        ("logs:\n  retention: forever\n", "logs.retention"),
        ("logs:\n  retention_size: lots\n", "logs.retention_size"),
        ("logs:\n  max_memory: 0\n", "max_memory_bytes"),
        (
            "logs:\n  limits:\n    max_line_size: 1x\n",
            "logs.limits.max_line_size",
        ),
        (
            "logs:\n  limits:\n    ingestion_rate_mb: -1\n",
            "logs.limits.ingestion_rate_mb",
        ),
        (
            "logs:\n  limits:\n    creation_grace_period: soon\n",
            "creation_grace_period",
        ),
        ("logs:\n  limits:\n    max_lines: 1\n", "max_lines"),
        ("logs:\n  chunk_format: 1\n", "logs.chunk_format"),
        ("logs:\n  chunk_format: 300\n", "chunk_format"),
        (
            "logs:\n  auth:\n    ingest_token_file: /nonexistent/t\n",
            "logs.auth.ingest_token_file",
        ),
    ];
    for (yaml, want) in cases {
        let err = logs_of(yaml, &[]).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains(want), "{yaml}: {err}");
    }
}

#[test]
fn tokens_come_from_files_and_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (ingest, query, empty) = (
        dir.path().join("i"),
        dir.path().join("q"),
        dir.path().join("e"),
    );
    std::fs::write(&ingest, "push-secret\n").unwrap();
    std::fs::write(&query, "read-secret").unwrap();
    std::fs::write(&empty, "\n").unwrap();
    let yaml = format!(
        "logs:\n  auth:\n    ingest_token_file: {}\n    query_token_file: {}\n",
        ingest.display(),
        query.display()
    );
    let file = FileConfig::parse(&yaml).unwrap();
    let c = AggregatorConfig::merge(Flags::default(), file).unwrap();
    assert_eq!(c.logs.auth.ingest_token.as_deref(), Some("push-secret"));
    assert_eq!(c.logs.auth.query_token.as_deref(), Some("read-secret"));
    let shown = render(&c);
    assert!(!shown.contains("secret"), "{shown}");
    assert!(
        shown.contains(&format!("ingest_token_file: {}", ingest.display())),
        "{shown}"
    );
    let yaml = format!(
        "logs:\n  auth:\n    query_token_file: {}\n",
        empty.display()
    );
    let err = logs_of(&yaml, &[]).map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("holds no token"), "{err}");
}

#[test]
fn rule_files_resolve_against_the_config_files_directory() {
    let file = || FileConfig::parse("rule_files: [rules/*.yml, /etc/np/alerts.yml]\n").unwrap();
    let with_config = flags(&["--config.file=/etc/nodepulse/aggregator.yml"]);
    let c = AggregatorConfig::merge(with_config, file()).unwrap();
    assert_eq!(
        c.rule_files,
        ["/etc/nodepulse/rules/*.yml", "/etc/np/alerts.yml"]
    );
    let shown = render(&c);
    assert!(
        shown.contains("rule_files:\n- /etc/nodepulse/rules/*.yml\n"),
        "{shown}"
    );
    let c = AggregatorConfig::merge(Flags::default(), file()).unwrap();
    assert_eq!(c.rule_files, ["rules/*.yml", "/etc/np/alerts.yml"]);
    let bad = FileConfig::parse("rule_files: ['a/[b.yml']\n").unwrap();
    let e = AggregatorConfig::merge(Flags::default(), bad).unwrap_err();
    assert!(e.to_string().contains("rule_files"), "{e}");
}
