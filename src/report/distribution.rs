//! Per-image rotation consistency over the validation split, one box per
//! model: the whiskers span the minimum and maximum, the box the quartiles,
//! and the bar inside it the median.

use std::path::Path;

use plotters::prelude::*;

use super::style::{draw_error, render_chart, CHART_SIZE, FONT, LABEL_SIZE, SERIES_COLORS, TITLE_SIZE};
use crate::error::Result;

/// Returns the q-quantile of sorted values, interpolating linearly.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// Draws one box per (label, per-image values) pair.
pub fn plot_distribution(path: &Path, title: &str, groups: &[(String, Vec<f64>)]) -> Result<()> {
    let lowest = groups.iter().flat_map(|(_, v)| v.iter().copied()).fold(1.0f64, f64::min);
    let y_low = ((lowest - 0.05) * 10.0).floor().max(0.0) / 10.0;
    render_chart!(path, CHART_SIZE, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, TITLE_SIZE))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5..(groups.len() as f64 - 0.5), y_low..1.0)
            .map_err(draw_error)?;
        let labels: Vec<String> = groups.iter().map(|(l, _)| l.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len())
            .x_label_formatter(&|x| labels.get(x.round() as usize).cloned().unwrap_or_default())
            .x_desc("Model")
            .y_desc("Mean IoU against the unrotated prediction, per image")
            .label_style((FONT, LABEL_SIZE))
            .axis_desc_style((FONT, LABEL_SIZE))
            .draw()
            .map_err(draw_error)?;
        for (i, (_, values)) in groups.iter().enumerate() {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let x = i as f64;
            let color = SERIES_COLORS[i % SERIES_COLORS.len()];
            let [min, q1, median, q3, max] = [0.0, 0.25, 0.5, 0.75, 1.0].map(|q| quantile(&sorted, q));
            chart
                .draw_series(std::iter::once(Rectangle::new([(x - 0.25, q1), (x + 0.25, q3)], color.mix(0.35).filled())))
                .map_err(draw_error)?;
            chart
                .draw_series(std::iter::once(Rectangle::new([(x - 0.25, q1), (x + 0.25, q3)], color.stroke_width(2))))
                .map_err(draw_error)?;
            for segment in [
                vec![(x - 0.25, median), (x + 0.25, median)],
                vec![(x, q3), (x, max)],
                vec![(x, min), (x, q1)],
                vec![(x - 0.1, max), (x + 0.1, max)],
                vec![(x - 0.1, min), (x + 0.1, min)],
            ] {
                chart.draw_series(LineSeries::new(segment, color.stroke_width(2))).map_err(draw_error)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 4.0);
        assert_eq!(quantile(&sorted, 0.5), 2.5);
    }
}
