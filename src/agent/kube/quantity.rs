//! Kubernetes resource quantities (`"250m"`, `"512Mi"`, `"1.5Gi"`, `"1e3"`) as numbers.
//!
//! `k8s_openapi`'s `Quantity` is a string newtype only. The grammar is apimachinery's
//! `resource.ParseQuantity`: a signed decimal number, then a binary suffix (Ki..Ei), a
//! decimal suffix (n, u, m, "", k, M, G, T, P, E) or a decimal exponent (`e3`, `E-2`).

/// The value of `s`, or `None` when it is not a quantity.
pub fn parse(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(split);
    if number.is_empty() || number == "+" || number == "-" {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some(value * multiplier(suffix)?)
}

fn multiplier(suffix: &str) -> Option<f64> {
    let binary = |p: i32| Some(1024f64.powi(p));
    let decimal = |p: i32| Some(10f64.powi(p));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        _ => exponent(suffix),
    }
}

/// `e3`, `E-2`, `e+6`: a power of ten.
fn exponent(suffix: &str) -> Option<f64> {
    let digits = suffix.strip_prefix(['e', 'E'])?;
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(10f64.powi(digits.parse::<i32>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn real_quantities() {
        let cases = [
            ("250m", Some(0.25)),
            ("1", Some(1.0)),
            ("2.5", Some(2.5)),
            ("512Mi", Some(536_870_912.0)),
            ("1.5Gi", Some(1_610_612_736.0)),
            ("100M", Some(100_000_000.0)),
            ("1e3", Some(1000.0)),
            ("5E-2", Some(0.05)),
            ("64Ki", Some(65_536.0)),
            ("100n", Some(100e-9)),
            ("", None),
            ("Mi", None),
            ("12Zi", None),
            ("1e", None),
            ("abc", None),
        ];
        for (s, want) in cases {
            let got = parse(s);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() <= w.abs() * 1e-12, "{s}: {g}"),
                _ => assert_eq!(got, want, "{s}"),
            }
        }
    }
}
