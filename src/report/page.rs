//! Builds the full report of a reproduce run: charts, pictures, tables,
//! the HTML page and the Markdown summary.

use std::path::{Path, PathBuf};

use image::RgbImage;
use tch::Kind;

use super::chart::{plot_iou_by_angle_with_band, smallest_failing_angle, ChartFormat};
use super::curves::plot_training_curves;
use super::distribution::plot_distribution;
use super::heatmap::plot_heatmaps;
use super::html::{markdown_summary, write_page, Figure, Section};
use super::pictures::{overlay, save_gif, save_png};
use super::polar::plot_polar;
use super::sensitivity::{default_levels, measure_sensitivity, plot_sensitivity};
use crate::data::{Canvas, Dataset};
use crate::error::{Error, Result};
use crate::eval::{predict_probabilities, rotate_back_and_binarize, rotate_input, RotationSweep};
use crate::experiment::{read_metrics, ExperimentResults};
use crate::properties::{PropertyOutcome, Subject};
use crate::training::{iou_per_image, load_model, LoadedModel};
use crate::transforms::{rotate, Interpolation};

/// Validation images the sensitivity curves average over.
const SENSITIVITY_IMAGES: usize = 16;
/// Milliseconds per frame of the rotation GIF.
const FRAME_MS: u32 = 250;

/// Inputs of a report.
pub struct ReportInputs<'a> {
    /// Run folder written by `eqcheck reproduce`.
    pub run: &'a Path,
    pub data: &'a Dataset,
    /// Dataset indices of the validation split.
    pub validation: &'a [usize],
    /// Property results to tabulate, possibly none.
    pub checks: &'a [PropertyOutcome],
    /// Lowest IoU that counts as consistent, drawn as the pass band.
    pub band: f64,
    /// Folder the report is written to.
    pub out: &'a Path,
}

struct Variant {
    label: String,
    sweep: RotationSweep,
    model: LoadedModel,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Report {
        path: path.to_path_buf(),
        reason: format!("invalid JSON: {e}"),
    })
}

