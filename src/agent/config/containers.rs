//! The containers collector's settings (`--collector.containers.*`, file keys
//! `collectors.containers.*`): flags over the file over [`ContainersSettings`]'s
//! defaults, validated into it.

use super::{duration, invalid, ConfigError};
use crate::agent::containers::ContainersSettings;
use clap::Args;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// The containers collector's flags (flattened into [`super::Flags`]; field names are
/// prefixed, clap's argument ids must be unique across the command).
#[derive(Debug, Default, Args)]
pub struct ContainersFlags {
    /// The cgroup mount the containers collector reads [default: <path.sysfs>/fs/cgroup].
    #[arg(
        long = "collector.containers.cgroup-root",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_CGROUP_ROOT"
    )]
    pub containers_cgroup_root: Option<PathBuf>,

    /// Depth below the cgroup root at which pod cgroups are looked for [default: 4].
    #[arg(
        long = "collector.containers.max-depth",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_MAX_DEPTH"
    )]
    pub containers_max_depth: Option<usize>,

    /// Pods read per scrape; more are left out and counted [default: 1024].
    #[arg(
        long = "collector.containers.max-pods",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_MAX_PODS"
    )]
    pub containers_max_pods: Option<usize>,

    /// Containers read per pod; more are left out and counted [default: 64].
    #[arg(
        long = "collector.containers.max-containers-per-pod",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_MAX_CONTAINERS_PER_POD"
    )]
    pub containers_max_containers_per_pod: Option<usize>,

    /// How long cgroup limits and creation times are reused before being read again
    /// [default: 1m].
    #[arg(
        long = "collector.containers.spec-refresh",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_SPEC_REFRESH"
    )]
    pub containers_spec_refresh: Option<String>,

    /// Cgroup directories and files held open between scrapes, at most half of the
    /// open-file limit [default: 8192]. Each held file saves ~9 µs of CPU per scrape
    /// and keeps ~4.6 KiB of kernel memory charged to the agent's memory cgroup.
    #[arg(
        long = "collector.containers.max-open-files",
        env = "NODEPULSE_COLLECTOR_CONTAINERS_MAX_OPEN_FILES"
    )]
    pub containers_max_open_files: Option<usize>,
}

/// The file's `collectors.containers` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainersFile {
    pub cgroup_root: Option<PathBuf>,
    pub max_depth: Option<usize>,
    pub max_pods: Option<usize>,
    pub max_containers_per_pod: Option<usize>,
    #[serde(default, with = "humantime_serde")]
    pub spec_refresh: Option<Duration>,
    pub max_open_files: Option<usize>,
}

/// Merges the flags (taken out of `f`) over the file's section.
pub(super) fn settings(
    f: &mut ContainersFlags,
    c: ContainersFile,
) -> Result<ContainersSettings, ConfigError> {
    let d = ContainersSettings::default();
    let count =
        |flag: Option<usize>, file: Option<usize>, default: usize, name: &'static str| match flag
            .or(file)
            .unwrap_or(default)
        {
            0 => Err(invalid(
                format!("collectors.containers.{name}"),
                format!("--collector.containers.{}", name.replace('_', "-")),
                "must be greater than zero",
            )),
            n => Ok(n),
        };
    let mut s = ContainersSettings {
        cgroup_root: f
            .containers_cgroup_root
            .take()
            .or(c.cgroup_root)
            .filter(|p| !p.as_os_str().is_empty()),
        // The flag's text (a humantime duration) over the file's value.
        spec_refresh: duration(
            f.containers_spec_refresh.take(),
            (
                "collectors.containers.spec_refresh",
                "--collector.containers.spec-refresh",
            ),
            c.spec_refresh.unwrap_or(d.spec_refresh),
        )?,
        max_open_files: f
            .containers_max_open_files
            .take()
            .or(c.max_open_files)
            .unwrap_or(d.max_open_files),
        ..d
    };
    s.limits.max_depth = count(
        f.containers_max_depth,
        c.max_depth,
        d.limits.max_depth,
        "max_depth",
    )?;
    s.limits.max_pods = count(
        f.containers_max_pods,
        c.max_pods,
        d.limits.max_pods,
        "max_pods",
    )?;
    s.limits.max_containers_per_pod = count(
        f.containers_max_containers_per_pod,
        c.max_containers_per_pod,
        d.limits.max_containers_per_pod,
        "max_containers_per_pod",
    )?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use crate::agent::config::{AgentConfig, FileConfig, Flags};
    use clap::Parser;
    use std::path::PathBuf;
    use std::time::Duration;

    fn merged(args: &[&str], yaml: &str) -> Result<AgentConfig, String> {
        let flags = Flags::try_parse_from(["nodepulse-agent"].iter().chain(args)).unwrap();
        AgentConfig::merge(flags, FileConfig::parse(yaml)?).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_file_and_flags() {
        let c = merged(&[], "").unwrap().collectors.containers;
        assert_eq!(c.cgroup_root, None);
        assert_eq!(c.limits.max_depth, 4);
        assert_eq!(c.limits.max_pods, 1024);
        assert_eq!(c.limits.max_containers_per_pod, 64);
        assert_eq!(c.spec_refresh, Duration::from_secs(60));
        assert_eq!(c.max_open_files, 8192);
        let yaml = "collectors:\n  containers:\n    cgroup_root: /host/cgroup\n    max_depth: 5\n    \
            max_pods: 250\n    max_containers_per_pod: 16\n    spec_refresh: 30s\n    max_open_files: 100\n";
        let c = merged(&[], yaml).unwrap().collectors.containers;
        assert_eq!(c.cgroup_root, Some(PathBuf::from("/host/cgroup")));
        assert_eq!(
            (c.limits.max_depth, c.limits.max_pods),
            (5, 250),
            "from the file"
        );
        assert_eq!(c.limits.max_containers_per_pod, 16);
        assert_eq!(c.spec_refresh, Duration::from_secs(30));
        assert_eq!(c.max_open_files, 100);
        let args = [
            "--collector.containers.max-pods=300",
            "--collector.containers.spec-refresh=2m",
            "--collector.containers.max-open-files=0",
            "--collector.containers.cgroup-root=/x",
        ];
        let c = merged(&args, yaml).unwrap().collectors.containers;
        assert_eq!(c.limits.max_pods, 300, "the flag wins");
        assert_eq!(c.limits.max_depth, 5);
        assert_eq!(c.spec_refresh, Duration::from_secs(120));
        assert_eq!(c.max_open_files, 0, "0: no file held open");
        assert_eq!(c.cgroup_root, Some(PathBuf::from("/x")));
    }

    #[test]
    fn bad_values_name_the_setting() {
        let err = merged(&["--collector.containers.max-pods=0"], "").unwrap_err();
        assert!(
            err.contains("collectors.containers.max_pods")
                && err.contains("--collector.containers.max-pods"),
            "{err}"
        );
        let err = merged(&["--collector.containers.spec-refresh=soon"], "").unwrap_err();
        assert!(err.contains("spec_refresh"), "{err}");
        let err = merged(&[], "collectors:\n  containers:\n    max_dept: 3\n").unwrap_err();
        assert!(err.contains("max_dept"), "{err}");
    }
}
