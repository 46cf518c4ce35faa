//! The container log pipeline (issue 3): discover, tail, decode (CRI or docker
//! json-file), reassemble partial lines, enrich, batch and buffer the node's container
//! logs, and advance checkpoints only when a sink has acknowledged the lines
//! (at-least-once; see DESIGN.md's LOGS data flow). [`pipeline`] wires the units into
//! tasks; the agent starts it when a Loki URL is set.

pub mod applog;
pub mod buffer;
pub mod checkpoint;
pub mod decode;
pub mod discover;
pub mod pipeline;
pub mod reassemble;
pub mod redact;
pub mod tail;
