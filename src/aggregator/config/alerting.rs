//! Where alerts go, validated into the notifier's [`NotifyConfig`]: Prometheus's own
//! `alerting` section (`alertmanagers[]` with `static_configs`, `scheme`,
//! `path_prefix`, `timeout`, `api_version`, and the HTTP client keys `authorization`,
//! `basic_auth` and `tls_config`: [`http_client`]) and our `notifications`
//! section (`webhooks[]` with Alertmanager's webhook payload, the queue's capacity as
//! Prometheus's `--alertmanager.notification-queue-capacity`, the payloads'
//! `external_url`). Ours is a section of its own so that the rendered Prometheus part
//! (`global` onwards) still passes `promtool check config`. Prometheus's
//! `alert_relabel_configs` (every alert's labels, after the external labels) and an
//! Alertmanager entry's `relabel_configs` (its targets' `__address__`, `__scheme__` and
//! `__alerts_path__`) are applied as Prometheus applies them, and so is an entry's
//! `kubernetes_sd_configs` (roles pod and endpoints, as for scraping), whose discovered
//! label sets go through the same `relabel_configs` (`notify::discover`). Other
//! discovery keys are refused as unknown. A credentials file is read at load (a missing
//! one is refused) and again for every request; what is shown keeps secrets out.

use super::{invalid, ConfigError, Flags};
use crate::aggregator::http::params::prometheus_duration_ms;
use crate::aggregator::http_client::{self, AuthorizationFile, BasicAuthFile, Key, TlsFile};
use crate::aggregator::notify::alertmanager::{relabelled, url as alertmanager_url};
use crate::aggregator::notify::config::DEFAULT_TIMEOUT;
use crate::aggregator::notify::queue::DEFAULT_CAPACITY;
use crate::aggregator::notify::{
    DiscoveredAlertmanagers, GroupBy, NotifyConfig, Receiver, Target, Webhook,
};
use crate::aggregator::scrape::kube_sd::KubeSdFile;
use crate::aggregator::scrape::relabel::{deserialize_rules, RelabelConfig};
use serde::{Deserialize, Serialize};
use std::time::Duration;

const FILE: &str = "--config.file";

/// Prometheus's `alerting` section as written.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingFile {
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "deserialize_rules"
    )]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alertmanagers: Vec<AlertmanagerFile>,
}

/// Our `notifications` section as written; every key optional.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsFile {
    /// Alerts each destination's queue holds (10000).
    pub queue_capacity: Option<usize>,
    /// The `externalURL` of webhook payloads (default `http://<host name>:<port>`,
    /// as Prometheus's default external URL).
    pub external_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookFile>,
}

/// One `alertmanagers` entry, as Prometheus's `alertmanager_config`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerFile {
    #[serde(default)]
    pub static_configs: Vec<StaticFile>,
    pub scheme: Option<String>,
    pub path_prefix: Option<String>,
    pub timeout: Option<String>,
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsFile>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "deserialize_rules"
    )]
    pub relabel_configs: Vec<RelabelConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_sd_configs: Vec<KubeSdFile>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StaticFile {
    #[serde(default)]
    pub targets: Vec<String>,
}

/// One of our `webhooks`.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFile {
    pub url: String,
    /// The payload's `receiver` (webhook).
    pub name: Option<String>,
    pub timeout: Option<String>,
    /// Labels that group alerts into one payload ([alertname]; `...`: all labels).
    pub group_by: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<AuthorizationFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuthFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsFile>,
}

/// What the notifier runs with, and both sections as shown (defaults filled, no
/// secrets).
#[derive(Debug, Clone, Default)]
pub struct AlertingConfig {
    pub notify: NotifyConfig,
    pub alerting: AlertingFile,
    pub notifications: NotificationsFile,
}

