//! The PromQL queries both servers answer. Instant queries run at several times (see
//! the test); range queries over the last 45 minutes at a 60 s step. `$START` stands
//! for the data set's first sample time in seconds.
//!
//! [`INSTANT`] and [`RANGE`] hold what the engine supports today and must agree;
//! [`PENDING`] holds queries over features still being built (functions, aggregations,
//! operators): `cargo test --test aggregator_vs_prometheus -- --ignored` shows which of
//! them agree, so they can move up.

pub const INSTANT: &[&str] = &[
    "up",
    "http_requests_total",
    "http_requests_total{job=\"api\",code=~\"5..\"}",
    "http_requests_total{method!=\"GET\",instance!~\"10\\\\.0\\\\.1\\\\..*\"}",
    "{__name__=~\"node_.*\"}",
    "{job=\"web\", __name__!=\"up\", __name__!~\"http.*\"}",
    "{__name__=~\"request_duration_seconds_.*\", le=\"0.5\"}",
    "temperature_celsius",
    "temperature_celsius{sensor=~\"g.*|q.*\"}",
    "nonexistent_metric",
    "http_requests_total offset 10m",
    "up offset -5m",
    "http_requests_total @ $START",
    "node_memory_free_bytes @ end()",
    "queue_depth",
    "http_requests_total[5m]",
    "temperature_celsius[10m]",
    "queue_depth[2m]",
    "node_memory_free_bytes[3m] offset 1m",
    "http_requests_total[5m:1m]",
    "queue_depth[10m:30s] offset 2m",
    "1",
    "-2.5",
    "Inf",
    "\"a string\"",
];

pub const RANGE: &[&str] = &[
    "up",
    "temperature_celsius",
    "queue_depth",
    "http_requests_total{code=\"500\"} offset 3m",
    "node_memory_free_bytes @ $START",
    "1",
];

pub const PENDING: &[&str] = &[
    "rate(http_requests_total[5m])",
    "irate(http_requests_total[5m])",
    "increase(http_requests_total[10m])",
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum without (instance) (http_requests_total)",
    "avg(node_memory_free_bytes)",
    "max by (job) (node_memory_free_bytes)",
    "min(node_memory_free_bytes)",
    "count by (code) (http_requests_total)",
    "topk(2, node_memory_free_bytes)",
    "bottomk(1, node_memory_free_bytes)",
    "quantile(0.5, node_memory_free_bytes)",
    "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, rate(request_duration_seconds_bucket[5m]))",
    "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
    "node_memory_free_bytes / 1024 / 1024",
    "http_requests_total > 500",
    "http_requests_total > bool 500",
    "avg_over_time(node_memory_free_bytes[10m])",
    "max_over_time(temperature_celsius[1h])",
    "count_over_time(temperature_celsius[1h])",
    "resets(http_requests_total[1h])",
    "changes(temperature_celsius[1h])",
    "delta(node_memory_free_bytes[10m])",
    "deriv(node_memory_free_bytes[10m])",
    "abs(node_memory_free_bytes - 4e9)",
    "sum by (job, instance) (rate(http_requests_total[5m])) / on (job, instance) up",
    "sum(queue_depth)",
    "time()",
    "vector(1) / scalar(sum(up))",
    "absent(nonexistent_metric)",
    "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
    "clamp_max(node_memory_free_bytes, 4e9)",
    "1 + 1",
];

pub const PENDING_RANGE: &[&str] = &[
    "rate(http_requests_total[5m])",
    "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.9, sum by (le, job) (rate(request_duration_seconds_bucket[5m])))",
    "increase(http_requests_total{code=\"500\"}[2m])",
    "avg_over_time(temperature_celsius[5m])",
];
