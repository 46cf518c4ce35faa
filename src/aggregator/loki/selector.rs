//! Loki's stream selector, `{a="b", c=~"d.*", e!="f", g!~"h"}`, as the metadata
//! endpoints take it (`match[]`, `query`). Only the selector: a pipeline after it
//! (`| json`, `|= "x"`) is skipped, as the metadata endpoints use only the matchers.
//! The LogQL lane owns the full grammar; this small parser is to be replaced by it.
//! Regexes are anchored as Prometheus's and bounded in compiled size.

use super::labels::{Cursor, LabelsParseError};
use promql_parser::label::{MatchOp, Matcher};

/// Loki's words when every matcher would also match a missing label.
pub const EMPTY_COMPATIBLE: &str = "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will";

/// The selector's matchers, in text order; each regex compiles to at most
/// `regex_limit` bytes. Every selector needs one matcher that does not match the empty
/// string.
pub fn parse_selector(text: &str, regex_limit: usize) -> Result<Vec<Matcher>, String> {
    let matchers = matchers(text, regex_limit).map_err(|e| e.to_string())?;
    if matchers.iter().all(|m| m.is_match("")) {
        return Err(EMPTY_COMPATIBLE.to_string());
    }
    Ok(matchers)
}

fn matchers(text: &str, regex_limit: usize) -> Result<Vec<Matcher>, LabelsParseError> {
    let mut cur = Cursor::new(text);
    let mut out = Vec::new();
    cur.skip_ws();
    cur.expect(b'{')?;
    loop {
        cur.skip_ws();
        if cur.eat(b'}') {
            break;
        }
        out.push(matcher(&mut cur, regex_limit)?);
        cur.skip_ws();
        if !cur.eat(b',') {
            cur.skip_ws();
            cur.expect(b'}')?;
            break;
        }
    }
    cur.skip_ws();
    if cur.peek() == Some(b'|') {
        return Ok(out); // a pipeline: not the metadata endpoints' business
    }
    cur.end()?;
    Ok(out)
}

fn matcher(cur: &mut Cursor<'_>, regex_limit: usize) -> Result<Matcher, LabelsParseError> {
    let name = cur.name()?;
    cur.skip_ws();
    let op = if cur.eat_str("=~") {
        "=~"
    } else if cur.eat_str("!~") {
        "!~"
    } else if cur.eat_str("!=") {
        "!="
    } else if cur.eat_str("=") {
        "="
    } else {
        return Err(cur.error("expected one of = != =~ !~".to_string()));
    };
    cur.skip_ws();
    let value = cur.string()?;
    let op = match op {
        "=" => MatchOp::Equal,
        "!=" => MatchOp::NotEqual,
        "=~" => MatchOp::Re(regex(&value, regex_limit).map_err(|e| cur.error(e))?),
        _ => MatchOp::NotRe(regex(&value, regex_limit).map_err(|e| cur.error(e))?),
    };
    Ok(Matcher::new(op, name, &value))
}

fn regex(re: &str, limit: usize) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{re})$"))
        .size_limit(limit)
        .build()
        .map_err(|e| format!("invalid regex {re:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn every_matcher_kind() {
        let ms = parse_selector(
            r#"{app="api", env!="dev", pod=~"api-.*", ns!~`kube-.+`}"#,
            LIMIT,
        )
        .unwrap();
        let shown: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            shown,
            [
                r#"app="api""#,
                r#"env!="dev""#,
                r#"pod=~"api-.*""#,
                r#"ns!~"kube-.+""#
            ]
        );
        assert!(
            ms[2].is_match("api-1") && !ms[2].is_match("xapi-1"),
            "anchored"
        );
        assert!(ms[3].is_match("default") && !ms[3].is_match("kube-system"));
    }

    #[test]
    fn a_pipeline_after_the_selector_is_skipped() {
        let ms = parse_selector(r#"{app="api"} |= "error" | json"#, LIMIT).unwrap();
        assert_eq!(ms.len(), 1);
    }

    #[test]
    fn refusals() {
        let cases = [
            ("", "parse error at char 1"),
            ("app", "parse error at char 1"),
            (r#"{app}"#, "parse error at char 5: expected one of"),
            (r#"{app="a" x}"#, "parse error at char 10"),
            (r#"{app=~"("}"#, "invalid regex"),
            (r#"{app="a"} junk"#, "parse error at char 11"),
            (r#"{app=~"a{1000}{1000}"}"#, "invalid regex"),
            (r#"{app=~".*"}"#, "at least one regexp or equality matcher"),
            (r#"{app!="a"}"#, "at least one regexp or equality matcher"),
            ("{}", "at least one regexp or equality matcher"),
        ];
        for (text, want) in cases {
            let e = parse_selector(text, LIMIT).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }
}
