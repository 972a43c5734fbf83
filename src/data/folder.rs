//! Lists the samples of a dataset folder in the Leeds Butterfly layout:
//! `images/<id>.png`, `segmentations/<id>_seg0.png` and `descriptions/`.
//! An id's first three digits are its species (001 to 010).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Paths of one image and its mask, with the id and species they share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleFiles {
    /// File stem of the image, for example `0010001`.
    pub id: String,
    /// Species number parsed from the id's first three digits; 0 when the
    /// id does not start with three digits.
    pub species: u16,
    pub image: PathBuf,
    pub mask: PathBuf,
}

/// A dataset folder whose samples have been listed and paired.
#[derive(Debug, Clone)]
pub struct ButterflyFolder {
    pub root: PathBuf,
    pub samples: Vec<SampleFiles>,
}

impl ButterflyFolder {
    /// Lists and pairs the samples under `root`, sorted by id.
    ///
    /// Fails when `root` or its `images/` or `segmentations/` folder is
    /// missing or unreadable, when the folder holds no images, or when an
    /// image has no mask. With `skip_unpaired`, images without a mask are
    /// left out and returned as the second value instead.
    pub fn open(root: &Path, skip_unpaired: bool) -> Result<(Self, Vec<Error>)> {
        if root.exists() && !root.is_dir() {
            return Err(Error::dataset(
                root,
                "not a folder; expected the dataset folder with images/ and segmentations/",
            ));
        }
        if !root.is_dir() {
            return Err(Error::dataset(
                root,
                "dataset folder not found (set --data or EQCHECK_DATA)",
            ));
        }
        let images_dir = root.join("images");
        let masks_dir = root.join("segmentations");
        for dir in [&images_dir, &masks_dir] {
            if !dir.is_dir() {
                return Err(Error::dataset(
                    dir,
                    "folder not found; expected the Leeds Butterfly layout \
                     with images/ and segmentations/",
                ));
            }
        }

        let mut samples = Vec::new();
        let mut skipped = Vec::new();
        for image in list_pngs(&images_dir)? {
            let Some(id) = image.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let id = id.to_string();
            let mask = masks_dir.join(format!("{id}_seg0.png"));
            if !mask.is_file() {
                let error = Error::dataset(
                    &image,
                    format!("image has no mask (expected {})", mask.display()),
                );
                if skip_unpaired {
                    skipped.push(error);
                    continue;
                }
                return Err(error);
            }
            let species = species_of(&id);
            samples.push(SampleFiles {
                id,
                species,
                image,
                mask,
            });
        }
        if samples.is_empty() {
            let reason = match skipped.first() {
                Some(first) => format!(
                    "no samples left after skipping {} images without a mask; the first: {first}",
                    skipped.len()
                ),
                None => "no PNG images with masks found".to_string(),
            };
            return Err(Error::dataset(&images_dir, reason));
        }
        let folder = ButterflyFolder {
            root: root.to_path_buf(),
            samples,
        };
        Ok((folder, skipped))
    }
}

/// Lists the `.png` files of a folder, sorted by name.
fn list_pngs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let is_png = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if is_png && !hidden && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Parses the species number from an id such as `0040012`.
fn species_of(id: &str) -> u16 {
    id.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn species_from_id_prefix() {
        assert_eq!(species_of("0040012"), 4);
        assert_eq!(species_of("0100001"), 10);
        assert_eq!(species_of("ab"), 0);
    }
}
