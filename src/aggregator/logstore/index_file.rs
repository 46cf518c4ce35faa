//! The persisted index (`index`): every stream with chunks on disk — id, labels, the
//! WAL sequence its chunks cover, and each chunk's id, time span, entry and byte counts
//! — and the next ids, so a restart reads one file instead of every chunk. It is a
//! cache of what the chunk files say: written (tmp, fsync, rename) at WAL truncation
//! and shutdown; at open, chunk files it does not know (written after it) have their
//! headers read, and entries whose file is gone are dropped. A damaged index is
//! logged and rebuilt from the chunk headers.

use super::chunk::ChunkSpan;
use super::chunk_file;
use super::metrics::Counters;
use super::state::State;
use super::stream::{ChunkRef, Stream};
use crate::aggregator::model::Labels;
use crate::aggregator::tsdb::record::{
    put_str, put_uvarint, unzigzag, zigzag, Cursor, RecordError,
};
use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

const MAGIC: &[u8; 4] = b"NPI1";

/// What the store found on disk at open.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LoadStats {
    pub streams: u64,
    pub chunks: u64,
    /// Chunk files the index did not know: their headers were read.
    pub headers_read: u64,
    /// Chunk files refused as corrupt (renamed `<id>.corrupt`).
    pub corrupt: u64,
    pub index_rebuilt: bool,
}

pub fn write(dir: &Path, st: &State) -> std::io::Result<()> {
    let mut b = Vec::new();
    for x in [st.next_stream, st.next_chunk, st.next_seq] {
        put_uvarint(&mut b, x);
    }
    let mut ids: Vec<u64> = st
        .streams
        .values()
        .filter(|s| !s.chunks.is_empty())
        .map(|s| s.id)
        .collect();
    ids.sort_unstable();
    put_uvarint(&mut b, ids.len() as u64);
    for id in ids {
        let s = &st.streams[&id];
        put_uvarint(&mut b, s.id);
        put_uvarint(&mut b, s.labels.len() as u64);
        for (n, v) in s.labels.iter() {
            put_str(&mut b, n);
            put_str(&mut b, v);
        }
        put_uvarint(&mut b, s.flushed_upto);
        put_uvarint(&mut b, s.chunks.len() as u64);
        for c in &s.chunks {
            put_uvarint(&mut b, c.id);
            put_uvarint(&mut b, zigzag(c.span.min_ts));
            put_uvarint(&mut b, zigzag(c.span.max_ts));
            put_uvarint(&mut b, c.span.entries);
            put_uvarint(&mut b, c.span.raw_bytes);
            put_uvarint(&mut b, c.file_bytes);
        }
    }
    let tmp = dir.join("index.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(MAGIC)?;
    f.write_all(&crc32fast::hash(&b).to_le_bytes())?;
    f.write_all(&b)?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join("index"))?;
    File::open(dir)?.sync_all()
}

fn decode(b: &[u8]) -> Result<State, String> {
    if b.len() < 8 || &b[..4] != MAGIC {
        return Err("not an index file".into());
    }
    if crc32fast::hash(&b[8..]) != u32::from_le_bytes(b[4..8].try_into().expect("4 bytes")) {
        return Err("CRC mismatch".into());
    }
    decode_body(&b[8..]).map_err(|e| e.to_string())
}

fn decode_body(b: &[u8]) -> Result<State, RecordError> {
    let mut c = Cursor::new(b);
    let mut st = State {
        next_stream: c.uvarint()?,
        next_chunk: c.uvarint()?,
        next_seq: c.uvarint()?,
        ..Default::default()
    };
    for _ in 0..c.count()? {
        let id = c.uvarint()?;
        let mut pairs = Vec::new();
        for _ in 0..c.count()? {
            pairs.push((c.string()?, c.string()?));
        }
        let mut s = Stream::new(id, Labels::new(pairs));
        s.flushed_upto = c.uvarint()?;
        for _ in 0..c.count()? {
            let id = c.uvarint()?;
            let (min_ts, max_ts) = (unzigzag(c.uvarint()?), unzigzag(c.uvarint()?));
            let span = ChunkSpan {
                min_ts,
                max_ts,
                entries: c.uvarint()?,
                raw_bytes: c.uvarint()?,
            };
            s.chunks.push(ChunkRef {
                id,
                span,
                file_bytes: c.uvarint()?,
            });
        }
        st.insert_stream(s);
    }
    match c.left() {
        0 => Ok(st),
        n => Err(RecordError::Trailing(n)),
    }
}

