//! The two programs' views of a render: the agent's config from the DaemonSet's args
//! and the aggregator's from the StatefulSet's args and mounted files, each through
//! the program's own flag parser and loader; the renders shared by the tests.

use crate::layout::Layout;
use crate::pod::Pod;
use crate::render::{manifests_dir, render, Rendered};
use clap::Parser;
use nodepulse::agent::config::{AgentConfig, Flags as AgentFlags};
use nodepulse::aggregator::config::{AggregatorConfig, Flags as AggregatorFlags};
use std::sync::OnceLock;

pub fn base() -> Option<&'static Rendered> {
    static BASE: OnceLock<Option<Rendered>> = OnceLock::new();
    BASE.get_or_init(|| render(&[])).as_ref()
}

pub fn with_auth() -> Option<&'static Rendered> {
    static AUTH: OnceLock<Option<Rendered>> = OnceLock::new();
    AUTH.get_or_init(|| render(&["auth"])).as_ref()
}

pub fn agent(r: &Rendered) -> Pod<'_> {
    Pod::of(r, "DaemonSet", "nodepulse-agent")
}

pub fn aggregator(r: &Rendered) -> Pod<'_> {
    Pod::of(r, "StatefulSet", "nodepulse-aggregator")
}

/// The agent's config from the DaemonSet's args (re-rooted into `layout` if given).
pub fn agent_config(pod: &Pod, layout: Option<&Layout>) -> AgentConfig {
    let mut args = pod.args("agent");
    if let Some(l) = layout {
        args = l.args(&args);
    }
    let argv = std::iter::once("nodepulse-agent".to_owned()).chain(args);
    let flags = AgentFlags::try_parse_from(argv).unwrap_or_else(|e| panic!("agent args: {e}"));
    AgentConfig::load(flags).unwrap_or_else(|e| panic!("agent config: {e}"))
}

/// The aggregator's config as `--check-config` loads it, from the StatefulSet's args
/// and the files mounted in `layout`.
pub fn aggregator_config(pod: &Pod, layout: &Layout) -> AggregatorConfig {
    let args = layout.args(&pod.args("aggregator"));
    let argv = std::iter::once("nodepulse-aggregator".to_owned()).chain(args);
    let flags =
        AggregatorFlags::try_parse_from(argv).unwrap_or_else(|e| panic!("aggregator args: {e}"));
    AggregatorConfig::load(flags).unwrap_or_else(|e| panic!("aggregator config: {e}"))
}

/// The file names of manifests/rules/*.yml, sorted.
pub fn rule_file_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(manifests_dir().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    names.sort();
    names
}
