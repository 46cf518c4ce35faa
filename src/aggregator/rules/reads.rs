//! Which metrics a group's rules read, so that a caller can evaluate just the groups
//! a scrape affects right after it is appended (issue 7's time-to-detect): the names of
//! the PromQL selectors, or "any" when a selector has no fixed name (`{job="x"}`,
//! `{__name__=~"..."}`): such a group is evaluated after every scrape. LogQL rules
//! read no metrics but the log store: their groups are evaluated after pushes.

use super::query::RuleExpr;
use promql_parser::label::{MatchOp, METRIC_NAME};
use promql_parser::parser::{Expr, VectorSelector};
use promql_parser::util::{walk_expr, ExprVisitor};
use std::collections::HashSet;

/// The metric names read, or any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    pub names: HashSet<String>,
    pub any: bool,
    /// A LogQL rule reads the log store.
    pub logs: bool,
}

impl Reads {
    /// What `exprs` read together.
    pub fn of<'a>(exprs: impl IntoIterator<Item = &'a RuleExpr>) -> Reads {
        let mut reads = Reads::default();
        for e in exprs {
            let RuleExpr::Promql(text) = e else {
                reads.logs = true;
                continue;
            };
            match promql_parser::parser::parse(text) {
                Ok(ast) => {
                    let _ = walk_expr(&mut reads, &ast);
                }
                Err(_) => reads.any = true,
            }
        }
        reads
    }

    /// Whether a scrape that wrote metrics for which `wrote` is true affects these.
    pub fn affected_by(&self, wrote: &dyn Fn(&str) -> bool) -> bool {
        self.any || self.names.iter().any(|n| wrote(n))
    }

    fn selector(&mut self, vs: &VectorSelector) {
        if let Some(name) = &vs.name {
            self.names.insert(name.clone());
            return;
        }
        let by_name = vs.matchers.find_matchers(METRIC_NAME);
        match by_name.iter().find(|m| m.op == MatchOp::Equal) {
            Some(m) if vs.matchers.or_matchers.is_empty() => {
                self.names.insert(m.value.clone());
            }
            _ => self.any = true,
        }
    }
}

impl ExprVisitor for Reads {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
        match e {
            Expr::VectorSelector(vs) => self.selector(vs),
            Expr::MatrixSelector(ms) => self.selector(&ms.vs),
            _ => {}
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(exprs: &[&str]) -> Reads {
        let parsed: Vec<RuleExpr> = exprs
            .iter()
            .map(|e| RuleExpr::parse(super::super::QueryLanguage::Promql, e).unwrap())
            .collect();
        Reads::of(&parsed)
    }

    #[test]
    fn selectors_name_what_a_group_reads() {
        let r = reads(&[
            "sum(rate(a[5m])) / on() b",
            r#"{__name__="c", job="x"} > 1"#,
        ]);
        let want: HashSet<String> = ["a", "b", "c"].map(String::from).into();
        assert_eq!((r.names, r.any), (want, false));
        assert!(reads(&[r#"count({job="x"})"#]).any);
        assert!(reads(&[r#"{__name__=~"node_.*"}"#]).any);
        let r = reads(&["up == 0"]);
        assert!(r.affected_by(&|n| n == "up") && !r.affected_by(&|n| n == "node_load1"));
        assert!(!r.logs);
    }

    #[test]
    fn a_logql_rule_reads_the_log_store_and_no_metric() {
        let logql = super::super::QueryLanguage::Logql;
        let e = RuleExpr::parse(
            logql,
            r#"sum(count_over_time({app="a"} |= "error" [1m])) > 0"#,
        );
        let r = Reads::of(&[e.unwrap()]);
        assert!(r.logs && !r.any && r.names.is_empty());
        assert!(!r.affected_by(&|_| true));
    }
}
