//! Gzip of whole bodies — `/metrics` responses and sink requests — at the fastest level:
//! metric text and log lines compress well even there, and the agent's CPU budget
//! matters more than the last few percent of bytes.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// Compresses `body` into a new gzip member.
pub fn compress_fast(body: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    enc.write_all(body).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    #[test]
    fn round_trips() {
        let body = b"node_load1 0.5\n".repeat(1000);
        let packed = compress_fast(&body);
        assert!(packed.len() < body.len() / 10);
        let mut out = Vec::new();
        GzDecoder::new(&packed[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, body);
    }
}
