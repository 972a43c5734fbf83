//! Bounds that a property's metric must reach.

use serde::{Deserialize, Serialize};

/// Slack for comparing an f32 metric with an f64 bound.
const F32_ROUNDING: f64 = 1e-6;

/// The lowest acceptable metric value, separately for exact group elements
/// and for interpolated parameters. A case holds when
/// `metric >= bound`, with `bound = exact` when every geometric parameter
/// of the case is an exact group element (a multiple of 90 degrees, a D4
/// element, a whole-pixel shift) and `bound = interpolated` otherwise.
/// Only exact elements permute pixels without resampling, so only they
/// can be held to a bound near 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub interpolated: f64,
    pub exact: f64,
}

impl Tolerance {
    /// For an exactly equivariant model: masks at exact group elements
    /// must agree up to float rounding of the logits near 0.
    pub const EXACT_GROUP: Tolerance = Tolerance {
        interpolated: 0.0,
        exact: 0.999,
    };

    /// Returns the bound that applies to a case.
    pub fn bound(&self, exact: bool) -> f64 {
        if exact {
            self.exact
        } else {
            self.interpolated
        }
    }

    /// Returns whether a metric value meets the bound. Metrics are
    /// computed in f32, so a value within f32 rounding of the bound (an f32
    /// 0.9 reads 0.89999998 as f64) counts as meeting it.
    pub fn holds(&self, metric: f64, exact: bool) -> bool {
        metric >= self.bound(exact) - F32_ROUNDING
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_cases_use_the_exact_bound() {
        let tolerance = Tolerance { interpolated: 0.8, exact: 0.99 };
        assert!(tolerance.holds(0.85, false));
        assert!(!tolerance.holds(0.85, true));
        assert!(tolerance.holds(0.995, true));
        assert!(tolerance.holds(0.8f32 as f64, false), "an f32 equal to the bound");
    }
}
