//! The log sinks' settings (`sink.loki`, `sink.elasticsearch`): the URL turns a sink on;
//! timeout, credentials (read from files: mounted Secrets), CA file and extra headers
//! are checked here once, with the sink's own HTTP validation, so a bad value stops the
//! agent naming its key instead of failing every batch.

use super::file::{ElasticsearchFile, HttpFile, LokiFile, SinkFile};
use super::size::parse_duration;
use super::{defaults, invalid, ConfigError, Flags};
use crate::agent::logs::pipeline::{EsSinkConfig, LokiSinkConfig, SinksConfig};
use crate::agent::sinks::elasticsearch::{Compression, IndexTarget};
use crate::agent::sinks::http::{AuthConfig, HttpConfig, HttpConfigError};
use crate::agent::sinks::loki::Format;
use std::path::Path;

/// Loki's tenant header (multi-tenant Loki, Mimir-style gateways).
pub const TENANT_HEADER: &str = "X-Scope-OrgID";

/// Merges the sink flags (taken out of `f`) over the file's `sink:` section.
pub(super) fn settings(f: &mut Flags, c: SinkFile) -> Result<SinksConfig, ConfigError> {
    Ok(SinksConfig {
        loki: loki(f, c.loki)?,
        elasticsearch: elasticsearch(f, c.elasticsearch)?,
    })
}

fn loki(f: &mut Flags, mut c: LokiFile) -> Result<Option<LokiSinkConfig>, ConfigError> {
    let mut http = c.take_http();
    let Some(url) = f.loki_url.take().or(c.url) else {
        return Ok(None);
    };
    let format = match f.loki_format.take().or(c.format).as_deref() {
        None | Some("protobuf") => Format::Protobuf,
        // Loki takes gzip JSON as Promtail's "json" clients send it; plain JSON would
        // only make the request larger.
        Some("json") => Format::JsonGzip,
        Some(o) => {
            let msg = format!("{o:?} is not protobuf or json");
            return Err(invalid("sink.loki.format", "--sink.loki.format", msg));
        }
    };
    if let Some(tenant) = f.loki_tenant_id.take().or(c.tenant_id) {
        tenant_header(&mut http, tenant)?;
    }
    Ok(Some(LokiSinkConfig {
        http: http_config(LOKI, url, http)?,
        format,
    }))
}

fn tenant_header(http: &mut HttpFile, tenant: String) -> Result<(), ConfigError> {
    const KEY: (&str, &str) = ("sink.loki.tenant_id", "--sink.loki.tenant-id");
    if tenant.trim().is_empty() || tenant.chars().any(char::is_control) {
        return Err(invalid(
            KEY.0,
            KEY.1,
            format!("{tenant:?} is not a tenant id"),
        ));
    }
    if http
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case(TENANT_HEADER))
    {
        let msg = format!("set the tenant with tenant_id or headers.{TENANT_HEADER}, not both");
        return Err(invalid(KEY.0, KEY.1, msg));
    }
    http.headers.insert(TENANT_HEADER.to_owned(), tenant);
    Ok(())
}

fn elasticsearch(
    f: &mut Flags,
    mut c: ElasticsearchFile,
) -> Result<Option<EsSinkConfig>, ConfigError> {
    let http = c.take_http();
    let Some(url) = f.elasticsearch_url.take().or(c.url) else {
        return Ok(None);
    };
    let index = f.elasticsearch_index.take().or(c.index);
    let index = IndexTarget::index(index.as_deref().unwrap_or(defaults::ELASTICSEARCH_INDEX))
        .map_err(|e| invalid("sink.elasticsearch.index", "--sink.elasticsearch.index", e))?;
    Ok(Some(EsSinkConfig {
        http: http_config(ELASTICSEARCH, url, http)?,
        index,
        // Bulk bodies are repetitive JSON: gzip takes them to a fraction of their size.
        compression: Compression::Gzip,
    }))
}

/// A sink's key prefix and URL flag.
struct Sink {
    prefix: &'static str,
    url_flag: &'static str,
}

const LOKI: Sink = Sink {
    prefix: "sink.loki",
    url_flag: "--sink.loki.url",
};
const ELASTICSEARCH: Sink = Sink {
    prefix: "sink.elasticsearch",
    url_flag: "--sink.elasticsearch.url",
};

/// The sink's [`HttpConfig`], validated as the sink will validate it at start.
fn http_config(sink: Sink, url: String, h: HttpFile) -> Result<HttpConfig, ConfigError> {
    let mut config = HttpConfig::new(url);
    if let Some(text) = &h.timeout {
        let key = format!("{}.timeout", sink.prefix);
        config.timeout = parse_duration(text).map_err(|e| invalid(key, "", e))?;
    }
    config.auth = auth(&sink, &h)?;
    config.ca_file = h.ca_file;
    config.headers = h.headers;
    match config.validate() {
        Ok(_) => Ok(config),
        Err(e) => Err(named(&sink, e)),
    }
}

/// The credentials, read from their files now: a missing Secret fails at start.
fn auth(sink: &Sink, h: &HttpFile) -> Result<Option<AuthConfig>, ConfigError> {
    match (&h.bearer_token_file, &h.basic_auth) {
        (Some(_), Some(_)) => Err(invalid(
            format!("{}.bearer_token_file", sink.prefix),
            "",
            "set bearer_token_file or basic_auth, not both",
        )),
        (Some(path), None) => {
            let key = format!("{}.bearer_token_file", sink.prefix);
            Ok(Some(AuthConfig::bearer(read_secret(path, key)?)))
        }
        (None, Some(basic)) => {
            let key = format!("{}.basic_auth.password_file", sink.prefix);
            let password = read_secret(&basic.password_file, key)?;
            Ok(Some(AuthConfig::basic(basic.username.clone(), password)))
        }
        (None, None) => Ok(None),
    }
}

/// A secret file's content without the trailing newline editors and `kubectl create
/// secret --from-file` leave; an empty secret is an error, not an empty password.
fn read_secret(path: &Path, key: String) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(key.clone(), "", format!("{}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.trim().is_empty() {
        return Err(invalid(key, "", format!("{} is empty", path.display())));
    }
    Ok(secret.to_owned())
}

/// The sink's validation error under the user's key names.
fn named(sink: &Sink, e: HttpConfigError) -> ConfigError {
    let field = match e.field.as_str() {
        "auth" | "auth.bearer_token" => "bearer_token_file",
        "auth.basic.username" => "basic_auth.username",
        "auth.basic" => "basic_auth",
        f => f,
    };
    let flag = if field == "url" { sink.url_flag } else { "" };
    invalid(format!("{}.{field}", sink.prefix), flag, e.msg)
}

#[cfg(test)]
mod tests;
