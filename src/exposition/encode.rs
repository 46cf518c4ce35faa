//! Writes metric families in the Prometheus text format 0.0.4 or OpenMetrics 1.0, and
//! picks between them from a scraper's `Accept` header.
//!
//! Hand-written rather than through prometheus-client: that crate writes OpenMetrics
//! only, and the agent must emit node_exporter's exact family names in both formats at a
//! fraction of node_exporter's CPU per scrape, so the encoder writes straight into one
//! reused buffer.

use super::labelset::LabelSet;
use super::model::{MetricFamily, MetricType, Sample};
use std::io::Write;

/// The exposition formats a scraper can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics,
}

impl Format {
    /// The exact Content-Type header (Prometheus 3 rejects anything else; PITFALLS 19).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// Chooses the format from an `Accept` header the way client_golang's
    /// `expfmt.NegotiateIncludingOpenMetrics` does: OpenMetrics when it is offered with a
    /// supported version and a weight not below text/plain's, else text 0.0.4.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut om_q: Option<f32> = None;
        let mut text_q: f32 = 0.0;
        for item in accept.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let (mut q, mut version) = (1.0f32, None);
            for p in parts {
                if let Some(v) = p.strip_prefix("q=") {
                    q = v.parse().unwrap_or(0.0);
                } else if let Some(v) = p.strip_prefix("version=") {
                    version = Some(v.to_owned());
                }
            }
            match media.as_str() {
                "application/openmetrics-text"
                    if q > 0.0
                        && matches!(version.as_deref(), None | Some("1.0.0") | Some("0.0.1")) =>
                {
                    om_q = Some(om_q.map_or(q, |o| o.max(q)));
                }
                "text/plain" | "*/*" => text_q = text_q.max(q),
                _ => {}
            }
        }
        match om_q {
            Some(q) if q >= text_q => Format::OpenMetrics,
            _ => Format::Text,
        }
    }
}

/// Writes `families` in `format` to `out`. Families are expected to be normalized
/// (see [`super::normalize`]): unique names and no duplicate series.
pub fn encode(families: &[MetricFamily], format: Format, out: &mut Vec<u8>) {
    encode_families(families, format, out);
    finish(format, out);
}

/// The families only, without OpenMetrics' `# EOF`: a part of a body (a section
/// encoded once and reused; [`finish`] ends the body).
pub fn encode_families(families: &[MetricFamily], format: Format, out: &mut Vec<u8>) {
    for family in families {
        match format {
            Format::Text => encode_text_family(family, out),
            Format::OpenMetrics => encode_om_family(family, out),
        }
    }
}

/// Ends a body made of [`encode_families`] parts.
pub fn finish(format: Format, out: &mut Vec<u8>) {
    if format == Format::OpenMetrics {
        out.extend_from_slice(b"# EOF\n");
    }
}

fn encode_text_family(f: &MetricFamily, out: &mut Vec<u8>) {
    if f.samples.is_empty() {
        return;
    }
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(f.name.as_bytes());
    out.push(b' ');
    escape_into(&f.help, false, out);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(f.name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(f.kind.text_name().as_bytes());
    out.push(b'\n');
    for s in &f.samples {
        write_sample(&f.name, "", s, out);
    }
}

fn encode_om_family(f: &MetricFamily, out: &mut Vec<u8>) {
    if f.samples.is_empty() {
        return;
    }
    let (base, suffix, kind) = match f.kind {
        MetricType::Counter => (
            f.name.strip_suffix("_total").unwrap_or(&f.name),
            "_total",
            "counter",
        ),
        MetricType::Gauge => (&*f.name, "", "gauge"),
        MetricType::Untyped => (&*f.name, "", "unknown"),
    };
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(base.as_bytes());
    out.push(b' ');
    escape_into(&f.help, true, out);
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(base.as_bytes());
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b'\n');
    for s in &f.samples {
        write_sample(base, suffix, s, out);
    }
}

fn write_sample(name: &str, suffix: &str, s: &Sample, out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(suffix.as_bytes());
    let shared = s.shared.as_deref().map_or(&[][..], LabelSet::rendered);
    if !shared.is_empty() || !s.labels.is_empty() {
        out.push(b'{');
        out.extend_from_slice(shared);
        for (i, (n, v)) in s.labels.iter().enumerate() {
            if i > 0 || !shared.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_into(v, true, out);
            out.push(b'"');
        }
        out.push(b'}');
    }
    out.push(b' ');
    write_value(s.value, out);
    out.push(b'\n');
}

/// Escapes backslash and newline (and, in label values and OpenMetrics help, the double
/// quote) as the exposition formats require.
pub fn escape_into(s: &str, quote: bool, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'\\' || b == b'\n' || (quote && b == b'"'))
    {
        out.extend_from_slice(bytes);
        return;
    }
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' if quote => out.extend_from_slice(b"\\\""),
            _ => out.push(b),
        }
    }
}

/// Writes a sample value: integers without a fraction, other values in the shortest
/// form that round-trips, and `+Inf`, `-Inf`, `NaN` as the formats spell them.
/// (itoa writes what `Display` does, faster; so does ryu when the shortest form has at
/// most 15 significant digits, the only length at which it is unique: longer ties may
/// round the other way, so those go through `Display`. `fast_formatting_matches_display`
/// checks it.)
pub fn write_value(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == v.trunc() && v.abs() < 1e15 {
        out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
    } else if v.abs() >= 1e-4 && v.abs() < 1e15 {
        // Neither an integer nor outside ryu's plain-decimal range (1e-5..1e16).
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(v).as_bytes();
        if significant_digits(text) <= 15 {
            out.extend_from_slice(text);
        } else {
            let _ = write!(out, "{v}");
        }
    } else {
        let _ = write!(out, "{v:e}");
    }
}

/// Significant digits of a plain decimal (`-0.00123` has 3).
fn significant_digits(text: &[u8]) -> usize {
    let digits = text.iter().filter(|b| b.is_ascii_digit());
    digits.skip_while(|&&b| b == b'0').count()
}

#[cfg(test)]
mod tests;
