//! How much a model's mask changes under brightness, contrast and noise:
//! the mean IoU against its own unperturbed prediction at each level.

use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::style::{draw_error, render_chart, FONT, LABEL_SIZE, SERIES_COLORS, TITLE_SIZE};
use crate::data::Dataset;
use crate::error::Result;
use crate::properties::{Evaluator, Family, Metric, PropertySpec, Reference, Relation, Subject, TransformSpec};

/// Levels measured for each photometric family, in the family's unit.
pub fn default_levels() -> Vec<(Family, Vec<f64>)> {
    let factors: Vec<f64> = (0..=10).map(|i| 0.5 + 0.1 * i as f64).collect();
    let sigmas: Vec<f64> = (0..=10).map(|i| 0.015 * i as f64).collect();
    vec![(Family::Brightness, factors.clone()), (Family::Contrast, factors), (Family::GaussianNoise, sigmas)]
}

/// Mean IoU of one model at each level of one family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityCurve {
    pub family: Family,
    pub levels: Vec<f64>,
    pub mean_iou: Vec<f64>,
}

/// Measures the mean IoU against the unperturbed prediction over the
/// images at `pool` (dataset indices), at each level of `family`.
pub fn measure_sensitivity(
    subject: &Subject,
    data: &Dataset,
    pool: &[usize],
    family: Family,
    levels: &[f64],
) -> Result<SensitivityCurve> {
    let spec = PropertySpec {
        name: format!("{family}-sensitivity"),
        relation: Relation::Invariance,
        reference: Reference::Prediction,
        metric: Metric::Iou,
        bound: 0.0,
        exact_bound: None,
        cases: 1,
        seed: 0,
        images: pool.len(),
        transforms: vec![TransformSpec {
            family,
            range: [levels[0].min(levels[levels.len() - 1]), levels[0].max(levels[levels.len() - 1]) + 1e-9],
        }],
    };
    let mut evaluator = Evaluator::new(subject, &spec, data, pool);
    let cases: Vec<Vec<f64>> = levels.iter().map(|&l| vec![l]).collect();
    let mut sums = vec![0.0; levels.len()];
    for image in 0..pool.len() {
        // The same noise pattern for every image keeps levels comparable.
        for (sum, score) in sums.iter_mut().zip(evaluator.score(image, 1, &cases)?) {
            *sum += score;
        }
    }
    Ok(SensitivityCurve {
        family,
        levels: levels.to_vec(),
        mean_iou: sums.iter().map(|s| s / pool.len() as f64).collect(),
    })
}

/// Draws one panel per family with one line per model; `models` pairs a
/// label with that model's curves in family order.
pub fn plot_sensitivity(path: &Path, models: &[(String, Vec<SensitivityCurve>)]) -> Result<()> {
    let families: Vec<Family> = models.first().map(|(_, c)| c.iter().map(|c| c.family).collect()).unwrap_or_default();
    render_chart!(path, (1500, 560), |root| {
        let (title_area, body) = root.split_vertically(50);
        title_area
            .draw(&Text::new(
                "Mask IoU against the unperturbed prediction (mean over validation images)",
                (20, 12),
                (FONT, TITLE_SIZE),
            ))
            .map_err(draw_error)?;
        let panels = body.split_evenly((1, families.len().max(1)));
        // One y range for every panel, so their drops compare by eye.
        let lowest = models
            .iter()
            .flat_map(|(_, curves)| curves.iter().flat_map(|c| c.mean_iou.iter().copied()))
            .fold(1.0f64, f64::min);
        let y_low = ((lowest - 0.05).max(0.0) * 20.0).floor() / 20.0;
        for (panel, (f, family)) in panels.iter().zip(families.iter().enumerate()) {
            let levels = &models[0].1[f].levels;
            let (low, high) = (levels[0], levels[levels.len() - 1]);
            let unit = match family.unit() {
                "" if *family == Family::GaussianNoise => "standard deviation, values in [0, 1]".to_string(),
                "" => "factor, 1 = unchanged".to_string(),
                unit => unit.to_string(),
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(family.to_string(), (FONT, LABEL_SIZE + 2))
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d(low..high, y_low..1.0)
                .map_err(draw_error)?;
            chart
                .configure_mesh()
                .x_desc(format!("{family} ({unit})"))
                .y_desc("IoU")
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 14))
                .draw()
                .map_err(draw_error)?;
            for (i, (label, curves)) in models.iter().enumerate() {
                let color = SERIES_COLORS[i % SERIES_COLORS.len()];
                let curve = &curves[f];
                let points: Vec<(f64, f64)> = curve.levels.iter().copied().zip(curve.mean_iou.iter().copied()).collect();
                chart
                    .draw_series(LineSeries::new(points, color.stroke_width(3)))
                    .map_err(draw_error)?
                    .label(label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerLeft)
                .label_font((FONT, 13))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(draw_error)?;
        }
        Ok(())
    })
}
