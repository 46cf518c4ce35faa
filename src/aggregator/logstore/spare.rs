//! Scan buffers kept by a thread from scan to scan (a query scans stream after stream:
//! growing the buffers afresh for each cost a tenth of a scan), under two caps: one
//! thread keeps at most [`MAX_THREAD_BYTES`], and all threads together at most
//! [`MAX_KEPT_BYTES`] (a burst of queries can start many blocking threads, each of
//! which would otherwise keep its own). Past a cap the buffers are dropped, not kept:
//! a cache, so nothing is refused. [`kept_bytes`] is exposed as a gauge.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// One thread keeps its last scan's buffers when they hold at most this many bytes (a
/// 1 MiB block's take about 4 MiB).
pub const MAX_THREAD_BYTES: usize = 8 << 20;

/// All threads together keep at most this many bytes of scan buffers.
pub const MAX_KEPT_BYTES: usize = 64 << 20;

static KEPT: AtomicUsize = AtomicUsize::new(0);

/// Bytes of scan buffers kept by all threads now.
pub fn kept_bytes() -> usize {
    KEPT.load(Relaxed)
}

/// Something kept that knows about how many bytes it holds.
pub trait Footprint {
    fn bytes(&self) -> usize;
}

/// A thread's kept value, counted in a total (`KEPT`) while kept, and uncounted when
/// taken or when its thread ends (a blocking thread ends after 10 s idle).
pub struct Spare<T> {
    kept: T,
    counted: usize,
    total: &'static AtomicUsize,
}

impl<T: Default> Default for Spare<T> {
    fn default() -> Self {
        Spare::counted_in(&KEPT)
    }
}

impl<T: Default + Footprint> Spare<T> {
    /// The kept value (a default one when none is), no longer counted.
    pub fn take(&mut self) -> T {
        self.total
            .fetch_sub(std::mem::take(&mut self.counted), Relaxed);
        std::mem::take(&mut self.kept)
    }

    /// Keeps `value` when both caps allow it; drops it otherwise.
    pub fn keep(&mut self, value: T) {
        drop(self.take());
        let n = value.bytes();
        if n <= MAX_THREAD_BYTES && admit(self.total, n, MAX_KEPT_BYTES) {
            (self.kept, self.counted) = (value, n);
        }
    }
}

impl<T: Default> Spare<T> {
    fn counted_in(total: &'static AtomicUsize) -> Self {
        Spare {
            kept: T::default(),
            counted: 0,
            total,
        }
    }
}

impl<T> Drop for Spare<T> {
    fn drop(&mut self) {
        self.total.fetch_sub(self.counted, Relaxed);
    }
}

/// Adds `n` to `total` when that keeps it at most `max`.
fn admit(total: &AtomicUsize, n: usize, max: usize) -> bool {
    total
        .fetch_update(Relaxed, Relaxed, |t| {
            t.checked_add(n).filter(|&after| after <= max)
        })
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_cap_and_no_further() {
        let total = AtomicUsize::new(0);
        assert!(admit(&total, 40, 100));
        assert!(admit(&total, 60, 100));
        assert!(!admit(&total, 1, 100));
        assert_eq!(total.load(Relaxed), 100);
        assert!(!admit(&total, usize::MAX, usize::MAX));
        total.fetch_sub(60, Relaxed);
        assert!(admit(&total, 50, 100));
    }

    #[derive(Default)]
    struct Held(Vec<u8>);

    impl Footprint for Held {
        fn bytes(&self) -> usize {
            self.0.capacity()
        }
    }

    #[test]
    fn a_kept_value_is_counted_until_taken_or_dropped() {
        static TOTAL: AtomicUsize = AtomicUsize::new(0);
        let mut s = Spare::<Held>::counted_in(&TOTAL);
        let n = MAX_THREAD_BYTES / 2;
        s.keep(Held(Vec::with_capacity(n)));
        assert_eq!(TOTAL.load(Relaxed), n);
        s.keep(Held(Vec::with_capacity(n / 2)));
        assert_eq!(
            TOTAL.load(Relaxed),
            n / 2,
            "the value kept before is dropped"
        );
        assert_eq!(s.take().0.capacity(), n / 2);
        assert_eq!(TOTAL.load(Relaxed), 0);
        s.keep(Held(Vec::with_capacity(MAX_THREAD_BYTES + 1)));
        assert_eq!(TOTAL.load(Relaxed), 0, "past the thread's cap: dropped");
        assert_eq!(s.take().0.capacity(), 0);
        s.keep(Held(Vec::with_capacity(n)));
        drop(s); // as a thread's local when it ends
        assert_eq!(TOTAL.load(Relaxed), 0);
    }

    #[test]
    fn threads_together_keep_at_most_the_total_cap() {
        static TOTAL: AtomicUsize = AtomicUsize::new(0);
        let per = MAX_THREAD_BYTES;
        let mut spares: Vec<Spare<Held>> = (0..MAX_KEPT_BYTES / per + 2)
            .map(|_| Spare::counted_in(&TOTAL))
            .collect();
        for s in &mut spares {
            s.keep(Held(Vec::with_capacity(per)));
        }
        assert_eq!(TOTAL.load(Relaxed), MAX_KEPT_BYTES / per * per);
        let kept = spares.iter_mut().map(|s| s.take().0.capacity() > 0);
        assert_eq!(kept.filter(|&k| k).count(), MAX_KEPT_BYTES / per);
        assert_eq!(TOTAL.load(Relaxed), 0);
    }
}
