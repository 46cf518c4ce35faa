//! The aggregator: scrape, store and query metrics and logs. Only its command line exists
//! so far; the back end arrives with later issues (see DESIGN.md).
