//! Summaries of a metric over the angles of a sweep.

use serde::{Deserialize, Serialize};

/// Mean, minimum and population standard deviation of a per-angle metric,
/// with the angle where it is lowest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AngleSummary {
    pub mean: f64,
    pub min: f64,
    pub std: f64,
    /// Degrees, counter-clockwise; the first such angle on a tie.
    pub worst_angle_deg: f64,
}

/// Summarises `values[i]`, measured at `angles_deg[i]`. Returns `None` for
/// an empty sweep.
pub fn summarise(angles_deg: &[f64], values: &[f64]) -> Option<AngleSummary> {
    if values.is_empty() || values.len() != angles_deg.len() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let (worst, min) = values
        .iter()
        .copied()
        .enumerate()
        .fold((0, f64::INFINITY), |best, (i, v)| if v < best.1 { (i, v) } else { best });
    Some(AngleSummary {
        mean,
        min,
        std: variance.sqrt(),
        worst_angle_deg: angles_deg[worst],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_finds_the_worst_angle() {
        let summary = summarise(&[0.0, 90.0, 180.0, 270.0], &[1.0, 0.5, 0.75, 0.75]).unwrap();
        assert_eq!(summary.mean, 0.75);
        assert_eq!(summary.min, 0.5);
        assert_eq!(summary.worst_angle_deg, 90.0);
        assert!((summary.std - (0.03125f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn empty_sweep_has_no_summary() {
        assert!(summarise(&[], &[]).is_none());
        assert!(summarise(&[0.0], &[]).is_none());
    }
}
