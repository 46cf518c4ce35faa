//! Metric metadata (`# TYPE`, `# HELP`) of a target's last successful scrape, as
//! Prometheus keeps it in its scrape cache for `/api/v1/metadata`: one entry per family
//! named by a TYPE or HELP line; a family with HELP only is of type `unknown`, as is one
//! declared `untyped`. Units are not carried by the text format (empty).

use crate::exposition::parse::Parsed;
use std::collections::BTreeMap;

/// What a target says of one metric family.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MetricMeta {
    pub kind: String,
    pub help: String,
    pub unit: String,
}

/// A target's metadata by family name.
pub type Metadata = BTreeMap<String, MetricMeta>;

/// The metadata a parsed body declares.
pub fn of(parsed: &Parsed) -> Metadata {
    let names = parsed.types.keys().chain(parsed.helps.keys());
    names
        .map(|name| {
            let kind = match parsed.types.get(name).map(String::as_str) {
                None | Some("untyped") => "unknown",
                Some(k) => k,
            };
            let help = parsed.helps.get(name).cloned().unwrap_or_default();
            let meta = MetricMeta {
                kind: kind.to_owned(),
                help,
                unit: String::new(),
            };
            (name.clone(), meta)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::parse::parse;

    #[test]
    fn types_and_helps_become_one_entry_per_family() {
        let body = "# HELP a_total Requests.\n# TYPE a_total counter\na_total 1\n\
                    # TYPE b untyped\nb 2\n# HELP c Only help.\nc 3\nd 4\n\
                    # TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 0\n";
        let m = of(&parse(body).unwrap());
        let got: Vec<(&str, &str, &str)> = m
            .iter()
            .map(|(n, e)| (n.as_str(), e.kind.as_str(), e.help.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a_total", "counter", "Requests."),
                ("b", "unknown", ""),
                ("c", "unknown", "Only help."),
                ("h", "histogram", ""),
            ]
        );
    }
}
