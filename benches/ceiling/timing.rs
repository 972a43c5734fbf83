//! Repeated wall-clock timing of one workload.

use std::time::Instant;

/// Wall times of `runs` runs after one warm-up run, in seconds.
pub struct Timing {
    pub runs: usize,
    pub median: f64,
    pub min: f64,
}

/// Runs `work` once to warm up (allocator, oneDNN kernel selection), then
/// `runs` more times, and returns their median and minimum.
pub fn measure(runs: usize, mut work: impl FnMut()) -> Timing {
    work();
    let mut seconds: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64()
        })
        .collect();
    seconds.sort_by(f64::total_cmp);
    Timing {
        runs: seconds.len(),
        median: seconds[seconds.len() / 2],
        min: seconds[0],
    }
}
