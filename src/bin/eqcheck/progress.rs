//! Progress bars for training and evaluation.

use eqcheck::training::TrainEvent;
use indicatif::{ProgressBar, ProgressStyle};

/// Returns a callback that shows a bar per epoch and prints each epoch's
/// metrics when it finishes.
pub fn training_bar(label: String) -> impl FnMut(TrainEvent) {
    let mut bar: Option<ProgressBar> = None;
    move |event| match event {
        TrainEvent::Resumed { epoch } => {
            tell!("{label}: resuming after epoch {epoch}");
        }
        TrainEvent::EpochStarted { epoch, epochs, batches } => {
            let new_bar = ProgressBar::new(batches as u64);
            new_bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} batches {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            new_bar.set_prefix(format!("{label} epoch {epoch}/{epochs}"));
            bar = Some(new_bar);
        }
        TrainEvent::BatchDone { loss } => {
            if let Some(bar) = &bar {
                bar.set_message(format!("loss {loss:.4}"));
                bar.inc(1);
            }
        }
        TrainEvent::EpochDone(metrics) => {
            if let Some(bar) = bar.take() {
                bar.finish_and_clear();
            }
            tell!(
                "{label} epoch {}: loss {:.4}, train IoU {:.4}, validation IoU {:.4} ({:.0} s)",
                metrics.epoch, metrics.train_loss, metrics.train_iou, metrics.validation_iou, metrics.seconds
            );
        }
    }
}

/// Returns a bar over the angles of a rotation sweep.
pub fn sweep_bar(label: &str, angles: usize) -> ProgressBar {
    let bar = ProgressBar::new(angles as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} rotation sweep [{bar:30}] {pos}/{len} angles ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}
