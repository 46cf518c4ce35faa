//! udp_queues: `node_udp_queues{ip,queue}`, the bytes queued in UDP sockets, summed
//! from `/proc/net/udp` and `/proc/net/udp6` of the host's network namespace (see
//! [`super::host_net`]). Mirrors node_exporter 1.5's udp_queues collector
//! (collector/udp_queues_linux.go over procfs' net_ip_socket.go): a missing file (no
//! IPv6) is skipped; both missing means no data.

use super::goint::parse_uint;
use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::exposition::MetricFamily;

/// Sum of the `tx_queue` and `rx_queue` columns over all sockets of one file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Queues {
    pub tx: u64,
    pub rx: u64,
}

/// Parses `/proc/net/udp` or `udp6`: a header line, then one socket per line with
/// `tx_queue:rx_queue` in hex as the 5th column. Each line is validated as procfs'
/// `parseNetIPSocketLine` does (so a garbled file is an error, not a wrong sum).
pub fn parse(contents: &str) -> Result<Queues, String> {
    let mut sum = Queues::default();
    for line in contents.lines().skip(1) {
        let q = parse_line(line).map_err(|e| format!("{e} in socket line {line:?}"))?;
        // Wrapping as Go's uint64 addition does; a real sum never gets near.
        sum.tx = sum.tx.wrapping_add(q.tx);
        sum.rx = sum.rx.wrapping_add(q.rx);
    }
    Ok(sum)
}

/// Columns: `sl: local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
/// timeout inode ...`.
fn parse_line(line: &str) -> Result<Queues, String> {
    let mut f = [""; 10];
    let mut n = 0;
    for (slot, word) in f.iter_mut().zip(line.split_ascii_whitespace()) {
        *slot = word;
        n += 1;
    }
    if n < 10 {
        return Err("fewer than 10 columns".into());
    }
    let sl = pair(f[0], "sl")?.0;
    parse_uint(sl).ok_or("bad sl")?;
    address(f[1])?;
    address(f[2])?;
    hex(f[3], "st")?;
    let (tx, rx) = pair(f[4], "tx_queue:rx_queue")?;
    parse_uint(f[7]).ok_or("bad uid")?;
    parse_uint(f[9]).ok_or("bad inode")?;
    Ok(Queues {
        tx: hex(tx, "tx_queue")?,
        rx: hex(rx, "rx_queue")?,
    })
}

/// Splits `a:b` (exactly one colon, as Go's `strings.Split` with a length check).
fn pair<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    match s.split_once(':') {
        Some((a, b)) if !b.contains(':') => Ok((a, b)),
        _ => Err(format!("bad {what} {s:?}")),
    }
}

/// `IP:port` in hex: 4 or 16 address bytes, any hex port.
fn address(s: &str) -> Result<(), String> {
    let (ip, port) = pair(s, "address")?;
    let hex_ip = ip.bytes().all(|b| b.is_ascii_hexdigit());
    if !(hex_ip && (ip.len() == 8 || ip.len() == 32)) {
        return Err(format!("bad IP {ip:?}"));
    }
    hex(port, "port").map(|_| ())
}

fn hex(s: &str, what: &str) -> Result<u64, String> {
    u64::from_str_radix(s, 16)
        .ok()
        .filter(|_| !s.starts_with('+'))
        .ok_or_else(|| format!("bad {what} {s:?}"))
}

pub struct UdpQueues {
    v4: HostNetFile,
    v6: HostNetFile,
}

impl UdpQueues {
    pub fn new(paths: &HostPaths) -> Self {
        UdpQueues {
            v4: HostNetFile::new(paths, "udp"),
            v6: HostNetFile::new(paths, "udp6"),
        }
    }
}

