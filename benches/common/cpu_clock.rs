//! The calling thread's CPU time (user + system) to the nanosecond, for benches that
//! give a one-core figure. `getrusage(RUSAGE_THREAD)` advances here in steps of about
//! 4 ms (its user/system split comes from scheduler ticks), which is coarse beside a
//! push of ~12 ms or a 50 ms reference run; `CLOCK_THREAD_CPUTIME_ID` is the
//! scheduler's own runtime count.

use std::time::Duration;

/// This thread's CPU time (user + system) since it started.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is POSIX.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