/// The state the index and the chunk files describe.
pub fn load(dir: &Path, chunks: &Path, counters: &Counters) -> std::io::Result<(State, LoadStats)> {
    let mut stats = LoadStats::default();
    let mut st = match fs::read(dir.join("index")) {
        Ok(b) => decode(&b).unwrap_or_else(|why| {
            tracing::warn!(path = %dir.join("index").display(), %why, "Log index is damaged; rebuilding it from the chunk files.");
            stats.index_rebuilt = true;
            State::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
        Err(e) => return Err(e),
    };
    let files = list_chunks(chunks)?;
    let known: HashSet<u64> = st
        .streams
        .values()
        .flat_map(|s| s.chunks.iter().map(|c| c.id))
        .collect();
    for s in st.streams.values_mut() {
        s.chunks.retain(|c| files.contains_key(&c.id));
    }
    for (&id, _) in files.iter().filter(|(id, _)| !known.contains(id)) {
        add_from_header(&mut st, chunks, id, &mut stats, counters);
    }
    finish(&mut st, &mut stats);
    Ok((st, stats))
}

/// The chunk files by id (sorted); leftover `.tmp` files are deleted.
fn list_chunks(chunks: &Path) -> std::io::Result<BTreeMap<u64, ()>> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(chunks)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".tmp") {
            fs::remove_file(chunks.join(&*name))?;
        } else if let Some(id) = chunk_file::parse_name(&name) {
            out.insert(id, ());
        }
    }
    Ok(out)
}

fn add_from_header(
    st: &mut State,
    chunks: &Path,
    id: u64,
    stats: &mut LoadStats,
    counters: &Counters,
) {
    let path = chunk_file::path(chunks, id);
    let (h, size) = match chunk_file::read_header(&path) {
        Ok(x) => x,
        Err(why) => {
            set_aside(&path, &why, counters);
            stats.corrupt += 1;
            return;
        }
    };
    stats.headers_read += 1;
    let sid = match st.by_labels.get(&h.labels) {
        Some(&sid) => sid,
        None if !st.streams.contains_key(&h.stream) => {
            st.insert_stream(Stream::new(h.stream, h.labels.clone()));
            h.stream
        }
        None => st.add_stream(h.labels.clone()),
    };
    let s = st.streams.get_mut(&sid).expect("just found or added");
    s.chunks.push(ChunkRef {
        id,
        span: h.span,
        file_bytes: size,
    });
    s.flushed_upto = s.flushed_upto.max(h.upto);
    st.next_seq = st.next_seq.max(h.upto + 1);
    st.next_chunk = st.next_chunk.max(id + 1);
}

/// Sorts chunk lists, drops streams with none, sets each stream's newest time.
fn finish(st: &mut State, stats: &mut LoadStats) {
    st.forget_empty_streams();
    let (mut bytes, mut next_chunk) = (0, st.next_chunk);
    for s in st.streams.values_mut() {
        s.chunks.sort_unstable_by_key(|c| c.id);
        s.newest = s
            .chunks
            .iter()
            .map(|c| c.span.max_ts)
            .max()
            .unwrap_or(i64::MIN);
        bytes += s.chunks.iter().map(|c| c.file_bytes).sum::<u64>();
        stats.chunks += s.chunks.len() as u64;
        next_chunk = next_chunk.max(s.chunks.last().map_or(0, |c| c.id + 1));
    }
    (st.disk_bytes, st.next_chunk) = (bytes, next_chunk);
    stats.streams = st.streams.len() as u64;
}

/// Renames a damaged chunk file `<id>.corrupt` (kept for inspection, no longer read),
/// logs it by name and counts it.
pub fn set_aside(path: &Path, why: &str, counters: &Counters) {
    tracing::error!(path = %path.display(), %why, "Log chunk file is corrupt; set aside, the rest is served.");
    Counters::add(&counters.chunks_corrupt, 1);
    if let Err(e) = fs::rename(path, path.with_extension("corrupt")) {
        tracing::warn!(path = %path.display(), error = %e, "Could not rename a corrupt chunk file.");
    }
}
