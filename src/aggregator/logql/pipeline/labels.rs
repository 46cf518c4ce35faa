//! The labels one line carries through the pipeline: the stream's, then structured
//! metadata and labels the stages extract or rewrite. Slots are reused line after line
//! (a label's strings keep their capacity), so a steady stream of lines allocates only
//! when a line sets a label longer than any before it.

use crate::aggregator::model::Labels;

/// Loki's error labels.
pub const ERROR: &str = "__error__";
pub const ERROR_DETAILS: &str = "__error_details__";

/// A working label set: unsorted name/value slots, names unique.
#[derive(Debug, Default)]
pub struct LabelSet {
    slots: Vec<(String, String)>,
    len: usize,
    /// Reused to build `name_extracted`.
    name_buf: String,
}

impl LabelSet {
    /// Starts a line: the stream's labels, then its structured metadata (a metadata
    /// name that is also a stream label gets `_extracted`, as parsed labels do).
    pub fn reset(&mut self, stream: &Labels, metadata: &[(String, String)]) {
        self.len = 0;
        for (n, v) in stream.iter() {
            self.push(n, v);
        }
        for (n, v) in metadata {
            self.set_extracted(stream, n, v);
        }
    }

    /// Makes this set a copy of `other`, reusing its slots.
    pub fn copy_from(&mut self, other: &LabelSet) {
        self.len = 0;
        for (n, v) in other.iter() {
            self.push(n, v);
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.active()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets `name` to `value`, replacing any value it had.
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(slot) = self.slots[..self.len].iter_mut().find(|(n, _)| n == name) {
            slot.1.clear();
            slot.1.push_str(value);
            return;
        }
        self.push(name, value);
    }

    /// Sets a label a parser extracted: `name_extracted` when the stream has `name`.
    pub fn set_extracted(&mut self, stream: &Labels, name: &str, value: &str) {
        if stream.get(name).is_some() {
            let mut n = std::mem::take(&mut self.name_buf);
            n.clear();
            n.push_str(name);
            n.push_str("_extracted");
            self.set(&n, value);
            self.name_buf = n;
        } else {
            self.set(name, value);
        }
    }

    fn push(&mut self, name: &str, value: &str) {
        if self.len == self.slots.len() {
            self.slots.push((name.to_string(), value.to_string()));
        } else {
            let slot = &mut self.slots[self.len];
            slot.0.clear();
            slot.0.push_str(name);
            slot.1.clear();
            slot.1.push_str(value);
        }
        self.len += 1;
    }

    pub fn remove(&mut self, name: &str) {
        if let Some(i) = self.active().iter().position(|(n, _)| n == name) {
            self.len -= 1;
            self.slots.swap(i, self.len);
        }
    }

    /// Keeps only the labels `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        let mut i = 0;
        while i < self.len {
            if keep(&self.slots[i].0, &self.slots[i].1) {
                i += 1;
            } else {
                self.len -= 1;
                self.slots.swap(i, self.len);
            }
        }
    }

    /// Whether a stage failed on this line (`__error__` set).
    pub fn has_error(&self) -> bool {
        self.get(ERROR).is_some_and(|v| !v.is_empty())
    }

    /// Records a stage failure, as Loki does: the first error wins.
    pub fn set_error(&mut self, err: &str, details: &str) {
        if !self.has_error() {
            self.set(ERROR, err);
            if !details.is_empty() {
                self.set(ERROR_DETAILS, details);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.active().iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    fn active(&self) -> &[(String, String)] {
        &self.slots[..self.len]
    }

    /// Whether `labels` holds exactly these labels (empty values are absent in both).
    pub fn same_as(&mut self, labels: &Labels) -> bool {
        self.sort();
        let mut mine = self.active().iter().filter(|(_, v)| !v.is_empty());
        let mut theirs = labels.iter();
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some((n, v)), Some((m, w))) if n == m && v == w => {}
                _ => return false,
            }
        }
    }

    /// The set as [`Labels`] (allocates: callers compare with [`same_as`] first).
    pub fn to_labels(&self) -> Labels {
        Labels::new(self.active().to_vec())
    }

    fn sort(&mut self) {
        self.slots[..self.len].sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }
}
