//! A pod's network counters: `/proc/<pid>/net/dev` of a process in the pod's network
//! namespace (the sandbox's), as cAdvisor reads them (handler.go networkStatsFromProc),
//! skipping the interfaces cAdvisor ignores (`lo`, `veth*`, `docker*`, `nerdctl*`).

use crate::agent::node::netdev;

/// The counters cAdvisor exports for one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IfaceStats {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// cAdvisor's isIgnoredDevice.
pub fn is_ignored(name: &str) -> bool {
    ["lo", "veth", "docker", "nerdctl"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Parses `/proc/<pid>/net/dev` (columns 1-4 receive, 9-12 transmit).
pub fn parse(text: &str) -> Result<Vec<IfaceStats>, String> {
    Ok(netdev::parse(text)?
        .into_iter()
        .filter(|d| !is_ignored(d.device))
        .map(|d| {
            let v = d.values;
            IfaceStats {
                name: d.device.to_owned(),
                rx_bytes: v[0],
                rx_packets: v[1],
                rx_errors: v[2],
                rx_dropped: v[3],
                tx_bytes: v[8],
                tx_packets: v[9],
                tx_errors: v[10],
                tx_dropped: v[11],
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod sandbox's /proc/<pid>/net/dev (header as the kernel prints it).
    pub const POD_NET_DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1200      12    0    0    0     0          0         0     1200      12    0    0    0     0       0          0
  eth0: 180507737    8858    3    4    0     0          0         0   632052    6737    5    6    0     0       0          0
";

    #[test]
    fn skips_loopback_and_keeps_eth0() {
        let ifaces = parse(POD_NET_DEV).unwrap();
        assert_eq!(
            ifaces,
            [IfaceStats {
                name: "eth0".into(),
                rx_bytes: 180_507_737,
                rx_packets: 8858,
                rx_errors: 3,
                rx_dropped: 4,
                tx_bytes: 632_052,
                tx_packets: 6737,
                tx_errors: 5,
                tx_dropped: 6,
            }]
        );
        assert!(is_ignored("veth1234") && is_ignored("docker0") && !is_ignored("net1"));
        assert!(parse("h\nh\neth0: 1 2\n").is_err());
    }
}
