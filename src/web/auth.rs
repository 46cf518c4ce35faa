//! Basic auth by `basic_auth_users` (bcrypt hashes) and the configured response
//! headers, as an axum middleware over every route but the probes' (a kubelet probe
//! sends no credentials). As the exporter toolkit: a missing or wrong user or password
//! gets 401 with `WWW-Authenticate: Basic`; an unknown user costs a bcrypt check too
//! (against a fixed hash), so the answer's time does not tell which users exist; each
//! check's result is remembered (at most [`CACHE_ENTRIES`], keyed by a SHA-256 of the
//! user, the hash and the password), since bcrypt costs tens of milliseconds by design.

use super::Web;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Checks remembered; beyond this the memory starts afresh.
pub const CACHE_ENTRIES: usize = 100;

/// The cost of [`dummy_hash`]: the toolkit's example and htpasswd's advice.
const DUMMY_COST: u32 = 10;

/// A bcrypt hash checked for users that do not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| bcrypt::hash("nodepulse: no such user", DUMMY_COST).unwrap_or_default())
}

/// Remembered results of bcrypt checks.
#[derive(Default)]
pub struct Cache(Mutex<HashMap<[u8; 32], bool>>);

pub async fn check(State(web): State<Arc<Web>>, req: Request, next: Next) -> Response {
    let loaded = match web.state.current() {
        Ok(l) => l,
        Err(_) => {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            return (status, "Internal Server Error\n").into_response();
        }
    };
    let users = &loaded.config.users;
    let open = web.open_paths.contains(&req.uri().path());
    let allowed = users.is_empty()
        || open
        || match credentials(req.headers()) {
            Some((user, password)) => web.cache.verify(users, user, password).await,
            None => false,
        };
    let mut resp = if allowed {
        next.run(req).await
    } else {
        let mut resp = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
        let challenge = HeaderValue::from_static("Basic");
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
        resp
    };
    // on every answer, refusals too, as the toolkit sets them
    for (name, value) in &loaded.config.headers {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp
}

/// The user and password of an `Authorization: Basic` header.
fn credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

impl Cache {
    /// Whether `password` is `user`'s.
    async fn verify(
        &self,
        users: &std::collections::BTreeMap<String, String>,
        user: String,
        password: String,
    ) -> bool {
        let known = users.get(&user);
        let hash = match known {
            Some(h) => h.clone(),
            None => dummy_hash().to_owned(),
        };
        let key = key(&user, &hash, &password);
        if let Some(&ok) = self.lock().get(&key) {
            return ok && known.is_some();
        }
        let checked =
            tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false));
        let ok = checked.await.unwrap_or(false);
        let mut cache = self.lock();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, ok);
        ok && known.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], bool>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(user: &str, hash: &str, password: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, hash, password] {
        ctx.update(&(part.len() as u64).to_le_bytes());
        ctx.update(part.as_bytes());
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}
