//! The config's validation (errors name the field, secrets stay out of Debug) and the
//! answer's mapping; sending over real sockets is in `tests/sinks.rs`.
use super::config::base64;
use super::*;
use std::io::Write;

fn field(config: &HttpConfig) -> String {
    config.validate().unwrap_err().field
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
    ];
    for (input, expected) in cases {
        assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
    }
}

#[test]
fn bad_settings_are_refused_by_field() {
    let with = |f: fn(&mut HttpConfig)| {
        let mut c = HttpConfig::new("http://loki:3100/loki/api/v1/push");
        f(&mut c);
        c
    };
    assert_eq!(field(&HttpConfig::new("loki:3100")), "url");
    assert_eq!(field(&HttpConfig::new("ftp://loki/")), "url");
    assert_eq!(field(&HttpConfig::new("not a url")), "url");
    assert_eq!(field(&with(|c| c.timeout = Duration::ZERO)), "timeout");
    let bad_name = with(|c| {
        c.headers.insert("bad name".into(), "x".into());
    });
    assert_eq!(field(&bad_name), "headers.bad name");
    let bad_value = with(|c| {
        c.headers.insert("X-Scope-OrgID".into(), "a\nb".into());
    });
    assert_eq!(field(&bad_value), "headers.X-Scope-OrgID");
    let auth_header = with(|c| {
        c.headers.insert("authorization".into(), "Bearer x".into());
    });
    assert_eq!(field(&auth_header), "headers.authorization");
    let empty = with(|c| c.auth = Some(AuthConfig::bearer(" ")));
    assert_eq!(field(&empty), "auth.bearer_token");
    let colon = with(|c| c.auth = Some(AuthConfig::basic("a:b", "p")));
    assert_eq!(field(&colon), "auth.basic.username");
    let both = with(|c| {
        let mut auth = AuthConfig::basic("a", "p");
        auth.bearer_token = Some("t".into());
        c.auth = Some(auth);
    });
    assert_eq!(field(&both), "auth");
    assert_eq!(
        field(&with(|c| c.auth = Some(AuthConfig::default()))),
        "auth"
    );
    let missing = with(|c| c.ca_file = Some("/nonexistent/ca.pem".into()));
    assert_eq!(field(&missing), "ca_file");
}

#[test]
fn a_ca_file_without_certificates_is_refused() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"not a certificate\n").unwrap();
    let mut c = HttpConfig::new("https://es:9200");
    c.ca_file = Some(file.path().into());
    let e = c.validate().unwrap_err();
    assert_eq!(e.field, "ca_file");
    assert!(e.msg.contains("no PEM certificate"), "{e}");
}

#[test]
fn config_reads_from_yaml_with_defaults() {
    let yaml = "url: https://es:9200\nauth:\n  basic: {username: elastic, password: pw}\n\
                headers: {X-Scope-OrgID: team-a}\n";
    let c: HttpConfig = serde_norway::from_str(yaml).unwrap();
    assert_eq!(c.timeout, Duration::from_secs(30));
    let s = c.validate().unwrap();
    let auth = &s.headers[reqwest::header::AUTHORIZATION];
    assert_eq!(auth.to_str().unwrap(), "Basic ZWxhc3RpYzpwdw==");
    assert!(auth.is_sensitive());
    assert_eq!(s.headers["x-scope-orgid"], "team-a");
    let unknown = serde_norway::from_str::<HttpConfig>("url: http://a\ntimeot: 1s\n");
    assert!(unknown.unwrap_err().to_string().contains("timeot"));
}

#[test]
fn debug_output_hides_secrets() {
    let bearer = format!("{:?}", AuthConfig::bearer("s3cret"));
    let basic = AuthConfig::basic("elastic", "s3cret");
    assert!(!bearer.contains("s3cret"));
    assert!(!format!("{basic:?}").contains("s3cret"));
    assert!(format!("{basic:?}").contains("elastic"));
}

#[test]
fn answers_map_to_the_sink_contract() {
    let answer = |status| HttpResponse {
        status,
        retry_after: Some(Duration::from_secs(3)),
        body: Bytes::from_static(b"slow down"),
    };
    assert!(answer(204).error().is_none());
    let busy = answer(429).error().unwrap();
    assert!(busy.is_retryable());
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(3)));
    assert!(!answer(400).error().unwrap().is_retryable());
    assert_eq!(answer(400).snippet(), "slow down");
    assert!(USER_AGENT.starts_with("nodepulse/"));
}

#[test]
fn a_ca_file_is_read_and_the_client_trusts_it() {
    // A self-signed P-256 CA (openssl req -x509, 100 years), public part only.
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
    let mut c = HttpConfig::new("https://es:9200");
    c.ca_file = Some(ca.into());
    let settings = c.validate().unwrap();
    assert_eq!(settings.ca_certificates.len(), 1);
    HttpClient::new(settings).expect("rustls accepts the CA as a root");
}
