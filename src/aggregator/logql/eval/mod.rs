//! LogQL evaluation over the log store ([`LogReader`](crate::aggregator::model::logs::LogReader)):
//! range aggregations step by step ([`windows`]), whose values the PromQL evaluator reads
//! for the vector operations above them ([`materialize`]).

pub mod lines;
pub mod materialize;
pub mod windows;
