//! Scoring cases: transform one image, predict, undo the geometric part
//! for equivariance, and compare with the reference: masks over valid
//! pixels, class probabilities by their top-1 class.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tch::{Kind, Tensor};

use super::metric::{top1_stability, TopClasses};
use super::spec::{PropertySpec, Reference, Relation};
use crate::data::{Canvas, Dataset};
use crate::error::{Error, Result};
use crate::models::{Predictor, Task};
use crate::transforms::Interpolation;

/// Most transformed copies of an image per forward pass.
const MAX_BATCH: usize = 32;

/// A model under test with the canvas geometry it expects.
pub struct Subject<'a> {
    pub model: &'a dyn Predictor,
    pub canvas: Canvas,
}

/// The score of one case: the metric value and, for class outputs, the
/// top-1 classes before and after the transformation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseScore {
    pub metric: f64,
    pub classes: Option<TopClasses>,
}

impl CaseScore {
    /// Returns whether the transformation changed the top-1 class.
    pub fn class_changed(&self) -> bool {
        self.classes.is_some_and(|c| c.changed())
    }
}

/// Scores cases of one property on one dataset, caching the reference
/// masks per image.
pub struct Evaluator<'a> {
    subject: &'a Subject<'a>,
    spec: &'a PropertySpec,
    data: &'a Dataset,
    /// Dataset indices the cases' image numbers refer to.
    pool: &'a [usize],
    references: HashMap<usize, Tensor>,
    /// Padded image and mask per pool image, as `sample` returns them.
    samples: HashMap<usize, (Tensor, Tensor)>,
    /// The image area of the canvas as a `[1, 1, P, P]` 0/1 mask.
    area: Tensor,
    /// Time spent in model forward passes.
    pub forward_time: Duration,
    /// Number of transformed images scored.
    pub scored: usize,
}

impl<'a> Evaluator<'a> {
    pub fn new(subject: &'a Subject<'a>, spec: &'a PropertySpec, data: &'a Dataset, pool: &'a [usize]) -> Self {
        let side = subject.canvas.side;
        let area = subject
            .canvas
            .pad(&Tensor::ones([1, 1, side, side], (Kind::Float, tch::Device::Cpu)));
        Evaluator {
            subject,
            spec,
            data,
            pool,
            references: HashMap::new(),
            samples: HashMap::new(),
            area,
            forward_time: Duration::ZERO,
            scored: 0,
        }
    }

    /// Returns the dataset id of pool image `image`.
    pub fn image_id(&self, image: usize) -> &str {
        &self.data.ids[self.pool[image % self.pool.len()]]
    }

    /// Returns the padded image `[1, 3, P, P]` and ground-truth mask
    /// `[1, 1, P, P]` of pool image `image`, padded once per image.
    fn sample(&mut self, image: usize) -> (Tensor, Tensor) {
        let index = self.pool[image % self.pool.len()];
        let data = self.data;
        let canvas = &self.subject.canvas;
        let (padded, truth) = self.samples.entry(index).or_insert_with(|| {
            let (images, masks) = data.batch(&[index]);
            (canvas.pad(&images), canvas.pad(&masks))
        });
        (padded.shallow_clone(), truth.shallow_clone())
    }

    fn predict(&mut self, inputs: &Tensor) -> Result<Tensor> {
        let started = Instant::now();
        let probabilities = self.subject.model.predict(inputs)?;
        self.forward_time += started.elapsed();
        Ok(probabilities)
    }

    /// Returns the reference of an image: the binary mask `[1, 1, P, P]`
    /// for segmentation, the class probabilities `[1, classes]` for
    /// classification.
    fn reference(&mut self, image: usize) -> Result<Tensor> {
        if let Some(reference) = self.references.get(&image) {
            return Ok(reference.shallow_clone());
        }
        let (padded, truth) = self.sample(image);
        let reference = match (self.subject.model.task(), self.spec.reference) {
            (Task::Segmentation, Reference::Truth) => truth,
            (Task::Segmentation, Reference::Prediction) => self.predict(&padded)?.gt(0.5).to_kind(Kind::Float),
            (Task::Classification, Reference::Prediction) => self.predict(&padded)?,
            (Task::Classification, Reference::Truth) => {
                return Err(Error::InvalidOption {
                    name: "reference",
                    value: "truth".into(),
                    reason: "a classifier is compared with its own prediction; the dataset has no \
                             class labels in a model's numbering"
                        .into(),
                })
            }
        };
        self.references.insert(image, reference.shallow_clone());
        Ok(reference)
    }

    /// Applies every axis of the spec to `x` once per case, case i with
    /// `cases[i]`: `[cases, C, P, P]`.
    fn transform_each(&self, x: &Tensor, cases: &[Vec<f64>], noise_seed: u64, interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (axis, t) in self.spec.transforms.iter().enumerate() {
            let values = axis_values(cases, axis);
            x = t.family.apply_each(&x, &values, noise_seed.wrapping_add(axis as u64), interpolation);
        }
        x
    }

