//! Resident memory of this process, from /proc/self on Linux.

/// Returns a field of /proc/self/status in KiB, such as `VmHWM` (the
/// peak resident set size).
fn status_kib(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Returns the peak resident set size since the last reset in MiB.
pub fn peak_resident_mib() -> Option<f64> {
    status_kib("VmHWM:").map(|kib| kib as f64 / 1024.0)
}

/// Resets the peak resident set size to the current one by writing 5 to
/// /proc/self/clear_refs (Linux 4.0 and later). Returns whether it worked.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
