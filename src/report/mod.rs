//! Reports: the IoU table of a reproduce run in Markdown and JSON, charts,
//! pictures, the self-contained HTML page and property results as JUnit
//! XML. One chart per file.

mod chart;
mod curves;
mod distribution;
mod heatmap;
mod html;
mod junit;
mod page;
mod pictures;
mod polar;
mod sensitivity;
mod style;
mod table;

pub use chart::{plot_iou_by_angle, plot_iou_by_angle_with_band, smallest_failing_angle, ChartFormat};
pub use html::{escape, markdown_summary, write_page, Figure, Section};
pub use page::{build_report, ReportInputs};
pub use sensitivity::{measure_sensitivity, SensitivityCurve};
pub use junit::{check_table, junit_xml, write_check_results};
pub use table::{markdown_table, write_results};
