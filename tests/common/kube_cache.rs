//! The pod cache under test: started against a [`FakeApi`] with a fast fixed backoff,
//! waited on by condition, and the usual fake node (three pods here, one elsewhere, a
//! plain and an excluded namespace).

use super::fake_api::{wait_for, FakeApi, NAMESPACES, PODS};
use super::pods::{namespace, pod, uid, NODE};
use nodepulse::agent::config::KubeApi;
use nodepulse::agent::kube::{client, exclude, FixedBackoff, Kube, KubeSettings, Snapshot};
use std::sync::Arc;
use std::time::Duration;

pub const GRACE: Duration = Duration::from_secs(60);

pub async fn start_cache(api: &FakeApi, grace: Duration) -> Kube {
    let url = KubeApi::Url(api.url());
    let client = client::client(&url, None)
        .await
        .expect("client")
        .expect("a client");
    let mut settings = KubeSettings::new(NODE);
    settings.delete_grace = grace;
    settings.backoff = Arc::new(|| Box::new(FixedBackoff(Duration::from_millis(50))));
    Kube::start(client, settings)
}

pub async fn wait_cache(kube: &Kube, what: &str, cond: impl Fn(&Snapshot) -> bool) {
    let cache = kube.cache();
    wait_for(|| cond(&cache.snapshot()), what).await;
}

pub fn live(s: &Snapshot) -> usize {
    s.live_pods().count()
}

/// Three pods on this node, one on another, two namespaces.
pub async fn three_pods() -> FakeApi {
    let api = FakeApi::start().await;
    let items = (1..=3).map(|i| pod("shop", &format!("web-{i}"), &uid(i), NODE));
    let other = pod("shop", "elsewhere", &uid(99), "node-2");
    api.set_items(PODS, items.chain([other]).collect());
    api.set_items(
        NAMESPACES,
        vec![
            namespace("shop", &[("team", "payments")], &[]),
            namespace("quiet", &[], &[(exclude::EXCLUDE, "true")]),
        ],
    );
    api
}
