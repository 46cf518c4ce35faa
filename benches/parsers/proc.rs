//! Benches of the /proc collectors: their pure parsers on real files from a test machine
//! (and a /proc/stat of 64 CPUs).

use criterion::{black_box, Criterion};
use nodepulse::agent::node::{
    conntrack, filefd, meminfo, netstat, pressure, procstat, sockstat, vmstat,
};

const STAT: &str = include_str!("../../tests/fixtures/proc/stat");
const MEMINFO: &str = include_str!("../../tests/fixtures/proc/meminfo");
const VMSTAT: &str = include_str!("../../tests/fixtures/proc/vmstat");
const NETSTAT: &str = include_str!("../../tests/fixtures/proc/net/netstat");
const SNMP: &str = include_str!("../../tests/fixtures/proc/net/snmp");
const SNMP6: &str = include_str!("../../tests/fixtures/proc/net/snmp6");
const SOCKSTAT: &str = include_str!("../../tests/fixtures/proc/net/sockstat");
const NF_CONNTRACK: &str = include_str!("../../tests/fixtures/proc/net/stat/nf_conntrack");

/// A /proc/stat as a 64-CPU node prints it.
fn stat_64_cpus() -> String {
    let mut s = String::from("cpu  3472500 0 878900 11044100 66100 0 6100 15100 0 0\n");
    for cpu in 0..64 {
        s.push_str(&format!(
            "cpu{cpu} 1666700 12 395200 5661300 10600 0 900 7300 0 0\n"
        ));
    }
    for line in STAT.lines().filter(|l| !l.starts_with("cpu")) {
        s.push_str(line);
        s.push('\n');
    }
    s
}

fn parsers(c: &mut Criterion) {
    let stat64 = stat_64_cpus();
    c.bench_function("procstat::parse 2 cpus", |b| {
        b.iter(|| procstat::parse(black_box(STAT)))
    });
    c.bench_function("procstat::parse 64 cpus", |b| {
        b.iter(|| procstat::parse(black_box(&stat64)))
    });
    c.bench_function("meminfo::parse", |b| {
        b.iter(|| meminfo::parse(black_box(MEMINFO)))
    });
    c.bench_function("vmstat::parse", |b| {
        b.iter(|| vmstat::parse(black_box(VMSTAT)))
    });
    c.bench_function("netstat::parse_pairs netstat+snmp", |b| {
        b.iter(|| {
            (
                netstat::parse_pairs(black_box(NETSTAT)),
                netstat::parse_pairs(black_box(SNMP)),
            )
        })
    });
    c.bench_function("netstat::parse_snmp6", |b| {
        b.iter(|| netstat::parse_snmp6(black_box(SNMP6)))
    });
    c.bench_function("sockstat::parse", |b| {
        b.iter(|| sockstat::parse(black_box(SOCKSTAT)))
    });
    c.bench_function("conntrack::parse_stat", |b| {
        b.iter(|| conntrack::parse_stat(black_box(NF_CONNTRACK)))
    });
    c.bench_function("filefd::parse", |b| {
        b.iter(|| filefd::parse(black_box("473\t0\t2466170\n")))
    });
    c.bench_function("pressure::parse", |b| {
        b.iter(|| {
            pressure::parse(black_box(
                "some avg10=0.00 avg60=0.29 avg300=0.35 total=5615206\nfull avg10=0.00 avg60=0.27 avg300=0.31 total=5098773\n",
            ))
        })
    });
}

pub fn benches(c: &mut Criterion) {
    parsers(c);
}
