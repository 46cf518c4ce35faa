//! Rows for parsers (`json`, `logfmt`, `regexp`, `pattern`), label filters (string,
//! regex, numeric, duration, bytes; `and`, `or`, `,`, parentheses), and `__error__`
//! from bad JSON.

use crate::parsers::{json, logfmt, Line};
use crate::reference::{is, Data};
use crate::row::{app, log, Row};
use crate::stages::{dns_pattern, drop, dur, keep, nginx_pattern, nginx_regexp, num, size};

/// The nginx regexp and pattern, as the rows write them.
pub const NGINX_RE: &str = r#"| regexp `(?P<ip>\S+) - - \[[^\]]+\] "(?P<method>\w+) (?P<path>\S+) [^"]+" (?P<status>\d+) (?P<bytes>\d+)`"#;
pub const NGINX_PAT: &str =
    r#"| pattern `<ip> - - [<_>] "<method> <path> <_>" <status> <bytes> "-" "<agent>" <latency>`"#;
pub const DNS_PAT: &str = r#"| pattern "[<level>] <qtype> <name> <rcode> <dur>""#;

fn q(parts: &[&str]) -> String {
    parts.join(" ")
}

pub fn rows(d: &Data) -> Vec<Row> {
    let api = || d.select(app("api")).into_iter().map(logfmt);
    let checkout = || d.select(app("checkout")).into_iter().map(json);
    let nginx = || d.select(app("nginx")).into_iter();
    let ok = |l: &Line| !l.has_error();
    let rows = vec![
        log(r#"{app="api"} | logfmt"#, api().collect()),
        // The stream's `level` makes the parsed one `level_extracted`.
        log(
            r#"{container="worker"} | logfmt"#,
            d.select(|l| is(l, "container", "worker"))
                .into_iter()
                .map(logfmt)
                .collect(),
        ),
        log(
            r#"{container="worker"} | logfmt | level_extracted="error""#,
            d.select(|l| is(l, "container", "worker"))
                .into_iter()
                .map(logfmt)
                .filter(|l| l.get("level_extracted") == "error")
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="""#,
            checkout().filter(ok).collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="JSONParserErr" | drop __error_details__"#,
            checkout()
                .filter(|l| l.get("__error__") == "JSONParserErr")
                .map(|l| drop(l, &["__error_details__"]))
                .collect(),
        ),
        log(
            r#"{app="worker", container="sidecar"} | json | __error__!="" | drop __error__, __error_details__"#,
            d.select(|l| is(l, "container", "sidecar"))
                .into_iter()
                .map(json)
                .filter(|l| l.has_error())
                .map(|l| drop(l, &["__error__", "__error_details__"]))
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | level="error" and req_method="POST""#,
            checkout()
                .filter(|l| l.get("level") == "error" && l.get("req_method") == "POST")
                .collect(),
        ),
        // Loki 3: a line that failed the parser has no such label, so it is dropped.
        log(
            r#"{app="checkout"} | json | req_latency_ms > 500"#,
            checkout()
                .filter_map(|l| num(l, "req_latency_ms", |v| v > 500.0))
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="" | items >= 10 or amount < 100"#,
            checkout()
                .filter(ok)
                .filter(|l| {
                    l.get("items").parse::<f64>().unwrap() >= 10.0
                        || l.get("amount").parse::<f64>().unwrap() < 100.0
                })
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="" | req_headers_user_agent=~"curl.*", ok="true""#,
            checkout()
                .filter(ok)
                .filter(|l| {
                    l.get("req_headers_user_agent").starts_with("curl") && l.get("ok") == "true"
                })
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="" | msg="cart \"saved\"""#,
            checkout()
                .filter(ok)
                .filter(|l| l.get("msg") == "cart \"saved\"")
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status >= 500"#,
            api()
                .filter_map(|l| num(l, "status", |v| v >= 500.0))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status == 200"#,
            api()
                .filter_map(|l| num(l, "status", |v| v == 200.0))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status > 250 | status < 500"#,
            api()
                .filter_map(|l| num(l, "status", |v| v > 250.0 && v < 500.0))
                .collect(),
        ),
        // Lines without `duration` are dropped.
        log(
            r#"{app="api"} | logfmt | duration > 250ms"#,
            api()
                .filter_map(|l| dur(l, "duration", |v| v > 0.25))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | duration <= 1.5s"#,
            api()
                .filter_map(|l| dur(l, "duration", |v| v <= 1.5))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | size >= 20KB"#,
            api()
                .filter_map(|l| size(l, "size", |v| v >= 20e3))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | size < 2KiB"#,
            api()
                .filter_map(|l| size(l, "size", |v| v < 2048.0))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | duration > 1s or size > 1MB"#,
            api()
                .filter(|l| {
                    dur(l.clone(), "duration", |v| v > 1.0).is_some()
                        || size(l.clone(), "size", |v| v > 1e6).is_some()
                })
                .collect(),
        ),
        // `msg` is no number: every line is kept, marked `LabelFilterErr`.
        log(
            r#"{app="api"} | logfmt | msg > 3 | drop __error_details__"#,
            api()
                .filter_map(|l| num(l, "msg", |v| v > 3.0))
                .map(|l| drop(l, &["__error_details__"]))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status >= 400 or method="DELETE""#,
            api()
                .filter(|l| {
                    l.get("status").parse::<f64>().unwrap() >= 400.0 || l.get("method") == "DELETE"
                })
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status < 300, path=~"/c.*""#,
            api()
                .filter(|l| {
                    l.get("status").parse::<f64>().unwrap() < 300.0
                        && l.get("path").starts_with("/c")
                })
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | msg!="request done" and (status=404 or level="error")"#,
            api()
                .filter(|l| {
                    l.get("msg") != "request done"
                        && (l.get("status") == "404" || l.get("level") == "error")
                })
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | path!~"/(cart|items)""#,
            api()
                .filter(|l| !["/cart", "/items"].contains(&l.get("path")))
                .collect(),
        ),
        log(
            &q(&[r#"{app="nginx"}"#, NGINX_RE]),
            nginx().map(nginx_regexp).collect(),
        ),
        log(
            &q(&[r#"{app="nginx"}"#, NGINX_PAT]),
            nginx().map(nginx_pattern).collect(),
        ),
        log(
            &q(&[
                r#"{app="nginx"}"#,
                NGINX_PAT,
                r#"| status >= 500 | line_format "{{.method}} {{.path}} -> {{.status}}""#,
            ]),
            nginx()
                .map(nginx_pattern)
                .filter_map(|l| num(l, "status", |v| v >= 500.0))
                .map(|mut l| {
                    l.line = format!(
                        "{} {} -> {}",
                        l.get("method"),
                        l.get("path"),
                        l.get("status")
                    );
                    l
                })
                .collect(),
        ),
        log(
            &q(&[r#"{app="coredns"}"#, DNS_PAT, "| dur > 100ms"]),
            d.select(app("coredns"))
                .into_iter()
                .map(dns_pattern)
                .filter_map(|l| dur(l, "dur", |v| v > 0.1))
                .collect(),
        ),
        log(
            &q(&[
                r#"{app="nginx"}"#,
                NGINX_PAT,
                r#"| agent="kube-probe/1.29" | keep pod, path"#,
            ]),
            nginx()
                .map(nginx_pattern)
                .filter(|l| l.get("agent") == "kube-probe/1.29")
                .map(|l| keep(l, &["pod", "path"]))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | status != 200"#,
            api()
                .filter_map(|l| num(l, "status", |v| v != 200.0))
                .collect(),
        ),
        // Label regexes are anchored, as stream matchers: "/c" matches no path.
        log(r#"{app="api"} | logfmt | path=~"/c""#, Vec::new()),
    ];
    rows
}
