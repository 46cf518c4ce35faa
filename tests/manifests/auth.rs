//! The auth component: both programs read their tokens from the Secret it mounts (not
//! optional: a missing Secret keeps the pods waiting, not running open), and its
//! aggregator.yml is the base's plus `logs.auth`, nothing else.

use crate::layout::{Layout, TOKEN};
use crate::programs::{agent, agent_config, aggregator, aggregator_config, base, with_auth};
use crate::render::Rendered;
use serde_json::Value;

#[test]
fn the_auth_component_reads_both_tokens_from_the_secret() {
    let Some(r) = with_auth() else { return };
    let pod = agent(r);
    let layout = Layout::write(r, &pod, "agent");
    let loki = agent_config(&pod, Some(&layout))
        .sinks
        .loki
        .expect("no Loki sink");
    let bearer = loki.http.auth.and_then(|a| a.bearer_token);
    assert_eq!(bearer.as_deref(), Some(TOKEN), "the agent's push token");
    let pod = aggregator(r);
    let layout = Layout::write(r, &pod, "aggregator");
    let auth = aggregator_config(&pod, &layout).logs.auth;
    assert_eq!(auth.ingest_token.as_deref(), Some(TOKEN));
    assert_eq!(auth.query_token.as_deref(), Some(TOKEN));
    for pod in [agent(r), aggregator(r)] {
        for v in pod.spec()["volumes"].as_array().unwrap() {
            assert!(
                v["secret"]["optional"] != true,
                "an optional Secret would run open"
            );
        }
    }
}

#[test]
fn the_auth_config_is_the_base_config_plus_logs_auth() {
    let (Some(base), Some(auth)) = (base(), with_auth()) else {
        return;
    };
    let config = |r: &Rendered| -> Value {
        let name = aggregator(r).volume("config")["configMap"]["name"].clone();
        let text = r.get("ConfigMap", name.as_str().unwrap())["data"]["aggregator.yml"].clone();
        serde_norway::from_str(text.as_str().unwrap()).unwrap()
    };
    let mut with = config(auth);
    let logs = with["logs"].as_object_mut().expect("no logs section");
    assert!(logs.remove("auth").is_some(), "no logs.auth");
    if logs.is_empty() {
        with.as_object_mut().unwrap().remove("logs");
    }
    assert_eq!(
        with,
        config(base),
        "auth/aggregator.yml drifted from aggregator/aggregator.yml"
    );
}
