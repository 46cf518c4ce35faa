//! The spool's on-disk format, as pure functions over bytes.
//!
//! A segment file starts with [`SEGMENT_MAGIC`] (`NPSPOOL` + a format version byte),
//! then holds records back to back. One record is one batch:
//!
//! ```text
//! len   u32 LE   length of body
//! crc   u32 LE   CRC-32 (IEEE, crc32fast) of body
//! body  len bytes:
//!   token_len u32 LE, token (JSON of the AckToken),
//!   count u32 LE, then count times: rec_len u32 LE, rec bytes
//! ```
//!
//! A crash mid-append leaves a record whose body is shorter than `len` or whose CRC does
//! not match: [`frame`] says which, and the reader stops there (a length cannot be
//! trusted past a bad record). The CRC guards the whole body; a corrupt `len` shows up as
//! a short body, a CRC mismatch or a length over [`MAX_BODY`].

use super::batch::{AckToken, Batch};
use super::records::Records;
use thiserror::Error;

/// `NPSPOOL` and format version 1.
pub const SEGMENT_MAGIC: &[u8; 8] = b"NPSPOOL\x01";
/// Bytes before a record's body.
pub const FRAME_HEADER: usize = 8;
/// A body length no batch reaches (batches are ~1 MiB); a bigger one is garbage.
pub const MAX_BODY: usize = 256 * 1024 * 1024;
/// The smallest body: an empty token and no records still have two length fields, so a
/// run of NUL bytes (length 0, CRC 0 of nothing) is not mistaken for a record.
const MIN_BODY: usize = 8;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes end before the record does: the tail of an interrupted append.
    #[error("record ends early: {have} of {need} bytes")]
    Torn { have: usize, need: usize },
    #[error("record checksum mismatch")]
    Checksum,
    #[error("record length {0} is not plausible")]
    Length(usize),
    /// The checksum matched but the body is not a batch (e.g. another token type).
    #[error("record body does not decode: {0}")]
    Body(String),
}

/// Appends the framed record for `batch` to `out`.
pub fn encode<T: AckToken>(batch: &Batch<T>, out: &mut Vec<u8>) {
    let token = serde_json::to_vec(&batch.token).expect("ack tokens serialize");
    let mut body = Vec::with_capacity(8 + token.len() + batch.bytes() + 4 * batch.events());
    put_bytes(&mut body, &token);
    body.extend_from_slice(&len_u32(batch.records.len()).to_le_bytes());
    for record in batch.records.iter() {
        put_bytes(&mut body, record);
    }
    out.extend_from_slice(&len_u32(body.len()).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
}

/// The checked body of the record at the start of `buf`, and the record's full length.
pub fn frame(buf: &[u8]) -> Result<(&[u8], usize), RecordError> {
    let Some(head) = buf.first_chunk::<FRAME_HEADER>() else {
        let (have, need) = (buf.len(), FRAME_HEADER);
        return Err(RecordError::Torn { have, need });
    };
    let (len, crc) = header(head)?;
    let need = FRAME_HEADER + len;
    if buf.len() < need {
        let have = buf.len();
        return Err(RecordError::Torn { have, need });
    }
    let body = &buf[FRAME_HEADER..need];
    check(body, crc)?;
    Ok((body, need))
}

/// A record header's body length and CRC.
pub fn header(head: &[u8; FRAME_HEADER]) -> Result<(usize, u32), RecordError> {
    let len = u32_at(head, 0) as usize;
    if !(MIN_BODY..=MAX_BODY).contains(&len) {
        return Err(RecordError::Length(len));
    }
    Ok((len, u32_at(head, 4)))
}

/// Whether `body` is what was written under `crc`.
pub fn check(body: &[u8], crc: u32) -> Result<(), RecordError> {
    match crc32fast::hash(body) == crc {
        true => Ok(()),
        false => Err(RecordError::Checksum),
    }
}

/// The batch in a checked body.
pub fn decode_body<T: AckToken>(body: &[u8]) -> Result<Batch<T>, RecordError> {
    let mut rest = body;
    let token = take_bytes(&mut rest)?;
    let token = serde_json::from_slice(token).map_err(|e| RecordError::Body(e.to_string()))?;
    let count = take_u32(&mut rest)? as usize;
    let mut records = Records::new();
    for _ in 0..count {
        records.push(take_bytes(&mut rest)?);
    }
    if !rest.is_empty() {
        return Err(RecordError::Body(format!(
            "{} bytes after the last record",
            rest.len()
        )));
    }
    Ok(Batch::new(records, token))
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&len_u32(bytes.len()).to_le_bytes());
    out.extend_from_slice(bytes);
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("spooled lengths fit in u32 (batches are capped far below)")
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn take_u32(rest: &mut &[u8]) -> Result<u32, RecordError> {
    if rest.len() < 4 {
        return Err(RecordError::Body("length field cut short".into()));
    }
    let value = u32_at(rest, 0);
    *rest = &rest[4..];
    Ok(value)
}

fn take_bytes<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], RecordError> {
    let len = take_u32(rest)? as usize;
    if rest.len() < len {
        return Err(RecordError::Body("field longer than the body".into()));
    }
    let (bytes, tail) = rest.split_at(len);
    *rest = tail;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(n: u64) -> Batch<u64> {
        Batch::new(vec![b"first".to_vec(), Vec::new(), vec![0xff; 300]], n)
    }

    fn framed(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&batch(n), &mut out);
        out
    }

    #[test]
    fn round_trips_back_to_back_records() {
        let bytes = [framed(1), framed(2)].concat();
        let (body, used) = frame(&bytes).unwrap();
        assert_eq!(decode_body::<u64>(body).unwrap(), batch(1));
        let (body, rest) = frame(&bytes[used..]).unwrap();
        assert_eq!(decode_body::<u64>(body).unwrap(), batch(2));
        assert_eq!(used + rest, bytes.len());
    }

    #[test]
    fn detects_what_a_crash_or_bit_rot_leaves() {
        let good = framed(7);
        let cut = good.len() - 3;
        assert_eq!(
            frame(&good[..cut]),
            Err(RecordError::Torn {
                have: cut,
                need: good.len()
            })
        );
        assert!(matches!(frame(&good[..5]), Err(RecordError::Torn { .. })));
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(frame(&flipped), Err(RecordError::Checksum));
        assert_eq!(frame(&[0u8; 64]), Err(RecordError::Length(0)), "NUL bytes");
        assert_eq!(
            frame(&[0xff; 64]),
            Err(RecordError::Length(u32::MAX as usize))
        );
    }

    #[test]
    fn a_body_of_another_token_type_is_not_a_batch() {
        let mut out = Vec::new();
        let token = super::super::batch::FileOffsets::default();
        encode(&Batch::new(vec![b"x".to_vec()], token), &mut out);
        let (body, _) = frame(&out).unwrap();
        assert!(matches!(
            decode_body::<u64>(body),
            Err(RecordError::Body(_))
        ));
    }
}
