//! The default redaction rules: common secrets in application logs. Each keeps what
//! identifies the secret (the key, the scheme and user, the PEM armour) and replaces
//! only the secret with `[REDACTED]`, so JSON stays JSON and the line stays readable.
//!
//! Keys are matched ASCII case-insensitively (`(?i-u:..)`: the crate is built without
//! Unicode case tables). Known gaps, by choice: YAML-style `password: x` (too close to
//! prose such as "invalid password: too short"), values with a `"` inside, and JSON
//! values that are not strings.

/// (name, pattern, replacement). Applied in this order, before the user's rules.
pub(super) const DEFAULT_RULES: &[(&str, &str, &str)] = &[
    // A PEM private key block, or from BEGIN to the end of a truncated message.
    (
        "private_key",
        r"(?s)(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?:.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----)|.*)",
        "${1}[REDACTED]${2}",
    ),
    // scheme://user:password@host: keeps the user (RFC 3986 userinfo has no '/' or '@').
    (
        "url_basic_auth",
        r#"(\b(?i-u:[a-z][a-z0-9+.-]*)://[^\s:/@"']+:)[^\s/@"']+@"#,
        "${1}[REDACTED]@",
    ),
    // An Authorization header's credentials, whatever the scheme.
    (
        "authorization_header",
        r#"(\b(?i-u:authorization)\\?["']?\s*[:=]\s*\\?["']?(?:(?i-u:bearer|basic|token|digest|negotiate)\s+)?)[^\s"'\\,;]+"#,
        "${1}[REDACTED]",
    ),
    // "bearer <token>" elsewhere. The token must look like one (a digit or one of
    // `._~+/-`, or 20+ letters), so "bearer of bad news" is left alone.
    (
        "bearer_token",
        r"(\b(?i-u:bearer)\s+)(?:[A-Za-z0-9._~+/-]*[0-9._~+/-][A-Za-z0-9._~+/-]*|[A-Za-z]{20,})=*",
        "${1}[REDACTED]",
    ),
    // AWS access key ids: long-term (AKIA) and temporary (ASIA).
    (
        "aws_access_key_id",
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        "[REDACTED]",
    ),
    // aws_secret_access_key=..., "SecretAccessKey": "...", AWS_SECRET_ACCESS_KEY: ...
    (
        "aws_secret_access_key",
        r#"((?i-u:(?:aws_?)?secret_?access_?key)\\?["']?\s*[:=]\s*\\?["']?)[A-Za-z0-9/+=]+"#,
        "${1}[REDACTED]",
    ),
    // "password": "..." in JSON, also inside a JSON string (\"password\":\"...\").
    (
        "secret_json",
        r#"((?i-u:password|passwd|pwd|secret|api[_-]?key|token)\\?"\s*:\s*\\?")(?:[^"\\]|\\[^"])+"#,
        "${1}[REDACTED]",
    ),
    // password=..., db_password="...", client_secret=..., ?api_key=...&, --token=...
    (
        "secret_kv",
        r#"((?i-u:password|passwd|pwd|secret|api[_-]?key|token)\s*=\s*)(?:"[^"]*"|'[^']*'|[^\s"'\\&,;]+)"#,
        "${1}[REDACTED]",
    ),
];
