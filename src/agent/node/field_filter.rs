//! A `--collector.*.fields` regexp with its answers remembered: netstat and vmstat test
//! the same few hundred kernel field names on every scrape, and a map lookup costs a
//! fraction of a regex search.

use regex::Regex;
use std::collections::HashMap;
use std::sync::Mutex;

/// Field names remembered at most; past this, names are matched without caching (the
/// kernel's files have a few hundred fields, so this is never reached in practice).
const MAX_REMEMBERED: usize = 4096;

#[derive(Debug)]
pub struct FieldFilter {
    regex: Regex,
    seen: Mutex<HashMap<String, bool>>,
}

impl FieldFilter {
    pub fn new(regex: Regex) -> Self {
        FieldFilter {
            regex,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// True when `field` matches the regexp.
    pub fn is_match(&self, field: &str) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return self.regex.is_match(field);
        };
        if let Some(&m) = seen.get(field) {
            return m;
        }
        let m = self.regex.is_match(field);
        if seen.len() < MAX_REMEMBERED {
            seen.insert(field.to_owned(), m);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_answers_equal_the_regexp() {
        let f = FieldFilter::new(Regex::new("^(oom_kill|pgpg|pswp|pg.*fault).*").unwrap());
        for _ in 0..2 {
            assert!(f.is_match("pgfault"));
            assert!(f.is_match("oom_kill"));
            assert!(!f.is_match("nr_free_pages"));
        }
        for i in 0..MAX_REMEMBERED + 10 {
            assert!(!f.is_match(&format!("x{i}")));
        }
        assert!(f.is_match("pgpgin"));
    }
}
