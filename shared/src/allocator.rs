//! The allocator setting every process of ours starts with.

/// Makes glibc give every large block (128 KiB and up) back to the OS when it is freed.
///
/// glibc raises its mmap threshold each time a large mmap'd block is freed, so after the
/// first password hash the argon2id working memory is carved from the heap instead, and
/// it is not reused: under the Lambda emulator resident memory grew by one working block
/// with every signup, until a sandbox would run into its memory limit. With the threshold
/// fixed it stays flat between requests (the benchmark's peak RSS shows it).
pub fn return_large_blocks_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD_BYTES: libc::c_int = 128 * 1024; // glibc's own default, pinned
        // SAFETY: mallopt only changes allocator parameters; it has no memory-safety
        // preconditions and may be called at any time.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD_BYTES) };
    }
}
