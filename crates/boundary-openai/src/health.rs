//! The health of one endpoint: up or taken out, and how many requests it can take now.
//!
//! Pure state with explicit time, so every transition is testable without a server. The
//! pool (`pool.rs`) owns one [`Health`] per endpoint and acts on the transitions.

use std::time::{Duration, Instant};

/// When to take an endpoint out and how to bring it back.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthPolicy {
    /// Consecutive failed requests (connection errors, timeouts, 5xx, malformed bodies)
    /// after which the endpoint is taken out of rotation.
    pub eject_after: u32,
    /// First wait before a taken-out endpoint is probed; doubles after each failed probe.
    pub first_probe_after: Duration,
    /// Cap on the wait between probes.
    pub max_probe_interval: Duration,
    /// A run stops (samples stay missing, a re-run resumes) when no endpoint has been up
    /// for this long.
    pub give_up_after: Duration,
}

impl Default for HealthPolicy {
    fn default() -> Self {
        Self {
            eject_after: 5,
            first_probe_after: Duration::from_secs(1),
            max_probe_interval: Duration::from_secs(30),
            give_up_after: Duration::from_secs(600),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum HealthState {
    Up,
    /// Out of rotation since `since`; probed again at `next_probe`.
    Down {
        since: Instant,
        next_probe: Instant,
        failed_probes: u32,
        last_error: String,
    },
}

/// What a report changed, so the pool can start or stop a prober.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    None,
    TakenOut,
    BroughtBack,
}

/// Health of one endpoint, including an additive-increase / multiplicative-decrease
/// in-flight limit: a 429 halves what the endpoint is sent, successes win it back.
#[derive(Clone, Debug)]
pub struct Health {
    state: HealthState,
    consecutive_failures: u32,
    max_in_flight: usize,
    limit: usize,
    successes_at_limit: usize,
}

impl Health {
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            state: HealthState::Up,
            consecutive_failures: 0,
            max_in_flight: max_in_flight.max(1),
            limit: max_in_flight.max(1),
            successes_at_limit: 0,
        }
    }

    pub fn state(&self) -> &HealthState {
        &self.state
    }

    pub fn is_up(&self) -> bool {
        self.state == HealthState::Up
    }

    /// How many requests the endpoint may have in flight right now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn on_success(&mut self) {
        self.consecutive_failures = 0;
        if self.limit < self.max_in_flight {
            // One more slot per `limit` successes: additive increase per round trip.
            self.successes_at_limit += 1;
            if self.successes_at_limit >= self.limit {
                self.limit += 1;
                self.successes_at_limit = 0;
            }
        }
    }

    /// The endpoint answered 429: it is alive but overloaded.
    pub fn on_busy(&mut self) {
        self.consecutive_failures = 0;
        self.limit = (self.limit / 2).max(1);
        self.successes_at_limit = 0;
    }

    pub fn on_failure(&mut self, error: &str, now: Instant, policy: &HealthPolicy) -> Transition {
        self.consecutive_failures += 1;
        if self.is_up() && self.consecutive_failures >= policy.eject_after {
            self.state = HealthState::Down {
                since: now,
                next_probe: now + policy.first_probe_after,
                failed_probes: 0,
                last_error: error.to_owned(),
            };
            return Transition::TakenOut;
        }
        Transition::None
    }

    pub fn on_probe(
        &mut self,
        result: Result<(), String>,
        now: Instant,
        policy: &HealthPolicy,
    ) -> Transition {
        let HealthState::Down {
            since,
            failed_probes,
            ..
        } = &self.state
        else {
            return Transition::None;
        };
        match result {
            Ok(()) => {
                self.state = HealthState::Up;
                self.consecutive_failures = 0;
                // Come back gently: half the configured load, then grow on success.
                self.limit = (self.max_in_flight / 2).max(1);
                self.successes_at_limit = 0;
                Transition::BroughtBack
            }
            Err(error) => {
                let failed_probes = failed_probes + 1;
                let wait = policy
                    .first_probe_after
                    .saturating_mul(1u32 << failed_probes.min(20))
                    .min(policy.max_probe_interval);
                self.state = HealthState::Down {
                    since: *since,
                    next_probe: now + wait,
                    failed_probes,
                    last_error: error,
                };
                Transition::None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy {
            eject_after: 3,
            first_probe_after: Duration::from_secs(1),
            max_probe_interval: Duration::from_secs(8),
            give_up_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn consecutive_failures_take_an_endpoint_out_and_a_probe_brings_it_back() {
        let now = Instant::now();
        let mut health = Health::new(8);
        assert_eq!(health.on_failure("boom", now, &policy()), Transition::None);
        health.on_success();
        assert_eq!(health.on_failure("boom", now, &policy()), Transition::None);
        assert_eq!(health.on_failure("boom", now, &policy()), Transition::None);
        assert_eq!(
            health.on_failure("boom", now, &policy()),
            Transition::TakenOut
        );
        assert!(!health.is_up());
        // Further failures while down change nothing.
        assert_eq!(health.on_failure("late", now, &policy()), Transition::None);

        let mut waits = Vec::new();
        for _ in 0..5 {
            assert_eq!(
                health.on_probe(Err("refused".into()), now, &policy()),
                Transition::None
            );
            let HealthState::Down { next_probe, .. } = health.state() else {
                panic!("still down")
            };
            waits.push(next_probe.duration_since(now).as_secs());
        }
        assert_eq!(waits, vec![2, 4, 8, 8, 8]);
        assert_eq!(
            health.on_probe(Ok(()), now, &policy()),
            Transition::BroughtBack
        );
        assert!(health.is_up());
        assert_eq!(health.limit(), 4, "returns at half load");
    }

    #[test]
    fn busy_halves_the_limit_and_successes_restore_it() {
        let mut health = Health::new(16);
        health.on_busy();
        health.on_busy();
        assert_eq!(health.limit(), 4);
        let mut successes = 0;
        while health.limit() < 16 {
            health.on_success();
            successes += 1;
            assert!(successes < 1_000, "the limit must recover");
        }
        // 4 + 5 + ... + 15 successes: additive increase, one per round trip at each level.
        assert_eq!(successes, (4..16).sum::<usize>());
        health.on_success();
        assert_eq!(health.limit(), 16, "never above the configured maximum");
        for _ in 0..10 {
            health.on_busy();
        }
        assert_eq!(health.limit(), 1, "never below one");
    }
}
