//! Loki's stream selector, `{a="b", c=~"d.*", e!="f", g!~"h"}`, as the metadata
//! endpoints take it (`match[]`, `query`), parsed by the LogQL parser so the grammar,
//! the anchoring of regexes and the error wording are the query endpoints' own. A log
//! query's pipeline after the selector (`| json`, `|= "x"`) is accepted and ignored, as
//! the metadata endpoints use only the matchers; a metric query is refused.

use crate::aggregator::logql::{self, ast::Expr};
use promql_parser::label::Matcher;

/// Loki's words for a query that is not a selector.
pub const ONLY_MATCHERS: &str = "only label matchers are supported";

/// The selector's matchers, in text order. Every selector needs one matcher that does
/// not match the empty string (the parser says so in Loki's words).
pub fn parse_selector(text: &str) -> Result<Vec<Matcher>, String> {
    match logql::parse(text).map_err(|e| e.to_string())? {
        Expr::Log(log) => Ok(log.matchers),
        Expr::Metric(_) => Err(ONLY_MATCHERS.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_matcher_kind() {
        let ms =
            parse_selector(r#"{app="api", env!="dev", pod=~"api-.*", ns!~`kube-.+`}"#).unwrap();
        let shown: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            shown,
            [
                r#"app="api""#,
                r#"env!="dev""#,
                r#"pod=~"api-.*""#,
                r#"ns!~"kube-.+""#
            ]
        );
        assert!(
            ms[2].is_match("api-1") && !ms[2].is_match("xapi-1"),
            "anchored"
        );
        assert!(ms[3].is_match("default") && !ms[3].is_match("kube-system"));
    }

    #[test]
    fn a_pipeline_after_the_selector_is_skipped() {
        let ms = parse_selector(r#"{app="api"} |= "error" | json"#).unwrap();
        assert_eq!(ms.len(), 1);
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", "parse error"),
            ("app", "parse error at line 1, col 1"),
            (r#"{app}"#, "parse error at line 1, col 5"),
            (r#"{app="a" x}"#, "parse error at line 1, col 10"),
            (r#"{app=~"("}"#, "error parsing regexp"),
            (r#"{app="a"} junk"#, "parse error at line 1, col 11"),
            (r#"{app=~"a{1000}{1000}"}"#, "error parsing regexp"),
            (r#"{app=~".*"}"#, "at least one regexp or equality matcher"),
            (r#"{app!="a"}"#, "at least one regexp or equality matcher"),
            ("{}", "at least one regexp or equality matcher"),
            (r#"count_over_time({app="a"}[1m])"#, ONLY_MATCHERS),
        ];
        for (text, want) in cases {
            let e = parse_selector(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