    /// Applies only the geometric axes once per case, as
    /// [`Evaluator::transform_each`] does: what happens to pixel positions,
    /// as opposed to pixel values.
    fn move_pixels_each(&self, x: &Tensor, cases: &[Vec<f64>], interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (axis, t) in self.spec.transforms.iter().enumerate() {
            if t.family.is_geometric() {
                x = t.family.apply_each(&x, &axis_values(cases, axis), 0, interpolation);
            }
        }
        x
    }

    /// Undoes the geometric axes of item i of `x` with `cases[i]`, last
    /// axis first.
    fn untransform_each(&self, x: &Tensor, cases: &[Vec<f64>], interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (axis, t) in self.spec.transforms.iter().enumerate().rev() {
            x = t.family.invert_each(&x, &axis_values(cases, axis), interpolation);
        }
        x
    }

    /// Returns, for each case, the pixels that count: inside the image
    /// both before and after the transformation, `[cases, 1, P, P]`.
    fn valid_pixels_each(&self, cases: &[Vec<f64>]) -> Tensor {
        // Photometric transforms move no pixel, so the whole image counts.
        if !self.spec.has_geometry() {
            return self.area.expand([cases.len() as i64, -1, -1, -1], false);
        }
        let moved = self.move_pixels_each(&self.area, cases, Interpolation::Nearest);
        let seen = match self.spec.relation {
            Relation::Equivariance => self.untransform_each(&moved, cases, Interpolation::Nearest),
            Relation::Invariance => moved,
        };
        self.area.logical_and(&seen.gt(0.5)).to_kind(Kind::Float)
    }

    /// Returns whether every geometric value of a case is an exact group element.
    pub fn is_exact(&self, values: &[f64]) -> bool {
        self.spec.has_geometry()
            && self
                .spec
                .transforms
                .iter()
                .zip(values)
                .filter(|(t, _)| t.family.is_geometric())
                .all(|(t, &v)| t.family.is_exact(v))
    }

    /// Scores pool image `image` under each parameter vector of `cases`
    /// and returns the metric values.
    pub fn score(&mut self, image: usize, noise_seed: u64, cases: &[Vec<f64>]) -> Result<Vec<f64>> {
        Ok(self.score_cases(image, noise_seed, cases)?.iter().map(|s| s.metric).collect())
    }

    /// Scores pool image `image` under each parameter vector of `cases`,
    /// with the top-1 classes for class outputs.
    pub fn score_cases(&mut self, image: usize, noise_seed: u64, cases: &[Vec<f64>]) -> Result<Vec<CaseScore>> {
        let reference = self.reference(image)?;
        let (padded, _) = self.sample(image);
        let mut scores = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(MAX_BATCH) {
            let inputs = self.transform_each(&padded, chunk, noise_seed, Interpolation::Bilinear);
            let probabilities = self.predict(&inputs)?;
            match self.subject.model.task() {
                Task::Segmentation => {
                    let metrics = self.score_masks(&probabilities, &reference, chunk)?;
                    scores.extend(metrics.into_iter().map(|metric| CaseScore { metric, classes: None }));
                }
                Task::Classification => {
                    for (metric, classes) in top1_stability(&probabilities, &reference) {
                        scores.push(CaseScore {
                            metric,
                            classes: Some(classes),
                        });
                    }
                }
            }
            self.scored += chunk.len();
        }
        Ok(scores)
    }

    /// Scores the mask probabilities `[cases, 1, P, P]` predicted for a
    /// chunk of cases against the reference mask, with one metric call for
    /// the whole chunk.
    fn score_masks(&self, predicted: &Tensor, reference: &Tensor, cases: &[Vec<f64>]) -> Result<Vec<f64>> {
        let predicted = match self.spec.relation {
            Relation::Equivariance => self.untransform_each(predicted, cases, Interpolation::Bilinear),
            Relation::Invariance => predicted.shallow_clone(),
        };
        let valid = self.valid_pixels_each(cases);
        let metrics = self.spec.metric.score(&predicted, reference, &valid)?;
        Ok(Vec::<f64>::try_from(metrics.to_kind(Kind::Double))?)
    }

    /// Scores an identity model, one that returns the ground truth, under
    /// each case: the metric lost to resampling alone. A ground-truth
    /// class does not change under any transformation, so class outputs
    /// score 1.
    pub fn calibrate(&mut self, image: usize, cases: &[Vec<f64>]) -> Result<Vec<f64>> {
        if self.subject.model.task() == Task::Classification {
            return Ok(vec![1.0; cases.len()]);
        }
        let (_, truth) = self.sample(image);
        let mut floors = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(MAX_BATCH) {
            let moved = self.move_pixels_each(&truth, chunk, Interpolation::Bilinear);
            let back = match self.spec.relation {
                Relation::Equivariance => self.untransform_each(&moved, chunk, Interpolation::Bilinear),
                Relation::Invariance => moved,
            };
            let valid = self.valid_pixels_each(chunk);
            let metrics = self.spec.metric.score(&back, &truth, &valid)?;
            floors.extend(Vec::<f64>::try_from(metrics.to_kind(Kind::Double))?);
        }
        Ok(floors)
    }
}

/// Returns the value of axis `axis` in each case.
fn axis_values(cases: &[Vec<f64>], axis: usize) -> Vec<f64> {
    cases.iter().map(|values| values[axis]).collect()
}
