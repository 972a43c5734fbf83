//! Rotation consistency as a polar plot: the angle of the input turn
//! around the circle, IoU as the distance from the centre.

use std::path::Path;

use plotters::prelude::*;

use super::style::{draw_error, render_chart, FONT, LABEL_SIZE, SERIES_COLORS, TITLE_SIZE};
use crate::error::Result;

/// Size of the square polar chart in pixels.
const SIZE: u32 = 700;
/// IoU at the centre of the plot; the rim is 1.
const INNER_IOU: f64 = 0.5;

/// Draws one closed curve per series of (label, IoU per angle).
pub fn plot_polar(path: &Path, title: &str, angles_deg: &[f64], series: &[(String, Vec<f64>)]) -> Result<()> {
    render_chart!(path, (SIZE, SIZE + 60), |root| {
        let (plot, legend) = root.split_vertically(SIZE);
        let mut chart = ChartBuilder::on(&plot)
            .caption(title, (FONT, TITLE_SIZE))
            .margin(30)
            .build_cartesian_2d(-1.15..1.15, -1.15..1.15)
            .map_err(draw_error)?;
        let radius = |iou: f64| ((iou - INNER_IOU) / (1.0 - INNER_IOU)).clamp(0.0, 1.0);
        let point = |angle: f64, iou: f64| {
            let r = radius(iou);
            let t = angle.to_radians();
            (r * t.cos(), r * t.sin())
        };

        // Rings every 0.1 IoU and spokes every 30 degrees, labelled.
        for ring in [0.6, 0.7, 0.8, 0.9, 1.0] {
            let circle: Vec<(f64, f64)> = (0..=360).map(|a| point(a as f64, ring)).collect();
            chart.draw_series(LineSeries::new(circle, RGBColor(200, 200, 200))).map_err(draw_error)?;
            chart
                .draw_series(std::iter::once(Text::new(format!("{ring:.1}"), point(95.0, ring), (FONT, 14))))
                .map_err(draw_error)?;
        }
        for spoke in (0..360).step_by(30) {
            let end = point(spoke as f64, 1.0);
            chart.draw_series(LineSeries::new(vec![(0.0, 0.0), end], RGBColor(220, 220, 220))).map_err(draw_error)?;
            let label = point(spoke as f64, 1.07);
            chart
                .draw_series(std::iter::once(Text::new(format!("{spoke} deg"), (label.0 - 0.06, label.1 + 0.02), (FONT, 14))))
                .map_err(draw_error)?;
        }
        for (i, (_, values)) in series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let mut curve: Vec<(f64, f64)> = angles_deg.iter().zip(values).map(|(&a, &v)| point(a, v)).collect();
            if let Some(&first) = curve.first() {
                curve.push(first);
            }
            chart.draw_series(LineSeries::new(curve, color.stroke_width(3))).map_err(draw_error)?;
        }

        for (i, (label, _)) in series.iter().enumerate() {
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let x = 20 + 170 * i as i32;
            legend
                .draw(&Rectangle::new([(x, 20), (x + 24, 30)], color.filled()))
                .map_err(draw_error)?;
            legend
                .draw(&Text::new(label.clone(), (x + 30, 17), (FONT, LABEL_SIZE - 4)))
                .map_err(draw_error)?;
        }
        Ok(())
    })
}
