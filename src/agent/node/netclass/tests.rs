//! Tests of the netclass module: table tests on real samples and edge cases, and the collector on a temp root.
use super::*;
use std::path::Path;

/// This machine's eth0 (virtio, up, speed -1), as `cat` shows each attribute.
const ETH0: &[(&str, &str)] = &[
    ("addr_assign_type", "0"),
    ("address", "02:fc:00:00:00:01"),
    ("broadcast", "ff:ff:ff:ff:ff:ff"),
    ("carrier", "1"),
    ("carrier_changes", "2"),
    ("carrier_up_count", "1"),
    ("carrier_down_count", "1"),
    ("dev_id", "0x0"),
    ("dormant", "0"),
    ("duplex", "unknown"),
    ("flags", "0x1003"),
    ("ifalias", ""),
    ("ifindex", "4"),
    ("iflink", "4"),
    ("link_mode", "0"),
    ("mtu", "1400"),
    ("name_assign_type", "1"),
    ("netdev_group", "0"),
    ("operstate", "up"),
    ("speed", "-1"),
    ("tx_queue_len", "1000"),
    ("type", "1"),
];

/// This machine's ifb0 (down): carrier, dormant, duplex, name_assign_type and speed
/// answer EINVAL there, which reads as absent.
const IFB0: &[(&str, &str)] = &[
    ("addr_assign_type", "1"),
    ("address", "c6:d0:91:53:a3:da"),
    ("broadcast", "ff:ff:ff:ff:ff:ff"),
    ("carrier_changes", "0"),
    ("carrier_up_count", "0"),
    ("carrier_down_count", "0"),
    ("dev_id", "0x0"),
    ("flags", "0x82"),
    ("ifalias", ""),
    ("ifindex", "2"),
    ("iflink", "2"),
    ("link_mode", "0"),
    ("mtu", "1500"),
    ("netdev_group", "0"),
    ("operstate", "down"),
    ("tx_queue_len", "32"),
    ("type", "1"),
];

fn write_iface(class_net: &Path, name: &str, attrs: &[(&str, &str)]) {
    let dir = class_net.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (attr, value) in attrs {
        std::fs::write(dir.join(attr), format!("{value}\n")).unwrap();
    }
}

fn collect(sysfs: &Path, settings: &CollectorSettings) -> Vec<MetricFamily> {
    let paths = HostPaths {
        sysfs: sysfs.to_owned(),
        ..HostPaths::default()
    };
    let mut out = Vec::new();
    NetClass::new(&paths, settings).collect(&mut out).unwrap();
    out
}

fn samples(out: &[MetricFamily], name: &str) -> Vec<(String, f64)> {
    let family = out.iter().find(|f| f.name == name).unwrap();
    family
        .samples
        .iter()
        .map(|s| {
            (
                s.labels
                    .iter()
                    .map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                s.value,
            )
        })
        .collect()
}

fn pairs(want: &[(&str, f64)]) -> Vec<(String, f64)> {
    want.iter().map(|(l, v)| (l.to_string(), *v)).collect()
}

