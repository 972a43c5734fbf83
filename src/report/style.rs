//! Chart sizes, fonts and colours, kept in one place.

use std::sync::Once;

use plotters::style::{FontStyle, RGBColor};

/// Chart size in pixels (PNG) or user units (SVG).
pub const CHART_SIZE: (u32, u32) = (1000, 600);
/// Font family name under which the embedded font is registered.
pub const FONT: &str = "sans-serif";
pub const TITLE_SIZE: u32 = 26;
pub const LABEL_SIZE: u32 = 18;

/// One colour per series, distinguishable with common colour-vision
/// deficiencies (Okabe and Ito's palette).
pub const SERIES_COLORS: [RGBColor; 4] = [
    RGBColor(0, 114, 178),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(230, 159, 0),
];

/// DejaVu Sans, embedded so charts render the same on machines without
/// system fonts. Its licence is in `fonts/LICENSE-DejaVu.txt`.
static FONT_BYTES: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// Returns the embedded font file, for text drawn outside plotters.
pub fn font_bytes() -> &'static [u8] {
    FONT_BYTES
}

/// Registers the embedded font with plotters once per process.
pub fn register_fonts() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The font is a fixed, valid TrueType file, so registration cannot
        // fail at run time.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// Draws into a PNG file of `size` pixels through `draw`, and names the
/// file in any error.
pub fn render_png(
    path: &std::path::Path,
    size: (u32, u32),
    draw: impl FnOnce(&plotters::drawing::DrawingArea<plotters::prelude::BitMapBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> crate::error::Result<()> {
    use plotters::prelude::*;
    register_fonts();
    let root = BitMapBackend::new(path, size).into_drawing_area();
    let drawn = root
        .fill(&WHITE)
        .map_err(|e| e.to_string())
        .and_then(|()| draw(&root))
        .and_then(|()| root.present().map_err(|e| e.to_string()));
    drawn.map_err(|reason| crate::error::Error::Report {
        path: path.to_path_buf(),
        reason: format!("could not draw chart: {reason}"),
    })
}

/// Returns a plotters error as text, for `map_err`.
pub fn draw_error<E: std::error::Error + Send + Sync>(error: plotters::drawing::DrawingAreaErrorKind<E>) -> String {
    error.to_string()
}
