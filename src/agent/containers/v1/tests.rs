//! cgroup v1 parsers on real file contents (copied from a kernel 6.18 host's
//! /sys/fs/cgroup/{cpu,cpuacct,memory,blkio}).

use super::*;

/// memory.stat of a real v1 cgroup (both the cgroup's own and the `total_` keys).
pub const MEMORY_STAT: &str = "cache 13225984\nrss 3145728\nrss_huge 0\nshmem 10567680\n\
mapped_file 7925760\ndirty 81920\nwriteback 0\nworkingset_refault_anon 0\n\
workingset_refault_file 8681\nswap 0\nswapcached 0\npgpgin 70646\npgpgout 66649\n\
pgfault 103631\npgmajfault 0\ninactive_anon 0\nactive_anon 0\ninactive_file 40960\n\
active_file 2617344\nunevictable 13713408\nhierarchical_memory_limit 9223372036854771712\n\
hierarchical_memsw_limit 9223372036854771712\ntotal_cache 7024967680\ntotal_rss 416768000\n\
total_rss_huge 0\ntotal_shmem 10567680\ntotal_mapped_file 143216640\ntotal_dirty 83349504\n\
total_writeback 0\ntotal_workingset_refault_anon 0\ntotal_workingset_refault_file 17187060\n\
total_swap 4096\ntotal_swapcached 0\ntotal_pgpgin 464046787\ntotal_pgpgout 462726068\n\
total_pgfault 499016493\ntotal_pgmajfault 157462\ntotal_inactive_anon 413405184\n\
total_active_anon 45056\ntotal_inactive_file 4030869504\ntotal_active_file 2983530496\n\
total_unevictable 13713408\n";

#[test]
fn cpuacct_and_cfs() {
    let mut s = CpuStats::default();
    parse_cpuacct_stat("user 4183779\nsystem 545461\n", &mut s).unwrap();
    parse_cpu_stat(
        "nr_periods 120\nnr_throttled 7\nthrottled_time 81234567\nnr_bursts 0\nburst_time 0\n",
        &mut s,
    )
    .unwrap();
    assert_eq!(
        (s.user_ns, s.system_ns),
        (41_837_790_000_000, 5_454_610_000_000)
    );
    assert_eq!(
        (s.periods, s.throttled_periods, s.throttled_ns),
        (120, 7, 81_234_567)
    );
}

#[test]
fn memory_stat_prefers_the_hierarchical_keys() {
    let mut m = MemoryStats::default();
    parse_memory_stat(MEMORY_STAT, &mut m).unwrap();
    assert_eq!(
        (m.rss, m.cache, m.mapped_file, m.swap),
        (416_768_000, 7_024_967_680, 143_216_640, 4096)
    );
    assert_eq!(m.inactive_file, Some(4_030_869_504));
    let mut m = MemoryStats::default();
    parse_memory_stat("cache 10\nrss 20\ninactive_file 5\n", &mut m).unwrap();
    assert_eq!((m.rss, m.cache, m.inactive_file), (20, 10, Some(5)));
}

#[test]
fn blkio_merges_bytes_and_ops_per_device() {
    let bytes = "8:0 Read 1048576\n8:0 Write 2097152\n8:0 Sync 3145728\n8:0 Async 0\n\
8:0 Discard 0\n8:0 Total 3145728\n8:16 Read 4096\n8:16 Write 0\n8:16 Total 4096\nTotal 3149824\n";
    let ops = "8:0 Read 256\n8:0 Write 512\n8:0 Sync 768\n8:0 Async 0\n8:0 Discard 0\n\
8:0 Total 768\n8:16 Read 1\n8:16 Write 0\n8:16 Total 1\nTotal 769\n";
    let io = merge_blkio(bytes, ops).unwrap();
    assert_eq!(
        io,
        [
            DeviceIo {
                major: 8,
                minor: 0,
                read_bytes: 1_048_576,
                write_bytes: 2_097_152,
                reads: 256,
                writes: 512
            },
            DeviceIo {
                major: 8,
                minor: 16,
                read_bytes: 4096,
                write_bytes: 0,
                reads: 1,
                writes: 0
            },
        ]
    );
    // What an idle cgroup's throttle file holds: no devices.
    assert_eq!(merge_blkio("Total 0\n", "Total 0\n").unwrap(), []);
    assert!(merge_blkio("8:0 Read\n", "").is_err());
    assert!(merge_blkio("x Read 1\n", "").is_err());
}
