//! The agent's command line (node_exporter's dotted flag style). Every flag has a
//! `NODEPULSE_*` environment variable and a config-file key; a flag or variable that is
//! set wins over the file, the file wins over the default. Defaults live in
//! [`super::defaults`] so `--help`, the file and the runtime config agree.

use clap::Parser;
use std::path::PathBuf;

#[derive(Debug, Default, Parser)]
#[command(
    name = "nodepulse-agent",
    version,
    about = "Kubernetes node agent: node_exporter-compatible node metrics on /metrics \
             (container metrics, pod states and log shipping arrive in later releases)."
)]
pub struct Flags {
    /// Address to serve /metrics, /healthz and /readyz on [default: 0.0.0.0:9101].
    #[arg(long = "web.listen-address", env = "NODEPULSE_WEB_LISTEN_ADDRESS")]
    pub listen_address: Option<String>,

    /// YAML configuration file; flags and environment variables override its keys.
    #[arg(long = "config.file", env = "NODEPULSE_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,

    /// Log format: text or json [default: text].
    #[arg(long = "log.format", env = "NODEPULSE_LOG_FORMAT")]
    pub log_format: Option<String>,

    /// Log level: error, warn, info, debug or trace [default: info].
    #[arg(long = "log.level", env = "NODEPULSE_LOG_LEVEL")]
    pub log_level: Option<String>,

    /// procfs mount point of the host [default: /proc].
    #[arg(long = "path.procfs", env = "NODEPULSE_PATH_PROCFS")]
    pub procfs: Option<PathBuf>,

    /// sysfs mount point of the host [default: /sys].
    #[arg(long = "path.sysfs", env = "NODEPULSE_PATH_SYSFS")]
    pub sysfs: Option<PathBuf>,

    /// Root filesystem of the host, prefixed to mount points [default: /].
    #[arg(long = "path.rootfs", env = "NODEPULSE_PATH_ROOTFS")]
    pub rootfs: Option<PathBuf>,

    /// Pod log directory (log shipping) [default: /var/log/pods].
    #[arg(long = "logs.pods-dir", env = "NODEPULSE_LOGS_PODS_DIR")]
    pub pods_dir: Option<PathBuf>,

    /// Container log symlink directory (log shipping) [default: /var/log/containers].
    #[arg(long = "logs.containers-dir", env = "NODEPULSE_LOGS_CONTAINERS_DIR")]
    pub containers_dir: Option<PathBuf>,

