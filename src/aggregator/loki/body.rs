//! A push body's envelope, as Loki's `ParseLokiRequest` reads it: `Content-Encoding`
//! (none, `snappy` as a no-op, `gzip`, `deflate`) undone with a bound on the output, then
//! `Content-Type` picks the format: `application/json` is Loki's JSON (the legacy shape
//! on `/api/prom/push`), anything else snappy-compressed protobuf. Without a content type
//! a body that starts with `{` is JSON (curl and small clients), else protobuf (Loki's
//! default). Pure: bytes and header values in, [`RawStream`]s out.

use super::wire::{self, RawStream};
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use std::borrow::Cow;
use std::io::Read;

/// A body the receiver cannot read; all are the client's fault.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("Content-Encoding {0:?} not supported")]
    Encoding(String),
    /// Over the decompressed-size limit: 413, as Loki's `RequestBodyTooLarge`.
    #[error("request body too large: {size} bytes, limit: {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("{0}: {1}")]
    Corrupt(&'static str, String),
}

/// Which push format a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
    /// The pre-v1 JSON of `/api/prom/push` (`labels` text, `entries[{ts, line}]`).
    LegacyJson,
}

/// The format from the `Content-Type` value (parameters ignored), the path, and the
/// body's first byte when there is no content type.
pub fn format(content_type: Option<&str>, legacy_path: bool, first: Option<u8>) -> Format {
    let json = match content_type.map(|c| c.split(';').next().unwrap_or("").trim()) {
        Some(c) if !c.is_empty() => c.eq_ignore_ascii_case("application/json"),
        _ => first == Some(b'{'),
    };
    match (json, legacy_path) {
        (false, _) => Format::Protobuf,
        (true, false) => Format::Json,
        (true, true) => Format::LegacyJson,
    }
}

/// Undoes `Content-Encoding`, producing at most `limit` bytes (an identity body is
/// borrowed, not copied).
pub fn decode_encoding<'a>(
    encoding: Option<&str>,
    body: &'a [u8],
    limit: usize,
) -> Result<Cow<'a, [u8]>, BodyError> {
    let enc = encoding.unwrap_or("").trim();
    let inflated = match enc.to_ascii_lowercase().as_str() {
        "" | "identity" | "snappy" => return Ok(Cow::Borrowed(body)),
        "gzip" | "x-gzip" => inflate(MultiGzDecoder::new(body), body.len(), limit, "gzip"),
        // HTTP's `deflate` is zlib-wrapped, but Go's (and so Loki's) reader takes raw
        // deflate: accept both, told apart by the zlib header check.
        "deflate" if is_zlib(body) => inflate(ZlibDecoder::new(body), body.len(), limit, "zlib"),
        "deflate" => inflate(DeflateDecoder::new(body), body.len(), limit, "deflate"),
        _ => Err(BodyError::Encoding(enc.to_string())),
    };
    inflated.map(Cow::Owned)
}

/// Reads until `limit` bytes at most, so a small bomb never expands past the limit.
fn inflate(
    reader: impl Read,
    sent: usize,
    limit: usize,
    what: &'static str,
) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::with_capacity(sent.saturating_mul(4).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Corrupt(what, e.to_string()))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge {
            size: out.len(),
            limit,
        });
    }
    Ok(out)
}

/// RFC 1950's header: deflate method, and the first two bytes a multiple of 31.
fn is_zlib(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

/// Snappy's block format, its declared length checked before anything is allocated.
pub fn unsnappy(body: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let corrupt = |e: snap::Error| BodyError::Corrupt("snappy", e.to_string());
    let size = snap::raw::decompress_len(body).map_err(corrupt)?;
    if size > limit {
        return Err(BodyError::TooLarge { size, limit });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(corrupt)
}

/// The whole envelope: encoding, format, and the format's decoder.
pub fn decode(
    content_type: Option<&str>,
    encoding: Option<&str>,
    legacy_path: bool,
    body: &[u8],
    limit: usize,
) -> Result<Vec<RawStream>, BodyError> {
    let plain = decode_encoding(encoding, body, limit)?;
    let first = plain.iter().find(|c| !c.is_ascii_whitespace()).copied();
    match format(content_type, legacy_path, first) {
        Format::Protobuf => wire::protobuf(&unsnappy(&plain, limit)?),
        Format::Json => wire::json(&plain),
        Format::LegacyJson => wire::legacy_json(&plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;

    fn packed<W: Write>(mut w: W, data: &[u8]) -> W {
        w.write_all(data).unwrap();
        w
    }

    #[test]
    fn formats() {
        use Format::*;
        let cases = [
            (Some("application/x-protobuf"), false, Some(b'{'), Protobuf),
            (Some("application/json"), false, None, Json),
            (Some("Application/JSON; charset=utf-8"), false, None, Json),
            (Some("application/json"), true, None, LegacyJson),
            (Some("text/plain"), false, Some(b'{'), Protobuf),
            (None, false, Some(b'{'), Json),
            (Some(""), false, Some(b'{'), Json),
            (None, false, Some(0x1f), Protobuf),
            (None, false, None, Protobuf),
        ];
        for (ct, legacy, first, want) in cases {
            assert_eq!(format(ct, legacy, first), want, "{ct:?} {legacy} {first:?}");
        }
    }

    #[test]
    fn encodings_round_trip() {
        let data = b"{\"streams\":[]}".repeat(100);
        let gz = packed(GzEncoder::new(Vec::new(), Compression::fast()), &data);
        let zlib = packed(ZlibEncoder::new(Vec::new(), Compression::fast()), &data);
        let raw = packed(DeflateEncoder::new(Vec::new(), Compression::fast()), &data);
        let cases = [
            (None, data.clone()),
            (Some("snappy"), data.clone()),
            (Some("gzip"), gz.finish().unwrap()),
            (Some("deflate"), zlib.finish().unwrap()),
            (Some("deflate"), raw.finish().unwrap()),
        ];
        for (enc, body) in cases {
            let got = decode_encoding(enc, &body, 1 << 20).unwrap();
            assert_eq!(got, &data[..], "{enc:?}");
        }
        let e = decode_encoding(Some("br"), b"x", 10).unwrap_err();
        assert_eq!(e.to_string(), "Content-Encoding \"br\" not supported");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        // 256 members of 1 MiB of zeros each: ~256 KiB sent, 256 MiB inside.
        let member = packed(
            GzEncoder::new(Vec::new(), Compression::best()),
            &[0; 1 << 20],
        );
        let bomb = member.finish().unwrap().repeat(256);
        assert!(bomb.len() < 512 << 10, "{}", bomb.len());
        let e = decode_encoding(Some("gzip"), &bomb, 4 << 20).unwrap_err();
        assert_eq!(
            e,
            BodyError::TooLarge {
                size: (4 << 20) + 1,
                limit: 4 << 20
            }
        );
    }

    #[test]
    fn corrupt_compression_is_an_error() {
        let e = decode_encoding(Some("gzip"), b"\x1f\x8b\x08garbage", 100).unwrap_err();
        assert!(matches!(e, BodyError::Corrupt("gzip", _)), "{e}");
        let e = unsnappy(b"\x05\xff\xff", 1 << 30).unwrap_err();
        assert!(matches!(e, BodyError::Corrupt("snappy", _)), "{e}");
        let e = unsnappy(b"\x80\x80\x80\x40", 1 << 20).unwrap_err();
        assert_eq!(
            e,
            BodyError::TooLarge {
                size: 1 << 27,
                limit: 1 << 20
            }
        );
    }
}
