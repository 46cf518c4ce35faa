//! Benches of the network, os and time collectors: their parsers on inputs the size of
//! a busy Kubernetes node (a hundred veth interfaces, hundreds of ARP entries and UDP
//! sockets, 64 CPUs).

use criterion::{black_box, Criterion};
use nodepulse::agent::node::{arp, netdev, os, softnet, time, udp_queues};

fn netdev_file(devices: usize) -> String {
    let mut s = String::from(
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n",
    );
    for i in 0..devices {
        s.push_str(&format!(
            "veth{i:08x}: 95784315    3400    0    0    0     0          0         0   193152    1768    0    0    0     0       0          0\n"
        ));
    }
    s
}

fn arp_file(entries: usize) -> String {
    let mut s = String::from(
        "IP address       HW type     Flags       HW address            Mask     Device\n",
    );
    for i in 0..entries {
        s.push_str(&format!(
            "10.0.{}.{}        0x1         0x2         02:fc:00:00:00:05     *        cali{:x}\n",
            i / 250,
            i % 250,
            i % 40
        ));
    }
    s
}

fn udp_file(sockets: usize) -> String {
    let mut s = String::from("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n");
    for i in 0..sockets {
        s.push_str(&format!(
            "{i:5}: 0A00000A:0035 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 21837 2 0000000000000000 0\n"
        ));
    }
    s
}

fn softnet_file(cpus: usize) -> String {
    let line = "0000003d 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n";
    line.repeat(cpus)
}

const OS_RELEASE: &str =
    "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\n\
VERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n\
HOME_URL=\"https://www.ubuntu.com/\"\nSUPPORT_URL=\"https://help.ubuntu.com/\"\n\
BUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\nUBUNTU_CODENAME=jammy\n";

fn parsers(c: &mut Criterion) {
    let dev = netdev_file(100);
    c.bench_function("netdev::parse 100 devices", |b| {
        b.iter(|| netdev::parse(black_box(&dev)))
    });
    let arp = arp_file(500);
    c.bench_function("arp::parse 500 entries", |b| {
        b.iter(|| arp::parse(black_box(&arp)))
    });
    let udp = udp_file(500);
    c.bench_function("udp_queues::parse 500 sockets", |b| {
        b.iter(|| udp_queues::parse(black_box(&udp)))
    });
    let softnet = softnet_file(64);
    c.bench_function("softnet::parse 64 cpus", |b| {
        b.iter(|| softnet::parse(black_box(&softnet)))
    });
    c.bench_function("os::parse ubuntu", |b| {
        b.iter(|| os::parse(black_box(OS_RELEASE)))
    });
    let sources = [time::ClockSource::parse("tsc hpet acpi_pm", "tsc")];
    c.bench_function("time::clocksource_families", |b| {
        b.iter(|| time::clocksource_families(black_box(&sources)))
    });
}

pub fn benches(c: &mut Criterion) {
    parsers(c);
}
