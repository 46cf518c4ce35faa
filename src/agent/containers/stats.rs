//! What one cgroup's files say, in the units cAdvisor keeps (ns, bytes, µs for the CFS
//! spec): counters read on every scrape ([`ContainerStats`]) and the spec read when a
//! cgroup is new or its cached spec is old ([`Spec`]). Conversions cAdvisor applies on
//! export live here: working set, "unlimited" limits, cgroup v2 weight → shares.

/// CPU counters (cAdvisor `CpuStats`), nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStats {
    pub usage_ns: u64,
    pub user_ns: u64,
    pub system_ns: u64,
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_ns: u64,
}

/// Memory gauges and counters (cAdvisor `MemoryStats`), bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub usage: u64,
    pub max_usage: u64,
    pub rss: u64,
    pub cache: u64,
    pub mapped_file: u64,
    pub swap: u64,
    /// `inactive_file` (v2) / `total_inactive_file` (v1); `None` when memory.stat lacks it.
    pub inactive_file: Option<u64>,
    pub failcnt: u64,
    pub oom_kills: u64,
}

impl MemoryStats {
    /// cAdvisor's working set: usage minus inactive file pages, floored at 0; the usage
    /// itself when memory.stat has no inactive_file (handler.go setMemoryStats).
    pub fn working_set(&self) -> u64 {
        self.usage.saturating_sub(self.inactive_file.unwrap_or(0))
    }
}

/// Block I/O of one device (cAdvisor `DiskIo` service bytes and serviced ops).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceIo {
    pub major: u32,
    pub minor: u32,
    pub read_bytes: u64,
    pub write_bytes: u64,
    pub reads: u64,
    pub writes: u64,
}

/// Everything read from one cgroup on one scrape; a part is `None` (or empty) when its
/// controller is not enabled there or its file could not be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerStats {
    pub cpu: Option<CpuStats>,
    pub memory: Option<MemoryStats>,
    pub io: Vec<DeviceIo>,
    /// `pids.current`: tasks, i.e. threads.
    pub threads: Option<u64>,
    /// The cgroup's own `cgroup.procs` (not its children's), as cAdvisor counts processes.
    pub procs: Option<Vec<u32>>,
}

/// CPU limits as cAdvisor's spec has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuSpec {
    /// CFS quota in µs; 0 when there is none.
    pub quota_us: u64,
    pub period_us: u64,
    pub shares: u64,
}

/// Memory limits as read; `u64::MAX` for "max" (see [`spec_memory_value`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemorySpec {
    pub limit: u64,
    pub swap_limit: u64,
    pub reservation: u64,
}

/// A cgroup's spec: limits and creation time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spec {
    pub cpu: Option<CpuSpec>,
    pub memory: Option<MemorySpec>,
    /// Unix seconds (whole, as cAdvisor exports `CreationTime.Unix()`).
    pub start_time: Option<i64>,
}

/// How cAdvisor exports a memory limit: anything above 2^62 is "unlimited" and shown
/// as 0 (prometheus.go specMemoryValue), so cgroup v2's "max" and cgroup v1's
/// 9223372036854771712 both read 0.
pub fn spec_memory_value(v: u64) -> f64 {
    if v > 1 << 62 {
        0.0
    } else {
        v as f64
    }
}

/// cgroup v2 `cpu.weight` (1..=10000) → v1 shares, as cAdvisor reads it back
/// (helpers.go convertCPUWeightToCPULimit): `2 + ((w - 1) * 262142) / 9999`.
pub fn weight_to_shares(weight: u64) -> u64 {
    2 + (weight.clamp(1, 10_000) - 1) * 262_142 / 9_999
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_set_is_floored_and_falls_back_to_usage() {
        let m = |usage, inactive| MemoryStats {
            usage,
            inactive_file: inactive,
            ..MemoryStats::default()
        };
        assert_eq!(m(1000, Some(300)).working_set(), 700);
        assert_eq!(m(1000, Some(5000)).working_set(), 0);
        assert_eq!(m(1000, None).working_set(), 1000);
    }

    #[test]
    fn unlimited_memory_is_zero() {
        assert_eq!(spec_memory_value(u64::MAX), 0.0);
        assert_eq!(spec_memory_value(9_223_372_036_854_771_712), 0.0);
        assert_eq!(spec_memory_value(536_870_912), 536_870_912.0);
    }

    #[test]
    fn weights_read_back_as_cadvisor_does() {
        // runc writes weight 10 for shares 256 (a 250m request); cAdvisor reads 237.
        assert_eq!(weight_to_shares(10), 237);
        assert_eq!(weight_to_shares(100), 2597);
        assert_eq!(weight_to_shares(1), 2);
        assert_eq!(weight_to_shares(10_000), 262_144);
        assert_eq!(
            weight_to_shares(0),
            2,
            "out of range is clamped, not a panic"
        );
    }
}
