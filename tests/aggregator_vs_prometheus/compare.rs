//! Comparing two Prometheus API answers: same status (and `errorType` on error), same
//! `resultType`, the same label sets, and values within 1e-9 relative (NaN equals NaN).
//! Order is ignored: series are compared as sets keyed by their labels.

use serde_json::Value;
use std::collections::BTreeMap;

type Points = Vec<(i64, f64)>;

/// `None` when the answers agree, else what differs.
pub fn diff(prom: &Value, ours: &Value) -> Option<String> {
    if prom["status"] != ours["status"] {
        return Some(format!("status: prometheus {prom} vs ours {ours}"));
    }
    if prom["status"] != "success" {
        return (prom["errorType"] != ours["errorType"])
            .then(|| format!("errorType: prometheus {prom} vs ours {ours}"));
    }
    let (p, o) = (&prom["data"], &ours["data"]);
    if p["resultType"] != o["resultType"] {
        return Some(format!(
            "resultType: {} vs {}",
            p["resultType"], o["resultType"]
        ));
    }
    let (Some(ps), Some(os)) = (series(&p["result"]), series(&o["result"])) else {
        return Some(format!("unreadable result: prometheus {p} vs ours {o}"));
    };
    let (pk, ok): (Vec<_>, Vec<_>) = (ps.keys().collect(), os.keys().collect());
    if pk != ok {
        return Some(format!(
            "label sets:\n  prometheus {pk:?}\n  ours       {ok:?}"
        ));
    }
    ps.iter()
        .find_map(|(k, pv)| points_diff(pv, &os[k]).map(|d| format!("{k}: {d}")))
}

/// Every series of a result keyed by its labels; a scalar or string is one point
/// under the key "".
fn series(result: &Value) -> Option<BTreeMap<String, Points>> {
    let mut out = BTreeMap::new();
    let items = result.as_array()?;
    if items.first().is_some_and(|v| !v.is_object()) {
        out.insert(String::new(), vec![point(result)?]);
        return Some(out);
    }
    for item in items {
        let key = item["metric"].to_string();
        let points = match item.get("values") {
            Some(vs) => vs.as_array()?.iter().map(point).collect::<Option<_>>()?,
            None => vec![point(&item["value"])?],
        };
        out.insert(key, points);
    }
    Some(out)
}

fn point(p: &Value) -> Option<(i64, f64)> {
    let t = (p[0].as_f64()? * 1000.0).round() as i64;
    let s = p[1].as_str()?;
    let v = match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        // The corpus has no string results; a non-number cannot equal a number.
        _ => s.parse().unwrap_or(f64::MIN_POSITIVE),
    };
    Some((t, v))
}

fn points_diff(p: &Points, o: &Points) -> Option<String> {
    if p.len() != o.len() {
        return Some(format!("{} points vs {}: {p:?} vs {o:?}", p.len(), o.len()));
    }
    p.iter().zip(o).find_map(|(a, b)| {
        (a.0 != b.0 || !close(a.1, b.1)).then(|| format!("point {a:?} vs {b:?}"))
    })
}

/// Within 1e-9 relative; NaN equals NaN; infinities equal themselves.
pub fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}
