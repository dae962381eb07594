//! When to try a failed request again: exponential backoff with full jitter, stretched to
//! whatever the server asked for in `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// Attempts, delays and time limits for one request.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per request before its samples are stored as failed (first try included).
    pub max_attempts: u32,
    /// Upper bound of the first backoff; it doubles with every further failure.
    pub initial_backoff: Duration,
    /// Cap on the exponential backoff.
    pub max_backoff: Duration,
    /// Cap on a server's `Retry-After`, so a misconfigured proxy cannot park a run for hours.
    pub max_retry_after: Duration,
    /// Whole-request limit: connect, generate, and read the body. Generation of long
    /// samples under load takes minutes, so this is generous by default.
    pub request_timeout: Duration,
    /// Limit for establishing a TCP (and TLS) connection.
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(300),
            request_timeout: Duration::from_secs(900),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// How long to wait before attempt number `failed_attempts + 1`.
    ///
    /// Full jitter (a uniform draw below the exponential bound) spreads the retries of many
    /// concurrent requests, so a server that recovers is not hit by all of them at once. A
    /// `Retry-After` is a floor: the server knows best when it can take work again.
    pub fn backoff(
        &self,
        failed_attempts: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(30);
        let bound = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let jittered = bound.mul_f64(rng.random::<f64>());
        match retry_after {
            Some(asked) => asked.min(self.max_retry_after) + jittered.min(self.initial_backoff),
            None => jittered,
        }
    }
}

/// Parses a `Retry-After` header: delay-seconds (`120`, also `1.5` as some proxies send) or
/// an HTTP-date. A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn backoff_grows_exponentially_and_stays_capped() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        let mut rng = StdRng::seed_from_u64(7);
        for failed in 1..40 {
            let bound = Duration::from_millis(100)
                .saturating_mul(1u32 << (failed - 1).min(30))
                .min(Duration::from_secs(2));
            for _ in 0..50 {
                let delay = policy.backoff(failed, None, &mut rng);
                assert!(delay <= bound, "attempt {failed}: {delay:?} > {bound:?}");
            }
        }
        // Full jitter really spreads: 200 draws at the cap are not all the same.
        let draws: Vec<_> = (0..200)
            .map(|_| policy.backoff(10, None, &mut rng))
            .collect();
        let min = draws.iter().min().unwrap();
        let max = draws.iter().max().unwrap();
        assert!(
            *max - *min > Duration::from_millis(1000),
            "{min:?}..{max:?}"
        );
    }

    #[test]
    fn retry_after_is_a_floor_with_a_cap() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(30),
            ..RetryPolicy::default()
        };
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let delay = policy.backoff(1, Some(Duration::from_secs(5)), &mut rng);
            assert!(delay >= Duration::from_secs(5));
            assert!(delay <= Duration::from_millis(5_100));
            let capped = policy.backoff(1, Some(Duration::from_secs(3600)), &mut rng);
            assert!(capped >= Duration::from_secs(30) && capped <= Duration::from_millis(30_100));
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
    }
}
