//! Checking one property against one model: replay stored failures,
//! generate cases with proptest, shrink the first failure, search for the
//! worst parameters and calibrate against an identity model.

use std::cell::RefCell;
use std::time::Instant;

use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use super::evaluate::{CaseScore, Evaluator, Subject};
use super::outcome::{Calibration, Counterexample, PropertyOutcome};
use super::regressions::{Regressions, StoredCase};
use super::search::search_worst;
use super::shrink::{shrink_from, Case, CaseStrategy, CaseTree};
use super::spec::LoadedSpec;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Cases an identity model is scored on for the calibration floor.
const CALIBRATION_CASES: usize = 32;

/// Returns the 32-byte ChaCha seed for a spec's `seed`.
fn rng_seed(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&seed.wrapping_add(i as u64).to_le_bytes());
    }
    bytes
}

/// Scores one case and returns whether it fails, and its score. A case
/// fails when its metric is below the bound or its top-1 class changed.
fn run_case(evaluator: &mut Evaluator, loaded: &LoadedSpec, case: &Case) -> Result<(bool, CaseScore)> {
    let score = evaluator.score_cases(case.image, case.noise_seed, std::slice::from_ref(&case.values))?[0];
    let exact = evaluator.is_exact(&case.values);
    let fails = !loaded.spec.tolerance().holds(score.metric, exact) || score.class_changed();
    Ok((fails, score))
}

/// Checks `loaded` against `subject` on the samples at `validation`
/// (dataset indices; the first `images` of them form the pool) and stores
/// a new failure in the spec's regressions file. `model` names the model
/// in reports.
pub fn check_property(
    subject: &Subject,
    model: &str,
    data: &Dataset,
    validation: &[usize],
    loaded: &LoadedSpec,
) -> Result<PropertyOutcome> {
    let started = Instant::now();
    let spec = &loaded.spec;
    loaded.check_task(subject.model.task(), model)?;
    let mut pool: Vec<usize> = validation.iter().take(spec.images).copied().collect();
    if pool.is_empty() {
        return Err(Error::dataset(&loaded.path, "no images to check the property on"));
    }

    // Stored failures come first; their images join the pool if needed.
    let mut regressions = Regressions::load(&loaded.path)?;
    let mut replay = Vec::new();
    for stored in &regressions.cases {
        let Some(index) = data.ids.iter().position(|id| *id == stored.image_id) else {
            continue;
        };
        if stored.values.len() != spec.transforms.len() {
            continue;
        }
        let image = pool.iter().position(|&p| p == index).unwrap_or_else(|| {
            pool.push(index);
            pool.len() - 1
        });
        replay.push(Case {
            image,
            noise_seed: stored.noise_seed,
            values: stored.values.clone(),
        });
    }

    let mut evaluator = Evaluator::new(subject, spec, data, &pool);
    let mut failure = None;
    for case in &replay {
        if run_case(&mut evaluator, loaded, case)?.0 {
            failure = Some(case.clone());
            break;
        }
    }

    let (cases_run, shrink_steps, lowest, shrunk) = match failure {
        Some(case) => {
            let mut tree = CaseTree::from_case(&spec.transforms, &case);
            let (shrunk, steps) = shrink_from(&mut tree, |c| run_case(&mut evaluator, loaded, c).map(|r| r.0))?;
            let unscored = CaseScore {
                metric: f64::NEG_INFINITY,
                classes: None,
            };
            (0, steps, Some((unscored, case)), Some(shrunk))
        }
        None => {
            let generated = generate(&mut evaluator, loaded, pool.len())?;
            (generated.cases, generated.shrink_steps, generated.lowest, generated.shrunk)
        }
    };

    let to_counterexample = |evaluator: &mut Evaluator, case: &Case, score: CaseScore| {
        let exact = evaluator.is_exact(&case.values);
        Counterexample {
            image_id: evaluator.image_id(case.image).to_string(),
            noise_seed: case.noise_seed,
            values: case.values.clone(),
            metric: score.metric,
            bound: spec.tolerance().bound(exact),
            exact,
            classes: score.classes,
        }
    };
    let mut shrink_steps = shrink_steps;
    let shrunk = match shrunk {
        Some(case) => {
            let score = run_case(&mut evaluator, loaded, &case)?.1;
            Some(to_counterexample(&mut evaluator, &case, score))
        }
        None => None,
    };

    let lowest_case = match &lowest {
        Some((score, case)) if score.metric.is_finite() => Some(to_counterexample(&mut evaluator, case, *score)),
        _ => None,
    };
    let mut worst_case = None;
    let worst = match &lowest {
        Some((_, case)) => {
            let start = shrunk.as_ref().map_or(case.values.clone(), |s| s.values.clone());
            let image = case.image;
            let noise_seed = case.noise_seed;
            // The search keeps the first case with the lowest metric, and so
            // does this, to report that case's top-1 classes too.
            let mut lowest_score: Option<CaseScore> = None;
            let (values, _) = search_worst(&spec.transforms, &start, |batch| {
                let scores = evaluator.score_cases(image, noise_seed, batch)?;
                for score in &scores {
                    if lowest_score.is_none_or(|low| score.metric < low.metric) {
                        lowest_score = Some(*score);
                    }
                }
                Ok::<_, Error>(scores.iter().map(|s| s.metric).collect())
            })?;
            let found = Case { image, noise_seed, values };
            let score = lowest_score.unwrap_or(CaseScore {
                metric: f64::NAN,
                classes: None,
            });
            let counterexample = to_counterexample(&mut evaluator, &found, score);
            worst_case = Some(found);
            Some(counterexample)
        }
        None => None,
    };

    // A worst case below the bound is a failure too, even when every
    // generated case passed: shrink from it like from any other failure.
    let shrunk = match (shrunk, &worst, worst_case) {
        (None, Some(w), Some(case)) if !spec.tolerance().holds(w.metric, w.exact) || w.classes.is_some_and(|c| c.changed()) => {
            let mut tree = CaseTree::from_case(&spec.transforms, &case);
            let (found, steps) = shrink_from(&mut tree, |c| run_case(&mut evaluator, loaded, c).map(|r| r.0))?;
            shrink_steps += steps;
            let score = run_case(&mut evaluator, loaded, &found)?.1;
            Some(to_counterexample(&mut evaluator, &found, score))
        }
        (shrunk, _, _) => shrunk,
    };

    let calibration_cases: Vec<Vec<f64>> = replay
        .iter()
        .map(|c| c.values.clone())
        .chain(worst.iter().map(|w| w.values.clone()))
        .chain(calibration_grid(loaded))
        .take(CALIBRATION_CASES)
        .collect();
    let floor = evaluator.calibrate(0, &calibration_cases)?;
    let calibration = Calibration {
        mean: floor.iter().sum::<f64>() / floor.len().max(1) as f64,
        min: floor.iter().copied().fold(1.0, f64::min),
    };

    if let Some(failing) = &shrunk {
        regressions.record(
            &loaded.path,
            StoredCase {
                image_id: failing.image_id.clone(),
                noise_seed: failing.noise_seed,
                values: failing.values.clone(),
                metric: failing.metric,
                model: model.to_string(),
            },
        )?;
    }

    Ok(PropertyOutcome {
        name: spec.name.clone(),
        spec: loaded.path.clone(),
        model: model.to_string(),
        relation: spec.relation,
        reference: spec.reference,
        metric: spec.metric,
        families: spec.transforms.iter().map(|t| t.family).collect(),
        holds: shrunk.is_none(),
        seed: spec.seed,
        cases: cases_run,
        replayed: replay.len(),
        shrink_steps,
        shrunk,
        lowest: lowest_case,
        worst,
        calibration,
        seconds: started.elapsed().as_secs_f64(),
        forward_seconds: evaluator.forward_time.as_secs_f64(),
    })
}

