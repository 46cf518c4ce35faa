//! The remote_write 1.0 receiver's pure part: a request body (snappy block format of a
//! protobuf `WriteRequest`) in, a validated append batch out, with every size bounded by
//! [`Limits`]. The HTTP handler (`http::write`) owns the I/O and the status codes; this
//! module only says which [`WriteError`]s are the sender's fault (400, do not retry).

mod proto;

use crate::aggregator::model::{Labels, Sample, METRIC_NAME};
use prost::Message;
pub use proto::{Label as ProtoLabel, Sample as ProtoSample, TimeSeries, WriteRequest};

/// The receiver's bounds; a request over any of them is refused with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Compressed body bytes (the HTTP layer refuses larger bodies with 413).
    pub max_body_bytes: usize,
    /// Decompressed bytes, checked against the snappy length header before decoding.
    pub max_decompressed_bytes: usize,
    /// Series in one request.
    pub max_series: usize,
    /// Labels on one series.
    pub max_labels_per_series: usize,
}

impl Default for Limits {
    /// Prometheus's sender ships at most 2,000 samples per request by default
    /// (`max_samples_per_send`), a few hundred KiB; these leave a wide margin.
    fn default() -> Self {
        Limits {
            max_body_bytes: 32 << 20,
            max_decompressed_bytes: 128 << 20,
            max_series: 100_000,
            max_labels_per_series: 64,
        }
    }
}

/// A request the receiver refuses; all are the sender's fault (400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WriteError {
    #[error("snappy: {0}")]
    Snappy(String),
    #[error("decompressed body of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("protobuf: {0}")]
    Protobuf(String),
    #[error("{count} series exceed the limit of {limit} per request")]
    TooManySeries { count: usize, limit: usize },
    #[error("invalid labels: {0}")]
    Labels(String),
}

/// One append batch: a label set and its samples, in request order.
pub type Batch = Vec<(Labels, Vec<Sample>)>;

/// Decodes and validates a request body.
pub fn decode(body: &[u8], limits: &Limits) -> Result<Batch, WriteError> {
    let size = snap::raw::decompress_len(body).map_err(|e| WriteError::Snappy(e.to_string()))?;
    if size > limits.max_decompressed_bytes {
        return Err(WriteError::TooLarge {
            size,
            limit: limits.max_decompressed_bytes,
        });
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| WriteError::Snappy(e.to_string()))?;
    let req =
        WriteRequest::decode(raw.as_slice()).map_err(|e| WriteError::Protobuf(e.to_string()))?;
    if req.timeseries.len() > limits.max_series {
        return Err(WriteError::TooManySeries {
            count: req.timeseries.len(),
            limit: limits.max_series,
        });
    }
    req.timeseries
        .into_iter()
        .map(|ts| series(ts, limits))
        .collect()
}

/// Encodes a batch as a request body: what a remote_write sender does (tests, benches,
/// forwarding). Stale markers keep their NaN bits.
pub fn encode(batch: &[(Labels, Vec<Sample>)]) -> Vec<u8> {
    let req = WriteRequest {
        timeseries: batch.iter().map(|(l, s)| to_proto(l, s)).collect(),
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .expect("snappy compresses any input below 4 GiB")
}

fn to_proto(labels: &Labels, samples: &[Sample]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| ProtoLabel {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|s| ProtoSample {
                value: s.v,
                timestamp: s.t,
            })
            .collect(),
    }
}

fn series(ts: TimeSeries, limits: &Limits) -> Result<(Labels, Vec<Sample>), WriteError> {
    if ts.labels.len() > limits.max_labels_per_series {
        return Err(WriteError::Labels(format!(
            "{} labels exceed the limit of {} per series",
            ts.labels.len(),
            limits.max_labels_per_series
        )));
    }
    let labels = labels(ts.labels)?;
    let samples = ts
        .samples
        .into_iter()
        .map(|s| Sample {
            t: s.timestamp,
            v: s.value,
        })
        .collect();
    Ok((labels, samples))
}

/// Label names as Prometheus validates them (`model.LabelName.IsValid`), the metric
/// name as `model.IsValidMetricName`, no repeated name, at least one non-empty label.
fn labels(pairs: Vec<ProtoLabel>) -> Result<Labels, WriteError> {
    let mut seen: Vec<&str> = pairs.iter().map(|l| l.name.as_str()).collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(WriteError::Labels(format!(
            "duplicate label name {:?}",
            w[0]
        )));
    }
    for l in &pairs {
        if !valid_label_name(&l.name) {
            return Err(WriteError::Labels(format!(
                "invalid label name {:?}",
                l.name
            )));
        }
        if l.name == METRIC_NAME && !valid_metric_name(&l.value) {
            return Err(WriteError::Labels(format!(
                "invalid metric name {:?}",
                l.value
            )));
        }
    }
    let labels = Labels::new(pairs.into_iter().map(|l| (l.name, l.value)).collect());
    if labels.is_empty() {
        return Err(WriteError::Labels("a series without labels".into()));
    }
    Ok(labels)
}

fn valid_label_name(name: &str) -> bool {
    valid_name(name, |c| c.is_ascii_alphabetic() || c == b'_')
}

fn valid_metric_name(name: &str) -> bool {
    valid_name(name, |c| c.is_ascii_alphabetic() || c == b'_' || c == b':')
}

fn valid_name(name: &str, first: impl Fn(u8) -> bool) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && first(b[0]) && b[1..].iter().all(|&c| first(c) || c.is_ascii_digit())
}

#[cfg(test)]
mod tests;
