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
