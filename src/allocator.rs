//! Heap settings for libtorch's CPU tensors.
//!
//! libtorch allocates CPU tensors with the C allocator. Under glibc's
//! defaults a large block is mapped fresh from the kernel and unmapped when
//! freed, and freed memory at the top of the heap is returned to the
//! kernel, so each forward pass page-faults and zero-fills its activations
//! again. Profiled with `perf` on a 2-core AMD EPYC (libtorch 2.13.0, one
//! thread), that kernel work was about 20% of a plain U-Net forward pass
//! on a 96 x 96 canvas with batch 16, and about 4% after
//! [`keep_freed_tensor_memory`].

/// Largest block served from the heap instead of a fresh mapping: glibc's
/// maximum mmap threshold on 64-bit systems (`DEFAULT_MMAP_THRESHOLD_MAX`).
pub const MMAP_THRESHOLD_BYTES: i32 = 32 << 20;

/// Freed memory at the top of the heap that glibc keeps for reuse before
/// returning it to the kernel.
pub const TRIM_THRESHOLD_BYTES: i32 = 512 << 20;

/// Makes glibc keep freed tensor memory for reuse: blocks up to
/// [`MMAP_THRESHOLD_BYTES`] come from the heap, and up to
/// [`TRIM_THRESHOLD_BYTES`] of free heap stays mapped. Affects the whole
/// process, so binaries call it once at start. Returns whether both
/// settings were applied; always false on targets without glibc.
pub fn keep_freed_tensor_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes glibc's allocator parameters, under
        // the allocator's own lock, and may be called at any time.
        let mmap = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
        let trim = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) };
        mmap == 1 && trim == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_both_settings() {
        assert!(keep_freed_tensor_memory());
    }
}
