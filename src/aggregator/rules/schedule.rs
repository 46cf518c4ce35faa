//! When a group evaluates, as Prometheus schedules it: every `interval`, at a fixed
//! offset within the interval taken from a hash of the group's file and name (so groups
//! spread out, and a restart keeps a group's timestamps). The hash is Prometheus's
//! `labels.Hash` of `{file, name}`: XXH64 (seed 0) over `name\xffvalue\xff` pairs.

const P1: u64 = 11_400_714_785_074_694_791;
const P2: u64 = 14_029_467_366_897_019_727;
const P3: u64 = 1_609_587_929_392_839_161;
const P4: u64 = 9_650_029_242_287_828_579;
const P5: u64 = 2_870_177_450_012_600_261;

/// The group's evaluation time at or before `now_ns`: the latest
/// `k * interval + offset` not after `now_ns` (ns).
pub fn eval_timestamp_ns(file: &str, name: &str, interval_ns: i64, now_ns: i64) -> i64 {
    let offset = (group_hash(file, name) % interval_ns as u64) as i64;
    let adj = now_ns - offset;
    adj - adj.rem_euclid(interval_ns) + offset
}

/// Prometheus's `Group.hash`.
pub fn group_hash(file: &str, name: &str) -> u64 {
    let mut b = Vec::with_capacity(file.len() + name.len() + 12);
    for (n, v) in [("file", file), ("name", name)] {
        b.extend_from_slice(n.as_bytes());
        b.push(0xff);
        b.extend_from_slice(v.as_bytes());
        b.push(0xff);
    }
    xxh64(&b)
}

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn merge(acc: u64, v: u64) -> u64 {
    (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}

/// XXH64 with seed 0 (the published algorithm).
pub fn xxh64(data: &[u8]) -> u64 {
    let mut rest = data;
    let mut h = if data.len() >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)];
        while rest.len() >= 32 {
            for (i, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, u64_at(&rest[8 * i..]));
            }
            rest = &rest[32..];
        }
        let h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        v.iter().fold(h, |h, &lane| merge(h, lane))
    } else {
        P5
    };
    h = h.wrapping_add(data.len() as u64);
    while rest.len() >= 8 {
        h ^= round(0, u64_at(rest));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        let k = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as u64;
        h ^= k.wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        rest = &rest[4..];
    }
    for &byte in rest {
        h ^= (byte as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// Iterations missed when a tick comes at `now` after the evaluation at `last`
/// (Prometheus's `(now - last) / interval - 1`, not below 0).
pub fn missed(last_ns: i64, now_ns: i64, interval_ns: i64) -> i64 {
    ((now_ns - last_ns) / interval_ns - 1).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_matches_the_reference_vectors() {
        assert_eq!(xxh64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"abc"), 0x44BC_2CF5_AD77_0999);
        // Longer than one 32-byte stripe, with an 8-, 4- and 1-byte tail.
        let long: Vec<u8> = (0u8..45).collect();
        assert_ne!(xxh64(&long), xxh64(&long[..44]));
    }

    /// Prometheus 2.42 evaluated a 10 s group `offset-check` of `/tmp/rl/p/rules.yml`
    /// at 1796572413.115, 1796572423.115, ... (its API's sample timestamps).
    #[test]
    fn the_offset_is_prometheuss() {
        let at = eval_timestamp_ns(
            "/tmp/rl/p/rules.yml",
            "offset-check",
            10_000_000_000,
            1_796_572_428_000_000_000,
        );
        assert_eq!(at / 1_000_000, 1_796_572_423_115);
    }

    #[test]
    fn evaluation_times_keep_the_groups_offset() {
        let i = 60_000_000_000;
        let a = eval_timestamp_ns("rules.yml", "g", i, 1_700_000_000_000_000_000);
        let b = eval_timestamp_ns("rules.yml", "g", i, 1_700_000_000_000_000_000 + i + 7);
        assert_eq!(b - a, i);
        assert!(a <= 1_700_000_000_000_000_000);
        assert_eq!(missed(0, 3 * i + 5, i), 2);
        assert_eq!(missed(0, i, i), 0);
    }
}
