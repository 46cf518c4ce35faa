//! A rule's expression and its evaluation at one instant, as Prometheus's
//! `EngineQueryFunc` does it: a vector as it is, a scalar as one sample without
//! labels, anything else an error. PromQL reads the metrics [`Querier`]; LogQL (a
//! `query_language: logql` group) is an instant metric query over the [`LogReader`].

use super::file::QueryLanguage;
use crate::aggregator::logql::ast::MetricExpr;
use crate::aggregator::logql::eval::metric::{self, MetricOptions};
use crate::aggregator::logql::eval::windows::Steps;
use crate::aggregator::model::logs::LogReader;
use crate::aggregator::model::{Labels, Querier};
use crate::aggregator::promql::{instant_query, QueryOptions, Value};

/// A parsed rule expression.
#[derive(Clone, Debug)]
pub enum RuleExpr {
    /// PromQL, kept as its canonical text (promql-parser's `String()`).
    Promql(String),
    Logql(Box<MetricExpr>),
}

/// What a rule's query reads.
#[derive(Clone, Copy)]
pub struct QuerySources<'a> {
    pub metrics: &'a dyn Querier,
    pub logs: Option<&'a dyn LogReader>,
    pub opts: &'a QueryOptions,
}

impl RuleExpr {
    /// Parses `text` in `lang` (already validated with the file, so errors are rare).
    pub fn parse(lang: QueryLanguage, text: &str) -> Result<RuleExpr, String> {
        match lang {
            QueryLanguage::Promql => {
                promql_parser::parser::parse(text).map(|e| RuleExpr::Promql(e.to_string()))
            }
            QueryLanguage::Logql => match crate::aggregator::logql::parse(text) {
                Ok(crate::aggregator::logql::Expr::Metric(m)) => Ok(RuleExpr::Logql(Box::new(m))),
                Ok(_) => Err("a log query is not a metric query".into()),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    /// The expression as the rules API and the generator URL show it.
    pub fn text(&self) -> String {
        match self {
            RuleExpr::Promql(s) => s.clone(),
            RuleExpr::Logql(m) => m.to_string(),
        }
    }

    /// The expression's instant vector at `t_ms`.
    pub fn eval(&self, src: QuerySources, t_ms: i64) -> Result<Vec<(Labels, f64)>, String> {
        let value = match self {
            RuleExpr::Promql(text) => {
                instant_query(src.metrics, text, t_ms, src.opts).map_err(|e| e.to_string())?
            }
            RuleExpr::Logql(m) => {
                let reader = src.logs.ok_or("no log store to evaluate a LogQL rule")?;
                let t_ns = t_ms.saturating_mul(1_000_000);
                let steps = Steps {
                    start: t_ns,
                    end: t_ns,
                    step: 1_000_000_000,
                };
                let opts = MetricOptions {
                    query: src.opts.clone(),
                    ..Default::default()
                };
                metric::evaluate(reader, m, steps, &opts).map_err(|e| e.to_string())?
            }
        };
        match value {
            Value::Vector(v) => Ok(v.into_iter().map(|s| (s.labels, s.v)).collect()),
            Value::Scalar { v, .. } => Ok(vec![(Labels::default(), v)]),
            _ => Err("rule result is not a vector or scalar".into()),
        }
    }
}