/// Builds the report and returns the path of its HTML page. `progress`
/// receives a line per step.
pub fn build_report(inputs: &ReportInputs, progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let out = inputs.out;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let results: ExperimentResults = read_json(&inputs.run.join("results.json"))?;
    let mut variants = Vec::new();
    for v in &results.variants {
        let dir = inputs.run.join(format!("{}-{}", v.arch, v.augmentation));
        variants.push(Variant {
            label: format!("{} / {}", v.arch, v.augmentation),
            sweep: read_json(&dir.join("sweep.json"))?,
            model: load_model(&dir)?,
        });
    }
    let angles = &results.angles_deg;
    let footer = format!("{} | {} ({} cores)", results.command, results.machine.cpu, results.machine.cores);

    progress("charts of IoU against angle");
    let consistency: Vec<(String, Vec<f64>)> = results
        .variants
        .iter()
        .zip(&variants)
        .map(|(r, v)| (v.label.clone(), r.consistency_by_angle.clone()))
        .collect();
    let truth: Vec<(String, Vec<f64>)> = results
        .variants
        .iter()
        .zip(&variants)
        .map(|(r, v)| (v.label.clone(), r.truth_by_angle.clone()))
        .collect();
    for (format, extension) in [(ChartFormat::Png, "png"), (ChartFormat::Svg, "svg")] {
        plot_iou_by_angle_with_band(
            &out.join(format!("consistency-by-angle.{extension}")),
            format,
            "Rotation consistency by angle (IoU against the unrotated prediction)",
            &footer,
            angles,
            &consistency,
            Some(inputs.band),
        )?;
        plot_iou_by_angle_with_band(
            &out.join(format!("truth-by-angle.{extension}")),
            format,
            "IoU against the ground truth by angle",
            &footer,
            angles,
            &truth,
            None,
        )?;
    }
    plot_polar(&out.join("consistency-polar.png"), "Rotation consistency, polar (rim: IoU 1, centre: 0.5)", angles, &consistency)?;

    progress("distribution, heat maps and training curves");
    let per_image: Vec<(String, Vec<f64>)> = variants
        .iter()
        .map(|v| (v.label.clone(), v.sweep.mean_consistency_by_image()))
        .collect();
    plot_distribution(&out.join("consistency-distribution.png"), "Per-image rotation consistency over the validation split", &per_image)?;
    let panels: Vec<(String, RotationSweep)> = variants.iter().map(|v| (v.label.clone(), v.sweep.clone())).collect();
    plot_heatmaps(&out.join("consistency-heatmap.png"), &panels)?;
    let mut runs = Vec::new();
    for r in &results.variants {
        let dir = inputs.run.join(format!("{}-{}", r.arch, r.augmentation));
        runs.push((format!("{} / {}", r.arch, r.augmentation), read_metrics(&dir)?));
    }
    plot_training_curves(&out.join("training-curves.png"), &runs)?;

    progress("sensitivity to brightness, contrast and noise");
    let pool: Vec<usize> = inputs.validation.iter().take(SENSITIVITY_IMAGES).copied().collect();
    let mut sensitivity = Vec::new();
    for v in &variants {
        let subject = Subject {
            model: &v.model.model,
            canvas: v.model.config.canvas()?,
        };
        let curves = default_levels()
            .into_iter()
            .map(|(family, levels)| measure_sensitivity(&subject, inputs.data, &pool, family, &levels))
            .collect::<Result<Vec<_>>>()?;
        sensitivity.push((v.label.clone(), curves));
    }
    plot_sensitivity(&out.join("sensitivity.png"), &sensitivity)?;

    progress("pictures of the worst images and the rotation GIF");
    let mut worst_figures = Vec::new();
    for v in &variants {
        let file = format!("worst-{}.png", v.label.replace(" / ", "-"));
        let caption = worst_picture(v, inputs.data, &out.join(&file))?;
        worst_figures.push(Figure { file, caption });
    }
    let sample_id = results.variants.first().map(|v| v.sample.image_id.clone()).unwrap_or_default();
    let gif_caption = rotation_gif(&variants, inputs.data, &sample_id, angles, &out.join("rotation.gif"))?;

    progress("page and summary");
    let sections = sections(&results, &variants, inputs, worst_figures, gif_caption);
    let title = "eqcheck report: rotation consistency of four U-Net variants";
    let meta = vec![
        format!("Command: {}", results.command),
        format!(
            "Machine: {} ({} cores, {} libtorch threads). Profile {}: {}x{} images on a {}x{} canvas.",
            results.machine.cpu, results.machine.cores, results.machine.torch_threads,
            results.profile.name, results.profile.side, results.profile.side, results.profile.canvas, results.profile.canvas
        ),
        format!(
            "Angles are in degrees and positive angles turn counter-clockwise. {} validation images, {} angles.",
            results.validation_images,
            angles.len()
        ),
    ];
    write_page(out, title, &meta, &sections)?;
    let summary = markdown_summary(title, &meta, &sections);
    crate::training::write_atomically(&out.join("summary.md"), summary.as_bytes())?;
    Ok(out.join("index.html"))
}

