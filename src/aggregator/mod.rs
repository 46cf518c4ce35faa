//! The aggregator: scrape, store and query metrics and logs (see DESIGN.md). So far:
//! the shared data model and storage interfaces ([`model`]), the types of PromQL results
//! ([`promql`]).

pub mod model;
pub mod promql;
pub mod tsdb;
