//! LogQL: evaluation ([`eval`]).

pub mod eval;
