//! Rotation-sweep throughput and peak memory, through the crate's own
//! `eval::sweep` on a synthetic dataset: throughput does not depend on the
//! pictures, and a synthetic set keeps the report free of dataset loading.

use std::time::Instant;

use eqcheck::data::{Canvas, Dataset};
use eqcheck::eval::{sweep, SWEEP_BATCH};
use eqcheck::models::SegmentationModel;
use tch::{Device, Kind, Tensor};

use super::memory::{peak_resident_mib, reset_peak};

/// Returns `count` random images of `side` x `side` pixels, each with a
/// centred disc as its mask.
pub fn synthetic_dataset(count: usize, side: i64) -> Dataset {
    let options = (Kind::Float, Device::Cpu);
    let images = Tensor::rand([count as i64, 3, side, side], options);
    let coordinates = Tensor::arange(side, options) - (side as f64 - 1.0) / 2.0;
    let squared = coordinates.square();
    let distance = squared.view([side, 1]) + squared.view([1, side]);
    let radius = side as f64 / 3.0;
    let disc = distance.le(radius * radius).to_kind(Kind::Float);
    let masks = disc.view([1, 1, side, side]).repeat([count as i64, 1, 1, 1]);
    Dataset {
        ids: (0..count).map(|i| format!("synthetic-{i:04}")).collect(),
        species: vec![1; count],
        images,
        masks,
        side,
    }
}

/// Returns `count` angles evenly spaced over the circle, in degrees.
pub fn spaced_angles(count: usize) -> Vec<f64> {
    (0..count).map(|i| i as f64 * 360.0 / count as f64).collect()
}

/// Runs one sweep over the first `images` samples at `angles` angles, in
/// batches of `SWEEP_BATCH` images as `eqcheck reproduce` does, and
/// returns its wall time in seconds.
pub fn time_sweep(model: &dyn SegmentationModel, canvas: &Canvas, data: &Dataset, images: usize, angles: usize) -> f64 {
    let indices: Vec<usize> = (0..images).collect();
    let angles_deg = spaced_angles(angles);
    let started = Instant::now();
    if let Err(error) = sweep(model, canvas, data, &indices, &angles_deg, SWEEP_BATCH, &mut |_| {}) {
        panic!("rotation sweep failed: {error}");
    }
    started.elapsed().as_secs_f64()
}

/// Resident memory of one sweep, in MiB.
pub struct SweepMemory {
    /// Peak during the sweep; `None` when the peak could not be reset, so
    /// that the process-wide peak would hide the sweep's.
    pub peak: Option<f64>,
}

/// Measures the peak resident memory of one sweep over `images` images
/// and `angles` angles.
pub fn sweep_memory(
    model: &dyn SegmentationModel,
    canvas: &Canvas,
    data: &Dataset,
    images: usize,
    angles: usize,
) -> SweepMemory {
    let was_reset = reset_peak();
    time_sweep(model, canvas, data, images, angles);
    SweepMemory {
        peak: if was_reset { peak_resident_mib() } else { None },
    }
}
