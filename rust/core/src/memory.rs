//! Handing freed heap memory back to the operating system.
//!
//! glibc's allocator keeps what a thread frees in that thread's arena, and returns pages to the
//! system only from the top of a heap. Counting frees hundreds of megabytes of per-worker
//! buffers that sit between surviving allocations, so they stay resident (and count in the
//! process's peak memory) through whatever comes next, such as fitting a language model.
//! `malloc_trim` releases the free pages wherever they are.

/// Returns the allocator's free pages to the system (glibc only; a no-op elsewhere). Costs a
/// walk over the allocator's free lists: call it after freeing a large amount, not in loops.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim has no preconditions: it takes each arena's lock itself and only
        // releases pages that hold no allocation.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}
