//! Rule evaluation (issue 7): Prometheus's rule files ([`file`], checked as rulefmt
//! does in [`validate`]), alerting rules' state machine ([`alerting`], with `for` state
//! restored after a restart in [`restore`]), recording rules ([`recording`]), a group
//! evaluated at an explicit timestamp ([`group`]) on its own loop ([`run`],
//! [`schedule`]), alerts handed to an [`AlertSink`] when Prometheus would send them
//! ([`send`]), and the [`Manager`] that loads files, reloads them keeping state
//! ([`carry`]) and gives a [`snapshot`] for the rules and alerts APIs. A group marked
//! `query_language: logql` evaluates LogQL metric queries over the log store
//! ([`query`]).

pub mod alerting;
mod api;
pub mod carry;
pub mod file;
pub mod group;
mod locate;
pub mod manager;
pub mod metrics;
pub mod paths;
pub mod query;
pub mod reads;
pub mod recording;
pub mod restore;
pub mod run;
pub mod schedule;
pub mod send;
pub mod snapshot;
pub mod template;
pub mod validate;

pub use alerting::{ActiveAlert, AlertState, TemplateEnv};
pub use file::{FileErrors, GroupDef, QueryLanguage, RuleDef, RuleKind};
pub use group::{Group, Health, RuleContext, RuleOptions};
pub use manager::{Manager, ReloadError};
pub use send::{Alert, AlertSink};
pub use snapshot::GroupSnapshot;

#[cfg(test)]
mod tests;
