//! Heat maps of per-image IoU against the unrotated prediction, validation
//! images (rows, sorted by their mean) against angles (columns), one panel
//! per model.

use std::path::Path;

use plotters::prelude::*;

use super::style::{draw_error, render_chart, FONT, LABEL_SIZE, TITLE_SIZE};
use crate::error::Result;
use crate::eval::RotationSweep;

/// Size of the four-panel figure in pixels.
const SIZE: (u32, u32) = (1200, 1000);
/// IoU shown as the darkest colour; lower values are clamped to it.
const FLOOR: f64 = 0.5;

/// Maps IoU in [FLOOR, 1] to a colour from dark red through yellow to white.
fn color_of(iou: f64) -> RGBColor {
    let t = ((iou - FLOOR) / (1.0 - FLOOR)).clamp(0.0, 1.0);
    let (r, g, b) = if t < 0.5 {
        (0.5 + t, 2.0 * t * 0.85, 0.0)
    } else {
        (1.0, 0.85 + (t - 0.5) * 0.3, (t - 0.5) * 2.0)
    };
    RGBColor((r.min(1.0) * 255.0) as u8, (g.min(1.0) * 255.0) as u8, (b.min(1.0) * 255.0) as u8)
}

/// Draws one panel per (label, sweep) pair, at most four.
pub fn plot_heatmaps(path: &Path, panels: &[(String, RotationSweep)]) -> Result<()> {
    render_chart!(path, SIZE, |root| {
        let (title_area, body) = root.split_vertically(50);
        title_area
            .draw(&Text::new(
                format!("Per-image rotation consistency (darkest: IoU <= {FLOOR}, white: 1)"),
                (20, 12),
                (FONT, TITLE_SIZE),
            ))
            .map_err(draw_error)?;
        for (area, (label, sweep)) in body.split_evenly((2, 2)).iter().zip(panels) {
            let mut rows: Vec<&Vec<f64>> = sweep.iter_consistency().collect();
            rows.sort_by(|a, b| mean(a).total_cmp(&mean(b)));
            let step = sweep.angles_deg.get(1).copied().unwrap_or(10.0) - sweep.angles_deg[0];
            let mut chart = ChartBuilder::on(area)
                .caption(label, (FONT, LABEL_SIZE + 2))
                .margin(10)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..360.0, 0.0..rows.len() as f64)
                .map_err(draw_error)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("Angle (degrees)")
                .y_desc("Image (sorted)")
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 14))
                .draw()
                .map_err(draw_error)?;
            let cells = rows.iter().enumerate().flat_map(|(row, values)| {
                sweep.angles_deg.iter().zip(values.iter()).map(move |(&angle, &iou)| {
                    Rectangle::new([(angle, row as f64), (angle + step, row as f64 + 1.0)], color_of(iou).filled())
                })
            });
            chart.draw_series(cells).map_err(draw_error)?;
        }
        Ok(())
    })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_dark_to_white() {
        assert_eq!(color_of(1.0), RGBColor(255, 255, 255));
        assert_eq!(color_of(0.0), color_of(FLOOR));
        assert!(color_of(0.6).1 < color_of(0.9).1);
    }
}
