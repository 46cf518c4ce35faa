//! Writing a block: the chunks file, the index and `meta.json` go into `<dir>/<id>.tmp/`,
//! are fsynced, and the directory is renamed to `<dir>/<id>/` (then the parent is
//! fsynced), so a crash leaves either a whole block or a `.tmp` directory that `open`
//! deletes. Ids are ULIDs, as Prometheus's: they sort by creation time.

use super::index::{self, BlockSeries, ChunkMeta};
use super::{BlockMeta, BlockStats, CHUNKS_MAGIC};
use crate::aggregator::model::{Labels, StorageError};
use crate::aggregator::tsdb::head::ChunkCopies;
use crate::aggregator::tsdb::record::put_uvarint;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Writes the series of `mint..maxt` (sorted by labels, each with chunks) as a block in
/// `dir`; returns its directory.
pub fn write(
    dir: &Path,
    mint: i64,
    maxt: i64,
    series: &[(Arc<Labels>, ChunkCopies)],
) -> Result<PathBuf, StorageError> {
    let id = ulid();
    let tmp = dir.join(format!("{id}.tmp"));
    let done = dir.join(&id);
    fs::create_dir_all(&tmp)?;
    let written = write_files(&tmp, &id, mint, maxt, series);
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    sync_dir(&tmp)?;
    fs::rename(&tmp, &done)?;
    sync_dir(dir)?;
    Ok(done)
}

fn write_files(
    tmp: &Path,
    id: &str,
    mint: i64,
    maxt: i64,
    series: &[(Arc<Labels>, ChunkCopies)],
) -> Result<(), StorageError> {
    let mut stats = BlockStats::default();
    let mut chunks = BufWriter::new(File::create(tmp.join("chunks"))?);
    chunks.write_all(CHUNKS_MAGIC)?;
    let mut offset = CHUNKS_MAGIC.len() as u64;
    let mut metas = Vec::with_capacity(series.len());
    let mut frame = Vec::new();
    for (labels, copies) in series {
        let mut list = Vec::with_capacity(copies.len());
        for (lo, hi, data) in copies {
            frame.clear();
            put_uvarint(&mut frame, data.len() as u64);
            frame.extend_from_slice(data);
            frame.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
            chunks.write_all(&frame)?;
            list.push(ChunkMeta {
                min_t: *lo,
                max_t: *hi,
                offset,
            });
            offset += frame.len() as u64;
            stats.num_samples += u64::from(u16::from_be_bytes([data[0], data[1]]));
        }
        stats.num_chunks += list.len() as u64;
        metas.push(BlockSeries {
            labels: (**labels).clone(),
            chunks: list,
        });
    }
    stats.num_series = metas.len() as u64;
    let chunks = chunks.into_inner().map_err(|e| e.into_error())?;
    chunks.sync_all()?;
    write_synced(&tmp.join("index"), &index::encode(&metas, mint, offset))?;
    let meta = BlockMeta {
        ulid: id.to_owned(),
        min_time: mint,
        max_time: maxt,
        stats,
        version: 1,
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?;
    write_synced(&tmp.join("meta.json"), &json)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let mut f = File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Crockford's base32, as ULIDs are written.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Whether a directory name is a block id (a ULID, as Prometheus's `isBlockDir` asks),
/// so other directories beside the blocks (the WAL, the log store) are left alone.
pub fn is_ulid(name: &str) -> bool {
    name.len() == 26 && name.as_bytes()[0] <= b'7' && name.bytes().all(|b| ALPHABET.contains(&b))
}

/// A ULID: 48 bits of milliseconds since the epoch, 80 random bits, Crockford base32.
fn ulid() -> String {
    use rand::RngExt;
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut rng: rand::rngs::SmallRng = rand::make_rng();
    let random = rng.random::<u128>() & ((1u128 << 80) - 1);
    let x = (u128::from(ms & ((1 << 48) - 1)) << 80) | random;
    (0..26)
        .rev()
        .map(|i| ALPHABET[((x >> (i * 5)) & 31) as usize] as char)
        .collect()
}
