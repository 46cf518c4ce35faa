//! Tests of the backoff: validation naming the field, and properties of the waits (never
//! above the cap, the base doubling until it, no overflow for any attempt, `Retry-After`
//! respected) with seeded RNGs.
use super::*;
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::SeedableRng;

fn backoff(min_ms: u64, max_ms: u64, jitter: Jitter) -> Backoff {
    let ratio = match jitter {
        Jitter::Full => None,
        Jitter::Ratio(r) => Some(r),
    };
    Backoff::new(&config(min_ms, max_ms, ratio, max_ms.saturating_mul(4))).unwrap()
}

fn config(min: u64, max: u64, jitter_ratio: Option<f64>, cap: u64) -> BackoffConfig {
    BackoffConfig {
        min: Duration::from_millis(min),
        max: Duration::from_millis(max),
        jitter_ratio,
        retry_after_cap: Duration::from_millis(cap),
    }
}

#[test]
fn bad_settings_are_refused_by_name() {
    let field = |c: BackoffConfig| Backoff::new(&c).unwrap_err().field;
    assert_eq!(field(config(0, 10, None, 10)), "min");
    assert_eq!(field(config(10, 9, None, 10)), "max");
    assert_eq!(field(config(10, 20, None, 19)), "retry_after_cap");
    assert_eq!(field(config(10, 20, Some(-0.1), 20)), "jitter_ratio");
    assert_eq!(field(config(10, 20, Some(f64::NAN), 20)), "jitter_ratio");
    assert_eq!(field(config(10, 20, Some(100.5), 20)), "jitter_ratio");
    let msg = Backoff::new(&config(0, 10, None, 10))
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "invalid backoff min: must be greater than zero");
    assert!(Backoff::new(&BackoffConfig::default()).is_ok());
    assert!(Backoff::new(&config(10, 10, Some(0.0), 10)).is_ok());
}

#[test]
fn reads_from_yaml_with_documented_defaults() {
    let c: BackoffConfig = serde_norway::from_str("min: 1s\njitter_ratio: 0.1\n").unwrap();
    assert_eq!(c.min, Duration::from_secs(1));
    assert_eq!(c.max, BackoffConfig::default().max);
    assert_eq!(Backoff::new(&c).unwrap().jitter, Jitter::Ratio(0.1));
    let empty: BackoffConfig = serde_norway::from_str("{}").unwrap();
    assert_eq!(empty, BackoffConfig::default());
    assert_eq!(Backoff::new(&empty).unwrap().jitter, Jitter::Full);
    assert!(serde_norway::from_str::<BackoffConfig>("minimum: 1s").is_err());
}

#[test]
fn the_same_seed_gives_the_same_waits_and_full_jitter_spreads_them() {
    let b = backoff(100, 10_000, Jitter::Full);
    let a: Vec<_> = b.delays(SmallRng::seed_from_u64(7)).take(20).collect();
    let again: Vec<_> = b.delays(SmallRng::seed_from_u64(7)).take(20).collect();
    assert_eq!(a, again);
    let mut rng = SmallRng::seed_from_u64(1);
    let waits: Vec<_> = (0..200).map(|_| b.delay(6, &mut rng)).collect();
    let (low, high) = (Duration::from_millis(1000), Duration::from_millis(5400));
    assert!(waits.iter().any(|w| *w < low) && waits.iter().any(|w| *w > high));
}

#[test]
fn the_iterator_counts_attempts_and_saturates() {
    let mut delays = backoff(1, 1, Jitter::Ratio(0.0)).delays(SmallRng::seed_from_u64(0));
    assert_eq!(delays.next(), Some(Duration::from_millis(1)));
    assert_eq!(delays.attempt(), 1);
    delays.attempt = u32::MAX;
    assert_eq!(delays.next(), Some(Duration::from_millis(1)));
    assert_eq!(delays.attempt(), u32::MAX);
}

#[test]
fn only_retryable_errors_get_a_wait() {
    let b = backoff(100, 1000, Jitter::Full);
    let mut rng = SmallRng::seed_from_u64(3);
    assert_eq!(b.after(0, &SendError::status(400), &mut rng), None);
    let busy = SendError::Status {
        status: 429,
        retry_after: Some(Duration::from_secs(2)),
    };
    assert_eq!(b.after(0, &busy, &mut rng), Some(Duration::from_secs(2)));
    assert!(b.after(0, &SendError::Timeout, &mut rng).unwrap() <= Duration::from_millis(100));
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop_oneof![Just(Jitter::Full), (0.0f64..=100.0).prop_map(Jitter::Ratio)]
}

proptest! {
    #[test]
    fn waits_never_exceed_the_cap_for_any_attempt(
        min in 1u64..10_000_000,
        extra in 0u64..1 << 40,
        jitter in jitter(),
        attempt in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let b = backoff(min, min + extra, jitter);
        let mut rng = SmallRng::seed_from_u64(seed);
        let wait = b.delay(attempt, &mut rng);
        prop_assert!(wait <= b.base(attempt) || matches!(jitter, Jitter::Ratio(_)));
        prop_assert!(wait <= b.max);
        if let Jitter::Ratio(_) = jitter {
            prop_assert!(wait >= b.base(attempt));
        }
    }

    #[test]
    fn the_base_doubles_until_the_cap(
        min in 1u64..u64::MAX / 4,
        extra in 0u64..u64::MAX / 4,
        attempt in any::<u32>(),
    ) {
        let b = backoff(min, min + extra, Jitter::Full);
        prop_assert_eq!(b.base(0), b.min);
        let next = b.base(attempt.saturating_add(1));
        let doubled = b.base(attempt).checked_mul(2).unwrap_or(b.max).min(b.max);
        prop_assert_eq!(next, doubled);
    }

    #[test]
    fn retry_after_is_respected_up_to_its_cap(
        min in 1u64..1_000_000,
        extra in 0u64..1_000_000,
        retry_after in proptest::option::of(0u64..100_000_000),
        attempt in any::<u32>(),
        seed in any::<u64>(),
    ) {
        let b = backoff(min, min + extra, Jitter::Full);
        let retry_after = retry_after.map(Duration::from_millis);
        let wait = b.next_delay(attempt, retry_after, &mut SmallRng::seed_from_u64(seed));
        prop_assert!(wait <= b.retry_after_cap);
        let asked = retry_after.unwrap_or_default().min(b.retry_after_cap);
        prop_assert!(wait >= asked);
        let jittered = b.delay(attempt, &mut SmallRng::seed_from_u64(seed));
        prop_assert_eq!(wait, jittered.max(asked));
    }
}

#[test]
fn huge_durations_do_not_overflow() {
    let b = Backoff::new(&BackoffConfig {
        min: Duration::from_secs(u64::MAX / 2),
        max: Duration::MAX,
        jitter_ratio: None,
        retry_after_cap: Duration::MAX,
    })
    .unwrap();
    let mut rng = SmallRng::seed_from_u64(9);
    for attempt in [0, 1, 2, 63, 64, u32::MAX] {
        assert!(b.delay(attempt, &mut rng) <= Duration::MAX);
    }
    assert_eq!(b.base(u32::MAX), Duration::MAX);
    let ratio = Backoff {
        jitter: Jitter::Ratio(100.0),
        ..b
    };
    assert!(ratio.delay(5, &mut rng) <= Duration::MAX);
}
