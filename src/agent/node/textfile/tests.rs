//! Tests of the textfile collector: the per-file conversion on real-shaped and broken
//! files, and the collector on temp directories of good and bad files, with the outcomes
//! node_exporter 1.5 gives on the same directory (checked by running it).
use super::convert::{convert, Reason};
use super::*;
use crate::exposition::{normalize, MetricType};

fn labels(f: &FileFamily, i: usize) -> Vec<(&str, &str)> {
    f.samples[i]
        .labels
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_str()))
        .collect()
}

#[test]
fn converts_families_filling_and_sorting_labels() {
    let text = "# HELP my_gauge A gauge.\n# TYPE my_gauge GAUGE\nmy_gauge{b=\"2\",a=\"x\"} 1\n\
                my_gauge{a=\"y\"} 2\nmy_untyped 3\n# TYPE my_counter counter\nmy_counter 4\n";
    let fams = convert(text).unwrap();
    let names: Vec<_> = fams.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["my_gauge", "my_untyped", "my_counter"]);
    assert_eq!(fams[0].kind, MetricType::Gauge);
    assert_eq!(fams[0].help.as_deref(), Some("A gauge."));
    assert_eq!(labels(&fams[0], 0), [("a", "x"), ("b", "2")]);
    assert_eq!(labels(&fams[0], 1), [("a", "y"), ("b", "")]);
    assert_eq!(fams[1].kind, MetricType::Untyped);
    assert_eq!(fams[1].help, None);
    assert_eq!(fams[2].kind, MetricType::Counter);
    assert_eq!(fams[2].samples[0].value, 4.0);
}

#[test]
fn a_real_node_exporter_style_file_converts() {
    // Shaped like the apt and smartmon textfile scripts' output.
    let text = "# HELP apt_upgrades_pending Apt package pending updates by origin.\n\
        # TYPE apt_upgrades_pending gauge\n\
        apt_upgrades_pending{origin=\"Debian:bookworm-security/stable-security\",arch=\"amd64\"} 3\n\
        # HELP node_reboot_required Node reboot is required for software updates.\n\
        # TYPE node_reboot_required gauge\nnode_reboot_required 0\n\
        smartmon_device_info{device=\"/dev/sda\",model=\"Samsung \\\"EVO\\\" \\\\ 860\"} 1\n";
    let fams = convert(text).unwrap();
    assert_eq!(fams.len(), 3);
    assert_eq!(labels(&fams[0], 0)[0], ("arch", "amd64"));
    assert_eq!(labels(&fams[2], 0)[1], ("model", "Samsung \"EVO\" \\ 860"));
}

#[test]
fn rejects_what_node_exporter_rejects() {
    let cases: &[(&str, Reason)] = &[
        ("bad{ 1\n", Reason::Parse),
        ("nonl 5", Reason::Parse),
        ("# TYPE w weird\nw 1\n", Reason::Parse),
        ("ts_metric 1 1700000000000\n", Reason::Timestamps),
        ("ok 1\nts{a=\"b\"} 2 -5\n", Reason::Timestamps),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
            Reason::UnsupportedType,
        ),
        (
            "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 3\ns_count 2\n",
            Reason::UnsupportedType,
        ),
    ];
    for (text, reason) in cases {
        assert_eq!(convert(text).unwrap_err().reason, *reason, "{text:?}");
    }
}

#[test]
fn empty_and_comment_only_files_are_fine() {
    assert!(convert("").unwrap().is_empty());
    assert!(convert("# just a comment\n\n").unwrap().is_empty());
}

fn write(dir: &Path, name: &str, body: &[u8]) {
    std::fs::write(dir.join(name), body).unwrap();
}

fn collect(c: &TextFile) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    c.collect(&mut out).unwrap();
    out
}

fn family<'a>(out: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    out.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

fn value_of(out: &[MetricFamily], name: &str, label: &str) -> f64 {
    let f = family(out, name);
    let s = f
        .samples
        .iter()
        .find(|s| s.labels.iter().any(|l| l.1 == label));
    s.map(|s| s.value)
        .unwrap_or_else(|| panic!("{name}{{{label}}}"))
}

#[test]
fn without_a_directory_only_the_error_gauge_is_emitted() {
    let out = collect(&TextFile::new(None, 100));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, "node_textfile_scrape_error");
    assert_eq!(out[0].samples[0].value, 0.0);
}

#[test]
fn a_missing_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = collect(&TextFile::new(Some(dir.path().join("nope")), 100));
    assert_eq!(
        family(&out, "node_textfile_scrape_error").samples[0].value,
        1.0
    );
    assert!(!out.iter().any(|f| f.name == "node_textfile_mtime_seconds"));
}

