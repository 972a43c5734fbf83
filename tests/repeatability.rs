//! The same seed and thread count give the same property results and the
//! same report, byte for byte, apart from wall-clock times.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Two properties on small budgets: a rotation equivariance that the tiny
/// models fail (so shrinking and the worst-case search run) and a
/// brightness invariance.
const SPECS: [(&str, &str); 2] = [
    (
        "rotation.toml",
        "name = \"rotation\"\nrelation = \"equivariance\"\nreference = \"prediction\"\nbound = 0.9\n\
         cases = 6\nimages = 4\nseed = 3\n\n[[transform]]\nfamily = \"rotation\"\nrange = [0.0, 360.0]\n",
    ),
    (
        "brightness.toml",
        "name = \"brightness\"\nrelation = \"invariance\"\nreference = \"prediction\"\nbound = 0.5\n\
         cases = 6\nimages = 4\nseed = 5\n\n[[transform]]\nfamily = \"brightness\"\nrange = [0.7, 1.3]\n",
    ),
];

fn eqcheck(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_eqcheck"))
        .args(args)
        .args(["--threads", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.code().is_some_and(|c| c <= 1), "eqcheck {args:?} failed: {stderr}");
    stderr
}

/// Writes the specs into a fresh folder, so that no stored failure from an
/// earlier run is replayed.
fn fresh_specs(dir: &Path) -> PathBuf {
    if dir.exists() {
        std::fs::remove_dir_all(dir).unwrap();
    }
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in SPECS {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.to_path_buf()
}

/// Returns every file under `dir` by relative path, with wall-clock times
/// blanked out.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let bytes = match std::str::from_utf8(&bytes) {
                Ok(text) => without_times(text).into_bytes(),
                Err(_) => bytes,
            };
            files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
        }
    }
    files
}

/// Blanks the values of timing fields: `"seconds": 1.2`,
/// `"forward_seconds": 1.0` and `time="1.2"`.
fn without_times(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("\"seconds\"") || trimmed.starts_with("\"forward_seconds\"") {
                return "<time>".to_string();
            }
            match line.find(" time=\"") {
                Some(start) => {
                    let rest = &line[start + 7..];
                    let end = rest.find('"').map_or(rest.len(), |e| e + 1);
                    format!("{}<time>{}", &line[..start], &rest[end..])
                }
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_same(first: &Path, second: &Path) {
    let (a, b) = (contents(first), contents(second));
    assert!(!a.is_empty(), "{} is empty", first.display());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{} differs between the two runs", name.display());
    }
}

#[test]
fn a_check_and_a_report_run_twice_agree() {
    let root = tempfile::tempdir().unwrap();
    let data = common::copy_every(root.path(), 24);
    let run = root.path().join("run");
    let path = |p: &Path| p.as_os_str().to_owned();
    let tiny = ["--epochs", "2", "--side", "32", "--canvas", "48", "--width", "4"];

    let mut reproduce: Vec<std::ffi::OsString> = vec!["reproduce".into(), "--data".into(), path(&data), "--out".into(), path(&run)];
    reproduce.extend(tiny.iter().map(Into::into));
    let args: Vec<&std::ffi::OsStr> = reproduce.iter().map(|a| a.as_os_str()).collect();
    eqcheck(&args);

    let model = run.join("unet-minimal");
    let specs = root.path().join("specs");
    let mut outputs = Vec::new();
    for attempt in ["first", "second"] {
        let check_out = root.path().join(format!("check-{attempt}"));
        let specs = fresh_specs(&specs);
        eqcheck(&[
            "check".as_ref(),
            "--data".as_ref(),
            data.as_os_str(),
            "--model".as_ref(),
            model.as_os_str(),
            "--out".as_ref(),
            check_out.as_os_str(),
            specs.as_os_str(),
        ]);
        let report_out = root.path().join(format!("report-{attempt}"));
        let specs = fresh_specs(&root.path().join("specs"));
        eqcheck(&[
            "report".as_ref(),
            run.as_os_str(),
            "--data".as_ref(),
            data.as_os_str(),
            "--out".as_ref(),
            report_out.as_os_str(),
            "--properties".as_ref(),
            specs.as_os_str(),
        ]);
        outputs.push((check_out, report_out));
    }
    let check = std::fs::read_to_string(outputs[0].0.join("check.json")).unwrap();
    assert!(check.contains("\"holds\": false"), "the rotation property should fail and be shrunk: {check}");
    assert_same(&outputs[0].0, &outputs[1].0);
    assert_same(&outputs[0].1, &outputs[1].1);
}

#[test]
fn blanking_times_keeps_everything_else() {
    let text = "  \"seconds\": 4.5,\n  \"holds\": true\n<testcase name=\"a\" time=\"4.500\">";
    assert_eq!(without_times(text), "<time>\n  \"holds\": true\n<testcase name=\"a\"<time>>");
}
