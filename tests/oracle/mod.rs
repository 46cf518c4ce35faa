//! Compares three scrapes, node_exporter (A), the agent (B), node_exporter again (C),
//! family by family: TYPE, HELP, label names, series, and values by [`rules`].

pub mod rules;

use crate::common::{family_of, parse_body};
use rules::Check;
use std::collections::{BTreeMap, BTreeSet};

/// A series: sample name and labels sorted by name.
pub type Series = (String, Vec<(String, String)>);

#[derive(Debug, Default, Clone)]
pub struct Family {
    pub kind: String,
    pub help: String,
    pub series: BTreeMap<Series, f64>,
}

/// One scrape, by family name, without the ignored families.
#[derive(Debug, Default)]
pub struct Scrape {
    pub families: BTreeMap<String, Family>,
}

impl Scrape {
    pub fn parse(body: &str) -> Scrape {
        let parsed = parse_body(body);
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        for s in parsed.samples {
            let family = family_of(&s.name, &parsed.types).unwrap_or(&s.name);
            if rules::ignored(family) {
                continue;
            }
            let f = families.entry(family.to_owned()).or_insert_with(|| Family {
                kind: parsed.types.get(family).cloned().unwrap_or_default(),
                help: parsed.helps.get(family).cloned().unwrap_or_default(),
                series: BTreeMap::new(),
            });
            let mut labels = s.labels;
            labels.sort();
            f.series.insert((s.name, labels), s.value);
        }
        Scrape { families }
    }