/// Renders the image on which a model is least consistent, at its worst
/// angle, and returns the caption.
fn worst_picture(v: &Variant, data: &Dataset, path: &Path) -> Result<String> {
    let means = v.sweep.mean_consistency_by_image();
    let (row, _) = means
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .ok_or_else(|| Error::Report { path: path.to_path_buf(), reason: "empty sweep".into() })?;
    let values = &v.sweep.iou_consistency[row];
    let (column, metric) = values
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(c, m)| (c, *m))
        .unwrap_or((0, 1.0));
    let angle = v.sweep.angles_deg[column];
    let image_id = &v.sweep.image_ids[row];
    let truth = v.sweep.iou_truth[row][column];
    let text = format!("{image_id}, {angle:.0} deg: truth IoU {truth:.2}");
    let picture = frame(v, data, image_id, angle, |_| text)?;
    save_png(path, &picture)?;
    Ok(format!(
        "{}: image {image_id}, the one it is least consistent on, turned {angle:.0} degrees. Green: ground truth; magenta: prediction. \
         IoU against the ground truth {truth:.3}; IoU against its own prediction on the unrotated image {metric:.3}, \
         so a low second value with a high first one means the unrotated prediction was the poor one.",
        v.label
    ))
}

/// Renders one image turned by `angle` with the turned ground truth and
/// the model's prediction outlined. `caption` receives the IoU of that
/// prediction, turned back, against the ground truth, so the picture and
/// its number come from one forward pass.
fn frame(v: &Variant, data: &Dataset, image_id: &str, angle: f64, caption: impl FnOnce(f64) -> String) -> Result<RgbImage> {
    let index = data.ids.iter().position(|id| id == image_id).ok_or_else(|| Error::Report {
        path: PathBuf::from(image_id),
        reason: "image not in the dataset".into(),
    })?;
    let canvas: Canvas = v.model.config.canvas()?;
    let (images, masks) = data.batch(&[index]);
    let turned = rotate_input(&canvas.pad(&images), angle);
    let truth = rotate(&canvas.pad(&masks), angle, Interpolation::Nearest);
    let probabilities = predict_probabilities(v.model.model.as_ref(), &turned)?;
    let predicted = probabilities.gt(0.5).to_kind(Kind::Float);

    let back = canvas.crop(&rotate_back_and_binarize(&probabilities, angle));
    let truth_iou = iou_per_image(&back, &masks).double_value(&[0]);
    overlay(&turned.get(0), &truth.get(0), &predicted.get(0), &caption(truth_iou))
}

/// Writes a GIF of the sample image turning through every angle, one
/// panel per minimal-augmentation model, and returns its caption.
fn rotation_gif(variants: &[Variant], data: &Dataset, image_id: &str, angles: &[f64], path: &Path) -> Result<String> {
    let chosen: Vec<&Variant> = variants.iter().filter(|v| v.label.ends_with("minimal")).collect();
    let mut frames = Vec::new();
    for &angle in angles {
        let mut panels = Vec::new();
        for v in &chosen {
            let name = v.label.replace(" / minimal", "").replace("group-unet", "group");
            panels.push(frame(v, data, image_id, angle, |iou| format!("{name}: {angle:.0} deg, IoU {iou:.2}"))?);
        }
        frames.push(side_by_side(&panels));
    }
    save_gif(path, frames, FRAME_MS)?;
    let names: Vec<&str> = chosen.iter().map(|v| v.label.as_str()).collect();
    Ok(format!(
        "Image {image_id} turning through the sweep, for {}. Each frame gives the angle and the IoU of the turned-back prediction against the ground truth.",
        names.join(" and ")
    ))
}

fn side_by_side(panels: &[RgbImage]) -> RgbImage {
    let width = panels.iter().map(|p| p.width()).sum::<u32>() + 10 * panels.len().saturating_sub(1) as u32;
    let height = panels.iter().map(|p| p.height()).max().unwrap_or(1);
    let mut out = RgbImage::from_pixel(width.max(1), height, image::Rgb([255, 255, 255]));
    let mut x = 0;
    for panel in panels {
        image::imageops::overlay(&mut out, panel, x, 0);
        x += i64::from(panel.width()) + 10;
    }
    out
}

