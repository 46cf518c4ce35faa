//! Function calls: dispatch by name to the function families.

use super::{Ctx, Val, Window};
use crate::aggregator::promql::QueryError;
use promql_parser::parser::Call;

impl Ctx<'_> {
    pub(super) fn call(&self, c: &Call, _t: i64, _w: Window) -> Result<Val, QueryError> {
        Err(QueryError::BadData(format!(
            "function {} is not supported yet",
            c.func.name
        )))
    }
}
