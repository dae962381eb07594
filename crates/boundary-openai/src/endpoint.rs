//! One OpenAI-compatible server as the user named it: its base URL and how many requests it
//! may have in flight.

use std::fmt;
use std::sync::Arc;

use reqwest::Url;

use crate::secret::ApiKey;

/// Requests in flight per endpoint when the user does not say. vLLM and SGLang schedule
/// hundreds of sequences at once; 64 requests of `n` up to 16 keep a GPU busy without
/// flooding its queue.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// The largest in-flight limit accepted: beyond it a typo, not a plan.
pub const MAX_IN_FLIGHT_LIMIT: usize = 100_000;

/// Why an endpoint specification was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("`{spec}` is not a URL: {reason} (expected something like http://127.0.0.1:8000/v1)")]
    NotAUrl { spec: String, reason: String },
    #[error("`{spec}` uses the scheme `{scheme}`; only http and https are supported")]
    Scheme { spec: String, scheme: String },
    #[error(
        "`{spec}`: a base URL takes no query string or fragment (they are not sent to the server)"
    )]
    QueryOrFragment { spec: String },
    #[error("`{spec}`: the in-flight limit must be a whole number from 1 to 100000, got `{limit}`")]
    Limit { spec: String, limit: String },
}

/// A server's base URL, normalised to end without a slash (`http://host:8000/v1`).
///
/// `Display` hides credentials embedded in the URL (`http://user:pass@host`), so the URL can
/// appear in every message that names the endpoint.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(Url);

impl BaseUrl {
    pub fn parse(spec: &str) -> Result<Self, EndpointError> {
        let url = Url::parse(spec.trim()).map_err(|e| EndpointError::NotAUrl {
            spec: redact_spec(spec),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(EndpointError::Scheme {
                spec: redact_spec(spec),
                scheme: url.scheme().to_owned(),
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(EndpointError::QueryOrFragment {
                spec: redact_spec(spec),
            });
        }
        let mut url = url;
        let trimmed = url.path().trim_end_matches('/').to_owned();
        url.set_path(&trimmed);
        Ok(Self(url))
    }

    /// `base/route` (`route` without a leading slash, e.g. `completions`).
    pub fn join(&self, route: &str) -> Url {
        let mut url = self.0.clone();
        let path = format!("{}/{}", self.0.path().trim_end_matches('/'), route);
        url.set_path(&path);
        url
    }

    /// Whether the path ends in `/v1`, where OpenAI-compatible servers mount their routes.
    pub fn ends_with_v1(&self) -> bool {
        self.0.path().trim_end_matches('/').ends_with("/v1")
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        // Both setters only fail for URLs that cannot have credentials, which then have none.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        f.write_str(shown.as_str().trim_end_matches('/'))
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({self})")
    }
}

/// Drops anything that looks like credentials from a spec that failed to parse, so the
/// error message can quote the rest.
fn redact_spec(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &spec[..scheme_end], &spec[at + 1..])
        }
        _ => spec.to_owned(),
    }
}

/// An endpoint as configured: where it is, how hard to drive it, and its key.
#[derive(Clone, Debug)]
pub struct EndpointConfig {
    pub url: BaseUrl,
    /// Most requests this endpoint may have in flight at once.
    pub max_in_flight: usize,
    pub api_key: Option<Arc<ApiKey>>,
}

impl EndpointConfig {
    /// Parses `URL` or `URL,limit=N` (the form `--endpoint` takes).
    pub fn parse(spec: &str, default_limit: usize) -> Result<Self, EndpointError> {
        let (url_part, limit) = match spec.rsplit_once(",limit=") {
            Some((url, limit_text)) => {
                let limit = limit_text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|l| (1..=MAX_IN_FLIGHT_LIMIT).contains(l))
                    .ok_or_else(|| EndpointError::Limit {
                        spec: redact_spec(spec),
                        limit: limit_text.to_owned(),
                    })?;
                (url, limit)
            }
            None => (spec, default_limit),
        };
        Ok(Self {
            url: BaseUrl::parse(url_part)?,
            max_in_flight: limit,
            api_key: None,
        })
    }

    pub fn with_api_key(mut self, key: Option<Arc<ApiKey>>) -> Self {
        self.api_key = key;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        let url = BaseUrl::parse("http://127.0.0.1:8000/v1/").unwrap();
        assert_eq!(url.to_string(), "http://127.0.0.1:8000/v1");
        assert_eq!(
            url.join("completions").as_str(),
            "http://127.0.0.1:8000/v1/completions"
        );
        assert!(url.ends_with_v1());
        let root = BaseUrl::parse("http://node7:30000").unwrap();
        assert_eq!(root.join("models").as_str(), "http://node7:30000/models");
        assert!(!root.ends_with_v1());
    }

    #[test]
    fn credentials_in_urls_are_never_displayed() {
        let url = BaseUrl::parse("https://alice:hunter2@lb.example.org/v1").unwrap();
        assert_eq!(url.to_string(), "https://lb.example.org/v1");
        assert!(!format!("{url:?}").contains("hunter2"));
        let err = BaseUrl::parse("ftp://alice:hunter2@host/v1").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn bad_urls_are_explained() {
        for (spec, expected) in [
            ("127.0.0.1:8000/v1", "not a URL"),
            ("localhost", "not a URL"),
            ("ftp://host/v1", "scheme `ftp`"),
            ("http://host/v1?key=1", "no query string"),
        ] {
            let err = BaseUrl::parse(spec).unwrap_err().to_string();
            assert!(err.contains(expected), "{spec}: {err}");
        }
    }

    #[test]
    fn per_endpoint_limits() {
        let ep = EndpointConfig::parse("http://a:8000/v1,limit=128", 64).unwrap();
        assert_eq!(ep.max_in_flight, 128);
        assert_eq!(ep.url.to_string(), "http://a:8000/v1");
        let ep = EndpointConfig::parse("http://a:8000/v1", 64).unwrap();
        assert_eq!(ep.max_in_flight, 64);
        for bad in [
            "http://a/v1,limit=0",
            "http://a/v1,limit=x",
            "http://a/v1,limit=-3",
        ] {
            let err = EndpointConfig::parse(bad, 64).unwrap_err();
            assert!(matches!(err, EndpointError::Limit { .. }), "{bad}: {err}");
        }
    }
}
