//! Each log-pipeline setting: its default, the file's value, the flag over the file, and
//! bad values refused with the key (and flag) named.
use super::super::{AgentConfig, ConfigError, FileConfig, Flags};
use super::LogSettings;
use crate::agent::logs::buffer::WhenFull;
use clap::Parser;
use std::time::Duration;

fn merged(args: &[&str], yaml: &str) -> Result<AgentConfig, ConfigError> {
    let mut all = vec!["nodepulse-agent"];
    all.extend_from_slice(args);
    let flags = Flags::try_parse_from(all).unwrap();
    AgentConfig::merge(flags, FileConfig::parse(yaml).map_err(ConfigError::File)?)
}

fn logs(args: &[&str], yaml: &str) -> LogSettings {
    merged(args, yaml)
        .unwrap_or_else(|e| panic!("{args:?} {yaml:?}: {e}"))
        .logs
}

/// One setting: how to read it, and its value by default, from the file, from the flag.
struct Setting {
    key: &'static str,
    get: fn(&LogSettings) -> String,
    default: &'static str,
    yaml: &'static str,
    from_file: &'static str,
    /// The flag (with a value) and the value it gives; `None` for file-only keys.
    flag: Option<(&'static str, &'static str)>,
    /// Bad values: flag arguments and file text, each refused naming `key`.
    bad: &'static [(&'static [&'static str], &'static str)],
}

const MIB: u64 = 1 << 20;

fn settings() -> Vec<Setting> {
    vec![
        Setting {
            key: "logs.buffer.max_bytes",
            get: |l| l.buffer_max_bytes.to_string(),
            default: "16777216",
            yaml: "logs:\n  buffer:\n    max_bytes: 32MiB\n",
            from_file: "33554432",
            flag: Some(("--logs.buffer.max-bytes=1048576", "1048576")),
            bad: &[
                (&["--logs.buffer.max-bytes=64MB"], ""),
                (&["--logs.buffer.max-bytes=0"], ""),
                (&[], "logs:\n  buffer:\n    max_bytes: lots\n"),
            ],
        },
        Setting {
            key: "logs.buffer.when_full",
            get: |l| format!("{:?}", l.when_full),
            default: "Block",
            yaml: "logs:\n  buffer:\n    when_full: drop_newest\n",
            from_file: "DropNewest",
            flag: Some(("--logs.buffer.when-full=block", "Block")),
            bad: &[(&["--logs.buffer.when-full=drop_oldest"], "")],
        },
        Setting {
            key: "logs.spool.max_bytes",
            get: |l| l.spool_max_bytes.to_string(),
            default: "0",
            yaml: "logs:\n  spool:\n    max_bytes: 1GiB\n",
            from_file: "1073741824",
            flag: Some(("--logs.spool.max-bytes=0", "0")),
            bad: &[
                (&["--logs.spool.max-bytes=-1"], ""),
                // Smaller than one batch (1 MiB by default).
                (&["--logs.spool.max-bytes=512KiB"], ""),
            ],
        },
        Setting {
            key: "logs.spool.segment_bytes",
            get: |l| l.spool_segment_bytes.to_string(),
            default: "67108864",
            yaml: "logs:\n  spool:\n    segment_bytes: 8MiB\n",
            from_file: "8388608",
            flag: None,
            bad: &[(&[], "logs:\n  spool:\n    segment_bytes: 0\n")],
        },
        Setting {
            key: "logs.batch.max_bytes",
            get: |l| l.batch.max_bytes.to_string(),
            default: "1048576",
            yaml: "logs:\n  batch:\n    max_bytes: 512KiB\n",
            from_file: "524288",
            flag: Some(("--logs.batch.max-bytes=2MiB", "2097152")),
            bad: &[(&["--logs.batch.max-bytes=1.5MiB"], "")],
        },
        Setting {
            key: "logs.batch.max_events",
            get: |l| l.batch.max_events.to_string(),
            default: "10000",
            yaml: "logs:\n  batch:\n    max_events: 500\n",
            from_file: "500",
            flag: Some(("--logs.batch.max-events=20", "20")),
            bad: &[
                (&["--logs.batch.max-events=many"], ""),
                (&["--logs.batch.max-events=0"], ""),
            ],
        },
        Setting {
            key: "logs.batch.timeout",
            get: |l| format!("{:?}", l.batch.max_age),
            default: "1s",
            yaml: "logs:\n  batch:\n    timeout: 250ms\n",
            from_file: "250ms",
            flag: Some(("--logs.batch.timeout=2s", "2s")),
            bad: &[
                (&["--logs.batch.timeout=soon"], ""),
                (&[], "logs:\n  batch:\n    timeout: 0s\n"),
            ],
        },
        Setting {
            key: "logs.max_line_bytes",
            get: |l| l.max_line_bytes.to_string(),
            default: "1048576",
            yaml: "logs:\n  max_line_bytes: 65536\n",
            from_file: "65536",
            flag: Some(("--logs.max-line-bytes=512KiB", "524288")),
            bad: &[(&["--logs.max-line-bytes=0"], "")],
        },
        Setting {
            key: "logs.partial_flush_timeout",
            get: |l| format!("{:?}", l.partial_flush_timeout),
            default: "5s",
            yaml: "logs:\n  partial_flush_timeout: 10s\n",
            from_file: "10s",
            flag: Some(("--logs.partial-flush-timeout=500ms", "500ms")),
            bad: &[(&["--logs.partial-flush-timeout=5"], "")],
        },
        Setting {
            key: "logs.max_open_files",
            get: |l| l.max_open_files.to_string(),
            default: "1024",
            yaml: "logs:\n  max_open_files: 64\n",
            from_file: "64",
            flag: Some(("--logs.max-open-files=8", "8")),
            bad: &[
                (&["--logs.max-open-files=0"], ""),
                (&[], "logs:\n  max_open_files: 0\n"),
            ],
        },
        Setting {
            key: "logs.checkpoint_retention",
            get: |l| format!("{:?}", l.checkpoint_retention),
            default: "300s",
            yaml: "logs:\n  checkpoint_retention: 1h\n",
            from_file: "3600s",
            flag: Some(("--logs.checkpoint-retention=90s", "90s")),
            bad: &[
                (&["--logs.checkpoint-retention=5"], ""),
                (&["--logs.checkpoint-retention=0s"], ""),
                (&[], "logs:\n  checkpoint_retention: forever\n"),
            ],
        },
    ]
}

