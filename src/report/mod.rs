//! Reports: the IoU table of a reproduce run in Markdown and JSON, its
//! charts of IoU against rotation angle, and property results as JUnit XML.

mod chart;
mod junit;
mod style;
mod table;

pub use chart::{plot_iou_by_angle, ChartFormat};
pub use junit::{check_table, junit_xml, write_check_results};
pub use table::{markdown_table, write_results};
