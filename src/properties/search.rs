//! Search for the worst parameters of a property on one image: the ones
//! with the lowest metric. Each axis is searched in turn on a coarse grid
//! over its whole range, then the best few grid points are refined on a
//! finer grid around them.

use super::family::Family;
use super::spec::TransformSpec;

/// Grid minima that get refined.
const REFINED_CANDIDATES: usize = 4;

/// Coarse and fine grid steps of an axis, in the family's unit. Rotation
/// is searched every degree and refined to a quarter degree, which puts
/// the reported worst angle within half a degree of a dense sweep's.
fn grid_steps(transform: &TransformSpec) -> (f64, f64) {
    let span = transform.range[1] - transform.range[0];
    match transform.family {
        Family::Rotation => (1.0, 0.25),
        Family::D4 => (1.0, 1.0),
        Family::TranslateX | Family::TranslateY => (0.5, 0.125),
        _ => (span / 48.0, span / 384.0),
    }
}

/// Returns the points of `[low, high]` at `step`, both ends included.
fn grid(low: f64, high: f64, step: f64) -> Vec<f64> {
    let count = ((high - low) / step).floor() as usize;
    let mut points: Vec<f64> = (0..=count).map(|i| low + i as f64 * step).collect();
    if points.last().is_some_and(|&last| high - last > 1e-9) {
        points.push(high);
    }
    points
}

/// Returns `values` with axis `axis` set to each of `points`.
fn along_axis(values: &[f64], axis: usize, points: &[f64]) -> Vec<Vec<f64>> {
    points
        .iter()
        .map(|&p| {
            let mut moved = values.to_vec();
            moved[axis] = p;
            moved
        })
        .collect()
}

/// Finds the parameters with the lowest score. `score` evaluates a batch
/// of parameter vectors on the image; `start` is where the search begins
/// (usually a failing case). Returns the parameters and their score.
pub fn search_worst<E>(
    transforms: &[TransformSpec],
    start: &[f64],
    mut score: impl FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
) -> Result<(Vec<f64>, f64), E> {
    let mut best = start.to_vec();
    let mut best_score = score(&[best.clone()])?[0];

    for (axis, transform) in transforms.iter().enumerate() {
        let (coarse, fine) = grid_steps(transform);
        let [low, high] = transform.range;
        let points = grid(low, high, coarse);
        let candidates = along_axis(&best, axis, &points);
        let scores = score(&candidates)?;

        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        for &i in order.iter().take(REFINED_CANDIDATES) {
            if scores[i] < best_score {
                best_score = scores[i];
                best = candidates[i].clone();
            }
            if fine >= coarse {
                continue;
            }
            let around = grid((points[i] - coarse).max(low), (points[i] + coarse).min(high), fine);
            let refined = along_axis(&best, axis, &around);
            let refined_scores = score(&refined)?;
            for (values, s) in refined.into_iter().zip(refined_scores) {
                if s < best_score {
                    best_score = s;
                    best = values;
                }
            }
        }
    }
    // Report angles as signed turns, so 350 degrees reads -10.
    for (value, transform) in best.iter_mut().zip(transforms) {
        if transform.family == Family::Rotation {
            *value = Family::Rotation.to_offset(*value);
        }
    }
    Ok((best, best_score))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_finds_a_sharp_minimum() {
        let transforms = [TransformSpec { family: Family::Rotation, range: [0.0, 360.0] }];
        // A V-shaped dip at 137.4 degrees between grid points.
        let (worst, score) = search_worst::<()>(&transforms, &[10.0], |cases| {
            Ok(cases.iter().map(|c| (c[0] - 137.4).abs() / 100.0).collect())
        })
        .unwrap();
        assert!((worst[0] - 137.4).abs() <= 0.125 + 1e-9, "worst at {}", worst[0]);
        assert!(score < 0.002);
    }

    #[test]
    fn grid_includes_both_ends() {
        assert_eq!(grid(0.0, 1.0, 0.4), vec![0.0, 0.4, 0.8, 1.0]);
    }
}
