//! Aggregations.

use super::{Ctx, Val, Window};
use crate::aggregator::promql::QueryError;
use promql_parser::parser::AggregateExpr;

impl Ctx<'_> {
    pub(super) fn aggregate(
        &self,
        a: &AggregateExpr,
        _t: i64,
        _w: Window,
    ) -> Result<Val, QueryError> {
        Err(QueryError::BadData(format!(
            "aggregation {} is not supported yet",
            a.op
        )))
    }
}
