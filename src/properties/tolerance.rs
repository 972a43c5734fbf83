//! Bounds that a property's metric must reach.

use serde::{Deserialize, Serialize};

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

    /// Returns whether a metric value meets the bound.
    pub fn holds(&self, metric: f64, exact: bool) -> bool {
        metric >= self.bound(exact)
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
    }
}
