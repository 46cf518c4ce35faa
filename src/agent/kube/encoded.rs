//! kube_pod_* encoded once per cache generation: the families change only when a watch
//! event changes the cache, and building them (one owned label value per sample, ~30k
//! for 110 pods × 3 containers) and encoding them cost ~10 ms, twice the budget of a whole
//! scrape. Between changes a scrape copies the encoded section, per format.

use super::cache::PodCache;
use super::ksm;
use crate::exposition::{encode_families, normalize, Dropped, Format};
use std::sync::{Arc, Mutex};

/// One encoded section and what normalizing it dropped (counted at every scrape that
/// uses it, as a fresh build would be).
#[derive(Clone)]
pub struct Section {
    pub body: Arc<[u8]>,
    pub dropped: Dropped,
}

#[derive(Default)]
struct Entry {
    generation: u64,
    text: Option<Section>,
    open_metrics: Option<Section>,
}

#[derive(Default)]
pub struct EncodedPods {
    entry: Mutex<Entry>,
}

impl EncodedPods {
    /// The kube_pod_* section of `cache` in `format`, built again only when the cache's
    /// generation moved since it was built.
    pub fn section(&self, cache: &PodCache, format: Format) -> Section {
        // Read before the snapshot: a publish in between is seen at the next scrape.
        let generation = cache.generation();
        let mut entry = self.entry.lock().unwrap_or_else(|e| e.into_inner());
        if entry.generation != generation {
            *entry = Entry {
                generation,
                ..Entry::default()
            };
        }
        let slot = match format {
            Format::Text => &mut entry.text,
            Format::OpenMetrics => &mut entry.open_metrics,
        };
        slot.get_or_insert_with(|| build(cache, format)).clone()
    }
}

fn build(cache: &PodCache, format: Format) -> Section {
    let mut families = Vec::new();
    ksm::collect(&cache.snapshot(), &mut families);
    let (families, dropped) = normalize(families);
    let mut body = Vec::with_capacity(64 * 1024);
    encode_families(&families, format, &mut body);
    Section {
        body: body.into(),
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::kube::cache::Snapshot;
    use crate::agent::kube::meta::{AnnotationFilter, PodMeta};
    use crate::exposition::encode;

    fn checkout() -> PodMeta {
        let pod = serde_json::from_str(include_str!("testdata/pod_checkout.json")).unwrap();
        PodMeta::from_pod(&pod, &AnnotationFilter::default()).unwrap()
    }

    #[test]
    fn the_section_is_what_a_fresh_encode_gives_and_is_rebuilt_only_on_change() {
        let cache = PodCache::default();
        cache.publish(Snapshot::from_metas([checkout()], []));
        let pods = EncodedPods::default();
        for format in [Format::Text, Format::OpenMetrics] {
            let mut families = Vec::new();
            ksm::collect(&cache.snapshot(), &mut families);
            let mut fresh = Vec::new();
            encode(&normalize(families).0, format, &mut fresh);
            let got = pods.section(&cache, format);
            assert!(
                fresh.starts_with(&got.body),
                "the section is the body less # EOF"
            );
            assert!(got.body.len() > 1000);
            let again = pods.section(&cache, format);
            assert!(
                Arc::ptr_eq(&got.body, &again.body),
                "reused while unchanged"
            );
        }
        let before = pods.section(&cache, Format::Text);
        cache.publish(Snapshot::from_metas([], []));
        let after = pods.section(&cache, Format::Text);
        assert!(!Arc::ptr_eq(&before.body, &after.body));
        assert!(after.body.is_empty(), "no pods, no kube_pod_* samples");
    }
}
