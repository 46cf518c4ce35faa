//! Payloads from a real Loki client on PyPI, `python-logging-loki`: a Python script logs
//! through `logging_loki.LokiHandler` to the test's server (emitter v1: Loki's JSON on
//! `/loki/api/v1/push`; emitter v0: the legacy JSON on `/api/prom/push`) and the test
//! checks what arrived. Skipped with an install hint when the package is missing;
//! under `CI=true` that is a failure (`.ci/run` installs it).

use crate::server::start;
use std::process::Command;

const SCRIPT: &str = r#"
import logging, sys
import logging_loki

class Strict(logging_loki.LokiHandler):
    # The package prints and swallows delivery errors; the test wants them to fail.
    def handleError(self, record):
        raise

url = sys.argv[1]
v1 = logging.getLogger("checkout-api")
v1.setLevel(logging.DEBUG)
v1.addHandler(Strict(url=url + "/loki/api/v1/push", tags={"application": "shop"}, version="1"))
v1.info("order placed", extra={"tags": {"service": "checkout"}})
v1.warning("unicode \u2713 and \"quotes\" and \\ backslash")
v1.error("payment failed: %s", "card declined")

v0 = logging.getLogger("legacy.worker")
v0.setLevel(logging.INFO)
v0.addHandler(Strict(url=url + "/api/prom/push", tags={"application": "old"}, version="0"))
v0.info("via the old endpoint")
print("sent")
"#;

fn python_client_present() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import logging_loki"])
        .output();
    if probe.is_ok_and(|o| o.status.success()) {
        return true;
    }
    let hint = "python-logging-loki missing: pip install python-logging-loki";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{hint} (CI=true)"
    );
    eprintln!("skipped: {hint}");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_logging_loki_payloads_arrive() {
    if !python_client_present() {
        return;
    }
    let s = start(|_| {}).await;
    let base = s.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", SCRIPT, &base])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed: {stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sent\n");

    let base = [("application", "shop"), ("logger", "checkout-api")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut l = base.to_vec();
        l.extend_from_slice(extra);
        l
    };
    let cases = [
        (
            with(&[("severity", "info"), ("service", "checkout")]),
            "order placed",
        ),
        (
            with(&[("severity", "warning")]),
            "unicode \u{2713} and \"quotes\" and \\ backslash",
        ),
        (
            with(&[("severity", "error")]),
            "payment failed: card declined",
        ),
        (
            vec![
                ("application", "old"),
                ("logger", "legacy.worker"),
                ("severity", "info"),
            ],
            "via the old endpoint",
        ),
    ];
    for (labels, line) in &cases {
        assert_eq!(s.store.lines(labels), [line.to_string()], "{labels:?}");
    }
    assert_eq!(s.store.stream_count(), cases.len());
    let t = crate::server::now();
    for (_, entries) in s.store.dump() {
        let age = t - entries[0].ts;
        assert!(
            (0..600_000_000_000).contains(&age),
            "a recent time: {age} ns ago"
        );
    }
}
