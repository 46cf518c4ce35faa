use super::*;

const HASH: &str = "$2b$04$ADZ3fYJEOIt3KbHtbLJ1keHTMIGChO6tIcAI4YrX0AIxmHDc3HVoW";

#[test]
fn an_empty_file_serves_plainly_without_users() {
    assert_eq!(WebConfig::parse("").unwrap(), WebConfig::default());
    assert_eq!(WebConfig::parse("{}\n").unwrap(), WebConfig::default());
}

#[test]
fn the_toolkit_keys_with_its_defaults() {
    let c = WebConfig::parse(&format!(
        "tls_server_config:\n  cert_file: s.pem\n  key_file: s.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n\
         http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: ''\n\
         basic_auth_users:\n  prom: {HASH}\n"
    ))
    .unwrap();
    let t = c.tls.as_ref().unwrap();
    assert_eq!(t.client_auth, ClientAuth::RequireAndVerifyClientCert);
    assert!(t.tls12 && t.tls13);
    assert_eq!(c.users["prom"], HASH);
    assert_eq!(c.headers.len(), 1, "a blank header is unset");
    assert_eq!(c.headers[0].0.as_str(), "x-frame-options");
    assert_eq!(
        c.files(),
        [PathBuf::from("s.pem"), "s.key".into(), "ca.pem".into()]
    );
    let t13 =
        WebConfig::parse("tls_server_config: {cert_file: a, key_file: b, min_version: TLS13}")
            .unwrap();
    assert!(!t13.tls.unwrap().tls12);
}

#[test]
fn what_cannot_be_honoured_is_refused_by_name() {
    let tls = |extra: &str| format!("tls_server_config:\n  cert_file: a\n  key_file: b\n{extra}");
    let cases = [
        (
            "basic_auth_users: {prom: plain}".to_owned(),
            "basic_auth_users.prom: not a bcrypt hash",
        ),
        (
            "tls_server_config: {key_file: b}".to_owned(),
            "missing cert_file",
        ),
        (
            "tls_server_config: {cert_file: a}".to_owned(),
            "missing key_file",
        ),
        (tls("  min_version: TLS11\n"), "TLS11 is not supported"),
        (tls("  max_version: TLS14\n"), "unknown TLS version"),
        (
            tls("  min_version: TLS13\n  max_version: TLS12\n"),
            "above max_version",
        ),
        (
            tls("  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"),
            "cipher_suites: not supported",
        ),
        (
            tls("  curve_preferences: [X25519]\n"),
            "curve_preferences: not supported",
        ),
        (
            tls("  client_auth_type: RequireAnyClientCert\n  client_ca_file: c\n"),
            "RequireAndVerifyClientCert",
        ),
        (
            tls("  client_auth_type: RequireAndVerifyClientCert\n"),
            "client_ca_file is required",
        ),
        (tls("  client_auth_type: Sometimes\n"), "invalid ClientAuth"),
        (
            "http_server_config: {headers: {Server: x}}".to_owned(),
            "\"Server\" can not be configured",
        ),
        ("tls_config: {}".to_owned(), "unknown field"),
    ];
    for (yaml, want) in cases {
        let e = WebConfig::parse(&yaml).unwrap_err();
        assert!(e.contains(want), "{yaml:?}: {e:?} lacks {want:?}");
    }
}