/// Flags' `--alertmanager.url`s and queue capacity over the file's two sections.
pub fn merge(
    f: &Flags,
    (mut a, mut n): (AlertingFile, NotificationsFile),
    external_labels: Vec<(String, String)>,
    default_external_url: String,
) -> Result<AlertingConfig, ConfigError> {
    let mut notify = NotifyConfig {
        queue_capacity: f
            .notification_queue_capacity
            .or(n.queue_capacity)
            .unwrap_or(DEFAULT_CAPACITY),
        external_labels,
        alert_relabel: a.alert_relabel_configs.clone(),
        ..NotifyConfig::default()
    };
    if notify.queue_capacity == 0 {
        return Err(invalid(
            "notifications.queue_capacity",
            "--alertmanager.notification-queue-capacity",
            "must be at least 1",
        ));
    }
    for url in &f.alertmanager_urls {
        a.alertmanagers.push(flag_entry(url)?);
    }
    for am in &mut a.alertmanagers {
        let (targets, discovered) = alertmanager(am, &mut notify.dropped_alertmanagers)?;
        notify.alertmanagers.extend(targets);
        notify.discovered.extend(discovered);
    }
    let external_url = n.external_url.clone().unwrap_or(default_external_url);
    for hook in &mut n.webhooks {
        notify.webhooks.push(webhook(hook, &external_url)?);
    }
    n.queue_capacity = Some(notify.queue_capacity);
    n.external_url = Some(external_url);
    Ok(AlertingConfig {
        notify,
        alerting: a,
        notifications: n,
    })
}

/// `--alertmanager.url=http://am:9093/prefix` as the `alertmanagers` entry it stands
/// for (so that it is shown with the rest).
fn flag_entry(url: &str) -> Result<AlertmanagerFile, ConfigError> {
    let bad = |msg: String| invalid("alerting.alertmanagers", "--alertmanager.url", msg);
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("{url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return Err(bad(format!("{url:?} is not an http(s) URL")));
    }
    let rest = &url[parsed.scheme().len() + 3..];
    let (authority, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Ok(AlertmanagerFile {
        static_configs: vec![StaticFile {
            targets: vec![authority.to_owned()],
        }],
        scheme: Some(parsed.scheme().to_owned()),
        path_prefix: Some(if prefix.is_empty() { "/" } else { prefix }.to_owned()),
        ..AlertmanagerFile::default()
    })
}

/// One `alertmanagers` entry: a target per `static_configs` target. Fills its defaults
/// in and hides its credentials for display.
fn alertmanager(
    am: &mut AlertmanagerFile,
    dropped: &mut Vec<String>,
) -> Result<Entry, ConfigError> {
    const KEY: &str = "alerting.alertmanagers";
    match am.api_version.get_or_insert_with(|| "v2".into()).as_str() {
        "v2" => {}
        "v1" => {
            return Err(invalid(
                KEY,
                FILE,
                "api_version v1 is not supported: Alertmanager removed API v1 (0.27); use v2",
            ))
        }
        other => {
            return Err(invalid(
                KEY,
                FILE,
                format!("expected Alertmanager api version to be one of [v2] but got {other}"),
            ))
        }
    }
    let scheme = am.scheme.get_or_insert_with(|| "http".into()).clone();
    if scheme != "http" && scheme != "https" {
        return Err(invalid(
            KEY,
            FILE,
            format!("scheme {scheme:?} is not http or https"),
        ));
    }
    let prefix = am.path_prefix.get_or_insert_with(|| "/".into()).clone();
    let timeout = timeout(&mut am.timeout, "alerting.alertmanagers.timeout")?;
    let keys = Keys::of(KEY);
    let (authorization, tls) = access(
        &keys,
        am.authorization.as_mut(),
        am.basic_auth.as_mut(),
        am.tls_config.as_ref(),
    )?;
    let template = Target {
        url: String::new(),
        timeout,
        authorization,
        tls,
    };
    let mut targets = Vec::new();
    for t in am.static_configs.iter().flat_map(|s| &s.targets) {
        let labels = vec![("__address__".to_owned(), t.clone())];
        let url = relabelled(labels, &scheme, &prefix, &am.relabel_configs)
            .map_err(|e| invalid(KEY, FILE, e))?;
        let Some(url) = url else {
            dropped.push(alertmanager_url(&scheme, t, &prefix));
            continue;
        };
        targets.push(Target {
            url,
            ..template.clone()
        });
    }
    let discovered = discovered(am, &scheme, &prefix, template)?;
    Ok((targets, discovered))
}

/// An entry's static targets, and its discovery if it has one.
type Entry = (Vec<Target>, Option<DiscoveredAlertmanagers>);

/// The entry's `kubernetes_sd_configs` checked, with what its Alertmanagers share.
fn discovered(
    am: &AlertmanagerFile,
    scheme: &str,
    prefix: &str,
    template: Target,
) -> Result<Option<DiscoveredAlertmanagers>, ConfigError> {
    if am.kubernetes_sd_configs.is_empty() {
        return Ok(None);
    }
    let sd = (am.kubernetes_sd_configs.iter().cloned())
        .map(|f| f.compile())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("alerting.alertmanagers.kubernetes_sd_configs", FILE, e))?;
    Ok(Some(DiscoveredAlertmanagers {
        sd,
        relabel: am.relabel_configs.clone(),
        scheme: scheme.to_owned(),
        path_prefix: prefix.to_owned(),
        template,
    }))
}

