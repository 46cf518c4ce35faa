//! Reading a stream: its blocks (on disk, sealed, open) and head that overlap the range
//! become time-sorted runs; runs whose times overlap (out-of-order pushes, chunks cut
//! while late entries still came) are merged by a stable sort (ties in push order),
//! the others are visited one after the other, so each block is decompressed only when
//! reached. With `must_contain`, a block whose trigram filter lacks a needle is not
//! decompressed at all ([`bloom`]); the others' lines are searched with `memmem` first
//! and only entries holding every needle are decoded and shown. Format-3 blocks
//! ([`fields`]) have their lines rebuilt into a reused buffer before that search —
//! only the lines whose template holds each needle's static part.

use super::block::{self, HeadEntry, Layout, Slot};
use super::bloom;
use super::chunk::BlockMeta;
use super::codec::{Codec, Decompressor};
use super::fields;
use super::spare::{Footprint, Spare};
use crate::aggregator::model::logs::{Direction, EntryView, Flow, LogStoreError};
use bytes::Bytes;
use memchr::memmem::Finder;

/// Sorted entries of one block or of the head.
pub struct Run {
    pub min_ts: i64,
    pub max_ts: i64,
    /// Creation order: ties between runs go in this order.
    pub ord: usize,
    pub layout: Layout,
    pub data: RunData,
}

pub enum RunData {
    Packed {
        codec: Codec,
        /// The block's filter and compressed bytes.
        bytes: Bytes,
        bloom_len: usize,
        raw_len: usize,
        origin: String,
    },
    Raw(Vec<u8>),
}

/// Blocks a scan decompressed and blocks its filters let it skip.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanStats {
    pub blocks_read: u64,
    pub blocks_skipped: u64,
}

impl Run {
    /// A stored block: `bytes` are its filter then its compressed bytes.
    pub fn packed(
        meta: &BlockMeta,
        codec: Codec,
        layout: Layout,
        bytes: Bytes,
        origin: String,
    ) -> Run {
        let data = RunData::Packed {
            codec,
            bytes,
            bloom_len: meta.bloom_len as usize,
            raw_len: meta.raw_len as usize,
            origin,
        };
        Run {
            min_ts: meta.min_ts,
            max_ts: meta.max_ts,
            ord: 0,
            layout,
            data,
        }
    }

    /// The head's entries (in time order) as a run.
    pub fn head(entries: &[HeadEntry]) -> Option<Run> {
        let (first, last) = (entries.first()?, entries.last()?);
        let mut raw = Vec::new();
        block::encode(entries, &mut raw);
        Some(Run {
            min_ts: first.ts,
            max_ts: last.ts,
            ord: 0,
            layout: Layout::Columns,
            data: RunData::Raw(raw),
        })
    }
}

/// What one scan asks for.
pub struct Query<'a> {
    pub start: i64,
    pub end: i64,
    pub direction: Direction,
    pub needles: Vec<Finder<'a>>,
}

/// A decoded run.
struct Decoded {
    raw: Vec<u8>,
    slots: Vec<Slot>,
}

/// Visits the runs' entries in the query's range and order; `stats` counts blocks.
pub fn scan<'q>(
    mut runs: Vec<Run>,
    q: &'q Query<'q>,
    stats: &mut ScanStats,
    visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
) -> Result<(), LogStoreError> {
    runs.iter_mut().enumerate().for_each(|(i, r)| r.ord = i);
    runs.sort_by_key(|r| r.min_ts);
    let mut groups = group(runs);
    if q.direction == Direction::Backward {
        groups.reverse();
    }
    let needles: Vec<&[u8]> = q.needles.iter().map(|f| f.needle()).collect();
    let mut ctx = Ctx {
        bufs: SPARE.with_borrow_mut(Spare::take),
        want: fields::Want::new(&needles),
        stats,
    };
    let mut flow = Ok(Flow::Continue);
    for g in groups {
        flow = visit_group(g, q, &mut ctx, visit);
        if !matches!(flow, Ok(Flow::Continue)) {
            break;
        }
    }
    SPARE.with_borrow_mut(|s| s.keep(ctx.bufs));
    flow.map(|_| ())
}

/// What a scan reuses from block to block, and a thread from scan to scan
/// ([`super::spare`]: a query scans stream after stream).
#[derive(Default)]
struct Buffers {
    dec: Decompressor,
    spare: Vec<u8>,
    /// A format-3 or 4 block's decompressed bytes (its lines are rebuilt into a run's buffer).
    unpacked: Vec<u8>,
    fields: fields::Decoder,
    /// A format-3 or 4 block's entries (reused as `spare` is).
    spare_slots: Vec<Slot>,
}

impl Footprint for Buffers {
    /// About how many bytes the buffers hold.
    fn bytes(&self) -> usize {
        self.spare.capacity()
            + self.unpacked.capacity()
            + self.spare_slots.capacity() * std::mem::size_of::<Slot>()
            + self.fields.bytes()
    }
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare<Buffers>> = std::cell::RefCell::default();
}

/// What one scan reads blocks with.
struct Ctx<'s> {
    bufs: Buffers,
    /// Which lines of a format-3 or 4 block to rebuild.
    want: fields::Want<'s>,
    stats: &'s mut ScanStats,
}