/// Explains how the measured validation IoU ranks against the original
/// experiment's, per augmentation pipeline.
fn comparison_notes(results: &ExperimentResults) -> Vec<String> {
    let mut notes = vec![format!(
        "The original experiment's figures come from training at 256x256 on a 384 canvas on a GPU; this run used {}x{} on a {} canvas, so the values differ.",
        results.profile.side, results.profile.side, results.profile.canvas
    )];
    for augmentation in [crate::transforms::Augmentation::Minimal, crate::transforms::Augmentation::Full] {
        let pick = |arch| results.variants.iter().find(|r| r.arch == arch && r.augmentation == augmentation);
        if let (Some(plain), Some(group)) = (pick(crate::models::Arch::Unet), pick(crate::models::Arch::GroupUnet)) {
            let measured = if group.validation_iou < plain.validation_iou { "lower" } else { "higher" };
            let original = if group.paper.validation_iou < plain.paper.validation_iou { "lower" } else { "higher" };
            let agreement = if measured == original { "as in" } else { "unlike" };
            notes.push(format!(
                "With {augmentation} augmentation the Group U-Net's validation IoU is {measured} than the plain U-Net's ({:.4} against {:.4}), {agreement} the original ({:.4} against {:.4}).",
                group.validation_iou, plain.validation_iou, group.paper.validation_iou, plain.paper.validation_iou
            ));
        }
    }
    notes
}

