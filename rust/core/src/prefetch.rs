//! Memory hints for hash tables that are probed at random: software prefetch and huge pages.

/// Asks the CPU to bring `r`'s cache line in; no effect on results.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; it never faults and does not read through the pointer in a
    // way the program can observe (and `r` is a valid reference anyway).
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            r as *const T as *const i8,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// A vector of `len` copies of `value` whose pages the kernel is asked to back with 2 MiB huge
/// pages (Linux transparent huge pages in `madvise` mode, as KenLM asks for its tables): random
/// lookups over hundreds of megabytes otherwise miss the TLB on nearly every access.
pub(crate) fn huge_vec<T: Clone>(len: usize, value: T) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(len);
    advise_huge(
        v.as_ptr() as usize,
        len.saturating_mul(std::mem::size_of::<T>()),
    );
    v.resize(len, value);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge(addr: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 4 * HUGE {
        return;
    }
    let start = addr.next_multiple_of(HUGE);
    let end = (addr + bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: madvise only gives advice about [start, end), which lies inside an allocation
        // this process owns and has not touched yet; it does not change the memory's contents.
        // Failure (e.g. THP disabled) is harmless, so its result is ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_addr: usize, _bytes: usize) {}
