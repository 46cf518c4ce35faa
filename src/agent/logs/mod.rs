//! The container log pipeline (issue 3): discover, tail, decode, reassemble, enrich,
//! batch and buffer the node's container logs, and advance checkpoints only when a sink
//! has acknowledged the lines (at-least-once; see DESIGN.md's LOGS data flow).

pub mod checkpoint;
pub mod discover;
pub mod tail;
