//! Block compression: zstd (the default) or raw deflate (flate2), picked by the figures
//! in BENCHMARKS.md. A chunk file names its codec, so either reads back whatever the
//! setting is now.

use std::io::{Read, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// zstd at this level: 1..=19, or a fast level -7..=-1 (which leaves literals
    /// raw, not Huffman-coded: faster to read back, a few per cent bigger).
    Zstd(i32),
    /// Raw deflate at this level (0..=9).
    Deflate(u32),
}

impl Codec {
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Codec::Zstd(l) if l == 0 || !(-7..=19).contains(&l) => Err(format!(
                "log store codec: zstd level {l} not in -7..=-1 or 1..=19"
            )),
            Codec::Deflate(l) if l > 9 => {
                Err(format!("log store codec: deflate level {l} not in 0..=9"))
            }
            _ => Ok(()),
        }
    }

    /// The byte a chunk file records it as.
    pub fn id(&self) -> u8 {
        match self {
            Codec::Zstd(_) => 1,
            Codec::Deflate(_) => 2,
        }
    }

    /// The codec a chunk file's byte names (its level does not matter for reading).
    pub fn from_id(id: u8) -> Option<Codec> {
        match id {
            1 => Some(Codec::Zstd(3)),
            2 => Some(Codec::Deflate(6)),
            _ => None,
        }
    }

    pub fn compress(&self, raw: &[u8]) -> Vec<u8> {
        match *self {
            Codec::Zstd(level) => {
                zstd::bulk::compress(raw, level).expect("zstd compresses any input")
            }
            Codec::Deflate(level) => {
                let out = Vec::with_capacity(raw.len() / 4);
                let mut enc =
                    flate2::write::DeflateEncoder::new(out, flate2::Compression::new(level));
                enc.write_all(raw).expect("writes to a Vec");
                enc.finish().expect("writes to a Vec")
            }
        }
    }
}

/// Decompresses blocks, reusing its zstd context across calls.
#[derive(Default)]
pub struct Decompressor {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
}

impl Decompressor {
    /// Decompresses `data` (which must give exactly `raw_len` bytes) into `out`.
    pub fn decompress(
        &mut self,
        codec: Codec,
        data: &[u8],
        raw_len: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        out.clear();
        out.reserve(raw_len);
        let got = match codec {
            Codec::Zstd(_) => self.zstd_ctx()?.decompress_to_buffer(data, out),
            Codec::Deflate(_) => {
                let mut dec = flate2::read::DeflateDecoder::new(data).take(raw_len as u64 + 1);
                dec.read_to_end(out)
            }
        };
        match got {
            Ok(_) if out.len() == raw_len => Ok(()),
            Ok(_) => Err(format!("block holds {} bytes, not {raw_len}", out.len())),
            Err(e) => Err(format!("block does not decompress: {e}")),
        }
    }

    fn zstd_ctx(&mut self) -> Result<&mut zstd::bulk::Decompressor<'static>, String> {
        if self.zstd.is_none() {
            let ctx = zstd::bulk::Decompressor::new().map_err(|e| e.to_string())?;
            self.zstd = Some(ctx);
        }
        Ok(self.zstd.as_mut().expect("set above"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_codecs_round_trip_and_refuse_garbage() {
        let raw: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut d = Decompressor::default();
        let mut out = Vec::new();
        for codec in [Codec::Zstd(3), Codec::Deflate(6)] {
            let packed = codec.compress(&raw);
            assert!(packed.len() < raw.len() / 4, "{codec:?}");
            d.decompress(codec, &packed, raw.len(), &mut out).unwrap();
            assert_eq!(out, raw);
            assert!(d
                .decompress(codec, &packed, raw.len() - 1, &mut out)
                .is_err());
            assert!(d
                .decompress(codec, &packed[..packed.len() / 2], raw.len(), &mut out)
                .is_err());
            assert!(d.decompress(codec, &[0xff; 64], 10, &mut out).is_err());
        }
    }

    #[test]
    fn bad_levels_are_named() {
        assert!(Codec::Zstd(0)
            .validate()
            .unwrap_err()
            .contains("zstd level 0"));
        assert!(Codec::Zstd(-8).validate().is_err());
        assert!(Codec::Zstd(-1).validate().is_ok());
        assert!(Codec::Deflate(10).validate().is_err());
        assert_eq!(
            Codec::from_id(Codec::Deflate(1).id()),
            Some(Codec::Deflate(6))
        );
    }
}
