//! Reassembly of partial lines.