fn sections(
    results: &ExperimentResults,
    variants: &[Variant],
    inputs: &ReportInputs,
    worst_figures: Vec<Figure>,
    gif_caption: String,
) -> Vec<Section> {
    let band = inputs.band;
    let best = results
        .variants
        .iter()
        .max_by(|a, b| a.consistency.mean.total_cmp(&b.consistency.mean));
    let mut verdict = Vec::new();
    if let Some(best) = best {
        verdict.push(format!(
            "Most consistent under rotation: {} with {} augmentation, mean IoU {:.3} against its own unrotated prediction (minimum {:.3} at {:.0} degrees).",
            best.arch, best.augmentation, best.consistency.mean, best.consistency.min, best.consistency.worst_angle_deg
        ));
    }
    let passing: Vec<usize> = results
        .variants
        .iter()
        .map(|r| r.consistency_by_angle.iter().filter(|&&c| c >= band).count())
        .collect();
    let angle_count = results.angles_deg.len();
    if passing.iter().all(|&p| p < angle_count) {
        verdict.push(format!(
            "No model stays in the pass band (consistency IoU >= {band}) at every angle: the counts of passing angles out of {angle_count} are {}.",
            results
                .variants
                .iter()
                .zip(&passing)
                .map(|(r, p)| format!("{} / {} {p}", r.arch, r.augmentation))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (r, v) in results.variants.iter().zip(variants) {
        let failing = smallest_failing_angle(&results.angles_deg, &r.consistency_by_angle, band)
            .map_or("never drops below it".to_string(), |a| {
                let signed = if a > 180.0 { a - 360.0 } else { a };
                format!("first drops below it at {signed:.0} degrees")
            });
        verdict.push(format!(
            "{}: consistency mean {:.3}, worst {:.3} at {:.0} degrees; against the pass band of IoU {band} it {failing}.",
            v.label, r.consistency.mean, r.consistency.min, r.consistency.worst_angle_deg
        ));
    }

    let header = [
        "model", "augmentation", "epochs", "train IoU", "validation IoU", "original train / validation IoU",
        "consistency mean", "consistency min", "worst angle (deg)", "truth IoU mean",
    ]
    .map(String::from)
    .to_vec();
    let rows = results
        .variants
        .iter()
        .map(|r| {
            vec![
                r.arch.to_string(),
                r.augmentation.to_string(),
                r.epochs.to_string(),
                format!("{:.4}", r.train_iou),
                format!("{:.4}", r.validation_iou),
                format!("{:.4} / {:.4}", r.paper.train_iou, r.paper.validation_iou),
                format!("{:.4}", r.consistency.mean),
                format!("{:.4}", r.consistency.min),
                format!("{:.0}", r.consistency.worst_angle_deg),
                format!("{:.4}", r.truth.mean),
            ]
        })
        .collect();

    let figure = |file: &str, caption: &str| Figure { file: file.into(), caption: caption.into() };
    let mut sections = vec![
        Section { title: "Verdict".into(), paragraphs: verdict, table: None, figures: vec![] },
        Section {
            title: "Measured against the original experiment".into(),
            paragraphs: comparison_notes(results),
            table: Some((header, rows)),
            figures: vec![],
        },
        Section {
            title: "Rotation".into(),
            paragraphs: vec![format!(
                "The shaded band is IoU >= {band}. A cross marks each model's worst angle, a triangle its smallest failing angle (nearest 0 degrees either way)."
            )],
            table: None,
            figures: vec![
                figure("consistency-by-angle.png", "Rotation consistency against angle, validation mean."),
                figure("truth-by-angle.png", "IoU against the ground truth against angle, validation mean."),
                figure("consistency-polar.png", "The same consistency as a polar plot."),
                figure("consistency-distribution.png", "Per-image consistency (mean over angles): minimum, quartiles, median, maximum."),
                figure("consistency-heatmap.png", "Per-image consistency at every angle; each row is a validation image, sorted by its mean."),
            ],
        },
        Section {
            title: "Brightness, contrast and noise".into(),
            paragraphs: vec![format!("Mean IoU against each model's unperturbed prediction over the first {SENSITIVITY_IMAGES} validation images.")],
            table: None,
            figures: vec![figure("sensitivity.png", "Mask IoU against brightness factor, contrast factor and Gaussian noise level.")],
        },
        Section { title: "Worst images".into(), paragraphs: vec![], table: None, figures: worst_figures },
        Section {
            title: "Rotation sweep of one image".into(),
            paragraphs: vec![],
            table: None,
            figures: vec![Figure { file: "rotation.gif".into(), caption: gif_caption }],
        },
        Section {
            title: "Training".into(),
            paragraphs: vec![],
            table: None,
            figures: vec![figure("training-curves.png", "Train IoU (dashed, on augmented batches) and validation IoU (solid) per epoch.")],
        },
    ];
    if !inputs.checks.is_empty() {
        let header = ["model", "property", "result", "bound", "cases run", "shrunk counterexample", "lowest found", "calibration floor"]
            .map(String::from)
            .to_vec();
        let rows = inputs
            .checks
            .iter()
            .map(|o| {
                // Rounded down, so a value just under its bound never prints
                // as equal to it.
                let floor4 = |m: f64| (m * 1e4).floor() / 1e4;
                let describe = |c: &Option<crate::properties::Counterexample>| {
                    c.as_ref().map_or("-".to_string(), |c| format!("{} at {}: {:.4}", c.image_id, o.describe_values(&c.values), floor4(c.metric)))
                };
                let bound = o.shrunk.as_ref().map_or(String::from("-"), |s| format!("{:.3}", s.bound));
                vec![
                    o.model.clone(),
                    o.name.clone(),
                    if o.holds { "holds".into() } else { "fails".into() },
                    bound,
                    (o.cases + o.replayed + o.shrink_steps).to_string(),
                    describe(&o.shrunk),
                    describe(&o.worst),
                    format!("{:.4}", o.calibration.min),
                ]
            })
            .collect();
        sections.insert(
            2,
            Section {
                title: "Properties".into(),
                paragraphs: vec!["Each property fails when one case's IoU falls below its bound (shown for failing properties; exact group elements such as quarter turns have their own, stricter bound). Cases run counts generated, replayed and shrinking cases. Shrunk: the failing parameter nearest the identity. Lowest found: the lowest IoU that the worst-case search found on the same image, also for properties that hold. Calibration floor: the lowest IoU that a model returning the ground truth keeps under the same transformations.".into()],
                table: Some((header, rows)),
                figures: vec![],
            },
        );
    }
    sections
}
