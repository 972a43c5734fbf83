//! Interrupted training: a run killed with SIGKILL and resumed with
//! `--resume` ends with the same weights and metrics as a run that was
//! never stopped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tch::Tensor;

const EPOCHS: &str = "6";

/// Copies every 16th sample of the real dataset (52 images over all ten
/// species) into a folder under `root`.
fn small_dataset(root: &Path) -> PathBuf {
    common::copy_every(root, 16)
}

/// Builds the `eqcheck train` command of a small, fast run into `out`.
fn train_command(data: &Path, out: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eqcheck"));
    command
        .args(["train", "--arch", "unet", "--augment", "full"])
        .args(["--epochs", EPOCHS, "--side", "32", "--canvas", "48", "--width", "4", "--threads", "2"])
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn succeed(output: Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "eqcheck train failed: {stderr}");
    stderr
}

/// Number of lines in the run's metrics file, 0 while it does not exist.
fn finished_epochs(out: &Path) -> usize {
    std::fs::read_to_string(out.join("metrics.jsonl")).map_or(0, |text| text.lines().count())
}

/// Starts a run, kills it with SIGKILL once `epochs` epochs have written
/// their metrics and a resume point exists, and returns how many had when
/// it died. The resume point of the latest epoch may or may not be
/// written by then, since the metrics come first.
fn kill_after(data: &Path, out: &Path, resume: bool, epochs: usize) -> usize {
    let mut command = train_command(data, out);
    if resume {
        command.arg("--resume");
    }
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while finished_epochs(out) < epochs || !out.join("training-state.safetensors").exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        assert!(Instant::now() < deadline, "no epoch finished within 5 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    finished_epochs(out)
}

/// Returns the metrics lines without their wall-clock times.
fn metrics_without_times(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            value.as_object_mut().unwrap().remove("seconds");
            value
        })
        .collect()
}

/// Returns the epoch that a resumed run reported going on from.
fn resumed_after(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .find(|line| line.contains("resuming after epoch"))
        .unwrap_or_else(|| panic!("no resume message in: {stderr}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

fn weights(out: &Path) -> Vec<(String, Tensor)> {
    let mut named = Tensor::read_safetensors(out.join("model.safetensors")).unwrap();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    named
}

#[test]
fn killed_training_resumes_to_the_uninterrupted_result() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let whole = root.path().join("whole");
    let broken = root.path().join("broken");

    succeed(train_command(&data, &whole).output().unwrap());

    // Killed twice: once during the second epoch, and again after a
    // resumed run has gone on past the fourth.
    let seen = kill_after(&data, &broken, false, 1);
    let stderr = succeed(train_command(&data, &broken).arg("--resume").output().unwrap());
    let from = resumed_after(&stderr);
    assert!(from + 1 >= seen, "saw {seen} finished epochs but resumed after epoch {from}");

    // Start again from scratch to kill a resumed run too.
    std::fs::remove_dir_all(&broken).unwrap();
    kill_after(&data, &broken, false, 2);
    let seen = kill_after(&data, &broken, true, 4);
    let stderr = succeed(train_command(&data, &broken).arg("--resume").output().unwrap());
    let from = resumed_after(&stderr);
    assert!(from + 1 >= seen, "saw {seen} finished epochs but resumed after epoch {from}");

    assert_eq!(metrics_without_times(&whole).len(), EPOCHS.parse::<usize>().unwrap());
    assert_eq!(metrics_without_times(&broken), metrics_without_times(&whole));
    let (resumed, uninterrupted) = (weights(&broken), weights(&whole));
    assert_eq!(resumed.len(), uninterrupted.len());
    for ((name, a), (_, b)) in resumed.iter().zip(&uninterrupted) {
        assert!(a.equal(b), "weights {name} differ after the resumed run");
    }
}

#[test]
fn resume_refuses_a_folder_of_other_settings() {
    let root = tempfile::tempdir().unwrap();
    let data = small_dataset(root.path());
    let out = root.path().join("run");
    kill_after(&data, &out, false, 1);
    let output = train_command(&data, &out)
        .args(["--seed", "7", "--resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&out.join("config.json").display().to_string()), "{stderr}");
    assert!(stderr.contains("other settings"), "{stderr}");
    assert!(stderr.contains("seed: 42 -> 7"), "the differing setting should be named: {stderr}");

    // Without its config the resume point's settings are unknown.
    std::fs::remove_file(out.join("config.json")).unwrap();
    let output = train_command(&data, &out).arg("--resume").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("config.json: missing"), "{stderr}");
    assert!(out.join("training-state.safetensors").exists(), "the resume point must survive");
}
