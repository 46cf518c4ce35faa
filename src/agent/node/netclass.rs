//! netclass: `node_network_up`, `node_network_info` and the `node_network_*` device
//! properties from `<sysfs>/class/net/<dev>/`.
//!
//! Mirrors node_exporter 1.5's netclass collector in its default sysfs mode
//! (collector/netclass_linux.go over procfs' sysfs/class_net.go): attributes that read
//! as missing, forbidden, EOPNOTSUPP or EINVAL (e.g. `carrier` of a down interface) are
//! left out; numbers parse like Go's `ParseInt(s, 0, 64)` (hex `flags`), and a readable
//! one that does not parse reads as 0 (procfs' ValueParser does that); `speed` in Mb/s
//! becomes bytes/s, -1 included.
//! Upstream reads every file of the directory; this reads only the 22 it reports, each
//! once, and keeps them open between scrapes ([`AttrCache`]).

use super::goint::parse_int;
use super::sysfs_attr::{is_unavailable, text, AttrCache};
use super::{CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::{MetricFamily, MetricType};
use regex::Regex;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// One numeric property: sysfs attribute, family name, help, type.
struct Property {
    attr: &'static str,
    name: &'static str,
    help: &'static str,
    kind: MetricType,
}

const fn prop(attr: &'static str, name: &'static str, help: &'static str) -> Property {
    Property {
        attr,
        name,
        help,
        kind: MetricType::Gauge,
    }
}

const fn counter(attr: &'static str, name: &'static str, help: &'static str) -> Property {
    Property {
        attr,
        name,
        help,
        kind: MetricType::Counter,
    }
}

/// Index of `speed` in [`PROPERTIES`]: the one value that is converted (Mb/s → bytes/s).
const SPEED: usize = 14;

/// In node_exporter's emission order.
#[rustfmt::skip]
const PROPERTIES: [Property; 17] = [
    prop("addr_assign_type", "node_network_address_assign_type", "Network device property: address_assign_type"),
    prop("carrier", "node_network_carrier", "Network device property: carrier"),
    counter("carrier_changes", "node_network_carrier_changes_total", "Network device property: carrier_changes_total"),
    counter("carrier_up_count", "node_network_carrier_up_changes_total", "Network device property: carrier_up_changes_total"),
    counter("carrier_down_count", "node_network_carrier_down_changes_total", "Network device property: carrier_down_changes_total"),
    prop("dev_id", "node_network_device_id", "Network device property: device_id"),
    prop("dormant", "node_network_dormant", "Network device property: dormant"),
    prop("flags", "node_network_flags", "Network device property: flags"),
    prop("ifindex", "node_network_iface_id", "Network device property: iface_id"),
    prop("iflink", "node_network_iface_link", "Network device property: iface_link"),
    prop("link_mode", "node_network_iface_link_mode", "Network device property: iface_link_mode"),
    prop("mtu", "node_network_mtu_bytes", "Network device property: mtu_bytes"),
    prop("name_assign_type", "node_network_name_assign_type", "Network device property: name_assign_type"),
    prop("netdev_group", "node_network_net_dev_group", "Network device property: net_dev_group"),
    prop("speed", "node_network_speed_bytes", "Network device property: speed_bytes"),
    prop("tx_queue_len", "node_network_transmit_queue_length", "Network device property: transmit_queue_length"),
    prop("type", "node_network_protocol_type", "Network device property: protocol_type"),
];

/// Text attributes: the labels of `node_network_info` besides `device`.
const TEXT_ATTRS: [&str; 5] = ["address", "broadcast", "duplex", "ifalias", "operstate"];
const OPERSTATE: usize = 4;

/// What one interface's directory holds; `None` where the attribute is unavailable.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Iface {
    pub name: String,
    pub text: [Option<String>; 5],
    pub values: [Option<i64>; 17],
}

