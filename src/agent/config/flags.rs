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

    /// Web configuration file (the exporter toolkit's: TLS, client certificates,
    /// basic-auth users, headers), read again when it changes [default: none].
    #[arg(long = "web.config.file", env = "NODEPULSE_WEB_CONFIG_FILE")]
    pub web_config_file: Option<PathBuf>,

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

    /// Memory the log buffer may hold, in bytes or with KiB/MiB/GiB [default: 16MiB].
    #[arg(
        long = "logs.buffer.max-bytes",
        env = "NODEPULSE_LOGS_BUFFER_MAX_BYTES"
    )]
    pub buffer_max_bytes: Option<String>,

    /// When the log buffer (and spool) is full: block (reading waits, nothing is lost)
    /// or drop_newest (the new batch is dropped and counted) [default: block].
    #[arg(
        long = "logs.buffer.when-full",
        env = "NODEPULSE_LOGS_BUFFER_WHEN_FULL"
    )]
    pub buffer_when_full: Option<String>,

    /// Disk spool under <data-dir>/spool for batches that do not fit in memory, in
    /// bytes or with KiB/MiB/GiB; 0 turns it off [default: 0].
    #[arg(long = "logs.spool.max-bytes", env = "NODEPULSE_LOGS_SPOOL_MAX_BYTES")]
    pub spool_max_bytes: Option<String>,

    /// Largest log batch (one request per sink), in bytes or with KiB/MiB [default: 1MiB].
    #[arg(long = "logs.batch.max-bytes", env = "NODEPULSE_LOGS_BATCH_MAX_BYTES")]
    pub batch_max_bytes: Option<String>,

    /// Most log events in one batch [default: 10000].
    #[arg(
        long = "logs.batch.max-events",
        env = "NODEPULSE_LOGS_BATCH_MAX_EVENTS"
    )]
    pub batch_max_events: Option<String>,

    /// Longest a batch waits to fill before it is sent, e.g. 1s, 250ms [default: 1s].
    #[arg(long = "logs.batch.timeout", env = "NODEPULSE_LOGS_BATCH_TIMEOUT")]
    pub batch_timeout: Option<String>,

    /// Longest log message after partial lines are joined; longer ones are cut with a
    /// marker and counted [default: 1MiB].
    #[arg(long = "logs.max-line-bytes", env = "NODEPULSE_LOGS_MAX_LINE_BYTES")]
    pub max_line_bytes: Option<String>,

    /// How long a partial (P) line waits for its end before it is shipped as it is,
    /// marked incomplete and counted [default: 5s].
    #[arg(
        long = "logs.partial-flush-timeout",
        env = "NODEPULSE_LOGS_PARTIAL_FLUSH_TIMEOUT"
    )]
    pub partial_flush_timeout: Option<String>,

    /// Most log files held open at once [default: 1024].
    #[arg(long = "logs.max-open-files", env = "NODEPULSE_LOGS_MAX_OPEN_FILES")]
    pub max_open_files: Option<String>,

    /// How long the checkpoint of a log file no longer at its path (deleted, or renamed
    /// and not found again) is kept, e.g. 5m, 1h; files still on disk keep theirs
    /// [default: 5m].
    #[arg(
        long = "logs.checkpoint-retention",
        env = "NODEPULSE_LOGS_CHECKPOINT_RETENTION"
    )]
    pub checkpoint_retention: Option<String>,

    /// Loki push URL, e.g. http://aggregator:9201/loki/api/v1/push; turns log shipping
    /// to Loki on.
    #[arg(long = "sink.loki.url", env = "NODEPULSE_SINK_LOKI_URL")]
    pub loki_url: Option<String>,

    /// Loki push body: protobuf (snappy) or json (gzip) [default: protobuf].
    #[arg(long = "sink.loki.format", env = "NODEPULSE_SINK_LOKI_FORMAT")]
    pub loki_format: Option<String>,

    /// Loki tenant, sent as X-Scope-OrgID [default: none].
    #[arg(long = "sink.loki.tenant-id", env = "NODEPULSE_SINK_LOKI_TENANT_ID")]
    pub loki_tenant_id: Option<String>,

    /// Elasticsearch/OpenSearch base URL (http://es:9200); turns log shipping to its
    /// _bulk API on.
    #[arg(
        long = "sink.elasticsearch.url",
        env = "NODEPULSE_SINK_ELASTICSEARCH_URL"
    )]
    pub elasticsearch_url: Option<String>,

    /// Elasticsearch index: a name, or a daily pattern with %Y %m %d
    /// [default: nodepulse-%Y.%m.%d].
    #[arg(
        long = "sink.elasticsearch.index",
        env = "NODEPULSE_SINK_ELASTICSEARCH_INDEX"
    )]
    pub elasticsearch_index: Option<String>,

    /// This node's name [default: $NODE_NAME, else the host name].
    #[arg(long = "node-name", env = "NODEPULSE_NODE_NAME")]
    pub node_name: Option<String>,

    /// Kubernetes API access: auto (--kubeconfig if given, else in-cluster, else none),
    /// off, or an http(s):// URL used without credentials [default: auto].
    #[arg(long = "kube.api", env = "NODEPULSE_KUBE_API")]
    pub kube_api: Option<String>,

    /// kubeconfig file for running outside a cluster.
    #[arg(long = "kubeconfig", env = "NODEPULSE_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// How long a deleted pod's metadata stays for its last log lines [default: 60s].
    #[arg(long = "kube.delete-grace", env = "NODEPULSE_KUBE_DELETE_GRACE")]
    pub kube_delete_grace: Option<String>,

    /// Pod and namespace annotations to keep besides nodepulse.io/*, comma-separated.
    #[arg(
        long = "kube.annotations",
        env = "NODEPULSE_KUBE_ANNOTATIONS",
        value_delimiter = ','
    )]
    pub kube_annotations: Option<Vec<String>>,

    /// Loki stream labels taken from pod labels: label=podlabel[|podlabel...] or
    /// podlabel, comma-separated; "" for none [default: app=app.kubernetes.io/name|app|k8s-app].
    #[arg(long = "kube.stream-labels", env = "NODEPULSE_KUBE_STREAM_LABELS")]
    pub kube_stream_labels: Option<String>,

    /// How long log shipping waits at start for the first list of this node's pods, so
    /// the first lines are enriched (and excluded pods skipped) [default: 10s].
    #[arg(long = "kube.sync-timeout", env = "NODEPULSE_KUBE_SYNC_TIMEOUT")]
    pub kube_sync_timeout: Option<String>,

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

    #[command(flatten)]
    pub containers: super::containers::ContainersFlags,
}
