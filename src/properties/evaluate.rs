//! Scoring cases: transform one image, predict, undo the geometric part
//! for equivariance, and compare with the reference over valid pixels.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tch::{Kind, Tensor};

use super::spec::{PropertySpec, Reference, Relation};
use crate::data::{Canvas, Dataset};
use crate::error::Result;
use crate::eval::predict_probabilities;
use crate::models::SegmentationModel;
use crate::transforms::Interpolation;

/// Most transformed copies of an image per forward pass.
const MAX_BATCH: usize = 32;

/// A model under test with the canvas geometry it expects.
pub struct Subject<'a> {
    pub model: &'a dyn SegmentationModel,
    pub canvas: Canvas,
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
        let probabilities = predict_probabilities(self.subject.model, inputs)?;
        self.forward_time += started.elapsed();
        Ok(probabilities)
    }

    /// Returns the binary reference mask `[1, 1, P, P]` of an image.
    fn reference(&mut self, image: usize) -> Result<Tensor> {
        if let Some(reference) = self.references.get(&image) {
            return Ok(reference.shallow_clone());
        }
        let (padded, truth) = self.sample(image);
        let reference = match self.spec.reference {
            Reference::Truth => truth,
            Reference::Prediction => self.predict(&padded)?.gt(0.5).to_kind(Kind::Float),
        };
        self.references.insert(image, reference.shallow_clone());
        Ok(reference)
    }

    /// Applies every axis of the spec, in order, with `values`.
    fn transform(&self, x: &Tensor, values: &[f64], noise_seed: u64, interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (axis, (t, &v)) in self.spec.transforms.iter().zip(values).enumerate() {
            x = t.family.apply(&x, v, noise_seed.wrapping_add(axis as u64), interpolation);
        }
        x
    }

    /// Applies only the geometric axes, in order: what happens to pixel
    /// positions, as opposed to pixel values.
    fn move_pixels(&self, x: &Tensor, values: &[f64], interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (t, &v) in self.spec.transforms.iter().zip(values) {
            if t.family.is_geometric() {
                x = t.family.apply(&x, v, 0, interpolation);
            }
        }
        x
    }

    /// Undoes the geometric axes, last first.
    fn untransform(&self, x: &Tensor, values: &[f64], interpolation: Interpolation) -> Tensor {
        let mut x = x.shallow_clone();
        for (t, &v) in self.spec.transforms.iter().zip(values).rev() {
            x = t.family.invert(&x, v, interpolation);
        }
        x
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

    /// Returns the pixels that count for a case: inside the image both
    /// before and after the transformation, `[1, 1, P, P]`.
    fn valid_pixels(&self, values: &[f64]) -> Tensor {
        // Photometric transforms move no pixel, so the whole image counts.
        if !self.spec.has_geometry() {
            return self.area.shallow_clone();
        }
        let area = &self.area;
        let moved = self.move_pixels(area, values, Interpolation::Nearest);
        let seen = match self.spec.relation {
            Relation::Equivariance => self.untransform(&moved, values, Interpolation::Nearest),
            Relation::Invariance => moved,
        };
        area.logical_and(&seen.gt(0.5)).to_kind(Kind::Float)
    }

    /// Scores pool image `image` under each parameter vector of `cases`.
    pub fn score(&mut self, image: usize, noise_seed: u64, cases: &[Vec<f64>]) -> Result<Vec<f64>> {
        let reference = self.reference(image)?;
        let (padded, _) = self.sample(image);
        let mut scores = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(MAX_BATCH) {
            let inputs: Vec<Tensor> = chunk
                .iter()
                .map(|values| self.transform(&padded, values, noise_seed, Interpolation::Bilinear))
                .collect();
            let probabilities = self.predict(&Tensor::cat(&inputs, 0))?;
            for (i, values) in chunk.iter().enumerate() {
                let predicted = probabilities.narrow(0, i as i64, 1);
                let predicted = match self.spec.relation {
                    Relation::Equivariance => self.untransform(&predicted, values, Interpolation::Bilinear),
                    Relation::Invariance => predicted,
                };
                let valid = self.valid_pixels(values);
                let binary = predicted.gt(0.5).to_kind(Kind::Float);
                scores.push(self.spec.metric.score(&binary, &reference, &valid).double_value(&[0]));
            }
            self.scored += chunk.len();
        }
        Ok(scores)
    }

    /// Scores an identity model, one that returns the ground truth, under
    /// each case: the metric lost to resampling alone.
    pub fn calibrate(&mut self, image: usize, cases: &[Vec<f64>]) -> Vec<f64> {
        let (_, truth) = self.sample(image);
        cases
            .iter()
            .map(|values| {
                let moved = self.move_pixels(&truth, values, Interpolation::Bilinear);
                let back = match self.spec.relation {
                    Relation::Equivariance => self.untransform(&moved, values, Interpolation::Bilinear),
                    Relation::Invariance => moved,
                };
                let binary = back.gt(0.5).to_kind(Kind::Float);
                let valid = self.valid_pixels(values);
                self.spec.metric.score(&binary, &truth, &valid).double_value(&[0])
            })
            .collect()
    }
}
