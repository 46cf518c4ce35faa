//! The Loki push receiver and metadata endpoints over real HTTP on a loopback port,
//! through the aggregator's router, into the real log store in a temp directory: every
//! wire format (hand-built protobuf with structured metadata, JSON, gzip, the legacy
//! endpoint, payloads from the PyPI client `python-logging-loki`, the agent's own
//! encoder), bad input, the admission limits, auth, Loki's metadata answers, and `/loki/api/v1/tail` over a real websocket client.

#[path = "loki_push/agent.rs"]
mod agent;
#[path = "loki_push/bad_input.rs"]
mod bad_input;
#[path = "loki_push/formats.rs"]
mod formats;
#[path = "loki_push/limits.rs"]
mod limits;
#[path = "loki_push/meta.rs"]
mod meta;
#[path = "loki_push/python.rs"]
mod python;
#[path = "loki_push/query.rs"]
mod query;
#[path = "loki_push/server.rs"]
mod server;
#[path = "loki_push/store.rs"]
mod store;
#[path = "loki_push/tail.rs"]
mod tail;
#[path = "loki_push/tail_ends.rs"]
mod tail_ends;
#[path = "loki_push/tail_slow.rs"]
mod tail_slow;
