//! Alerting and recording rules (issue 7). So far: the alert template language
//! ([`template`]) that expands a rule's labels and annotations.

pub mod template;
