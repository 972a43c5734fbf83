//! Stored failures: every failing case is written by value (image id,
//! noise seed, parameters, metric) to `<spec>.regressions.toml` beside its
//! spec, and replayed before any new case on the next run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::training::write_atomically;

/// One stored failing case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredCase {
    pub image_id: String,
    pub noise_seed: u64,
    /// One parameter per transform axis of the spec, in the family's unit.
    pub values: Vec<f64>,
    /// Metric value when the case was stored.
    pub metric: f64,
    /// Model that failed it.
    pub model: String,
}

/// The contents of a regressions file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regressions {
    #[serde(default, rename = "case")]
    pub cases: Vec<StoredCase>,
}

/// Returns the regressions file that belongs to a spec file.
pub fn regressions_path(spec: &Path) -> PathBuf {
    let stem = spec.file_stem().and_then(|s| s.to_str()).unwrap_or("property");
    spec.with_file_name(format!("{stem}.regressions.toml"))
}

impl Regressions {
    /// Reads the regressions of a spec. A missing file means none are stored.
    pub fn load(spec: &Path) -> Result<Self> {
        let path = regressions_path(spec);
        if !path.exists() {
            return Ok(Regressions::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        toml::from_str(&text).map_err(|e| Error::Spec {
            path,
            reason: format!("invalid regressions file (delete it to start afresh): {}", e.to_string().trim_end()),
        })
    }

    /// Adds a case unless the same image and parameters are stored already,
    /// and writes the file. Returns whether the case was new.
    pub fn record(&mut self, spec: &Path, case: StoredCase) -> Result<bool> {
        let known = self
            .cases
            .iter()
            .any(|c| c.image_id == case.image_id && c.values == case.values && c.noise_seed == case.noise_seed);
        if known {
            return Ok(false);
        }
        self.cases.push(case);
        let path = regressions_path(spec);
        let body = toml::to_string(self).map_err(|e| Error::Spec {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let text = format!(
            "# Failing cases, stored by value and replayed first by `eqcheck check`.\n\n{body}"
        );
        write_atomically(&path, text.as_bytes())?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regressions_round_trip_without_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("rotation.toml");
        let case = StoredCase {
            image_id: "0010001".into(),
            noise_seed: 4,
            values: vec![-12.5],
            metric: 0.71,
            model: "unet-minimal".into(),
        };
        let mut regressions = Regressions::load(&spec).unwrap();
        assert!(regressions.record(&spec, case.clone()).unwrap());
        assert!(!regressions.record(&spec, case.clone()).unwrap());
        assert!(regressions_path(&spec).ends_with("rotation.regressions.toml"));
        assert_eq!(Regressions::load(&spec).unwrap().cases, vec![case]);
    }
}
