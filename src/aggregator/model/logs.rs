//! The log side's shared data model: what the Loki push receiver hands the log store
//! ([`LogAppender`]), and what LogQL and the Loki query API read through ([`LogReader`]).
//! Times are nanoseconds since the epoch, as Loki's are; label sets are the metrics
//! side's [`Labels`] and selectors match with promql-parser's [`Matcher`].

use super::Labels;
use promql_parser::label::Matcher;

/// One log line as pushed: its time (ns since the epoch), the line, and Loki's
/// structured metadata (name/value pairs in push order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub ts: i64,
    pub line: String,
    pub metadata: Vec<(String, String)>,
}

/// One stream's entries from one push request (Loki's `Stream`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushStream {
    pub labels: Labels,
    pub entries: Vec<LogEntry>,
}

/// Why the store refused an entry (Loki answers 400 naming the first, and keeps the rest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryRefusal {
    /// Older than the stream's newest entry minus the out-of-order window.
    TooFarBehind,
    /// Older than retention, or too far in the future.
    OutOfBounds,
    /// A store limit (e.g. streams held) was hit.
    Limit(String),
}

/// What a push did: entries stored (and durable), and the first refusal of each kind
/// with the stream it came from, so the receiver can answer as Loki does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushOutcome {
    pub accepted: u64,
    pub duplicates: u64,
    pub refused: u64,
    /// The first refusal, with its stream's labels and the entry's time.
    pub first_refusal: Option<(Labels, i64, EntryRefusal)>,
}

/// The log store could not answer or take data.
#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("log store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("log store data corrupt: {0}")]
    Corrupt(String),
    #[error("log store limit: {0}")]
    Limit(String),
}

/// The write side. When `push` returns `Ok`, every accepted entry is durable (its WAL
/// record is fsynced), so the receiver may answer 204.
pub trait LogAppender: Send + Sync {
    fn push(&self, streams: Vec<PushStream>) -> Result<PushOutcome, LogStoreError>;
}

/// The order entries are visited in (Loki's `direction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A stream the store holds: a stable id for [`LogReader::scan`] and its labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRef {
    pub id: u64,
    pub labels: Labels,
}

/// What a scan visitor tells the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// One entry as a scan shows it: borrowed from the store's decoded block.
#[derive(Clone, Copy, Debug)]
pub struct EntryView<'a> {
    pub ts: i64,
    pub line: &'a str,
    pub metadata: &'a [(String, String)],
}

/// Counts for `/loki/api/v1/index/stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub streams: u64,
    pub chunks: u64,
    pub entries: u64,
    pub bytes: u64,
}

/// The read side. Time ranges are `start <= ts < end` (ns).
pub trait LogReader: Send + Sync {
    /// Streams whose labels satisfy every matcher and that may hold entries in the
    /// range, sorted by labels.
    fn streams(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<StreamRef>;

    /// Visits the entries of stream `id` in the range in `direction` order (ties in
    /// push order, reversed for backward) until the visitor says stop.
    /// `must_contain` is a hint: the caller wants only lines containing every one of
    /// these byte strings, so the store may skip other lines (and whole blocks) without
    /// decoding them; the caller still checks what it is shown.
    fn scan(
        &self,
        id: u64,
        start: i64,
        end: i64,
        direction: Direction,
        must_contain: &[&[u8]],
        visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
    ) -> Result<(), LogStoreError>;

    /// Streams, chunks, entries and line bytes of the matching streams in the range.
    fn stats(&self, matchers: &[Matcher], start: i64, end: i64) -> IndexStats;
}
