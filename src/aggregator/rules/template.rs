//! Alert label and annotation templates: a minimal `{{ $labels.x }}`, `{{ .Labels.x }}`
//! and `{{ $value }}` / `{{ .Value }}` substitution. **Replaced at merge** by the
//! template lane's Go text/template engine, which has exactly this API.

use crate::aggregator::model::Labels;

/// What a rule's templates see: the series' labels and value, and the server's
/// external labels and URL.
pub struct TemplateData<'a> {
    pub labels: &'a Labels,
    pub value: f64,
    pub external_labels: &'a Labels,
    pub external_url: &'a str,
}

/// Expands a rule's label or annotation template.
pub fn expand(text: &str, data: &TemplateData) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| "unclosed action".to_string())?;
        out.push_str(&action(after[..close].trim(), data)?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses only: rule-file validation rejects a template that does not parse. The
/// placeholder checks only that every action is closed, so it refuses no template the
/// real engine would accept.
pub fn check(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| "unclosed action".to_string())?;
        rest = &after[close + 2..];
    }
    Ok(())
}

fn action(a: &str, data: &TemplateData) -> Result<String, String> {
    let label = |set: &Labels, name: &str| set.get(name).unwrap_or_default().to_string();
    if let Some(name) = a.strip_prefix("$labels.").or(a.strip_prefix(".Labels.")) {
        return Ok(label(data.labels, name));
    }
    if let Some(name) = a.strip_prefix("$externalLabels.") {
        return Ok(label(data.external_labels, name));
    }
    match a {
        "$value" | ".Value" => Ok(go_float(data.value)),
        "$externalURL" | ".ExternalURL" => Ok(data.external_url.to_string()),
        _ => Err(format!("function or variable not supported: {a}")),
    }
}

/// A float as Go's `%v` prints it (strconv 'g' with the shortest precision).
fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if (-4..21).contains(&exp) {
        return format!("{v}");
    }
    let s = format!("{v:e}");
    let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_value_are_substituted() {
        let labels = Labels::from_pairs(&[("instance", "a:9100")]);
        let data = TemplateData {
            labels: &labels,
            value: 0.5,
            external_labels: &Labels::default(),
            external_url: "http://x",
        };
        let got = expand(
            "{{ $labels.instance }} at {{ $value }} ({{$labels.none}})",
            &data,
        );
        assert_eq!(got.unwrap(), "a:9100 at 0.5 ()");
        assert_eq!(go_float(1e21), "1e+21");
        assert!(check("{{ $labels.x ").is_err());
        assert!(check("{{ $value | humanize }}").is_ok());
        assert!(expand("{{ $value | humanize }}", &data).is_err());
    }
}
