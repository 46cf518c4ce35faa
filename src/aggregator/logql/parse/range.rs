//! Range aggregations: `op([param,] log-range) [by (...)]`, where a log range is a
//! selector with `[range] [offset]` right after it or after the pipeline (optionally
//! in parentheses), with an optional `| unwrap`; and Loki's rules on which operations
//! take an unwrap or a grouping.

use super::lexer::Tok;
use super::{PResult, Parser};
use crate::aggregator::logql::ast::*;
use crate::aggregator::logql::units;

impl Parser<'_> {
    /// After the operator: `([param,] log-range) [by (...)]`.
    pub(super) fn range_agg(&mut self, op: RangeOp) -> PResult<RangeAgg> {
        self.expect("(")?;
        let param = if op == RangeOp::QuantileOverTime {
            let q = self.number()?;
            self.expect(",")?;
            Some(q)
        } else {
            None
        };
        let at = self.pos;
        let (log, unwrap, range, offset) = self.log_range()?;
        self.expect(")")?;
        let grouping = self.grouping()?;
        check_range_agg(op, unwrap.is_some(), grouping.is_some()).map_err(|msg| {
            self.pos = at;
            self.error(msg)
        })?;
        Ok(RangeAgg {
            op,
            param,
            log,
            unwrap,
            range,
            offset,
            grouping,
        })
    }

    /// A log range: the selector, `[range] [offset]` after it or after the pipeline,
    /// optionally in parentheses: (log expr, unwrap, range, offset).
    fn log_range(&mut self) -> PResult<(LogExpr, Option<Unwrap>, i64, i64)> {
        let paren = self.eat("(");
        let matchers = self.selector()?;
        let mut range = self.range_and_offset()?;
        let stages = self.stages()?;
        let unwrap = if self.is_punct("|") {
            self.bump();
            self.bump(); // `unwrap`, as `stages` stops only there
            Some(self.unwrap()?)
        } else {
            None
        };
        if paren {
            self.expect(")")?;
        }
        if range.is_none() {
            range = self.range_and_offset()?;
        }
        let Some((range, offset)) = range else {
            return Err(self.expecting("a range such as [5m]"));
        };
        Ok((LogExpr { matchers, stages }, unwrap, range, offset))
    }

    /// `[5m] offset 1h`, if a `[` is next.
    fn range_and_offset(&mut self) -> PResult<Option<(i64, i64)>> {
        if !self.eat("[") {
            return Ok(None);
        }
        let range = self.duration()?;
        self.expect("]")?;
        let offset = if self.eat_word("offset") {
            self.duration()?
        } else {
            0
        };
        Ok(Some((range, offset)))
    }

    /// A Prometheus duration token (`5m`, `1h30m`), in nanoseconds.
    fn duration(&mut self) -> PResult<i64> {
        let d = match self.peek() {
            Tok::Unit(u) => units::prom_duration(u),
            _ => None,
        };
        match d {
            Some(d) => {
                self.bump();
                Ok(d)
            }
            None => Err(self.expecting("DURATION")),
        }
    }
}

/// Loki's rules: unwrap only (and always) for the value aggregations, grouping only
/// for those that pick or combine values per series.
fn check_range_agg(op: RangeOp, unwrapped: bool, grouped: bool) -> Result<(), String> {
    use RangeOp::*;
    let name = range_op_name(op);
    let needs_unwrap = !matches!(
        op,
        CountOverTime | Rate | BytesOverTime | BytesRate | AbsentOverTime
    );
    let takes_unwrap = needs_unwrap || matches!(op, Rate | AbsentOverTime);
    if needs_unwrap && !unwrapped {
        return Err(format!("invalid aggregation {name} without unwrap"));
    }
    if unwrapped && !takes_unwrap {
        return Err(format!("invalid aggregation {name} with unwrap"));
    }
    let groupable = matches!(
        op,
        AvgOverTime
            | StddevOverTime
            | StdvarOverTime
            | QuantileOverTime
            | MaxOverTime
            | MinOverTime
            | FirstOverTime
            | LastOverTime
    );
    if grouped && !groupable {
        return Err(format!("grouping not allowed for {name} aggregation"));
    }
    Ok(())
}

const RANGE_OPS: &[(&str, RangeOp)] = &[
    ("count_over_time", RangeOp::CountOverTime),
    ("rate", RangeOp::Rate),
    ("rate_counter", RangeOp::RateCounter),
    ("bytes_over_time", RangeOp::BytesOverTime),
    ("bytes_rate", RangeOp::BytesRate),
    ("absent_over_time", RangeOp::AbsentOverTime),
    ("sum_over_time", RangeOp::SumOverTime),
    ("avg_over_time", RangeOp::AvgOverTime),
    ("max_over_time", RangeOp::MaxOverTime),
    ("min_over_time", RangeOp::MinOverTime),
    ("first_over_time", RangeOp::FirstOverTime),
    ("last_over_time", RangeOp::LastOverTime),
    ("stdvar_over_time", RangeOp::StdvarOverTime),
    ("stddev_over_time", RangeOp::StddevOverTime),
    ("quantile_over_time", RangeOp::QuantileOverTime),
];

pub(super) fn range_op(name: &str) -> Option<RangeOp> {
    RANGE_OPS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, op)| *op)
}

/// The name a range operation is written with.
pub fn range_op_name(op: RangeOp) -> &'static str {
    RANGE_OPS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or("?", |(n, _)| n)
}
