//! The allocator setting every process of ours starts with.

/// Makes glibc give every large block (128 KiB and up) back to the OS when it is freed.
///
/// glibc raises its mmap threshold each time a large mmap'd block is freed, so after the
/// first password hash the 19 MiB argon2id working memory is carved from the heap instead,
/// and it is not reused: measured under the Lambda emulator, resident memory grew by
/// 19 MiB with every signup (30 MiB after one, 205 MiB after ten), and a sandbox would
/// run into its memory limit. With the threshold fixed it stays at about 11 MiB between
/// requests, and the hash got faster, not slower (tests/bench.py shows both).
pub fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD_BYTES: libc::c_int = 128 * 1024; // glibc's own default, pinned
        // SAFETY: mallopt only changes allocator parameters; it has no memory-safety
        // preconditions and may be called at any time.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD_BYTES) };
    }
}