#[test]
fn good_files_are_merged_and_bad_ones_skipped_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "good.prom",
        b"# HELP my_gauge A gauge.\n# TYPE my_gauge gauge\nmy_gauge{a=\"x\"} 1\n",
    );
    write(d, "dup1.prom", b"dup 1\n");
    write(d, "dup2.prom", b"dup 2\n");
    write(d, "other.prom", b"my_gauge{a=\"z\"} 7\n");
    write(d, "ignored.txt", b"ignored 1\n");
    write(d, "bad.prom", b"bad{ 1\n");
    write(d, "ts.prom", b"ts_metric 1 1700000000000\n");
    write(d, "nonutf.prom", b"lv{a=\"\xff\"} 1\n");
    write(d, "huge.prom", &vec![b'#'; 4097]);
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling.prom")).unwrap();
    std::fs::create_dir(d.join("dir.prom")).unwrap(); // node_exporter: an empty file
    let out = collect(&TextFile::new(Some(d.to_owned()), 4096));

    assert_eq!(
        family(&out, "node_textfile_scrape_error").samples[0].value,
        1.0
    );
    let mtimes = family(&out, "node_textfile_mtime_seconds");
    let files: Vec<_> = mtimes
        .samples
        .iter()
        .map(|s| s.labels[0].1.clone())
        .collect();
    let path = |n: &str| d.join(n).to_string_lossy().into_owned();
    assert_eq!(
        files,
        [
            path("dir.prom"),
            path("dup1.prom"),
            path("dup2.prom"),
            path("good.prom"),
            path("other.prom")
        ]
    );
    assert!(mtimes.samples[0].value > 1.6e9 && mtimes.samples[0].value.fract() == 0.0);

    // A family without HELP names every file it is in.
    let dups: Vec<_> = out.iter().filter(|f| f.name == "dup").collect();
    let want = format!(
        "Metric read from {}, {}",
        path("dup1.prom"),
        path("dup2.prom")
    );
    assert_eq!(dups.len(), 2);
    assert!(dups.iter().all(|f| f.help == want));
    // other.prom's my_gauge gets a synthetic HELP that differs from good.prom's: left out.
    let gauges: Vec<_> = out.iter().filter(|f| f.name == "my_gauge").collect();
    assert_eq!(gauges.len(), 1);
    assert_eq!(gauges[0].help, "A gauge.");
    assert!(!out
        .iter()
        .any(|f| ["bad", "ts_metric", "lv", "ignored"].contains(&f.name.as_ref())));

    for (reason, n) in [
        ("parse_error", 1.0),
        ("timestamps", 1.0),
        ("not_utf8", 1.0),
        ("too_large", 1.0),
        ("read_error", 1.0),
        ("unsupported_type", 0.0),
    ] {
        assert_eq!(
            value_of(&out, "nodepulse_textfile_files_skipped_total", reason),
            n,
            "{reason}"
        );
    }
    // Normalized like a scrape: the two `dup` series collide, the first file wins.
    let (norm, dropped) = normalize(out);
    assert_eq!(family(&norm, "dup").samples.len(), 1);
    assert_eq!(family(&norm, "dup").samples[0].value, 1.0);
    assert_eq!(dropped.duplicate_series, 1);
}

#[test]
fn a_file_growing_past_the_limit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.prom", b"a 1\n");
    assert!(read_bounded(&tmp.path().join("a.prom"), 4).is_ok());
    let e = read_bounded(&tmp.path().join("a.prom"), 3).unwrap_err();
    assert_eq!(e.reason, Reason::TooLarge);
}

#[test]
fn clashes_with_the_agents_own_families_keep_the_agents() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "clash.prom",
        b"node_load1 99\n# TYPE node_load5 gauge\nnode_load5{x=\"1\"} 98\n",
    );
    let proc_dir = tempfile::tempdir().unwrap();
    std::fs::write(proc_dir.path().join("loadavg"), "1.00 2.00 3.00 1/1 1\n").unwrap();
    let paths = crate::agent::node::HostPaths {
        procfs: proc_dir.path().to_owned(),
        ..Default::default()
    };
    let collectors: Vec<Box<dyn Collector>> = vec![
        Box::new(crate::agent::node::loadavg::LoadAvg::new(&paths)),
        Box::new(TextFile::new(Some(tmp.path().to_owned()), 1024)),
    ];
    let mut out = Vec::new();
    crate::agent::node::collect_all(&collectors, &mut out);
    let (norm, dropped) = normalize(out);
    // Another type: the textfile's series is dropped and counted.
    let load1 = family(&norm, "node_load1");
    assert_eq!((load1.kind, load1.samples.len()), (MetricType::Gauge, 1));
    assert_eq!(load1.samples[0].value, 1.0);
    assert_eq!(dropped.type_conflicts, 1);
    // Same type, new series: merged under the agent's HELP.
    let load5 = family(&norm, "node_load5");
    assert_eq!(load5.samples.len(), 2);
    assert_eq!(load5.help, "5m load average.");
}