impl Collector for UdpQueues {
    fn name(&self) -> &'static str {
        "udp_queues"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let mut family = MetricFamily::gauge(
            "node_udp_queues",
            "Number of allocated memory in the kernel for UDP datagrams in bytes.",
        );
        let mut missing = None;
        for (ip, file) in [("v4", &self.v4), ("v6", &self.v6)] {
            let (contents, path) = match file.read() {
                Ok(read) => read,
                Err(e) if e.is_not_found() => {
                    missing = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let q = parse(&contents).map_err(|m| CollectError::parse(path, m))?;
            family.push(&[("ip", ip), ("queue", "tx")], q.tx as f64);
            family.push(&[("ip", ip), ("queue", "rx")], q.rx as f64);
        }
        match missing {
            // Neither file: NotFound, so the scrape marks the collector failed quietly
            // as upstream's ErrNoData does.
            Some(e) if family.samples.is_empty() => Err(e),
            _ => {
                out.push(family);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER4: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            \n";
    const HEADER6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n";
    /// Sockets as a Kubernetes node shows them (CoreDNS, kubelet, a busy resolver).
    const SOCKETS4: &str = "\
  187: 0A00000A:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 21837 2 0000000000000000 0
  963: 00000000:0044 00000000:0000 07 00000000:00000A00 00:00000000 00000000     0        0 17316 2 0000000000000000 0
 1534: 0100007F:E27D 0100007F:0035 01 00000340:00000000 00:00000000 00000000  1000        0 98431 2 0000000000000000 3
";
    const SOCKETS6: &str = "  496: 00000000000000000000000000000000:0202 00000000000000000000000000000000:0000 07 00000010:00000020 00:00000000 00000000     0        0 17352 2 0000000000000000 0\n";

    #[test]
    fn sums_queues_of_real_shaped_files() {
        assert_eq!(parse(HEADER4).unwrap(), Queues::default());
        let v4 = parse(&format!("{HEADER4}{SOCKETS4}")).unwrap();
        assert_eq!(
            v4,
            Queues {
                tx: 0x340,
                rx: 0xA00
            }
        );
        let v6 = parse(&format!("{HEADER6}{SOCKETS6}")).unwrap();
        assert_eq!(v6, Queues { tx: 16, rx: 32 });
    }

    #[test]
    fn rejects_garbled_lines() {
        for bad in [
            "  1: 0A00000A:0035 00000000:0000 07 00000000:00000000",
            "  1: 0A00000A:0035 00000000:0000 07 0000000000000000 00:00000000 00000000 0 0 1 2",
            "  1: 0A00000A:0035 00000000:0000 07 0000zz00:00000000 00:00000000 00000000 0 0 1 2",
            "  1 0A00000A:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2",
            "  1: 0A00000A:0035 00000000:0000 zz 00000000:00000000 00:00000000 00000000 0 0 1 2",
            "  1: 0A00000A:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 x 2",
            "  1: 0A00000A:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 -1 0 1 2",
            "  1: 0A0000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2",
            "  1: 0A00000A:0035:1 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2",
            "  1: 0A00000A:0035 00000000:0000 07 00000000:+0000000 00:00000000 00000000 0 0 1 2",
            "",
        ] {
            assert!(parse(&format!("{HEADER4}{bad}\n")).is_err(), "{bad}");
        }
    }

    fn collect(dir: &std::path::Path) -> Result<Vec<MetricFamily>, CollectError> {
        let paths = HostPaths {
            procfs: dir.to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        UdpQueues::new(&paths).collect(&mut out).map(|_| out)
    }

    #[test]
    fn collects_v4_and_v6_and_skips_a_missing_v6() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        assert!(collect(dir.path()).unwrap_err().is_not_found());

        std::fs::write(dir.path().join("net/udp"), format!("{HEADER4}{SOCKETS4}")).unwrap();
        let out = collect(dir.path()).unwrap();
        let got: Vec<_> = out[0]
            .samples
            .iter()
            .map(|s| (s.labels[0].1.as_str(), s.labels[1].1.as_str(), s.value))
            .collect();
        assert_eq!(got, [("v4", "tx", 832.0), ("v4", "rx", 2560.0)]);

        std::fs::write(dir.path().join("net/udp6"), format!("{HEADER6}{SOCKETS6}")).unwrap();
        let out = collect(dir.path()).unwrap();
        assert_eq!(out[0].samples.len(), 4);
        assert_eq!(out[0].samples[3].value, 32.0);
    }
}
