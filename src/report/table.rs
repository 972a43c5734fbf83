//! The results table in Markdown, and the whole report folder of a run.

use std::fmt::Write as _;
use std::path::Path;

use super::chart::{plot_iou_by_angle, ChartFormat};
use crate::error::{Error, Result};
use crate::experiment::ExperimentResults;
use crate::training::write_atomically;

/// Renders the IoU table: measured train and validation IoU beside the
/// original experiment's, then rotation consistency (label-free IoU
/// against the unrotated prediction) and IoU against the ground truth over
/// all angles of the sweep.
pub fn markdown_table(results: &ExperimentResults) -> String {
    let mut out = String::new();
    out.push_str(
        "| architecture | augmentation | epochs | parameters | train IoU | validation IoU \
         | original train / validation IoU | consistency mean | consistency min \
         | consistency std | worst angle (deg) | truth IoU mean | truth IoU min \
         | truth worst angle (deg) |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for v in &results.variants {
        let _ = writeln!(
            out,
            "| {arch} | {aug} | {epochs} | {params} | {train:.4} | {val:.4} | {ptrain:.4} / {pval:.4} \
             | {cmean:.4} | {cmin:.4} | {cstd:.4} | {cworst:.0} | {tmean:.4} | {tmin:.4} | {tworst:.0} |",
            arch = v.arch,
            aug = v.augmentation,
            epochs = v.epochs,
            params = v.parameters,
            train = v.train_iou,
            val = v.validation_iou,
            ptrain = v.paper.train_iou,
            pval = v.paper.validation_iou,
            cmean = v.consistency.mean,
            cmin = v.consistency.min,
            cstd = v.consistency.std,
            cworst = v.consistency.worst_angle_deg,
            tmean = v.truth.mean,
            tmin = v.truth.min,
            tworst = v.truth.worst_angle_deg,
        );
    }
    out
}

/// Renders the table for the sample image.
fn sample_table(results: &ExperimentResults) -> String {
    let mut out = String::from(
        "| architecture | augmentation | image | consistency mean | consistency min \
         | worst angle (deg) | truth IoU mean | truth IoU min |\n|---|---|---|---:|---:|---:|---:|---:|\n",
    );
    for v in &results.variants {
        let s = &v.sample;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.4} | {:.4} | {:.0} | {:.4} | {:.4} |",
            v.arch, v.augmentation, s.image_id, s.consistency.mean, s.consistency.min,
            s.consistency.worst_angle_deg, s.truth.mean, s.truth.min,
        );
    }
    out
}

/// Returns the line that names the command and machine under each chart.
fn footer(results: &ExperimentResults) -> String {
    let m = &results.machine;
    format!(
        "{} | {} ({} cores, {} libtorch threads)",
        results.command, m.cpu, m.cores, m.torch_threads
    )
}

/// Writes `results.json`, `results.md` and the IoU-against-angle charts
/// (PNG and SVG) into `dir`.
pub fn write_results(dir: &Path, results: &ExperimentResults) -> Result<()> {
    let json_path = dir.join("results.json");
    let json = serde_json::to_vec_pretty(results).map_err(|e| Error::Report {
        path: json_path.clone(),
        reason: e.to_string(),
    })?;
    write_atomically(&json_path, &json)?;

    let footer = footer(results);
    let series = |pick: fn(&crate::experiment::VariantResult) -> &Vec<f64>| {
        results
            .variants
            .iter()
            .map(|v| (format!("{} / {}", v.arch, v.augmentation), pick(v).clone()))
            .collect::<Vec<_>>()
    };
    let charts = [
        ("iou_by_angle", "IoU against ground truth by rotation angle (validation mean)", series(|v| &v.truth_by_angle)),
        (
            "consistency_by_angle",
            "Rotation consistency: IoU against the unrotated prediction (validation mean)",
            series(|v| &v.consistency_by_angle),
        ),
    ];
    for (name, title, data) in &charts {
        for (format, extension) in [(ChartFormat::Png, "png"), (ChartFormat::Svg, "svg")] {
            let path = dir.join(format!("{name}.{extension}"));
            plot_iou_by_angle(&path, format, title, &footer, &results.angles_deg, data)?;
        }
    }

    let p = &results.profile;
    let m = &results.machine;
    let mut md = String::new();
    let _ = writeln!(md, "# Rotation consistency of four U-Net variants\n");
    let _ = writeln!(md, "Command: `{}`\n", results.command);
    let _ = writeln!(
        md,
        "Machine: {} ({} cores, {} libtorch threads, {}).\n",
        m.cpu, m.cores, m.torch_threads, m.os
    );
    let _ = writeln!(
        md,
        "Profile `{}`: images resized to {}x{} and padded to a {}x{} canvas, base width {}, \
         batch {}, AdamW at peak learning rate {}, seed {}. Rotation sweep over {} angles, \
         {}-degree step, positive angles counter-clockwise, on {} validation images.\n",
        p.name, p.side, p.side, p.canvas, p.canvas, p.base_width, p.batch_size, p.learning_rate,
        p.seed, results.angles_deg.len(), p.angle_step_deg, results.validation_images,
    );
    md.push_str(&markdown_table(results));
    md.push_str(
        "\nTrain IoU is the mean over the last epoch's augmented training batches; validation \
         IoU is measured unaugmented after the last epoch. The original experiment's figures \
         come from training at 256x256 on a 384 canvas on a GPU. Consistency is the IoU of the \
         prediction on the rotated input, turned back, against the prediction on the unrotated \
         input; it needs no labels. Truth IoU compares the same turned-back prediction with the \
         ground truth. Both are averaged over the validation split at each angle and then \
         summarised over angles.\n\n",
    );
    let _ = writeln!(md, "## One sample image\n");
    md.push_str(&sample_table(results));
    let _ = writeln!(
        md,
        "\n## Charts\n\n![IoU against ground truth by angle](iou_by_angle.png)\n\n\
         ![Rotation consistency by angle](consistency_by_angle.png)"
    );
    write_atomically(&dir.join("results.md"), md.as_bytes())
}
