//! Binary operators.

use super::{Ctx, Val, Window};
use crate::aggregator::promql::QueryError;
use promql_parser::parser::BinaryExpr;

impl Ctx<'_> {
    pub(super) fn binary(&self, b: &BinaryExpr, _t: i64, _w: Window) -> Result<Val, QueryError> {
        Err(QueryError::BadData(format!(
            "operator {} is not supported yet",
            b.op
        )))
    }
}
