//! Sizes of a timed model pass, read from a training profile's preset, so
//! that the benchmarks follow the profiles. Both `benches/forward.rs` and
//! the ceiling report use it.

use eqcheck::training::{Profile, ProfileName};

/// Model size, canvas and batch of a timed pass.
#[derive(Clone, Copy)]
pub struct Workload {
    /// The training profile these sizes come from.
    pub profile: ProfileName,
    /// Side S of the images before padding.
    pub side: i64,
    pub canvas: i64,
    pub base_width: i64,
    pub batch: i64,
}

impl Workload {
    /// Returns the sizes of a profile's preset, with `batch` images per pass.
    pub fn of(name: ProfileName, batch: i64) -> Self {
        let profile = Profile::preset(name);
        Workload {
            profile: name,
            side: profile.side,
            canvas: profile.canvas,
            base_width: profile.base_width,
            batch,
        }
    }

    /// Returns the sizes of the `cpu` profile with its training batch.
    pub fn cpu() -> Self {
        Workload::of(ProfileName::Cpu, Profile::preset(ProfileName::Cpu).batch_size as i64)
    }

    /// Returns the sizes of the `paper` profile with one image, so that its
    /// training steps fit in a few minutes.
    pub fn paper() -> Self {
        Workload::of(ProfileName::Paper, 1)
    }
}
