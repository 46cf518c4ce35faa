//! Loki's push messages (`logproto`, grafana/loki `pkg/push/push.proto`) as prost derive
//! structs written by hand, so the build needs no protoc. Shared by the agent's Loki sink
//! (which encodes them) and the aggregator's push receiver (which decodes them). Field
//! numbers and names are the wire contract: keep them exactly as upstream.
//!
//! Upstream generates these with gogoproto (`Stream`/`Entry` custom types, `stdtime`
//! timestamps); none of that changes the bytes on the wire.

/// `google.protobuf.Timestamp`: seconds since the epoch and the nanoseconds within it.
/// Written here rather than taken from prost-types to keep that crate out of the build.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Timestamp {
    /// Splits nanoseconds since the epoch; `nanos` is always in `0..1e9`, as the spec
    /// requires, also before 1970.
    pub fn from_unix_nanos(ns: i64) -> Self {
        Timestamp {
            seconds: ns.div_euclid(1_000_000_000),
            nanos: ns.rem_euclid(1_000_000_000) as i32,
        }
    }

    pub fn unix_nanos(self) -> i128 {
        i128::from(self.seconds) * 1_000_000_000 + i128::from(self.nanos)
    }
}

/// `logproto.PushRequest`: the body of `POST /loki/api/v1/push`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: one label set and its entries.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    /// The label set in Prometheus text form, `{a="b", c="d"}`.
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    /// Left 0: the distributor computes its own stream hash from the labels.
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`: one log line.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    /// `structuredMetadata` upstream (Loki 2.9+; stored when the tenant allows it).
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`: one structured-metadata pair.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}
