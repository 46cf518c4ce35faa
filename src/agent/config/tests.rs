//! Tests of the agent configuration: defaults, precedence of flags over the file, and
//! start-up errors that name the bad key.
use super::*;
use clap::Parser;
use std::time::Duration;

fn flags(args: &[&str]) -> Flags {
    let mut all = vec!["nodepulse-agent"];
    all.extend_from_slice(args);
    Flags::try_parse_from(all).unwrap()
}

fn merged(args: &[&str], yaml: &str) -> Result<AgentConfig, ConfigError> {
    AgentConfig::merge(
        flags(args),
        FileConfig::parse(yaml).map_err(ConfigError::File)?,
    )
}

#[test]
fn defaults_match_the_command_line_contract() {
    let c = merged(&[], "").unwrap();
    assert_eq!(c.listen_address.to_string(), "0.0.0.0:9101");
    assert_eq!(c.paths, HostPaths::default());
    assert_eq!(c.pods_dir, PathBuf::from("/var/log/pods"));
    assert_eq!(c.containers_dir, PathBuf::from("/var/log/containers"));
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/nodepulse"));
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.log_level, tracing::Level::INFO);
    assert_eq!(c.kube_api, KubeApi::Auto);
    assert!(c.sinks.is_empty());
    assert!(!c.node_name.is_empty());
    assert_eq!(c.collectors.fs_mount_timeout, Duration::from_secs(5));
    assert!(c.collectors.diskstats_device_exclude.is_match("sda1"));
    assert!(!c.collectors.diskstats_device_exclude.is_match("sda"));
}

#[test]
fn flags_win_over_the_file_and_the_file_over_defaults() {
    let yaml =
        "web:\n  listen_address: 127.0.0.1:1\npath:\n  procfs: /host/proc\n  sysfs: /host/sys\n";
    let c = merged(
        &["--web.listen-address", "127.0.0.1:2", "--path.sysfs=/x"],
        yaml,
    )
    .unwrap();
    assert_eq!(c.listen_address.to_string(), "127.0.0.1:2");
    assert_eq!(c.paths.procfs, PathBuf::from("/host/proc"));
    assert_eq!(c.paths.sysfs, PathBuf::from("/x"));
}

#[test]
fn every_contract_flag_is_accepted() {
    let c = merged(
        &[
            "--log.format=json",
            "--log.level=debug",
            "--path.rootfs=/host/root",
            "--logs.pods-dir=/p",
            "--logs.containers-dir=/c",
            "--data-dir=/d",
            "--sink.loki.url=http://a:9201/loki/api/v1/push",
            "--sink.elasticsearch.url=https://es:9200",
            "--node-name=n1",
            "--kube.api=off",
            "--kubeconfig=/k",
            "--collectors.disable=loadavg",
            "--collector.filesystem.mount-timeout=250ms",
            "--logs.include=/var/log/pods/prod_*/**",
            "--logs.exclude=**/istio-proxy/*.log,**/debug/*.log",
            "--logs.start-at=end",
        ],
        "",
    )
    .unwrap();
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!(c.node_name, "n1");
    assert_eq!(c.kube_api, KubeApi::Off);
    assert_eq!(c.collectors.fs_mount_timeout, Duration::from_millis(250));
    assert!(c.collectors.disabled.contains("loadavg"));
    assert_eq!(c.logs.include, ["/var/log/pods/prod_*/**"]);
    assert_eq!(c.logs.exclude.len(), 2);
    assert_eq!(c.logs.start_at, crate::agent::logs::tail::StartAt::End);
}

#[test]
fn kube_settings_from_flags_and_file() {
    let c = merged(
        &[
            "--kube.api=http://127.0.0.1:8001",
            "--kube.delete-grace=90s",
        ],
        "kube:\n  annotations: [team.example.com/owner]\n",
    )
    .unwrap();
    assert_eq!(c.kube_api, KubeApi::Url("http://127.0.0.1:8001".into()));
    assert_eq!(c.kube_delete_grace, Duration::from_secs(90));
    assert_eq!(c.kube_annotations, ["team.example.com/owner"]);
    let d = merged(&[], "").unwrap();
    assert_eq!(
        d.kube_delete_grace,
        crate::agent::kube::DEFAULT_DELETE_GRACE
    );
}

#[test]
fn unknown_file_key_fails_naming_it() {
    let err = merged(&[], "collectors:\n  filesystem:\n    mount_timout: 5s\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("mount_timout"), "{err}");
}

#[test]
fn bad_values_fail_naming_the_field() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--web.listen-address=nope"], "", "web.listen_address"),
        (
            &["--web.config.file=/nonexistent/web.yml"],
            "",
            "web.config_file",
        ),
        (
            &[],
            "web:\n  config_file: /nonexistent/web.yml\n",
            "reading /nonexistent/web.yml",
        ),
        (&[], "log:\n  format: xml\n", "log.format"),
        (&[], "log:\n  level: loud\n", "log.level"),
        (&[], "kube:\n  api: maybe\n", "kube.api"),
        (&["--kube.delete-grace=soon"], "", "kube.delete_grace"),
        (
            &[],
            "collectors:\n  disable: [cpuu]\n",
            "collectors.disable",
        ),
        (
            &[],
            "collectors:\n  vmstat:\n    fields: '('\n",
            "collectors.vmstat.fields",
        ),
        (
            &["--collector.filesystem.mount-timeout=soon"],
            "",
            "mount_timeout",
        ),
        (
            &["--collector.filesystem.mount-timeout=0s"],
            "",
            "mount_timeout",
        ),
        (&["--sink.loki.url=ftp://x"], "", "sink.loki.url"),
        (
            &[],
            "collectors:\n  filesystem:\n    mount_timeout: banana\n",
            "mount_timeout",
        ),
        (&[], "web: [1, 2]\n", "web"),
        (&["--logs.start-at=middle"], "", "logs.start_at"),
        (&[], "logs:\n  exclude: ['a[']\n", "logs.exclude"),
    ];
    for (args, yaml, field) in cases {
        let err = merged(args, yaml).unwrap_err().to_string();
        assert!(err.contains(field), "{args:?} {yaml:?}: {err}");
    }
}