/// Builds the netclass families from interfaces (in the order given).
pub fn families(ifaces: &[Iface]) -> Vec<MetricFamily> {
    let mut up = MetricFamily::gauge(
        "node_network_up",
        "Value is 1 if operstate is 'up', 0 otherwise.",
    );
    let mut info = MetricFamily::gauge(
        "node_network_info",
        "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
    );
    let mut props: Vec<MetricFamily> = PROPERTIES
        .iter()
        .map(|p| MetricFamily::new(p.name, p.help, p.kind))
        .collect();
    for iface in ifaces {
        let device = [("device", iface.name.as_str())];
        let text = |i: usize| iface.text[i].as_deref().unwrap_or("");
        let is_up = text(OPERSTATE) == "up";
        up.push(&device, if is_up { 1.0 } else { 0.0 });
        info.push(
            &[
                ("address", text(0)),
                ("broadcast", text(1)),
                ("device", &iface.name),
                ("duplex", text(2)),
                ("ifalias", text(3)),
                ("operstate", text(4)),
            ],
            1.0,
        );
        for (i, family) in props.iter_mut().enumerate() {
            if let Some(v) = iface.values[i] {
                family.push(&device, value_of(i, v));
            }
        }
    }
    let mut out = vec![up, info];
    out.append(&mut props);
    out
}

/// Go's `int64(speed * 1000 * 1000 / 8)`: integer arithmetic, so -1 gives -125000.
fn value_of(property: usize, v: i64) -> f64 {
    if property == SPEED {
        (v.wrapping_mul(1_000_000) / 8) as f64
    } else {
        v as f64
    }
}

/// The attribute files read per interface: the text ones, then the properties.
fn attr_names() -> Vec<&'static str> {
    TEXT_ATTRS
        .iter()
        .copied()
        .chain(PROPERTIES.iter().map(|p| p.attr))
        .collect()
}

/// Stores attribute `i` (in [`attr_names`] order) of `iface`. Unavailable attributes
/// stay `None`; any other read error fails the collector, as upstream's does.
fn fill(iface: &mut Iface, i: usize, value: io::Result<&[u8]>) -> io::Result<()> {
    let bytes = match value {
        Ok(bytes) => bytes,
        Err(e) if is_unavailable(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    if let Some(slot) = iface.text.get_mut(i) {
        *slot = Some(text(bytes));
    } else if let Some(slot) = iface.values.get_mut(i - TEXT_ATTRS.len()) {
        let number = std::str::from_utf8(bytes).ok().and_then(parse_int);
        *slot = Some(number.unwrap_or(0));
    }
    Ok(())
}

fn io_error(path: &Path, source: io::Error) -> CollectError {
    CollectError::Io {
        path: path.to_owned(),
        source,
    }
}

pub struct NetClass {
    class_net: PathBuf,
    ignored: Regex,
    attrs: Mutex<AttrCache>,
}

impl NetClass {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        NetClass {
            class_net: paths.sys("class/net"),
            ignored: settings.netclass_ignored_devices.clone(),
            attrs: Mutex::new(AttrCache::new(attr_names())),
        }
    }

    /// Interface names: every entry of class/net but regular files (`bonding_masters`),
    /// less ignored devices, sorted.
    fn devices(&self) -> Result<Vec<String>, CollectError> {
        let entries =
            std::fs::read_dir(&self.class_net).map_err(|e| io_error(&self.class_net, e))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&self.class_net, e))?;
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if !self.ignored.is_match(&name) {
                names.push(name);
            }
        }
        names.sort_unstable();
        Ok(names)
    }
}

impl Collector for NetClass {
    fn name(&self) -> &'static str {
        "netclass"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let names = self.devices()?;
        let mut attrs = self.attrs.lock().unwrap_or_else(|e| e.into_inner());
        let mut ifaces = Vec::with_capacity(names.len());
        for name in names {
            let dir = self.class_net.join(&name);
            let mut iface = Iface::default();
            let read = attrs.read(&name, &dir, |i, value| {
                fill(&mut iface, i, value).map_err(|e| (i, e))
            });
            match read {
                Ok(Ok(())) => ifaces.push(Iface { name, ..iface }),
                Ok(Err((i, e))) => {
                    let attr = attr_names().get(i).copied().unwrap_or_default();
                    return Err(io_error(&dir.join(attr), e));
                }
                // Removed since the listing (veth churn on a busy node): skipped, where
                // upstream fails the whole collector on this race.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&dir, e)),
            }
        }
        attrs.sweep();
        out.append(&mut families(&ifaces));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
