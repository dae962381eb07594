//! The step and size budget threaded through one `verify` call.
//!
//! Wall-clock timeouts make verdicts depend on machine load and cannot interrupt a
//! single huge big-integer operation; counting work can. Every arithmetic routine
//! charges the budget before it does the work, so a call is bounded by construction.

use num_rational::BigRational;

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

    /// Charges for one rational operation. num-rational reduces every result by a
    /// binary gcd, which costs about bits × machine words of the operands; one step
    /// stands for roughly 10 ns of work, so `Limits::max_steps` bounds the time.
    pub fn charge_rational_operation(
        &mut self,
        a: &BigRational,
        b: &BigRational,
    ) -> Result<(), Exhausted> {
        let widest = [a.numer(), a.denom(), b.numer(), b.denom()]
            .iter()
            .map(|value| value.bits())
            .max()
            .unwrap_or(0);
        self.charge(1 + widest.saturating_mul(widest / 64 + 1) / 6)
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
