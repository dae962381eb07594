//! One HTTP exchange with an endpoint: a JSON request out, a bounded JSON body back, and a
//! failure classified by what should happen next (retry, take the endpoint out, give up).

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::endpoint::EndpointConfig;
use crate::retry::{RetryPolicy, parse_retry_after};

/// Largest response body accepted. 64 choices of 16k tokens with per-token log-probabilities
/// stay well below this; anything larger is a misbehaving server, not a response.
pub const MAX_BODY_BYTES: usize = 512 * 1024 * 1024;

/// How much of a server's error body is kept for messages and the store.
const ERROR_BODY_SNIPPET: usize = 600;

/// Why one HTTP exchange produced no usable response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("cannot connect: {detail}")]
    Connect { detail: String },
    #[error("no complete response within {} s", after.as_secs_f64())]
    Timeout { after: Duration },
    #[error("HTTP {status}{}", snippet_suffix(body))]
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    #[error("the connection broke while reading the response: {detail}")]
    Body { detail: String },
    #[error("the response body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("malformed response: {detail}")]
    Malformed { detail: String },
}

fn snippet_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// What the caller should do about a [`RequestError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again after a backoff; the endpoint may be unwell (counts toward taking it out).
    RetryUnhealthy,
    /// Try again after a backoff; the endpoint is healthy but busy (429): slow down.
    RetryBusy,
    /// The request itself is wrong for this server (400, 413, 422): retrying cannot help.
    RejectRequest,
    /// The endpoint is misconfigured for this run (401, 403, 404): stop the run and say so.
    Fatal,
}

impl RequestError {
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Status { status, .. } => match *status {
                429 => Disposition::RetryBusy,
                401 | 403 | 404 | 405 => Disposition::Fatal,
                408 | 409 | 425 => Disposition::RetryUnhealthy,
                s if (400..500).contains(&s) => Disposition::RejectRequest,
                _ => Disposition::RetryUnhealthy,
            },
            Self::Connect { .. }
            | Self::Timeout { .. }
            | Self::Body { .. }
            | Self::TooLarge { .. }
            | Self::Malformed { .. } => Disposition::RetryUnhealthy,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A shared HTTP client: one connection pool for every endpoint, kept alive between requests.
#[derive(Clone, Debug)]
pub struct Transport {
    client: reqwest::Client,
    request_timeout: Duration,
}

impl Transport {
    pub fn new(policy: &RetryPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("boundary/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            request_timeout: policy.request_timeout,
        })
    }

