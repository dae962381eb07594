//! The step and size budget threaded through one `verify` call.
//!
//! Wall-clock timeouts make verdicts depend on machine load and cannot interrupt a
//! single huge big-integer operation; counting work can. Every arithmetic routine
//! charges the budget before it does the work, so a call is bounded by construction.

use crate::config::Limits;
use crate::error::{Exhausted, Limit};

#[derive(Debug)]
pub(crate) struct Budget<'a> {
    pub limits: &'a Limits,
    steps_left: u64,
}

impl<'a> Budget<'a> {
    pub fn new(limits: &'a Limits) -> Budget<'a> {
        Budget {
            limits,
            steps_left: limits.max_steps,
        }
    }

    pub fn charge(&mut self, steps: u64) -> Result<(), Exhausted> {
        match self.steps_left.checked_sub(steps) {
            Some(left) => {
                self.steps_left = left;
                Ok(())
            }
            None => {
                self.steps_left = 0;
                Err(Exhausted {
                    limit: Limit::Steps,
                })
            }
        }
    }

    #[cfg(test)]
    pub fn steps_left(&self) -> u64 {
        self.steps_left
    }

    /// Refuses to create an integer wider than the limit.
    pub fn check_bits(&self, bits: u64) -> Result<(), Exhausted> {
        if bits > self.limits.max_integer_bits {
            Err(Exhausted {
                limit: Limit::IntegerBits,
            })
        } else {
            Ok(())
        }
    }
}
