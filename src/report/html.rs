//! The self-contained HTML page and the Markdown summary of a report.
//! Every picture is embedded as a data URI, so the page opens from disk
//! with no server and no network.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;

use crate::error::{Error, Result};

/// One figure of the page: a file in the report folder and its caption.
pub struct Figure {
    pub file: String,
    pub caption: String,
}

/// A titled section of the page with prose, an optional table and figures.
pub struct Section {
    pub title: String,
    /// Paragraphs, each plain text.
    pub paragraphs: Vec<String>,
    /// Header row and body rows, plain text cells.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
    pub figures: Vec<Figure>,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Returns the MIME type of a figure file from its extension.
fn mime_of(file: &str) -> &'static str {
    if file.ends_with(".gif") {
        "image/gif"
    } else if file.ends_with(".svg") {
        "image/svg+xml"
    } else {
        "image/png"
    }
}

/// Page style and the script that records, on the body element, how many
/// images loaded and how many did not, for tests that open the page in a
/// browser.
const HEAD: &str = r#"<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: right; }
th { background: #eee; }
td:first-child, th:first-child { text-align: left; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
.gallery { display: flex; flex-wrap: wrap; gap: 1em; }
.gallery figure { margin: 0; max-width: 300px; }
.meta { color: #555; font-size: 0.9em; }
</style>
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; });
  document.body.setAttribute("data-images-total", String(images.length));
  document.body.setAttribute("data-images-loaded", String(loaded.length));
});
</script>"#;

/// Writes the page to `dir/index.html`, embedding the figures from `dir`.
pub fn write_page(dir: &Path, title: &str, meta: &[String], sections: &[Section]) -> Result<()> {
    let mut html = String::from("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n");
    let _ = writeln!(html, "<title>{}</title>\n{HEAD}\n</head>\n<body>", escape(title));
    let _ = writeln!(html, "<h1>{}</h1>", escape(title));
    for line in meta {
        let _ = writeln!(html, "<p class=\"meta\">{}</p>", escape(line));
    }
    for section in sections {
        let _ = writeln!(html, "<h2>{}</h2>", escape(&section.title));
        for paragraph in &section.paragraphs {
            let _ = writeln!(html, "<p>{}</p>", escape(paragraph));
        }
        if let Some((header, rows)) = &section.table {
            html.push_str("<table>\n<tr>");
            for cell in header {
                let _ = write!(html, "<th>{}</th>", escape(cell));
            }
            html.push_str("</tr>\n");
            for row in rows {
                html.push_str("<tr>");
                for cell in row {
                    let _ = write!(html, "<td>{}</td>", escape(cell));
                }
                html.push_str("</tr>\n");
            }
            html.push_str("</table>\n");
        }
        let gallery = section.figures.len() > 1 && section.figures.iter().all(|f| f.file.starts_with("worst-") || f.file.ends_with(".gif"));
        if gallery {
            html.push_str("<div class=\"gallery\">\n");
        }
        for figure in &section.figures {
            let path = dir.join(&figure.file);
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = writeln!(
                html,
                "<figure><img alt=\"{alt}\" src=\"data:{mime};base64,{data}\"><figcaption>{alt}</figcaption></figure>",
                alt = escape(&figure.caption),
                mime = mime_of(&figure.file),
            );
        }
        if gallery {
            html.push_str("</div>\n");
        }
    }
    html.push_str("</body>\n</html>\n");
    crate::training::write_atomically(&dir.join("index.html"), html.as_bytes())
}

/// Renders sections as Markdown that links the figures beside it.
pub fn markdown_summary(title: &str, meta: &[String], sections: &[Section]) -> String {
    let mut md = format!("# {title}\n\n");
    for line in meta {
        let _ = writeln!(md, "{line}\n");
    }
    md.push_str(
        "Figures are the files beside this summary in the report folder; index.html there embeds them all.\n\n",
    );
    for section in sections {
        let _ = writeln!(md, "## {}\n", section.title);
        for paragraph in &section.paragraphs {
            let _ = writeln!(md, "{paragraph}\n");
        }
        if let Some((header, rows)) = &section.table {
            // Long tables fold away in a CI comment.
            let fold = rows.len() > 8;
            if fold {
                let _ = writeln!(md, "<details><summary>{} ({} rows)</summary>\n", section.title, rows.len());
            }
            let _ = writeln!(md, "| {} |", header.join(" | "));
            let _ = writeln!(md, "|{}|", vec!["---"; header.len()].join("|"));
            for row in rows {
                let _ = writeln!(md, "| {} |", row.join(" | "));
            }
            md.push('\n');
            if fold {
                md.push_str("</details>\n\n");
            }
        }
        for figure in &section.figures {
            let _ = writeln!(md, "![{}]({})\n", figure.caption, figure.file);
        }
    }
    md
}
