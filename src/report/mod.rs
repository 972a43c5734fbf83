//! Reports of a reproduce run: the IoU table in Markdown and JSON, and the
//! chart of IoU against rotation angle.

mod chart;
mod style;
mod table;

pub use chart::{plot_iou_by_angle, ChartFormat};
pub use table::{markdown_table, write_results};