/// Splits runs (sorted by min time) into groups whose time spans overlap.
fn group(runs: Vec<Run>) -> Vec<Vec<Run>> {
    let mut out: Vec<Vec<Run>> = Vec::new();
    let mut hi = i64::MIN;
    for r in runs {
        match out.last_mut() {
            Some(g) if r.min_ts <= hi => g.push(r),
            _ => out.push(vec![r]),
        }
        hi = hi.max(out.last().expect("pushed").last().expect("pushed").max_ts);
    }
    out
}

fn visit_group(
    mut g: Vec<Run>,
    q: &Query<'_>,
    ctx: &mut Ctx<'_>,
    visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
) -> Result<Flow, LogStoreError> {
    if g.len() == 1 {
        let spare = std::mem::take(&mut ctx.bufs.spare);
        let d = decode(g.pop().expect("one run"), q, ctx, spare)?;
        let mut hits = selected(&d, q);
        if q.direction == Direction::Backward {
            hits.reverse();
        }
        let flow = show(hits.into_iter().map(|i| (&d, i)), visit);
        ctx.bufs.spare = d.raw;
        ctx.bufs.spare_slots = d.slots;
        return flow;
    }
    g.sort_by_key(|r| r.ord);
    let decoded = g
        .into_iter()
        .map(|r| decode(r, q, ctx, Vec::new()))
        .collect::<Result<Vec<_>, _>>()?;
    let mut hits: Vec<(i64, usize, usize)> = Vec::new();
    for (r, d) in decoded.iter().enumerate() {
        hits.extend(selected(d, q).into_iter().map(|i| (d.slots[i].ts, r, i)));
    }
    hits.sort_by_key(|h| h.0); // stable: ties stay in creation, then push, order
    if q.direction == Direction::Backward {
        hits.reverse();
    }
    show(hits.into_iter().map(|(_, r, i)| (&decoded[r], i)), visit)
}

/// The slots in range holding every needle, in time order.
fn selected(d: &Decoded, q: &Query<'_>) -> Vec<usize> {
    let mut hits = block::matching(&d.raw, &d.slots, &q.needles);
    hits.retain(|&i| (q.start..q.end).contains(&d.slots[i].ts));
    hits
}

fn show<'d>(
    hits: impl Iterator<Item = (&'d Decoded, usize)>,
    visit: &mut dyn FnMut(EntryView<'_>) -> Flow,
) -> Result<Flow, LogStoreError> {
    for (d, i) in hits {
        let s = &d.slots[i];
        let line = simdutf8::basic::from_utf8(&d.raw[s.start..s.start + s.len])
            .map_err(|_| LogStoreError::Corrupt("a stored line is not UTF-8".into()))?;
        let view = EntryView {
            ts: s.ts,
            line,
            metadata: &s.metadata,
        };
        if visit(view) == Flow::Stop {
            return Ok(Flow::Stop);
        }
    }
    Ok(Flow::Continue)
}

/// Decompresses a run into `raw` (a buffer to reuse) and parses its entries — none when
/// some needle is surely not in its lines (by its filter, before decompressing, or by
/// a search of its lines).
fn decode(
    r: Run,
    q: &Query<'_>,
    ctx: &mut Ctx<'_>,
    mut raw: Vec<u8>,
) -> Result<Decoded, LogStoreError> {
    let none = |raw| Decoded {
        raw,
        slots: Vec::new(),
    };
    let origin = match r.data {
        RunData::Raw(head) => {
            raw = head;
            "head block".to_string()
        }
        RunData::Packed {
            codec,
            bytes,
            bloom_len,
            raw_len,
            origin,
        } => {
            let (filter, packed) = bytes.split_at(bloom_len.min(bytes.len()));
            if !q
                .needles
                .iter()
                .all(|f| bloom::may_contain(filter, f.needle()))
            {
                ctx.stats.blocks_skipped += 1;
                return Ok(none(raw));
            }
            ctx.stats.blocks_read += 1;
            let into = match r.layout {
                Layout::Fields => &mut ctx.bufs.unpacked,
                Layout::Rows | Layout::Columns => &mut raw,
            };
            ctx.bufs
                .dec
                .decompress(codec, packed, raw_len, into)
                .map_err(|e| LogStoreError::Corrupt(format!("{origin}: {e}")))?;
            origin
        }
    };
    let corrupt = |e: String| LogStoreError::Corrupt(format!("{origin}: {e}"));
    if r.layout == Layout::Fields {
        let mut slots = std::mem::take(&mut ctx.bufs.spare_slots);
        let b = &mut ctx.bufs;
        b.fields
            .decode_where(&b.unpacked, &ctx.want, &mut raw, &mut slots)
            .map_err(corrupt)?;
        if !q.needles.iter().all(|f| f.find(&raw).is_some()) {
            slots.clear(); // kept for the next block
        }
        return Ok(Decoded { raw, slots });
    }
    let lines = block::lines(&raw).map_err(corrupt)?;
    if !q.needles.iter().all(|f| f.find(lines).is_some()) {
        return Ok(none(raw));
    }
    let slots = block::decode_slots(&raw, r.layout).map_err(corrupt)?;
    Ok(Decoded { raw, slots })
}