#[test]
fn textfile_settings_from_flags_and_file() {
    let c = merged(&[], "").unwrap();
    assert_eq!(c.collectors.textfile_directory, None);
    assert_eq!(c.collectors.textfile_max_file_bytes, 16 * 1024 * 1024);
    let yaml = "collectors:\n  textfile:\n    directory: /var/lib/np\n    max_file_bytes: 1024\n";
    let c = merged(&[], yaml).unwrap();
    assert_eq!(
        c.collectors.textfile_directory,
        Some(PathBuf::from("/var/lib/np"))
    );
    assert_eq!(c.collectors.textfile_max_file_bytes, 1024);
    let c = merged(&["--collector.textfile.directory=/x"], yaml).unwrap();
    assert_eq!(c.collectors.textfile_directory, Some(PathBuf::from("/x")));
    let err = merged(&["--collector.textfile.max-file-bytes=0"], "").unwrap_err();
    assert!(err.to_string().contains("max_file_bytes"), "{err}");
}

#[test]
fn every_flag_has_its_nodepulse_env_var() {
    use clap::CommandFactory;
    let command = Flags::command();
    let mut checked = 0;
    for arg in command.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if long == "help" || long == "version" {
            continue;
        }
        let want = format!("NODEPULSE_{}", long.to_uppercase().replace(['.', '-'], "_"));
        let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
        assert_eq!(env.as_deref(), Some(want.as_str()), "--{long}");
        checked += 1;
    }
    assert!(checked >= 40, "{checked} flags");
}

#[test]
fn log_settings_are_carried_into_the_pipeline_config() {
    use crate::agent::logs::buffer::WhenFull;
    assert!(merged(&[], "")
        .unwrap()
        .pipeline_config()
        .unwrap()
        .is_none());
    let yaml = "logs:\n  spool:\n    segment_bytes: 1MiB\n  redact:\n    defaults: false\n";
    let c = merged(
        &[
            "--sink.elasticsearch.url=http://es:9200",
            "--data-dir=/d",
            "--logs.buffer.max-bytes=8MiB",
            "--logs.buffer.when-full=drop_newest",
            "--logs.spool.max-bytes=1GiB",
            "--logs.batch.max-bytes=256KiB",
            "--logs.batch.max-events=100",
            "--logs.batch.timeout=300ms",
            "--logs.max-line-bytes=64KiB",
            "--logs.partial-flush-timeout=2s",
            "--logs.max-open-files=16",
            "--logs.checkpoint-retention=10m",
            "--logs.start-at=end",
        ],
        yaml,
    )
    .unwrap();
    let p = c.pipeline_config().unwrap().expect("a sink is set");
    assert_eq!(p.buffer.max_memory_bytes, 8 << 20);
    assert_eq!(p.buffer.when_full, WhenFull::DropNewest);
    let spool = p.buffer.spool.expect("a spool");
    assert_eq!(spool.dir, PathBuf::from("/d/spool"));
    assert_eq!(spool.max_total_bytes, 1 << 30);
    assert_eq!(spool.max_segment_bytes, 1 << 20);
    assert_eq!(p.batch.max_bytes, 256 << 10);
    assert_eq!(p.batch.max_events, 100);
    assert_eq!(p.batch.max_age, Duration::from_millis(300));
    assert_eq!(p.max_message_bytes, 64 << 10);
    // The raw line bound never drops below the tailer's default...
    assert_eq!(p.tail.max_line_bytes, 256 << 10);
    assert_eq!(p.partial_flush_timeout, Duration::from_secs(2));
    assert_eq!(p.tail.max_open_files, 16);
    assert_eq!(p.checkpoint_retention, Duration::from_secs(600));
    assert_eq!(p.tail.start_at, crate::agent::logs::tail::StartAt::End);
    assert!(!p.redact.defaults);
    assert!(p.sinks.loki.is_none());
    // ...and stays above a large message cap, so whole messages reach the reassembler.
    let big = merged(
        &["--logs.max-line-bytes=8MiB", "--sink.loki.url=http://l/"],
        "",
    )
    .unwrap()
    .pipeline_config()
    .unwrap()
    .expect("a sink is set");
    assert_eq!(big.tail.max_line_bytes, 10 << 20);
    assert!(p.sinks.elasticsearch.is_some());
    assert_eq!(p.data_dir, PathBuf::from("/d"));

    let c = merged(&["--sink.loki.url=http://l/loki/api/v1/push"], "").unwrap();
    let p = c.pipeline_config().unwrap().unwrap();
    assert_eq!(p.buffer.spool, None, "no spool by default");
    assert_eq!(p.buffer.max_memory_bytes, 16 << 20);
}