    /// `POST base/route` with a JSON body; the whole exchange is bounded by the request timeout.
    pub async fn post<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        endpoint: &EndpointConfig,
        route: &str,
        body: &B,
    ) -> Result<R, RequestError> {
        self.post_with_timeout(endpoint, route, body, self.request_timeout)
            .await
    }

    pub async fn post_with_timeout<B: Serialize + ?Sized, R: DeserializeOwned>(
        &self,
        endpoint: &EndpointConfig,
        route: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<R, RequestError> {
        let payload = serde_json::to_vec(body).map_err(|e| RequestError::Malformed {
            detail: format!("cannot encode the request: {e}"),
        })?;
        let request = self
            .client
            .post(endpoint.url.join(route))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload);
        let bytes = self.exchange(endpoint, request, timeout).await?;
        decode(endpoint, &bytes)
    }

    /// `GET base/route`, bounded by `timeout`.
    pub async fn get<R: DeserializeOwned>(
        &self,
        endpoint: &EndpointConfig,
        route: &str,
        timeout: Duration,
    ) -> Result<R, RequestError> {
        let request = self.client.get(endpoint.url.join(route));
        let bytes = self.exchange(endpoint, request, timeout).await?;
        decode(endpoint, &bytes)
    }

    async fn exchange(
        &self,
        endpoint: &EndpointConfig,
        mut request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<Vec<u8>, RequestError> {
        if let Some(key) = &endpoint.api_key {
            request = request.header(reqwest::header::AUTHORIZATION, key.bearer_header());
        }
        let exchange = async {
            let response = request
                .send()
                .await
                .map_err(|e| classify_send_error(endpoint, &e))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let body = read_body(response).await?;
            if status.is_success() {
                Ok(body)
            } else {
                Err(status_error(endpoint, status, &body, retry_after))
            }
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(RequestError::Timeout { after: timeout }),
        }
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, RequestError> {
    let expected = response.content_length().unwrap_or(0) as usize;
    if expected > MAX_BODY_BYTES {
        return Err(RequestError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let mut body = Vec::with_capacity(expected);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(RequestError::TooLarge {
                        limit: MAX_BODY_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(RequestError::Body {
                    detail: error_chain(&e),
                });
            }
        }
    }
}

fn decode<R: DeserializeOwned>(endpoint: &EndpointConfig, bytes: &[u8]) -> Result<R, RequestError> {
    serde_json::from_slice(bytes).map_err(|e| RequestError::Malformed {
        detail: redact(
            endpoint,
            &format!("{e} (body starts with {:?})", snippet(bytes, 120)),
        ),
    })
}

fn status_error(
    endpoint: &EndpointConfig,
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> RequestError {
    // Servers put the useful part in {"error": {"message": ...}} (OpenAI, vLLM) or
    // {"message": ...} / {"detail": ...} (FastAPI); fall back to the raw text.
    let text = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("detail"))
                .or_else(|| v.get("error"))
                .map(|m| match m {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
        })
        .unwrap_or_else(|| snippet(body, ERROR_BODY_SNIPPET));
    RequestError::Status {
        status: status.as_u16(),
        body: redact(endpoint, &truncate_chars(&text, ERROR_BODY_SNIPPET)),
        retry_after,
    }
}

fn classify_send_error(endpoint: &EndpointConfig, error: &reqwest::Error) -> RequestError {
    let detail = redact(endpoint, &error_chain(error));
    if error.is_timeout() {
        RequestError::Connect {
            detail: format!("timed out: {detail}"),
        }
    } else if error.is_connect() {
        RequestError::Connect { detail }
    } else {
        // The request went out but the response head never arrived whole (connection reset,
        // closed early): the server may be mid-crash.
        RequestError::Body { detail }
    }
}

/// The error and its causes, joined; without the URL, which the caller names itself.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper-util wraps every failure in "client error (Kind)", which says nothing
        // the next cause does not say better.
        if parts.last() != Some(&text) && !text.starts_with("client error (") {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        let mut head = error.to_string();
        if let Some(url) = error.url() {
            head = head
                .replace(&format!(" ({url})"), "")
                .replace(url.as_str(), "");
        }
        parts.push(head);
    }
    parts.join(": ")
}

fn redact(endpoint: &EndpointConfig, text: &str) -> String {
    match &endpoint.api_key {
        Some(key) => key.redact(text),
        None => text.to_owned(),
    }
}

fn snippet(bytes: &[u8], max_chars: usize) -> String {
    truncate_chars(String::from_utf8_lossy(bytes).trim(), max_chars)
}

fn truncate_chars(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> RequestError {
        RequestError::Status {
            status: code,
            body: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn dispositions() {
        assert_eq!(status(429).disposition(), Disposition::RetryBusy);
        for code in [500, 502, 503, 504, 408] {
            assert_eq!(
                status(code).disposition(),
                Disposition::RetryUnhealthy,
                "{code}"
            );
        }
        for code in [400, 413, 422] {
            assert_eq!(
                status(code).disposition(),
                Disposition::RejectRequest,
                "{code}"
            );
        }
        for code in [401, 403, 404] {
            assert_eq!(status(code).disposition(), Disposition::Fatal, "{code}");
        }
        let malformed = RequestError::Malformed {
            detail: "eof".into(),
        };
        assert_eq!(malformed.disposition(), Disposition::RetryUnhealthy);
    }

    #[test]
    fn error_bodies_are_summarised_and_redacted() {
        let key =
            std::sync::Arc::new(crate::secret::ApiKey::parse("sk-topsecret", "test").unwrap());
        let endpoint = EndpointConfig::parse("http://127.0.0.1:1/v1", 4)
            .unwrap()
            .with_api_key(Some(key));
        let body = br#"{"error": {"message": "bad header Authorization: Bearer sk-topsecret", "type": "x"}}"#;
        let err = status_error(&endpoint, StatusCode::BAD_GATEWAY, body, None);
        assert_eq!(
            err.to_string(),
            "HTTP 502: bad header Authorization: Bearer ***"
        );
        let html = b"<html><body>Not Found</body></html>";
        let err = status_error(&endpoint, StatusCode::NOT_FOUND, html, None);
        assert_eq!(
            err.to_string(),
            "HTTP 404: <html><body>Not Found</body></html>"
        );
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        assert_eq!(truncate_chars("ééééé", 3), "ééé…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
