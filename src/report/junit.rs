//! Property results as JUnit XML, JSON and a Markdown table, for CI.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::properties::{Counterexample, PropertyOutcome, TopClasses};
use crate::training::write_atomically;

/// Escapes text for XML attributes and content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Renders one `<testsuite>` with a `<testcase>` per property.
pub fn junit_xml(outcomes: &[PropertyOutcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.holds).count();
    let seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuite name=\"eqcheck\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">",
        outcomes.len()
    );
    for outcome in outcomes {
        let _ = write!(
            xml,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            escape(&outcome.model),
            escape(&outcome.name),
            outcome.seconds
        );
        if outcome.holds {
            xml.push_str("/>\n");
        } else {
            let message = outcome
                .shrunk
                .as_ref()
                .map(|s| format!("{} on image {}", s.failure(outcome.metric), s.image_id))
                .unwrap_or_default();
            let _ = writeln!(
                xml,
                ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                escape(&message),
                escape(&outcome.to_string())
            );
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}

/// Renders a Markdown table of property results.
pub fn check_table(outcomes: &[PropertyOutcome]) -> String {
    let mut table = String::from(
        "| model | property | result | cases | shrunk counterexample | worst counterexample | calibration floor |\n\
         |---|---|---|---:|---|---|---:|\n",
    );
    for o in outcomes {
        let shrunk = o.shrunk.as_ref().map_or("-".to_string(), |s| table_cell(o, s));
        let worst = o.worst.as_ref().map_or("-".to_string(), |w| table_cell(o, w));
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {shrunk} | {worst} | {:.4} |",
            o.model,
            o.name,
            if o.holds { "holds" } else { "fails" },
            o.cases + o.replayed,
            o.calibration.min
        );
    }
    table
}

/// Formats a counterexample for the table: image, parameters, metric and,
/// when it changed, the top-1 class.
fn table_cell(outcome: &PropertyOutcome, case: &Counterexample) -> String {
    let mut cell = format!("{} at {}: {:.4}", case.image_id, outcome.describe_values(&case.values), case.metric);
    if let Some(classes) = case.classes.filter(TopClasses::changed) {
        let _ = write!(cell, ", top-1 class {} became {}", classes.reference, classes.transformed);
    }
    cell
}

/// Writes `check.json`, `junit.xml` and `check.md` into `dir`.
pub fn write_check_results(dir: &Path, outcomes: &[PropertyOutcome]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json_path = dir.join("check.json");
    let json = serde_json::to_vec_pretty(outcomes).map_err(|e| Error::Report {
        path: json_path.clone(),
        reason: e.to_string(),
    })?;
    write_atomically(&json_path, &json)?;
    write_atomically(&dir.join("junit.xml"), junit_xml(outcomes).as_bytes())?;
    write_atomically(&dir.join("check.md"), check_table(outcomes).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