    /// Directory for log checkpoints (log shipping) [default: /var/lib/nodepulse].
    #[arg(long = "data-dir", env = "NODEPULSE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Globs of live log file paths to ship, comma-separated [default: all].
    #[arg(
        long = "logs.include",
        env = "NODEPULSE_LOGS_INCLUDE",
        value_delimiter = ','
    )]
    pub logs_include: Option<Vec<String>>,

    /// Globs of live log file paths not to ship, comma-separated [default: none].
    #[arg(
        long = "logs.exclude",
        env = "NODEPULSE_LOGS_EXCLUDE",
        value_delimiter = ','
    )]
    pub logs_exclude: Option<Vec<String>>,

    /// Where to start in log files already present at the first start, when no
    /// checkpoint exists: beginning or end [default: beginning]. New files are always
    /// read from their beginning.
    #[arg(long = "logs.start-at", env = "NODEPULSE_LOGS_START_AT")]
    pub logs_start_at: Option<String>,

    /// Bytes of log batches held in memory [default: 67108864].
    #[arg(
        long = "logs.buffer.max-bytes",
        env = "NODEPULSE_LOGS_BUFFER_MAX_BYTES"
    )]
    pub logs_buffer_max_bytes: Option<u64>,

    /// Bytes of the disk spool under <data-dir>/spool; 0: no spool [default: 0].
    #[arg(long = "logs.spool.max-bytes", env = "NODEPULSE_LOGS_SPOOL_MAX_BYTES")]
    pub logs_spool_max_bytes: Option<u64>,

    /// Loki push URL, e.g. http://aggregator:9201/loki/api/v1/push (not used yet).
    #[arg(long = "sink.loki.url", env = "NODEPULSE_SINK_LOKI_URL")]
    pub loki_url: Option<String>,

    /// Elasticsearch/OpenSearch base URL for _bulk (not used yet).
    #[arg(
        long = "sink.elasticsearch.url",
        env = "NODEPULSE_SINK_ELASTICSEARCH_URL"
    )]
    pub elasticsearch_url: Option<String>,

    /// This node's name [default: $NODE_NAME, else the host name].
    #[arg(long = "node-name", env = "NODEPULSE_NODE_NAME")]
    pub node_name: Option<String>,

    /// Kubernetes API access: auto or off (not used yet) [default: auto].
    #[arg(long = "kube.api", env = "NODEPULSE_KUBE_API")]
    pub kube_api: Option<String>,

    /// kubeconfig file for running outside a cluster (not used yet).
    #[arg(long = "kubeconfig", env = "NODEPULSE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Collectors to turn off, comma-separated (e.g. "filesystem,conntrack").
    #[arg(
        long = "collectors.disable",
        env = "NODEPULSE_COLLECTORS_DISABLE",
        value_delimiter = ','
    )]
    pub disable: Option<Vec<String>>,

    /// Regexp of mount points to ignore (node_exporter's default).
    #[arg(
        long = "collector.filesystem.mount-points-exclude",
        env = "NODEPULSE_COLLECTOR_FILESYSTEM_MOUNT_POINTS_EXCLUDE"
    )]
    pub fs_mount_points_exclude: Option<String>,

    /// Regexp of filesystem types to ignore (node_exporter's default).
    #[arg(
        long = "collector.filesystem.fs-types-exclude",
        env = "NODEPULSE_COLLECTOR_FILESYSTEM_FS_TYPES_EXCLUDE"
    )]
    pub fs_types_exclude: Option<String>,

    /// How long statfs may take before a mount is skipped as stuck [default: 5s].
    #[arg(
        long = "collector.filesystem.mount-timeout",
        env = "NODEPULSE_COLLECTOR_FILESYSTEM_MOUNT_TIMEOUT"
    )]
    pub fs_mount_timeout: Option<String>,

    /// Regexp of block devices to ignore in diskstats (node_exporter's default).
    #[arg(
        long = "collector.diskstats.device-exclude",
        env = "NODEPULSE_COLLECTOR_DISKSTATS_DEVICE_EXCLUDE"
    )]
    pub diskstats_device_exclude: Option<String>,

    /// Regexp of network devices to ignore in netdev [default: none].
    #[arg(
        long = "collector.netdev.device-exclude",
        env = "NODEPULSE_COLLECTOR_NETDEV_DEVICE_EXCLUDE"
    )]
    pub netdev_device_exclude: Option<String>,

    /// Regexp of network devices to ignore in netclass [default: ^$].
    #[arg(
        long = "collector.netclass.ignored-devices",
        env = "NODEPULSE_COLLECTOR_NETCLASS_IGNORED_DEVICES"
    )]
    pub netclass_ignored_devices: Option<String>,

    /// Regexp of /proc/net/{netstat,snmp,snmp6} fields to return (node_exporter's default).
    #[arg(
        long = "collector.netstat.fields",
        env = "NODEPULSE_COLLECTOR_NETSTAT_FIELDS"
    )]
    pub netstat_fields: Option<String>,

    /// Regexp of /proc/vmstat fields to return (node_exporter's default).
    #[arg(
        long = "collector.vmstat.fields",
        env = "NODEPULSE_COLLECTOR_VMSTAT_FIELDS"
    )]
    pub vmstat_fields: Option<String>,

    /// Directory to read text files with metrics from (*.prom) [default: none].
    #[arg(
        long = "collector.textfile.directory",
        env = "NODEPULSE_COLLECTOR_TEXTFILE_DIRECTORY"
    )]
    pub textfile_directory: Option<PathBuf>,

    /// Largest textfile read, in bytes; larger files are skipped [default: 16777216].
    #[arg(
        long = "collector.textfile.max-file-bytes",
        env = "NODEPULSE_COLLECTOR_TEXTFILE_MAX_FILE_BYTES"
    )]
    pub textfile_max_file_bytes: Option<u64>,
}
