//! Training curves: train and validation IoU per epoch, one colour per
//! model, solid for validation and dashed for train.

use std::path::Path;

use plotters::prelude::*;

use super::style::{draw_error, render_chart, CHART_SIZE, FONT, LABEL_SIZE, SERIES_COLORS, TITLE_SIZE};
use crate::error::Result;
use crate::training::EpochMetrics;

/// Draws the curves of each (label, epochs) pair.
pub fn plot_training_curves(path: &Path, runs: &[(String, Vec<EpochMetrics>)]) -> Result<()> {
    let epochs = runs.iter().map(|(_, m)| m.len()).max().unwrap_or(1).max(2) as f64;
    render_chart!(path, CHART_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Training curves: IoU per epoch", (FONT, TITLE_SIZE))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(1.0..epochs, 0.0..1.0)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc("Epoch")
            .y_desc("IoU")
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(draw_error)?;
        for (i, (label, metrics)) in runs.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let validation: Vec<(f64, f64)> = metrics.iter().map(|m| (m.epoch as f64, m.validation_iou)).collect();
            let train: Vec<(f64, f64)> = metrics.iter().map(|m| (m.epoch as f64, m.train_iou)).collect();
            chart
                .draw_series(LineSeries::new(validation, color.stroke_width(3)))
                .map_err(draw_error)?
                .label(format!("{label} validation"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
            chart
                .draw_series(DashedLineSeries::new(train, 6, 4, color.stroke_width(2)))
                .map_err(draw_error)?
                .label(format!("{label} train (augmented)"))
                .legend(move |(x, y)| plotters::element::DashedPathElement::new(vec![(x, y), (x + 24, y)], 6, 4, color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(draw_error)
    })
}
