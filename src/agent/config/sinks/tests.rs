//! The sink settings: a URL turns a sink on; each key's default, the file's value, the
//! flag over the file; credentials read from files; bad values named by key.
use super::super::{AgentConfig, ConfigError, FileConfig, Flags};
use crate::agent::logs::pipeline::SinksConfig;
use crate::agent::sinks::elasticsearch::{Compression, IndexTarget};
use crate::agent::sinks::http::AuthConfig;
use crate::agent::sinks::loki::Format;
use clap::Parser;
use std::io::Write;
use std::time::Duration;

fn merged(args: &[&str], yaml: &str) -> Result<AgentConfig, ConfigError> {
    let mut all = vec!["nodepulse-agent"];
    all.extend_from_slice(args);
    let flags = Flags::try_parse_from(all).unwrap();
    AgentConfig::merge(flags, FileConfig::parse(yaml).map_err(ConfigError::File)?)
}

fn sinks(args: &[&str], yaml: &str) -> SinksConfig {
    merged(args, yaml)
        .unwrap_or_else(|e| panic!("{args:?} {yaml:?}: {e}"))
        .sinks
}

fn error(args: &[&str], yaml: &str) -> String {
    match merged(args, yaml) {
        Ok(c) => panic!("{args:?} {yaml:?} accepted: {:?}", c.sinks),
        Err(e) => e.to_string(),
    }
}

