//! The HTML report of the committed run, opened in a real browser.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::dataset_dir;
use eqcheck::data::{stratified_split, ButterflyFolder, Dataset};
use eqcheck::report::{build_report, ReportInputs};
use eqcheck::training::Profile;

/// Chromium flags for a headless run on a machine without network: no
/// sandbox (tests may run as root), no GPU, no background connections.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

fn chromium(profile_dir: &Path, extra: &[String]) -> std::process::Output {
    Command::new("chromium")
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(extra)
        .output()
        .expect("chromium runs; ./run-tests installs Debian's chromium package")
}

/// Returns the integer value of `name="..."` in the dumped DOM.
fn attribute(dom: &str, name: &str) -> Option<usize> {
    let start = dom.find(&format!("{name}=\""))? + name.len() + 2;
    let end = start + dom[start..].find('"')?;
    dom[start..end].parse().ok()
}

#[test]
fn report_page_loads_every_image_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = root.join("reports/cpu");
    let profile: Profile = {
        let text = std::fs::read_to_string(run.join("unet-minimal/config.json")).unwrap();
        let config: eqcheck::training::RunConfig = serde_json::from_str(&text).unwrap();
        config.profile
    };
    let (folder, _) = ButterflyFolder::open(&dataset_dir(), false).unwrap();
    let (data, _) = Dataset::load(&folder, profile.side, false).unwrap();
    let split = stratified_split(&data.species, profile.validation_fraction, profile.seed);

    let out = tempfile::tempdir().unwrap();
    let inputs = ReportInputs {
        run: &run,
        data: &data,
        validation: &split.validation,
        checks: &[],
        band: 0.9,
        out: out.path(),
    };
    let page = build_report(&inputs, &mut |_| {}).unwrap();
    let summary = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
    assert!(summary.contains("Most consistent under rotation"), "{summary}");

    let browser_profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let dump = chromium(
        browser_profile.path(),
        &["--virtual-time-budget=10000".into(), "--dump-dom".into(), url.clone()],
    );
    let dom = String::from_utf8_lossy(&dump.stdout);
    let total = attribute(&dom, "data-images-total").expect("the page script ran");
    let loaded = attribute(&dom, "data-images-loaded").expect("the page script ran");
    assert!(total >= 12, "only {total} images on the page");
    assert_eq!(loaded, total, "{} of {total} images did not load", total - loaded);

    let screenshot: PathBuf = root.join("target/report-screenshot.png");
    let shot = chromium(
        browser_profile.path(),
        &[
            "--window-size=1280,3000".into(),
            "--virtual-time-budget=10000".into(),
            format!("--screenshot={}", screenshot.display()),
            url,
        ],
    );
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    let size = std::fs::metadata(&screenshot).unwrap().len();
    assert!(size > 50_000, "screenshot of {size} bytes is nearly blank");
}
