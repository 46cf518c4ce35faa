//! The container log pipeline (issue 3): discover, tail, decode (CRI or docker
//! json-file), reassemble partial lines, enrich, batch and buffer the node's container
//! logs, and advance checkpoints only when a sink has acknowledged the lines
//! (at-least-once; see DESIGN.md's LOGS data flow). Not wired into the agent yet.

pub mod applog;
pub mod buffer;
pub mod checkpoint;
pub mod decode;
pub mod discover;
pub mod reassemble;
pub mod redact;
pub mod tail;
