//! The whole agent against a hand-made host (temp dirs for `--path.procfs`, `--path.sysfs`
//! and `--path.rootfs`): label values with quotes, backslashes and newlines come out
//! escaped and read back intact in both formats; collectors whose files are missing
//! report `node_scrape_collector_success 0` while the scrape still succeeds.

mod common;

use common::{parse_body, peer, spawn_agent};
use std::fs;
use std::path::Path;

/// A mount point as the kernel escapes it in mountinfo (`\134` is a backslash, `\012` a
/// newline, `\040` a space; a double quote is written as is).
const ESCAPED_MOUNT: &str = r#"/mnt/we"ird\134path\012line\040x"#;
const MOUNT: &str = "/mnt/we\"ird\\path\nline x";
const ALIAS: &str = "uplink \"core\" \\ rack\nsecond line";

fn write(root: &Path, rel: &str, contents: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn fake_host(root: &Path) {
    let mountinfo = format!(
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
         40 22 8:1 / {ESCAPED_MOUNT} ro,relatime - ext4 /dev/sdz\\0401 ro\n"
    );
    write(root, "proc/1/mountinfo", &mountinfo);
    write(root, "proc/loadavg", "0.50 0.25 0.10 1/100 4242\n");
    for (name, value) in [
        ("operstate", "up\n"),
        ("address", "02:fc:00:00:00:01\n"),
        ("ifalias", &format!("{ALIAS}\n")),
        ("mtu", "1500\n"),
    ] {
        write(root, &format!("sys/class/net/eth0/{name}"), value);
    }
    fs::create_dir_all(root.join("root")).unwrap();
}

fn value_of(body: &str, name: &str, label: (&str, &str)) -> Option<f64> {
    parse_body(body)
        .samples
        .into_iter()
        .find(|s| s.name == name && s.labels.iter().any(|(n, v)| n == label.0 && v == label.1))
        .map(|s| s.value)
}

#[test]
fn odd_label_values_survive_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    fake_host(dir.path());
    let arg = |flag: &str, sub: &str| format!("--path.{flag}={}", dir.path().join(sub).display());
    let args = [
        arg("procfs", "proc"),
        arg("sysfs", "sys"),
        arg("rootfs", "root"),
    ];
    let agent = spawn_agent(&args.iter().map(String::as_str).collect::<Vec<_>>());
    for accept in ["text/plain", common::PROMETHEUS_ACCEPT] {
        let resp = common::get(&agent.url("/metrics"), &[("accept", accept)]);
        assert_eq!(resp.status, 200);
        let body = resp.text();
        // statfs of the hand-made mount fails under the empty rootfs: node_exporter then
        // reports only device_error 1 for it.
        let err = value_of(&body, "node_filesystem_device_error", ("mountpoint", MOUNT));
        assert_eq!(err, Some(1.0), "{accept}: {body}");
        let info = value_of(&body, "node_network_info", ("ifalias", ALIAS));
        assert_eq!(info, Some(1.0), "{accept}");
        let load1 = parse_body(&body)
            .samples
            .into_iter()
            .find(|s| s.name == "node_load1");
        assert_eq!(load1.map(|s| s.value), Some(0.5));
        let ok = |c: &str| value_of(&body, "node_scrape_collector_success", ("collector", c));
        assert_eq!(ok("loadavg"), Some(1.0));
        assert_eq!(ok("filesystem"), Some(1.0));
        assert_eq!(ok("cpu"), Some(0.0), "no <procfs>/stat here");
        assert_eq!(ok("meminfo"), Some(0.0), "no <procfs>/meminfo here");
    }
    let text = common::get(&agent.url("/metrics"), &[]).text();
    assert!(
        text.contains(r#"mountpoint="/mnt/we\"ird\\path\nline x""#),
        "{text}"
    );
    promtool_parses(&text);
}

/// promtool (Prometheus's own text parser) reads the escaped values without error.
fn promtool_parses(body: &str) {
    let Some(promtool) = peer("promtool") else {
        return;
    };
    let lint = common::promtool::check_metrics(&promtool, body);
    assert_eq!(lint.parse_error, None);
}
