//! Rows for the stages that rewrite: `line_format` (with a function), `label_format`
//! (rename and template), `drop` and `keep` (names and matchers), and `json` with
//! parameters.

use crate::parsers::{json, logfmt, Line};
use crate::reference::Data;
use crate::row::{app, log, Row};
use crate::stages::{drop, keep, rename, set};

pub fn rows(d: &Data) -> Vec<Row> {
    let api = || d.select(app("api")).into_iter().map(logfmt);
    let checkout = || d.select(app("checkout")).into_iter().map(json);
    let line = |mut l: Line, text: String| {
        l.line = text;
        l
    };
    vec![
        log(
            r#"{app="api"} | logfmt | line_format "{{.method}} {{.path}} {{.status}}""#,
            api()
                .map(|l| {
                    let t = format!("{} {} {}", l.get("method"), l.get("path"), l.get("status"));
                    line(l, t)
                })
                .collect(),
        ),
        log(
            r#"{app="checkout"} | json | __error__="" | line_format "{{.req_method}} {{.req_path}} {{ToUpper .level}}""#,
            checkout()
                .filter(|l| !l.has_error())
                .map(|l| {
                    let t = format!(
                        "{} {} {}",
                        l.get("req_method"),
                        l.get("req_path"),
                        l.get("level").to_uppercase()
                    );
                    line(l, t)
                })
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | label_format route=path"#,
            api().map(|l| rename(l, "route", "path")).collect(),
        ),
        log(
            r#"{app="api"} | logfmt | label_format call="{{.method}} {{.path}}""#,
            api()
                .map(|l| {
                    let v = format!("{} {}", l.get("method"), l.get("path"));
                    set(l, "call", v)
                })
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | drop msg, duration, size"#,
            api()
                .map(|l| drop(l, &["msg", "duration", "size"]))
                .collect(),
        ),
        log(
            r#"{app="api"} | logfmt | keep app, status"#,
            api().map(|l| keep(l, &["app", "status"])).collect(),
        ),
        log(
            r#"{app="api"} | logfmt | drop status="200", level=~"info|warn""#,
            api()
                .map(|mut l| {
                    l.labels.retain(|n, v| {
                        !(n == "status" && v == "200")
                            && !(n == "level" && (v == "info" || v == "warn"))
                    });
                    l
                })
                .collect(),
        ),
        log(
            r#"{app="checkout"} |= `"req"` | json level, method="req.method", ua="req.headers[\"user-agent\"]""#,
            d.select(app("checkout"))
                .into_iter()
                .filter(|l| l.line.contains(r#""req""#))
                .map(|l| {
                    let full = json(l.clone());
                    let mut out = l;
                    for (dst, src) in [
                        ("level", "level"),
                        ("method", "req_method"),
                        ("ua", "req_headers_user_agent"),
                    ] {
                        out.extract(dst, full.get(src));
                    }
                    out
                })
                .collect(),
        ),
        // A line filter after line_format reads the new line.
        log(
            r#"{app="api"} | logfmt | line_format "{{.method}} {{.path}}" |= "GET /cart""#,
            api()
                .map(|l| {
                    let t = format!("{} {}", l.get("method"), l.get("path"));
                    line(l, t)
                })
                .filter(|l| l.line.contains("GET /cart"))
                .collect(),
        ),
    ]
}