    /// Label values of `label` in `family`'s series.
    fn label_values(&self, family: &str, label: &str) -> BTreeSet<&str> {
        let Some(f) = self.families.get(family) else {
            return BTreeSet::new();
        };
        f.series
            .keys()
            .flat_map(|(_, labels)| labels.iter())
            .filter(|(n, _)| n == label)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One difference. `key` identifies it across scrape rounds (a value mismatch keeps its
/// key when the numbers change), `detail` says what differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub key: String,
    pub detail: String,
}

fn mismatch(family: &str, what: &str, detail: String) -> Mismatch {
    Mismatch {
        key: format!("{family} {what}"),
        detail: format!("{family}: {detail}"),
    }
}

pub fn show(series: &Series) -> String {
    let labels: Vec<String> = series.1.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{}{{{}}}", series.0, labels.join(","))
}

/// Every difference between the agent (B) and node_exporter (A before, C after).
pub fn compare(a: &Scrape, b: &Scrape, c: &Scrape) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let agent_collectors = b.label_values("node_scrape_collector_success", "collector");
    for (name, fb) in &b.families {
        let (Some(fa), Some(fc)) = (a.families.get(name), c.families.get(name)) else {
            continue;
        };
        if name.starts_with("node_scrape_collector_") {
            // node_exporter runs collectors the agent does not have: compare the agent's.
            let fa = only_collectors(fa, &agent_collectors);
            let fc = only_collectors(fc, &agent_collectors);
            compare_family(name, &fa, fb, &fc, &mut out);
        } else {
            compare_family(name, fa, fb, fc, &mut out);
        }
    }
    check_success(a, b, &agent_collectors, &mut out);
    for name in rules::REQUIRED {
        for (who, scrape) in [("node_exporter", a), ("the agent", b)] {
            if !scrape.families.contains_key(*name) {
                let detail = format!("required family missing in {who}");
                out.push(mismatch(name, &format!("required {who}"), detail));
            }
        }
    }
    out
}

fn only_collectors(f: &Family, collectors: &BTreeSet<&str>) -> Family {
    let mut f = f.clone();
    f.series.retain(|(_, labels), _| {
        labels
            .iter()
            .any(|(n, v)| n == "collector" && collectors.contains(v.as_str()))
    });
    f
}

fn compare_family(name: &str, fa: &Family, fb: &Family, fc: &Family, out: &mut Vec<Mismatch>) {
    if fa.kind != fb.kind {
        let detail = format!("TYPE node_exporter {}, agent {}", fa.kind, fb.kind);
        out.push(mismatch(name, "type", detail));
        return;
    }
    if fa.help != fb.help {
        let detail = format!("HELP node_exporter {:?}, agent {:?}", fa.help, fb.help);
        out.push(mismatch(name, "help", detail));
    }
    let (names_a, names_b) = (label_names(fa), label_names(fb));
    if names_a != names_b {
        let detail = format!("label names node_exporter {names_a:?}, agent {names_b:?}");
        out.push(mismatch(name, "label names", detail));
    }
    compare_series(name, fa, fb, fc, out);
}

fn label_names(f: &Family) -> BTreeSet<Vec<&str>> {
    f.series
        .keys()
        .map(|(_, labels)| labels.iter().map(|(n, _)| n.as_str()).collect())
        .collect()
}

/// Series in both node_exporter scrapes must be in the agent's and the reverse; series
/// that came or went between A and C are not judged. Shared series compare by value.
fn compare_series(name: &str, fa: &Family, fb: &Family, fc: &Family, out: &mut Vec<Mismatch>) {
    let check = rules::check_for(name);
    for (series, &va) in &fa.series {
        let Some(&vc) = fc.series.get(series) else {
            continue;
        };
        match fb.series.get(series) {
            None => {
                let detail = format!("{} missing in the agent", show(series));
                out.push(mismatch(name, &show(series), detail));
            }
            Some(&vb) => {
                if let Some(why) = judge(check, fb.kind == "counter", va, vb, vc) {
                    let detail = format!("{} {why}", show(series));
                    out.push(mismatch(name, &show(series), detail));
                }
            }
        }
    }
    for series in fb.series.keys() {
        if !fa.series.contains_key(series) && !fc.series.contains_key(series) {
            let detail = format!("{} only in the agent", show(series));
            out.push(mismatch(name, &show(series), detail));
        }
    }
}

/// `None` when B agrees with A and C under `check`, else why not.
fn judge(check: Check, counter: bool, a: f64, b: f64, c: f64) -> Option<String> {
    let nums = format!("(node_exporter {a} then {c}, agent {b})");
    if a.is_nan() || b.is_nan() || c.is_nan() {
        let all_nan = a.is_nan() && b.is_nan() && c.is_nan();
        return (!all_nan && check != Check::Skip).then(|| format!("NaN mismatch {nums}"));
    }
    match check {
        Check::Skip => None,
        Check::Exact => (a != b || b != c).then(|| format!("is a constant but differs {nums}")),
        Check::Bracket { abs, rel } => {
            let (lo, hi) = if counter {
                (a, c)
            } else {
                (a.min(c), a.max(c))
            };
            let scale = a.abs().max(c.abs());
            let slack = abs + rel * scale + 1e-9 * scale.max(1.0);
            let ok = lo - slack <= b && b <= hi + slack;
            let what = if counter { "counter" } else { "value" };
            (!ok).then(|| format!("{what} outside [{lo}, {hi}] ± {slack:.3e} {nums}"))
        }
    }
}

/// Wherever node_exporter's collector succeeded, the agent's must have too.
fn check_success(a: &Scrape, b: &Scrape, collectors: &BTreeSet<&str>, out: &mut Vec<Mismatch>) {
    let name = "node_scrape_collector_success";
    let success = |s: &Scrape, collector: &str| -> Option<f64> {
        let key: Series = (name.into(), vec![("collector".into(), collector.into())]);
        s.families.get(name)?.series.get(&key).copied()
    };
    for collector in collectors {
        if success(a, collector) == Some(1.0) && success(b, collector) != Some(1.0) {
            let detail =
                format!("collector {collector:?} failed in the agent, not in node_exporter");
            out.push(mismatch(name, &format!("success {collector}"), detail));
        }
    }
}

#[cfg(test)]
mod tests;
