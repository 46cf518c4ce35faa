//! cgroup v2 parsers on real file shapes (kernel 6.x, Documentation/admin-guide/cgroup-v2.rst).

use super::*;

const CPU_STAT: &str = "usage_usec 2553407\nuser_usec 1617306\nsystem_usec 936101\n\
core_sched.force_idle_usec 0\nnr_periods 1452\nnr_throttled 12\nthrottled_usec 345678\n\
nr_bursts 0\nburst_usec 0\n";

const MEMORY_STAT: &str = "anon 9043968\nfile 20480000\nkernel 1253376\nkernel_stack 131072\n\
pagetables 200704\nsec_pagetables 0\npercpu 4480\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\n\
zswapped 0\nfile_mapped 6209536\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\n\
file_thp 0\nshmem_thp 0\ninactive_anon 9027584\nactive_anon 16384\ninactive_file 12288000\n\
active_file 8192000\nunevictable 0\nslab_reclaimable 557272\nslab_unreclaimable 342616\n\
slab 899888\nworkingset_refault_anon 0\nworkingset_refault_file 0\nworkingset_activate_anon 0\n\
workingset_activate_file 0\nworkingset_restore_anon 0\nworkingset_restore_file 0\n\
workingset_nodereclaim 0\npgscan 0\npgsteal 0\npgscan_kswapd 0\npgscan_direct 0\n\
pgsteal_kswapd 0\npgsteal_direct 0\npgfault 11520\npgmajfault 33\npgrefill 0\n\
pgactivate 2059\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\n\
thp_collapse_alloc 0\n";

const MEMORY_EVENTS: &str = "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n";

const IO_STAT: &str = "253:0 rbytes=1097728 wbytes=4096 rios=41 wios=1 dbytes=0 dios=0\n\
259:0 rbytes=0 wbytes=8192 rios=0 wios=2 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=0\n";

#[test]
fn cpu_stat_in_nanoseconds() {
    let s = parse_cpu_stat(CPU_STAT).unwrap();
    assert_eq!(s.usage_ns, 2_553_407_000);
    assert_eq!(s.user_ns, 1_617_306_000);
    assert_eq!(s.system_ns, 936_101_000);
    assert_eq!((s.periods, s.throttled_periods), (1452, 12));
    assert_eq!(s.throttled_ns, 345_678_000);
    // Without the cpu controller only the usage keys exist.
    let s = parse_cpu_stat("usage_usec 10\nuser_usec 6\nsystem_usec 4\n").unwrap();
    assert_eq!((s.usage_ns, s.periods), (10_000, 0));
    assert!(parse_cpu_stat("usage_usec lots\n").is_err());
}

#[test]
fn memory_stat_and_events() {
    let mut m = MemoryStats::default();
    parse_memory_stat(MEMORY_STAT, &mut m).unwrap();
    parse_memory_events(MEMORY_EVENTS, &mut m).unwrap();
    assert_eq!(
        (m.rss, m.cache, m.mapped_file),
        (9_043_968, 20_480_000, 6_209_536)
    );
    assert_eq!(m.inactive_file, Some(12_288_000));
    assert_eq!((m.failcnt, m.oom_kills), (7, 1));
}

#[test]
fn io_stat_per_device() {
    let io = parse_io_stat(IO_STAT).unwrap();
    assert_eq!(io.len(), 2);
    assert_eq!(
        io[0],
        DeviceIo {
            major: 253,
            minor: 0,
            read_bytes: 1_097_728,
            write_bytes: 4096,
            reads: 41,
            writes: 1
        }
    );
    assert_eq!(
        (io[1].major, io[1].write_bytes, io[1].writes),
        (259, 8192, 2)
    );
    assert_eq!(parse_io_stat("").unwrap(), []);
    assert!(parse_io_stat("sda rbytes=1\n").is_err());
    assert!(parse_io_stat("8:0 rbytes\n").is_err());
    assert!(parse_io_stat("8:0 rbytes=x\n").is_err());
}

#[test]
fn cpu_max_and_weight() {
    let s = parse_cpu_max("max 100000\n", 100).unwrap();
    assert_eq!((s.quota_us, s.period_us, s.shares), (0, 100_000, 2597));
    let s = parse_cpu_max("50000 100000\n", 10).unwrap();
    assert_eq!((s.quota_us, s.period_us, s.shares), (50_000, 100_000, 237));
    assert!(parse_cpu_max("max\n", 100).is_err());
    assert!(parse_cpu_max("a b\n", 100).is_err());
}
