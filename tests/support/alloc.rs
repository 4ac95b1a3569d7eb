//! A counting global allocator for the zero-allocation tests. A
//! `#[global_allocator]` must be declared in each test binary that uses it:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: Counting = Counting;
//! ```

use guildenstern::{Dispatcher, Server};
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting every allocation and reallocation.
pub struct Counting;

/// Allocations (and reallocations) made so far through [`Counting`].
pub static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers every operation to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The number of allocations so far.
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::SeqCst)
}

/// The allocations made while `f` runs.
pub fn allocations_during(f: impl FnOnce()) -> usize {
    let before = allocations();
    f();
    allocations() - before
}

/// Closes the client's `stream`, stops and joins `server`, then asserts, in
/// order, that each measured count is zero: `(allocations, what was
/// measured)`, reported as `{dispatcher:?}: heap allocations during {what}`.
pub fn stop_and_assert_no_allocations(
    server: Server,
    stream: TcpStream,
    dispatcher: Dispatcher,
    counts: &[(usize, &str)],
) {
    drop(stream);
    server.stop();
    server.join();
    for &(allocations, what) in counts {
        assert_eq!(
            allocations, 0,
            "{dispatcher:?}: heap allocations during {what}"
        );
    }
}