#[test]
fn collects_real_interfaces_like_node_exporter() {
    let dir = tempfile::tempdir().unwrap();
    let class_net = dir.path().join("class/net");
    write_iface(&class_net, "eth0", ETH0);
    write_iface(&class_net, "ifb0", IFB0);
    std::fs::write(class_net.join("bonding_masters"), "\n").unwrap();

    let out = collect(dir.path(), &CollectorSettings::default());
    assert_eq!(out.len(), 19);
    assert_eq!(
        samples(&out, "node_network_up"),
        pairs(&[("eth0", 1.0), ("ifb0", 0.0)])
    );
    assert_eq!(
        samples(&out, "node_network_info"),
        pairs(&[
            ("02:fc:00:00:00:01,ff:ff:ff:ff:ff:ff,eth0,unknown,,up", 1.0),
            ("c6:d0:91:53:a3:da,ff:ff:ff:ff:ff:ff,ifb0,,,down", 1.0),
        ])
    );
    let info = out.iter().find(|f| f.name == "node_network_info").unwrap();
    let label_names: Vec<_> = info.samples[0]
        .labels
        .iter()
        .map(|(n, _)| n.as_ref())
        .collect();
    assert_eq!(
        label_names,
        [
            "address",
            "broadcast",
            "device",
            "duplex",
            "ifalias",
            "operstate"
        ]
    );
    assert_eq!(
        samples(&out, "node_network_flags"),
        pairs(&[("eth0", 4099.0), ("ifb0", 130.0)])
    );
    assert_eq!(
        samples(&out, "node_network_speed_bytes"),
        pairs(&[("eth0", -125000.0)])
    );
    assert_eq!(
        samples(&out, "node_network_carrier"),
        pairs(&[("eth0", 1.0)])
    );
    assert_eq!(
        samples(&out, "node_network_name_assign_type"),
        pairs(&[("eth0", 1.0)])
    );
    assert_eq!(
        samples(&out, "node_network_mtu_bytes"),
        pairs(&[("eth0", 1400.0), ("ifb0", 1500.0)])
    );
    assert_eq!(
        samples(&out, "node_network_carrier_changes_total"),
        pairs(&[("eth0", 2.0), ("ifb0", 0.0)])
    );
    let changes = out
        .iter()
        .find(|f| f.name == "node_network_carrier_changes_total")
        .unwrap();
    assert_eq!(changes.kind, MetricType::Counter);
    assert_eq!(
        changes.help,
        "Network device property: carrier_changes_total"
    );
}

#[test]
fn converts_speed_in_megabits_to_bytes() {
    for (speed, want) in [
        (-1, -125000.0),
        (0, 0.0),
        (1000, 125_000_000.0),
        (100_000, 12_500_000_000.0),
    ] {
        assert_eq!(value_of(SPEED, speed), want);
    }
    assert_eq!(value_of(0, -1), -1.0);
}

#[test]
fn unparsable_numbers_read_as_zero_and_odd_text_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let class_net = dir.path().join("class/net");
    let alias = "uplink \"core\" \\ rack\u{e9}";
    write_iface(
        &class_net,
        "br-1.100",
        &[
            ("mtu", "lots"),
            ("ifalias", alias),
            ("operstate", "up"),
            ("speed", ""),
        ],
    );
    let out = collect(dir.path(), &CollectorSettings::default());
    assert_eq!(
        samples(&out, "node_network_mtu_bytes"),
        pairs(&[("br-1.100", 0.0)])
    );
    assert_eq!(
        samples(&out, "node_network_speed_bytes"),
        pairs(&[("br-1.100", 0.0)])
    );
    assert!(samples(&out, "node_network_flags").is_empty());
    let info = samples(&out, "node_network_info");
    assert_eq!(info, pairs(&[(&format!(",,br-1.100,,{alias},up"), 1.0)]));
}

#[test]
fn ignored_devices_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let class_net = dir.path().join("class/net");
    write_iface(&class_net, "eth0", ETH0);
    write_iface(&class_net, "veth1234", IFB0);
    let settings = CollectorSettings {
        netclass_ignored_devices: Regex::new("^veth").unwrap(),
        ..CollectorSettings::default()
    };
    let out = collect(dir.path(), &settings);
    assert_eq!(samples(&out, "node_network_up"), pairs(&[("eth0", 1.0)]));
}

#[test]
fn a_missing_class_net_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let paths = HostPaths {
        sysfs: dir.path().to_owned(),
        ..HostPaths::default()
    };
    let err = NetClass::new(&paths, &CollectorSettings::default())
        .collect(&mut Vec::new())
        .unwrap_err();
    assert!(err.is_not_found());
}

#[test]
fn families_of_no_interfaces_are_empty() {
    let out = families(&[]);
    assert_eq!(out.len(), 19);
    assert!(out.iter().all(|f| f.samples.is_empty()));
}