/// A secret file holding `text`.
fn secret(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const LOKI: &str = "--sink.loki.url=http://loki:3100/loki/api/v1/push";
const ES: &str = "--sink.elasticsearch.url=http://es:9200";

#[test]
fn no_url_no_sink_and_a_url_gives_the_defaults() {
    assert!(sinks(&[], "").is_empty());
    // Settings without a URL do not turn a sink on.
    assert!(sinks(&["--sink.loki.format=json"], "").is_empty());
    let s = sinks(&[LOKI, ES], "");
    let loki = s.loki.unwrap();
    assert_eq!(loki.http.url, "http://loki:3100/loki/api/v1/push");
    assert_eq!(loki.format, Format::Protobuf);
    assert_eq!(loki.http.timeout, Duration::from_secs(30));
    assert_eq!(loki.http.auth, None);
    assert!(loki.http.headers.is_empty());
    let es = s.elasticsearch.unwrap();
    assert_eq!(es.http.url, "http://es:9200");
    assert_eq!(es.index, IndexTarget::index("nodepulse-%Y.%m.%d").unwrap());
    assert_eq!(es.compression, Compression::Gzip);
}

#[test]
fn every_key_from_the_file() {
    let token = secret("s3cr3t\n");
    let password = secret("pa55");
    let yaml = format!(
        "sink:\n  loki:\n    url: http://l/loki/api/v1/push\n    timeout: 5s\n    \
         bearer_token_file: {}\n    headers: {{X-Team: infra}}\n    format: json\n    \
         tenant_id: team-a\n  elasticsearch:\n    url: https://es:9200\n    timeout: 250ms\n    \
         basic_auth: {{username: elastic, password_file: {}}}\n    index: logs-k8s\n",
        token.path().display(),
        password.path().display()
    );
    let s = sinks(&[], &yaml);
    let loki = s.loki.unwrap();
    assert_eq!(loki.http.timeout, Duration::from_secs(5));
    assert_eq!(loki.http.auth, Some(AuthConfig::bearer("s3cr3t")));
    assert_eq!(loki.http.headers["X-Team"], "infra");
    assert_eq!(loki.http.headers["X-Scope-OrgID"], "team-a");
    assert_eq!(loki.format, Format::JsonGzip);
    let es = s.elasticsearch.unwrap();
    assert_eq!(es.http.url, "https://es:9200");
    assert_eq!(es.http.timeout, Duration::from_millis(250));
    assert_eq!(es.http.auth, Some(AuthConfig::basic("elastic", "pa55")));
    assert_eq!(es.index, IndexTarget::Fixed("logs-k8s".into()));
}

#[test]
fn flags_win_over_the_file() {
    let yaml = "sink:\n  loki:\n    url: http://file/loki/api/v1/push\n    format: json\n    \
                tenant_id: file\n  elasticsearch:\n    url: http://file:9200\n    index: file\n";
    let s = sinks(
        &[
            LOKI,
            ES,
            "--sink.loki.format=protobuf",
            "--sink.loki.tenant-id=flag",
            "--sink.elasticsearch.index=flag-%Y",
        ],
        yaml,
    );
    let loki = s.loki.unwrap();
    assert_eq!(loki.http.url, "http://loki:3100/loki/api/v1/push");
    assert_eq!(loki.format, Format::Protobuf);
    assert_eq!(loki.http.headers["X-Scope-OrgID"], "flag");
    let es = s.elasticsearch.unwrap();
    assert_eq!(es.http.url, "http://es:9200");
    assert_eq!(es.index.name_at(0), "flag-1970");
}

#[test]
fn bad_values_name_the_key() {
    let missing = "/nonexistent/nodepulse-token";
    let empty = secret("\n");
    let empty = empty.path().display().to_string();
    let loki = |rest: &str| format!("sink:\n  loki:\n    url: http://l/p\n    {rest}\n");
    let es = |rest: &str| format!("sink:\n  elasticsearch:\n    url: http://e\n    {rest}\n");
    let cases: Vec<(Vec<&str>, String, &str)> = vec![
        (vec!["--sink.loki.url=ftp://x"], String::new(), "sink.loki.url (flag --sink.loki.url)"),
        (vec!["--sink.elasticsearch.url=es:9200"], String::new(), "sink.elasticsearch.url"),
        (vec![LOKI, "--sink.loki.format=xml"], String::new(), "sink.loki.format (flag --sink.loki.format)"),
        (vec![LOKI, "--sink.loki.tenant-id= "], String::new(), "sink.loki.tenant_id"),
        (vec![], loki("tenant_id: a\n    headers: {x-scope-orgid: b}"), "sink.loki.tenant_id"),
        (vec![ES, "--sink.elasticsearch.index=Logs"], String::new(), "sink.elasticsearch.index"),
        (vec![ES, "--sink.elasticsearch.index=logs-%H"], String::new(), "sink.elasticsearch.index"),
        (vec![], loki("timeout: soon"), "sink.loki.timeout"),
        (vec![], es("timeout: 0s"), "sink.elasticsearch.timeout"),
        (vec![], loki(&format!("bearer_token_file: {missing}")), "sink.loki.bearer_token_file"),
        (vec![], loki(&format!("bearer_token_file: {empty}")), "sink.loki.bearer_token_file"),
        (
            vec![],
            es(&format!("basic_auth: {{username: u, password_file: {missing}}}")),
            "sink.elasticsearch.basic_auth.password_file",
        ),
        (
            vec![],
            es(&format!("basic_auth: {{username: 'a:b', password_file: {empty}}}")),
            "sink.elasticsearch.basic_auth.password_file",
        ),
        (
            vec![],
            loki(&format!("bearer_token_file: {empty}\n    basic_auth: {{username: u, password_file: {empty}}}")),
            "not both",
        ),
        (vec![], loki("headers: {'bad name': x}"), "sink.loki.headers.bad name"),
        (vec![], loki("headers: {Authorization: x}"), "sink.loki.headers.Authorization"),
        (vec![], es(&format!("ca_file: {missing}")), "sink.elasticsearch.ca_file"),
    ];
    for (args, yaml, want) in cases {
        let err = error(&args, &yaml);
        assert!(err.contains(want), "{args:?} {yaml:?}: {err}");
    }
}

#[test]
fn a_username_with_a_colon_is_refused() {
    let password = secret("p");
    let yaml = format!(
        "sink:\n  elasticsearch:\n    url: http://e\n    basic_auth: {{username: 'a:b', password_file: {}}}\n",
        password.path().display()
    );
    let err = error(&[], &yaml);
    assert!(
        err.contains("sink.elasticsearch.basic_auth.username"),
        "{err}"
    );
}

#[test]
fn unknown_sink_keys_are_refused() {
    for yaml in [
        "sink:\n  loki:\n    index: x\n",
        "sink:\n  elasticsearch:\n    format: json\n",
        "sink:\n  elasticsearch:\n    tenant_id: x\n",
        "sink:\n  loki:\n    basic_auth: {username: u, password: p}\n",
        "sink:\n  loki:\n    bearer_token: x\n",
        "sink:\n  kafka:\n    url: x\n",
    ] {
        let err = error(&[], yaml);
        assert!(err.contains("unknown field"), "{yaml}: {err}");
    }
}
