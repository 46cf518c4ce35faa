//! The in-memory shape of a scrape: metric families of samples with label pairs.
//!
//! Collectors build these; the encoder writes them; the parser reads them back. Names
//! and help texts are `Cow` so the common, static case allocates nothing; samples of
//! many families with the same labels can share one [`LabelSet`].

use super::labelset::LabelSet;
use std::borrow::Cow;
use std::sync::Arc;

/// The metric types the agent emits (Prometheus text format names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Untyped,
}

impl MetricType {
    /// The word used on a `# TYPE` line of the 0.0.4 text format.
    pub fn text_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "untyped",
        }
    }
}

/// One label pair. Names are mostly static; values come from the host.
pub type Label = (Cow<'static, str>, String);

/// One sample of a family: its labels (in emission order) and value. No timestamp:
/// explicit timestamps break staleness handling in Prometheus (cAdvisor #3217).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's own labels, written after the shared ones.
    pub labels: Vec<Label>,
    /// Labels shared with other samples, written first.
    pub shared: Option<Arc<LabelSet>>,
    pub value: f64,
}

impl Sample {
    /// Every label pair, shared ones first, in written order.
    pub fn label_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let shared = self.shared.as_deref().map_or(&[][..], LabelSet::pairs);
        shared
            .iter()
            .chain(&self.labels)
            .map(|(n, v)| (n.as_ref(), v.as_str()))
    }

    /// How many label pairs the sample has.
    pub fn label_count(&self) -> usize {
        self.labels.len() + self.shared.as_ref().map_or(0, |s| s.pairs().len())
    }
}

/// A metric family: one name, one type, one help text, many samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    pub name: Cow<'static, str>,
    pub help: Cow<'static, str>,
    pub kind: MetricType,
    pub samples: Vec<Sample>,
}

impl MetricFamily {
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: MetricType,
    ) -> Self {
        MetricFamily {
            name: name.into(),
            help: help.into(),
            kind,
            samples: Vec::new(),
        }
    }

    pub fn counter(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, help, MetricType::Counter)
    }

    pub fn gauge(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, help, MetricType::Gauge)
    }

    pub fn untyped(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, help, MetricType::Untyped)
    }

    /// Adds a sample with the given static label names and values.
    pub fn push(&mut self, labels: &[(&'static str, &str)], value: f64) {
        let labels = labels
            .iter()
            .map(|(n, v)| (Cow::Borrowed(*n), (*v).to_owned()))
            .collect();
        self.push_labels(labels, value);
    }

    /// Adds a sample whose labels are already owned.
    pub fn push_labels(&mut self, labels: Vec<Label>, value: f64) {
        self.samples.push(Sample {
            labels,
            shared: None,
            value,
        });
    }

    /// Adds a sample with the labels of a shared set (no label is copied).
    pub fn push_shared(&mut self, labels: &Arc<LabelSet>, value: f64) {
        self.samples.push(Sample {
            labels: Vec::new(),
            shared: Some(labels.clone()),
            value,
        });
    }

    /// Builder form of [`MetricFamily::push`].
    pub fn with(mut self, labels: &[(&'static str, &str)], value: f64) -> Self {
        self.push(labels, value);
        self
    }

    /// Builder form for a family with one unlabelled sample.
    pub fn value(self, value: f64) -> Self {
        self.with(&[], value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_keeps_label_order_and_values() {
        let f = MetricFamily::gauge("node_x", "X.")
            .with(&[("device", "sda"), ("mode", "idle")], 1.5)
            .value(2.0);
        assert_eq!(f.samples.len(), 2);
        assert_eq!(f.samples[0].labels[0].0, "device");
        assert_eq!(f.samples[0].labels[1].1, "idle");
        assert_eq!(f.samples[1].labels.len(), 0);
        assert_eq!(f.kind.text_name(), "gauge");
    }
}
