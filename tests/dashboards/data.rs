//! What the aggregator holds for the dashboards' queries: for every selector a query
//! makes, a series with one node's and one pod's labels and the selector's other
//! equality matchers (mode, resource, ...), written through remote_write as a counter over the last 30
//! minutes; and a pod's log lines (half of them `level=error` as structured metadata)
//! pushed through Loki's push API.

use nodepulse::aggregator::model::{Labels, Sample};
use nodepulse::aggregator::remote_write::encode;
use promql_parser::label::MatchOp;
use promql_parser::parser::{self, Expr};
use promql_parser::util::{walk_expr, ExprVisitor};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The values the template variables resolve to with this data.
pub const NODE: &str = "node-1";
pub const INSTANCE: &str = "10.0.0.5:9101";
pub const NAMESPACE: &str = "shop";
pub const POD: &str = "web-1";

/// Labels a selector cannot change: those the template variables resolve to.
const FIXED: [&str; 6] = [
    "instance",
    "nodename",
    "node",
    "namespace",
    "pod",
    "container",
];

/// Labels every synthetic series starts with: one agent's target, one container of one
/// pod, and the usual labels of the families' dimensions.
fn common() -> BTreeMap<String, String> {
    [
        ("job", "nodepulse"),
        ("instance", INSTANCE),
        ("nodename", NODE),
        ("node", NODE),
        ("namespace", NAMESPACE),
        ("pod", POD),
        ("container", "app"),
        ("cpu", "0"),
        ("mode", "user"),
        ("device", "vda"),
        ("interface", "eth0"),
        ("mountpoint", "/var"),
        ("fstype", "ext4"),
        ("resource", "memory"),
        ("condition", "true"),
        ("sink", "loki"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// Now, in whole milliseconds.
pub fn now_ms() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_millis()).expect("a millisecond count")
}

/// One label set per selector of `expr` (already substituted).
struct Selectors(Vec<BTreeMap<String, String>>);

impl ExprVisitor for Selectors {
    type Error = String;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, String> {
        let v = match expr {
            Expr::VectorSelector(v) => v,
            Expr::MatrixSelector(m) => &m.vs,
            _ => return Ok(true),
        };
        let mut labels = common();
        let name = v.name.clone().ok_or("a selector without a name")?;
        labels.insert("__name__".into(), name);
        for m in &v.matchers.matchers {
            // The target's and the pod's own labels stay: a query selecting another
            // node, namespace or pod than its variables say finds nothing.
            if matches!(m.op, MatchOp::Equal) && !FIXED.contains(&m.name.as_str()) {
                labels.insert(m.name.clone(), m.value.clone());
            }
        }
        self.0.push(labels);
        Ok(true)
    }
}

/// The remote_write body holding a series for every selector of `exprs`: 121 samples
/// 15 s apart up to `end_ms`, counting up (so rates and ratios are defined).
pub fn series_for(exprs: &[String], end_ms: i64) -> Vec<u8> {
    let mut sets = Selectors(Vec::new());
    for e in exprs {
        let ast = parser::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        walk_expr(&mut sets, &ast).unwrap_or_else(|err| panic!("{e}: {err}"));
    }
    sets.0.sort();
    sets.0.dedup();
    let samples: Vec<Sample> = (0..121)
        .map(|i| Sample {
            t: end_ms - (120 - i) * 15_000,
            v: (i + 1) as f64,
        })
        .collect();
    let batch: Vec<(Labels, Vec<Sample>)> = sets
        .0
        .into_iter()
        .map(|l| (Labels::new(l.into_iter().collect()), samples.clone()))
        .collect();
    encode(&batch)
}

/// A Loki JSON push: pods web-1 and web-2 of the node, a line every 10 s over the last
/// 30 minutes up to `end_ms`, every other one at level error.
pub fn log_push(end_ms: i64) -> serde_json::Value {
    let streams: Vec<serde_json::Value> = [POD, "web-2"]
        .iter()
        .map(|pod| {
            let values: Vec<serde_json::Value> = (0..180)
                .map(|i| {
                    let ns = (end_ms - (180 - i) * 10_000) as i128 * 1_000_000;
                    let level = if i % 2 == 0 { "info" } else { "error" };
                    let line = format!("{{\"level\":\"{level}\",\"msg\":\"GET /cart {i}\"}}");
                    serde_json::json!([ns.to_string(), line, {"level": level}])
                })
                .collect();
            serde_json::json!({
                "stream": {"namespace": NAMESPACE, "pod": pod, "container": "app",
                           "node": NODE, "stream": "stdout"},
                "values": values,
            })
        })
        .collect();
    serde_json::json!({ "streams": streams })
}
