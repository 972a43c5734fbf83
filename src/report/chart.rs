//! IoU against rotation angle, one line per model.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{register_fonts, CHART_SIZE, FONT, LABEL_SIZE, SERIES_COLORS, TITLE_SIZE};
use crate::error::{Error, Result};

/// File format of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    Png,
    Svg,
}

/// Height of the strip under the plot that names the command and machine.
const FOOTER_HEIGHT: u32 = 40;

/// Draws `series` (a label and one IoU per angle each) against
/// `angles_deg` into `path`, with `footer` (the command and machine) under
/// the plot.
pub fn plot_iou_by_angle(
    path: &Path,
    format: ChartFormat,
    title: &str,
    footer: &str,
    angles_deg: &[f64],
    series: &[(String, Vec<f64>)],
) -> Result<()> {
    plot_iou_by_angle_with_band(path, format, title, footer, angles_deg, series, None)
}

/// Draws like [`plot_iou_by_angle`]. With `band = Some(bound)` it also
/// shades the pass band from `bound` to 1 and marks each line's worst
/// angle with a cross. A triangle marks the line's smallest failing angle,
/// the angle nearest 0 degrees (either way) where it drops below the bound.
pub fn plot_iou_by_angle_with_band(
    path: &Path,
    format: ChartFormat,
    title: &str,
    footer: &str,
    angles_deg: &[f64],
    series: &[(String, Vec<f64>)],
    band: Option<f64>,
) -> Result<()> {
    register_fonts();
    let drawn = match format {
        ChartFormat::Png => {
            let root = BitMapBackend::new(path, CHART_SIZE).into_drawing_area();
            draw(&root, title, footer, angles_deg, series, band).and_then(|()| root.present().map_err(|e| e.to_string()))
        }
        ChartFormat::Svg => {
            let root = SVGBackend::new(path, CHART_SIZE).into_drawing_area();
            draw(&root, title, footer, angles_deg, series, band).and_then(|()| root.present().map_err(|e| e.to_string()))
        }
    };
    drawn.map_err(|reason| Error::Report {
        path: path.to_path_buf(),
        reason: format!("could not draw chart: {reason}"),
    })
}

/// Returns a lower y-axis bound that leaves a margin under the lowest
/// value, rounded down to a tenth.
fn lower_bound(series: &[(String, Vec<f64>)]) -> f64 {
    let lowest = series
        .iter()
        .flat_map(|(_, values)| values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::min);
    ((lowest - 0.05) * 10.0).floor().max(0.0) / 10.0
}

/// Returns the angle nearest 0 degrees (350 counts as -10) whose value is
/// below `bound`.
pub fn smallest_failing_angle(angles_deg: &[f64], values: &[f64], bound: f64) -> Option<f64> {
    angles_deg
        .iter()
        .zip(values)
        .filter(|(_, &v)| v < bound)
        .map(|(&a, _)| a)
        .min_by(|a, b| signed(*a).abs().total_cmp(&signed(*b).abs()))
}

fn signed(angle: f64) -> f64 {
    let wrapped = angle.rem_euclid(360.0);
    if wrapped > 180.0 {
        wrapped - 360.0
    } else {
        wrapped
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    footer: &str,
    angles_deg: &[f64],
    series: &[(String, Vec<f64>)],
    band: Option<f64>,
) -> std::result::Result<(), String> {
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let (plot_area, footer_area) = root.split_vertically(CHART_SIZE.1 - FOOTER_HEIGHT);

    let mut chart = ChartBuilder::on(&plot_area)
        .caption(title, (FONT, TITLE_SIZE))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..360.0, lower_bound(series)..1.0)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("Rotation angle (degrees, counter-clockwise)")
        .y_desc("IoU")
        .x_labels(13)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.2}"))
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, LABEL_SIZE))
        .draw()
        .map_err(fail)?;

    if let Some(bound) = band {
        chart
            .draw_series(std::iter::once(Rectangle::new([(0.0, bound), (360.0, 1.0)], RGBColor(0, 160, 80).mix(0.12).filled())))
            .map_err(fail)?
            .label(format!("pass band (IoU >= {bound})"))
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RGBColor(0, 160, 80).mix(0.3).filled()));
    }
    for (i, (label, values)) in series.iter().enumerate() {
        let color = SERIES_COLORS[i % SERIES_COLORS.len()];
        let points: Vec<(f64, f64)> = angles_deg.iter().copied().zip(values.iter().copied()).collect();
        if let Some(bound) = band {
            let worst = points.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some(point) = worst {
                chart.draw_series(std::iter::once(Cross::new(point, 9, color.stroke_width(3)))).map_err(fail)?;
            }
            if let Some(angle) = smallest_failing_angle(angles_deg, values, bound) {
                let value = points.iter().find(|p| p.0 == angle).map_or(bound, |p| p.1);
                chart
                    .draw_series(std::iter::once(TriangleMarker::new((angle, value), 9, color.filled())))
                    .map_err(fail)?;
            }
        }
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))
            .map_err(fail)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
        chart
            .draw_series(points.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(fail)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, LABEL_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(fail)?;

    footer_area
        .draw(&Text::new(footer.to_string(), (20, 10), (FONT, 14).into_font().color(&RGBColor(80, 80, 80))))
        .map_err(fail)?;
    Ok(())
}