#[test]
fn every_setting_has_its_default() {
    let defaults = logs(&[], "");
    for s in settings() {
        assert_eq!((s.get)(&defaults), s.default, "{}", s.key);
    }
    assert_eq!(defaults.batch.max_bytes as u64, MIB);
    assert_eq!(defaults.when_full, WhenFull::Block);
    assert_eq!(defaults.partial_flush_timeout, Duration::from_secs(5));
}

#[test]
fn the_file_sets_each_setting_and_the_flag_wins_over_it() {
    for s in settings() {
        assert_eq!(
            (s.get)(&logs(&[], s.yaml)),
            s.from_file,
            "{} from the file",
            s.key
        );
        if let Some((flag, value)) = s.flag {
            assert_eq!(
                (s.get)(&logs(&[flag], s.yaml)),
                value,
                "{flag} over the file"
            );
        }
    }
}

#[test]
fn bad_values_name_the_key_and_the_flag() {
    for s in settings() {
        for (args, yaml) in s.bad {
            let err = match merged(args, yaml) {
                Ok(c) => panic!("{args:?} {yaml:?} accepted: {:?}", (s.get)(&c.logs)),
                Err(e) => e.to_string(),
            };
            assert!(err.contains(s.key), "{args:?} {yaml:?}: {err}");
            match s.flag {
                Some((flag, _)) => {
                    let name = flag.split('=').next().unwrap();
                    assert!(err.contains(name), "{err} names {name}");
                }
                None => assert!(err.contains("config file only"), "{err}"),
            }
        }
    }
}

#[test]
fn sizes_in_the_file_may_be_plain_numbers() {
    let l = logs(&[], "logs:\n  buffer:\n    max_bytes: 1048576\n");
    assert_eq!(l.buffer_max_bytes, 1 << 20);
}

#[test]
fn a_spool_must_hold_one_batch() {
    let l = logs(
        &["--logs.spool.max-bytes=4MiB", "--logs.batch.max-bytes=4MiB"],
        "",
    );
    assert_eq!(l.spool_max_bytes, 4 * MIB);
    let err = merged(
        &["--logs.spool.max-bytes=4MiB", "--logs.batch.max-bytes=8MiB"],
        "",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cannot hold one batch"), "{err}");
}

#[test]
fn redaction_defaults_on_and_user_rules_in_order() {
    let l = logs(&[], "");
    assert!(l.redact.defaults);
    assert!(l.redact.rules.is_empty());
    let yaml = "logs:\n  redact:\n    defaults: false\n    rules:\n      \
                - {name: card, regex: '\\d{4}-\\d{4}', replacement: '****'}\n      \
                - {name: ssn, regex: '\\d{3}-\\d{2}-\\d{4}'}\n";
    let l = logs(&[], yaml);
    assert!(!l.redact.defaults);
    let rules: Vec<_> = l
        .redact
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.pattern.as_str(), r.replacement.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("card", r"\d{4}-\d{4}", "****"),
            ("ssn", r"\d{3}-\d{2}-\d{4}", "[REDACTED]")
        ]
    );
}

#[test]
fn bad_redaction_rules_are_refused_naming_the_rule() {
    let cases = [
        ("rules: [{name: x, regex: '('}]", "\"x\""),
        ("rules: [{name: e, regex: 'a*'}]", "empty string"),
        ("rules: [{name: g, regex: 'a', replacement: '$2'}]", "$2"),
        ("rules: [{name: '', regex: 'a'}]", "name is empty"),
        (
            "rules: [{name: d, regex: 'a'}, {name: d, regex: 'b'}]",
            "twice",
        ),
    ];
    for (rules, why) in cases {
        let yaml = format!("logs:\n  redact:\n    {rules}\n");
        let err = merged(&[], &yaml).unwrap_err().to_string();
        assert!(err.contains("logs.redact.rules"), "{err}");
        assert!(err.contains(why), "{rules}: {err}");
    }
    let err = merged(
        &[],
        "logs:\n  redact:\n    rules: [{name: x, pattern: a}]\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("pattern"), "unknown key refused: {err}");
}

#[test]
fn unknown_keys_under_logs_are_refused() {
    for yaml in [
        "logs:\n  buffer:\n    max_byte: 1\n",
        "logs:\n  spool:\n    dir: /x\n",
        "logs:\n  batch:\n    max_lines: 1\n",
        "logs:\n  max_open_file: 1\n",
    ] {
        let err = merged(&[], yaml).unwrap_err().to_string();
        assert!(err.contains("unknown field"), "{yaml}: {err}");
    }
}
