//! The agent's HTTP contract through the real binary: exact Content-Type per format,
//! gzip, well-formed bodies (no timestamps, no duplicate series, HELP/TYPE for every
//! family), health endpoints, clean SIGTERM, and start-up failures that name the field.

mod common;

use common::{agent_start_failure, family_of, parse_body, spawn_agent, Response, Server};
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn scrape(agent: &Server, headers: &[(&str, &str)]) -> Response {
    let resp = common::get(&agent.url("/metrics"), headers);
    assert_eq!(resp.status, 200, "GET /metrics with {headers:?}");
    resp
}

#[test]
fn text_format_by_default() {
    let agent = spawn_agent(&[]);
    let resp = scrape(&agent, &[]);
    assert_eq!(resp.header("content-type"), Some(TEXT));
    assert_eq!(resp.header("content-encoding"), None);
    assert!(!resp.text().contains("# EOF"));
    assert_well_formed(&resp.text());
}

#[test]
fn openmetrics_when_accept_asks_for_it() {
    let agent = spawn_agent(&[]);
    for accept in [
        common::PROMETHEUS_ACCEPT,
        "application/openmetrics-text; version=1.0.0",
    ] {
        let resp = scrape(&agent, &[("accept", accept)]);
        assert_eq!(resp.header("content-type"), Some(OPENMETRICS), "{accept}");
        let body = resp.text();
        assert!(body.ends_with("# EOF\n"), "no final # EOF for {accept}");
        assert_eq!(body.matches("# EOF").count(), 1);
        assert_well_formed(&body);
    }
}

#[test]
fn gzip_when_accept_encoding_asks_for_it() {
    let agent = spawn_agent(&[]);
    for (accept, content_type) in [
        ("text/plain", TEXT),
        (common::PROMETHEUS_ACCEPT, OPENMETRICS),
    ] {
        let resp = scrape(&agent, &[("accept", accept), ("accept-encoding", "gzip")]);
        assert_eq!(resp.header("content-encoding"), Some("gzip"));
        assert_eq!(resp.header("content-type"), Some(content_type));
        assert_eq!(&resp.body[..2], [0x1f, 0x8b], "not a gzip stream");
        assert_well_formed(&resp.text());
    }
}

/// No timestamps (PITFALLS 18), no duplicate series (PITFALLS 14), HELP and TYPE for
/// every family a sample belongs to.
fn assert_well_formed(body: &str) {
    let parsed = parse_body(body);
    assert!(!parsed.samples.is_empty(), "no samples in:\n{body}");
    let mut seen = HashSet::new();
    for s in &parsed.samples {
        assert_eq!(s.timestamp_ms, None, "{} has a timestamp", s.name);
        let mut labels = s.labels.clone();
        labels.sort();
        assert!(
            seen.insert((s.name.clone(), labels)),
            "duplicate series {} {:?}",
            s.name,
            s.labels
        );
        let family = family_of(&s.name, &parsed.types)
            .unwrap_or_else(|| panic!("sample {} has no # TYPE", s.name));
        assert!(parsed.helps.contains_key(family), "{family} has no # HELP");
    }
}

#[test]
fn health_endpoints_answer() {
    let agent = spawn_agent(&[]);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(common::get(&agent.url(path), &[]).status, 200, "{path}");
    }
}

#[test]
fn sigterm_exits_zero() {
    let mut agent = spawn_agent(&[]);
    scrape(&agent, &[]);
    agent.terminate();
    let status = agent
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("still running 10 s after SIGTERM:\n{}", agent.log()));
    assert!(status.success(), "exit {status:?}; log:\n{}", agent.log());
}

/// Bad configuration, through the real binary: each case exits non-zero at start-up and
/// its stderr names the offending key or flag.
#[test]
fn bad_configuration_fails_at_start_naming_the_field() {
    // (file contents or None, extra flags, what stderr must mention)
    let cases: &[(Option<&str>, &[&str], &str)] = &[
        (
            Some("web:\n  listen_adress: 127.0.0.1:0\n"),
            &[],
            "listen_adress",
        ),
        (
            Some("web: {listen_address: nope}\n"),
            &[],
            "web.listen_address",
        ),
        (Some("telemetry: {}\n"), &[], "telemetry"),
        (
            Some("collectors:\n  netdev:\n    device_exclude: \"(\"\n"),
            &[],
            "collectors.netdev.device_exclude",
        ),
        (
            Some("collectors:\n  filesystem:\n    mount_timeout: forever\n"),
            &[],
            "mount_timeout",
        ),
        (None, &["--log.format=xml"], "--log.format"),
        (
            None,
            &["--collector.vmstat.fields=("],
            "--collector.vmstat.fields",
        ),
        (
            None,
            &["--collectors.disable=nosuch"],
            "--collectors.disable",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, (file, flags, field)) in cases.iter().enumerate() {
        let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        if let Some(text) = file {
            let path = dir.path().join(format!("case{i}.yaml"));
            std::fs::File::create(&path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .expect("writing the config file");
            args.push(format!("--config.file={}", path.display()));
        }
        // Bind loopback only, should a case be accepted by mistake; except where the
        // file's listen address is under test (the flag would override it).
        if !file.is_some_and(|t| t.contains("listen_address:")) {
            args.push("--web.listen-address=127.0.0.1:0".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, stderr) = agent_start_failure(&args, Duration::from_secs(20));
        assert!(!status.success(), "{args:?} started; stderr:\n{stderr}");
        assert!(
            stderr.contains(field),
            "{args:?}: stderr does not name {field:?}:\n{stderr}"
        );
    }
}