/// Evenly spaced parameter vectors over each axis's range, for the
/// calibration.
fn calibration_grid(loaded: &LoadedSpec) -> Vec<Vec<f64>> {
    (0..CALIBRATION_CASES)
        .map(|i| {
            let t = (i as f64 + 0.5) / CALIBRATION_CASES as f64;
            loaded
                .spec
                .transforms
                .iter()
                .map(|axis| axis.range[0] + t * (axis.range[1] - axis.range[0]))
                .collect()
        })
        .collect()
}

/// Result of the proptest run.
struct Generated {
    cases: usize,
    shrink_steps: usize,
    shrunk: Option<Case>,
    lowest: Option<(CaseScore, Case)>,
}

/// Generates and, on failure, shrinks cases with proptest's runner, seeded
/// from the spec so that the same seed gives the same cases.
fn generate(evaluator: &mut Evaluator, loaded: &LoadedSpec, images: usize) -> Result<Generated> {
    let spec = &loaded.spec;
    let config = Config {
        cases: spec.cases,
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    };
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &rng_seed(spec.seed));
    let mut runner = TestRunner::new_with_rng(config, rng);
    let strategy = CaseStrategy {
        images,
        transforms: spec.transforms.clone(),
    };

    struct State<'e, 'a> {
        evaluator: &'e mut Evaluator<'a>,
        error: Option<Error>,
        evaluated: usize,
        failed: bool,
        shrink_steps: usize,
        lowest: Option<(CaseScore, Case)>,
    }
    let state = RefCell::new(State {
        evaluator,
        error: None,
        evaluated: 0,
        failed: false,
        shrink_steps: 0,
        lowest: None,
    });
    let result = runner.run(&strategy, |case| {
        let mut state = state.borrow_mut();
        if state.error.is_some() {
            // Let proptest finish quickly; the error is returned below.
            return Ok(());
        }
        if state.failed {
            state.shrink_steps += 1;
        } else {
            state.evaluated += 1;
        }
        match run_case(state.evaluator, loaded, &case) {
            Ok((fails, score)) => {
                if !state.failed && state.lowest.as_ref().is_none_or(|(low, _)| score.metric < low.metric) {
                    state.lowest = Some((score, case.clone()));
                }
                if fails {
                    state.failed = true;
                    Err(TestCaseError::fail(format!("metric {:.4}", score.metric)))
                } else {
                    Ok(())
                }
            }
            Err(error) => {
                state.error = Some(error);
                Err(TestCaseError::fail("evaluation error"))
            }
        }
    });
    let state = state.into_inner();
    if let Some(error) = state.error {
        return Err(error);
    }
    let shrunk = match result {
        Ok(()) => None,
        Err(TestError::Fail(_, case)) => Some(case),
        Err(TestError::Abort(reason)) => {
            return Err(Error::Spec {
                path: loaded.path.clone(),
                reason: format!("case generation aborted: {reason}"),
            })
        }
    };
    Ok(Generated {
        cases: state.evaluated,
        shrink_steps: state.shrink_steps,
        shrunk,
        lowest: state.lowest,
    })
}
