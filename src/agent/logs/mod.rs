//! The container log pipeline (DESIGN.md, LOGS): files under `/var/log/pods` are
//! discovered, tailed, decoded (CRI or docker json-file), reassembled from partial
//! lines under a byte cap, enriched with pod metadata, and shipped at-least-once to a
//! sink; a checkpoint advances only after the sink acknowledges.
//!
//! The stages here are pure: they take bytes and return values, and the I/O stages
//! that own the buffers call them.

pub mod decode;
pub mod reassemble;
