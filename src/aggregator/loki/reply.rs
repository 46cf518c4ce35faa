//! Loki's error answers: plain text with a trailing newline, as Go's `http.Error`
//! writes them; a 401 also names the scheme it wants.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// A refusal: the status and the reason the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainError {
    pub status: StatusCode,
    pub msg: String,
}

impl PlainError {
    pub fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        PlainError {
            status,
            msg: msg.into(),
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, msg)
    }
}

impl IntoResponse for PlainError {
    fn into_response(self) -> Response {
        let mut r = plain(self.status, &self.msg);
        if self.status == StatusCode::UNAUTHORIZED {
            let bearer = header::HeaderValue::from_static("Bearer");
            r.headers_mut().insert(header::WWW_AUTHENTICATE, bearer);
        }
        r
    }
}

/// A plain-text reply.
pub fn plain(status: StatusCode, msg: &str) -> Response {
    let ct = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    (status, ct, format!("{msg}\n")).into_response()
}
