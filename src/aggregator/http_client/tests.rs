use super::*;

#[test]
fn a_credentials_file_is_read_again_on_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "first\n").unwrap();
    let mut a = AuthorizationFile {
        credentials_file: Some(path.clone()),
        ..AuthorizationFile::default()
    };
    let c = authorization(Some(&mut a)).unwrap().unwrap();
    assert_eq!(c.read().unwrap().header(), "Bearer first");
    std::fs::write(&path, "rotated").unwrap();
    assert_eq!(c.read().unwrap().header(), "Bearer rotated");
    std::fs::remove_file(&path).unwrap();
    let e = c.read().unwrap_err();
    assert!(
        e.starts_with("unable to read authorization credentials file"),
        "{e}"
    );
}

#[test]
fn basic_auth_is_user_colon_password_in_base64_and_hides_the_password() {
    let mut b = BasicAuthFile {
        username: "prom".into(),
        password: Some("hunter2".into()),
        password_file: None,
    };
    let c = basic_auth(Some(&mut b)).unwrap().unwrap();
    assert_eq!(c.read().unwrap().header(), "Basic cHJvbTpodW50ZXIy");
    assert_eq!(b.password.as_deref(), Some("<secret>"));
    assert!(!format!("{c:?}").contains("hunter2"));
}

#[test]
fn bad_keys_are_refused_with_prometheus_wording() {
    let missing = AuthorizationFile {
        credentials_file: Some("/nonexistent/token".into()),
        ..AuthorizationFile::default()
    };
    let both = AuthorizationFile {
        credentials: Some("a".into()),
        credentials_file: Some("/x".into()),
        ..AuthorizationFile::default()
    };
    let empty = AuthorizationFile {
        credentials: Some("  ".into()),
        ..AuthorizationFile::default()
    };
    for (mut a, want) in [
        (
            missing,
            "unable to read authorization credentials file /nonexistent/token",
        ),
        (both, "at most one of credentials and credentials_file"),
        (empty, "the credentials are empty"),
    ] {
        let e = authorization(Some(&mut a)).unwrap_err();
        assert!(e.contains(want), "{e}");
    }
    let basic = || basic_auth(Some(&mut BasicAuthFile::default())).unwrap();
    let bearer = || {
        let mut a = AuthorizationFile {
            credentials: Some("t".into()),
            ..AuthorizationFile::default()
        };
        authorization(Some(&mut a)).unwrap()
    };
    let e = either(bearer(), basic()).unwrap_err();
    assert!(
        e.contains("at most one of basic_auth, oauth2 & authorization"),
        "{e}"
    );
}