fn webhook(w: &mut WebhookFile, external_url: &str) -> Result<Webhook, ConfigError> {
    const KEY: &str = "notifications.webhooks.url";
    let parsed =
        reqwest::Url::parse(&w.url).map_err(|e| invalid(KEY, FILE, format!("{:?}: {e}", w.url)))?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return Err(invalid(
            KEY,
            FILE,
            format!("{:?} is not an http(s) URL", w.url),
        ));
    }
    let group_by = w.group_by.get_or_insert_with(|| vec!["alertname".into()]);
    let group_by = if group_by.iter().any(|g| g == "...") {
        if group_by.len() > 1 {
            return Err(invalid(
                "notifications.webhooks.group_by",
                FILE,
                "'...' must be the only label",
            ));
        }
        GroupBy::All
    } else {
        GroupBy::Labels(group_by.clone())
    };
    let (authorization, tls) = access(
        &Keys::of("notifications.webhooks"),
        w.authorization.as_mut(),
        w.basic_auth.as_mut(),
        w.tls_config.as_ref(),
    )?;
    let target = Target {
        url: w.url.clone(),
        timeout: timeout(&mut w.timeout, "notifications.webhooks.timeout")?,
        authorization,
        tls,
    };
    let receiver = Receiver {
        name: w.name.get_or_insert_with(|| "webhook".into()).clone(),
        external_url: external_url.to_owned(),
        group_by,
    };
    Ok(Webhook { target, receiver })
}

/// A positive Prometheus duration, 10s when unset (and written back for display).
fn timeout(value: &mut Option<String>, key: &'static str) -> Result<Duration, ConfigError> {
    let s = value.get_or_insert_with(|| promql_parser::util::display_duration(&DEFAULT_TIMEOUT));
    match prometheus_duration_ms(s) {
        Some(ms) if ms > 0 => Ok(Duration::from_millis(ms as u64)),
        _ => Err(invalid(
            key,
            FILE,
            format!("{s:?} is not a positive duration such as 10s"),
        )),
    }
}

/// The configuration keys a destination's errors are placed at.
struct Keys {
    entry: &'static str,
    authorization: &'static str,
    basic_auth: &'static str,
    tls_config: &'static str,
}

impl Keys {
    fn of(entry: &'static str) -> Keys {
        match entry {
            "alerting.alertmanagers" => Keys {
                entry,
                authorization: "alerting.alertmanagers.authorization",
                basic_auth: "alerting.alertmanagers.basic_auth",
                tls_config: "alerting.alertmanagers.tls_config",
            },
            _ => Keys {
                entry,
                authorization: "notifications.webhooks.authorization",
                basic_auth: "notifications.webhooks.basic_auth",
                tls_config: "notifications.webhooks.tls_config",
            },
        }
    }
}

/// A destination's `Authorization` header source and TLS settings.
fn access(
    keys: &Keys,
    a: Option<&mut AuthorizationFile>,
    b: Option<&mut BasicAuthFile>,
    t: Option<&TlsFile>,
) -> Result<(Option<http_client::Credentials>, http_client::Tls), ConfigError> {
    let client = http_client::client(a, b, t).map_err(|(key, e)| {
        let at = match key {
            Key::Authorization => keys.authorization,
            Key::BasicAuth => keys.basic_auth,
            Key::Entry => keys.entry,
            Key::TlsConfig => keys.tls_config,
        };
        invalid(at, FILE, e)
    })?;
    Ok((client.credentials, client.tls))
}

#[cfg(test)]
mod tests;
