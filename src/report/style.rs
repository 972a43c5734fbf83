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

/// Draws a chart twice, into `path` (PNG) and into the same path with an
/// `.svg` extension, running `body` once per backend with `root` bound to
/// the drawing area. `body` evaluates to `Result<(), String>`; errors name
/// the file.
macro_rules! render_chart {
    ($path:expr, $size:expr, |$root:ident| $body:block) => {{
        use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend, WHITE};
        $crate::report::style::register_fonts();
        let png_path: &std::path::Path = $path;
        let svg_path = png_path.with_extension("svg");
        let png = (|| -> std::result::Result<(), String> {
            let $root = &BitMapBackend::new(png_path, $size).into_drawing_area();
            $root.fill(&WHITE).map_err(|e| e.to_string())?;
            (|| -> std::result::Result<(), String> { $body })()?;
            $root.present().map_err(|e| e.to_string())
        })();
        let svg = png.and_then(|()| {
            let $root = &SVGBackend::new(&svg_path, $size).into_drawing_area();
            $root.fill(&WHITE).map_err(|e| e.to_string())?;
            (|| -> std::result::Result<(), String> { $body })()?;
            $root.present().map_err(|e| e.to_string())
        });
        svg.map_err(|reason| $crate::error::Error::Report {
            path: png_path.to_path_buf(),
            reason: format!("could not draw chart: {reason}"),
        })
    }};
}
pub(crate) use render_chart;

/// Returns a plotters error as text, for `map_err`.
pub fn draw_error<E: std::error::Error + Send + Sync>(error: plotters::drawing::DrawingAreaErrorKind<E>) -> String {
    error.to_string()
}
