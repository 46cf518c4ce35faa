//! Relabelling as Prometheus's `relabel_config` does it: actions replace (default),
//! keep, drop, labelmap, labeldrop, labelkeep, hashmod, lowercase and uppercase; fields
//! source_labels, separator (`;`), regex (`(.*)`, fully anchored), modulus,
//! target_label and replacement (`$1`). The same rules serve target relabelling and
//! metric relabelling.

use serde::{Deserialize, Serialize};

/// One rule as written in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelFile {
    #[serde(default)]
    source_labels: Vec<String>,
    separator: Option<String>,
    regex: Option<String>,
    modulus: Option<u64>,
    target_label: Option<String>,
    replacement: Option<String>,
    action: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Replace,
    Keep,
    Drop,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct RelabelConfig {
    source_labels: Vec<String>,
    separator: String,
    regex: regex::Regex,
    modulus: u64,
    target_label: String,
    replacement: String,
    action: Action,
}

impl RelabelFile {
    /// Checks the rule as Prometheus's config loader does.
    pub fn compile(self) -> Result<RelabelConfig, String> {
        let action = match self
            .action
            .as_deref()
            .unwrap_or("replace")
            .to_ascii_lowercase()
            .as_str()
        {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            other => return Err(format!("unknown relabel action {other:?}")),
        };
        let raw = self.regex.unwrap_or_else(|| "(.*)".into());
        let regex = regex::Regex::new(&format!("^(?s:{raw})$"))
            .map_err(|e| format!("invalid regex {raw:?}: {e}"))?;
        let target_label = self.target_label.unwrap_or_default();
        let needs_target = matches!(
            action,
            Action::Replace | Action::HashMod | Action::Lowercase | Action::Uppercase
        );
        if needs_target && target_label.is_empty() {
            // Prometheus names the action as written: "replace", "hashmod".
            let name = format!("{action:?}").to_lowercase();
            return Err(format!(
                "relabel configuration for {name} action requires 'target_label' value"
            ));
        }
        let modulus = self.modulus.unwrap_or(0);
        if action == Action::HashMod && modulus == 0 {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        Ok(RelabelConfig {
            source_labels: self.source_labels,
            separator: self.separator.unwrap_or_else(|| ";".into()),
            regex,
            modulus,
            target_label,
            replacement: self.replacement.unwrap_or_else(|| "$1".into()),
            action,
        })
    }
}

/// Rules as a configuration file writes them, each checked by [`RelabelFile::compile`]
/// (serde's `deserialize_with` for the sections that hold a list of them); a bad rule
/// fails with its index.
pub fn deserialize_rules<'de, D>(d: D) -> Result<Vec<RelabelConfig>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let files = Vec::<RelabelFile>::deserialize(d)?;
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            f.compile()
                .map_err(|e| serde::de::Error::custom(format!("rule {i}: {e}")))
        })
        .collect()
}

/// Applies `rules` in order to `labels` (name, value pairs; empty values mean absent).
/// `None` when a keep/drop rule drops the set.
pub fn process(
    mut labels: Vec<(String, String)>,
    rules: &[RelabelConfig],
) -> Option<Vec<(String, String)>> {
    for rule in rules {
        labels = rule.apply(labels)?;
    }
    labels.retain(|(_, v)| !v.is_empty());
    Some(labels)
}

fn get<'a>(labels: &'a [(String, String)], name: &str) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn set(labels: &mut Vec<(String, String)>, name: &str, value: String) {
    labels.retain(|(n, _)| n != name);
    if !value.is_empty() {
        labels.push((name.to_owned(), value));
    }
}

/// A rule as Prometheus shows a loaded one: every field with its default, the regex
/// as written (without the anchors `compile` adds), `modulus` and `target_label` only
/// when set.
impl Serialize for RelabelConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            source_labels: &'a [String],
            separator: &'a str,
            regex: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            modulus: Option<u64>,
            #[serde(skip_serializing_if = "str::is_empty")]
            target_label: &'a str,
            replacement: &'a str,
            action: String,
        }
        let anchored = self.regex.as_str();
        let regex = anchored
            .strip_prefix("^(?s:")
            .and_then(|r| r.strip_suffix(")$"))
            .unwrap_or(anchored);
        Shown {
            source_labels: &self.source_labels,
            separator: &self.separator,
            regex,
            modulus: Some(self.modulus).filter(|m| *m != 0),
            target_label: &self.target_label,
            replacement: &self.replacement,
            action: format!("{:?}", self.action).to_lowercase(),
        }
        .serialize(s)
    }
}

/// Rules are equal when their fields are, the regex by its pattern (a reload keeps a job
/// whose configuration did not change).
impl PartialEq for RelabelConfig {
    fn eq(&self, o: &Self) -> bool {
        self.source_labels == o.source_labels
            && self.separator == o.separator
            && self.regex.as_str() == o.regex.as_str()
            && self.modulus == o.modulus
            && self.target_label == o.target_label
            && self.replacement == o.replacement
            && self.action == o.action
    }
}

impl RelabelConfig {
    fn apply(&self, mut labels: Vec<(String, String)>) -> Option<Vec<(String, String)>> {
        let value = self
            .source_labels
            .iter()
            .map(|n| get(&labels, n))
            .collect::<Vec<_>>()
            .join(&self.separator);
        match self.action {
            Action::Keep => return self.regex.is_match(&value).then_some(labels),
            Action::Drop => return (!self.regex.is_match(&value)).then_some(labels),
            Action::Replace => {
                let Some(caps) = self.regex.captures(&value) else {
                    return Some(labels);
                };
                let mut target = String::new();
                caps.expand(&self.target_label, &mut target);
                let mut out = String::new();
                caps.expand(&self.replacement, &mut out);
                if !valid_label_name(&target) {
                    return Some(labels);
                }
                set(&mut labels, &target, out);
            }
            Action::Lowercase => set(&mut labels, &self.target_label, value.to_lowercase()),
            Action::Uppercase => set(&mut labels, &self.target_label, value.to_uppercase()),
            Action::HashMod => {
                let digest = md5_prefix(&value);
                set(
                    &mut labels,
                    &self.target_label,
                    (digest % self.modulus).to_string(),
                );
            }
            Action::LabelMap => {
                let mapped: Vec<(String, String)> = labels
                    .iter()
                    .filter_map(|(n, v)| {
                        let caps = self.regex.captures(n)?;
                        let mut name = String::new();
                        caps.expand(&self.replacement, &mut name);
                        Some((name, v.clone()))
                    })
                    .collect();
                for (n, v) in mapped {
                    set(&mut labels, &n, v);
                }
            }
            Action::LabelDrop => labels.retain(|(n, _)| !self.regex.is_match(n)),
            Action::LabelKeep => labels.retain(|(n, _)| self.regex.is_match(n)),
        }
        Some(labels)
    }
}

/// Prometheus's hashmod: the last 8 bytes of the MD5 digest, big-endian.
fn md5_prefix(s: &str) -> u64 {
    use md5::{Digest, Md5};
    let digest = Md5::digest(s.as_bytes());
    u64::from_be_bytes(digest[8..16].try_into().unwrap_or([0; 8]))
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, as Prometheus's model.LabelName.IsValid (legacy scheme).
pub fn valid_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
#[path = "relabel_tests.rs"]
mod tests;
