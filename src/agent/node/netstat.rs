//! netstat: `node_netstat_<Protocol>_<Field>` (untyped) from `net/netstat`, `net/snmp`
//! and `net/snmp6`, for the keys matching `--collector.netstat.fields`. Mirrors
//! node_exporter 1.5's netstat collector (collector/netstat_linux.go), except that the
//! files are read from the host's network namespace (see [`super::hostnet`]).

use super::field_filter::FieldFilter;
use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::agent::config::CollectorSettings;
use crate::exposition::parse::valid_metric_name;
use crate::exposition::MetricFamily;

/// One counter: `("Tcp", "ActiveOpens", 12.0)`.
pub type Stat<'a> = (&'a str, &'a str, f64);

/// Parses `net/netstat` or `net/snmp`: pairs of lines, `Proto: Name1 Name2 ...` then
/// `Proto: v1 v2 ...`. The two lines of a pair must have as many fields.
pub fn parse_pairs(contents: &str) -> Result<Vec<Stat<'_>>, String> {
    let mut stats = Vec::with_capacity(256);
    let mut lines = contents.lines();
    while let Some(header) = lines.next() {
        let values = lines.next().unwrap_or("");
        let mut names = header.split_whitespace();
        let mut values = values.split_whitespace();
        let protocol = names.next().unwrap_or("");
        let protocol = protocol.strip_suffix(':').unwrap_or(protocol);
        values.next();
        loop {
            match (names.next(), values.next()) {
                (Some(name), Some(v)) => stats.push((protocol, name, parse_value(v)?)),
                (None, None) => break,
                _ => return Err(format!("field count mismatch for {protocol:?}")),
            }
        }
    }
    Ok(stats)
}

/// Parses `net/snmp6`: `Ip6InReceives   123` lines, the protocol ending at the first `6`.
/// Lines with fewer than two fields or no `6` in the name are skipped, as upstream.
pub fn parse_snmp6(contents: &str) -> Result<Vec<Stat<'_>>, String> {
    let mut stats = Vec::with_capacity(96);
    for line in contents.lines() {
        let mut parts = line.split_whitespace();
        let (Some(key), Some(v)) = (parts.next(), parts.next()) else {
            continue;
        };
        if let Some(six) = key.find('6') {
            stats.push((&key[..=six], &key[six + 1..], parse_value(v)?));
        }
    }
    Ok(stats)
}

fn parse_value(v: &str) -> Result<f64, String> {
    v.parse().map_err(|_| format!("invalid value {v:?}"))
}

pub struct NetStat {
    netstat: HostNetFile,
    snmp: HostNetFile,
    snmp6: HostNetFile,
    fields: FieldFilter,
}

impl NetStat {
    pub fn new(paths: &HostPaths, settings: &CollectorSettings) -> Self {
        NetStat {
            netstat: HostNetFile::new(paths, "netstat"),
            snmp: HostNetFile::new(paths, "snmp"),
            snmp6: HostNetFile::new(paths, "snmp6"),
            fields: FieldFilter::new(settings.netstat_fields.clone()),
        }
    }

    /// Appends the matching stats of one file.
    fn emit(&self, stats: &[Stat<'_>], key: &mut String, out: &mut Vec<MetricFamily>) {
        for &(protocol, name, value) in stats {
            key.clear();
            key.push_str(protocol);
            key.push('_');
            key.push_str(name);
            if !self.fields.is_match(key) {
                continue;
            }
            let metric = format!("node_netstat_{key}");
            if !valid_metric_name(&metric) {
                tracing::debug!(%metric, "Skipped a netstat field that is not a metric name.");
                continue;
            }
            let help = format!("Statistic {protocol}{name}.");
            out.push(MetricFamily::untyped(metric, help).value(value));
        }
    }
}

impl Collector for NetStat {
    fn name(&self) -> &'static str {
        "netstat"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let (netstat, netstat_path) = self.netstat.read()?;
        let (snmp, snmp_path) = self.snmp.read()?;
        // Without IPv6 there is no snmp6: node_exporter goes on without it.
        let snmp6 = match self.snmp6.read() {
            Ok(read) => Some(read),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let parsed = [
            parse_pairs(&netstat).map_err(|m| CollectError::parse(netstat_path, m))?,
            parse_pairs(&snmp).map_err(|m| CollectError::parse(snmp_path, m))?,
            match &snmp6 {
                Some((text, path)) => {
                    parse_snmp6(text).map_err(|m| CollectError::parse(path, m))?
                }
                None => Vec::new(),
            },
        ];
        let mut key = String::with_capacity(64);
        for stats in &parsed {
            self.emit(stats, &mut key, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETSTAT: &str = include_str!("../../../tests/fixtures/proc/net/netstat");
    const SNMP: &str = include_str!("../../../tests/fixtures/proc/net/snmp");
    const SNMP6: &str = include_str!("../../../tests/fixtures/proc/net/snmp6");

    #[test]
    fn parses_real_files() {
        let netstat = parse_pairs(NETSTAT).unwrap();
        assert!(netstat.contains(&("IpExt", "InOctets", 95875546.0)));
        assert!(netstat.iter().any(|s| s.0 == "MPTcpExt"));
        let snmp = parse_pairs(SNMP).unwrap();
        assert!(snmp.contains(&("Ip", "Forwarding", 2.0)));
        assert!(snmp.iter().any(|s| s.0 == "IcmpMsg"));
        let snmp6 = parse_snmp6(SNMP6).unwrap();
        assert_eq!(snmp6.len(), SNMP6.lines().count());
        assert!(snmp6.contains(&("Ip6", "InReceives", 1.0)));
        assert!(snmp6.iter().any(|s| s.0 == "UdpLite6" && s.1 == "InErrors"));
    }

    #[test]
    fn broken_pairs() {
        assert!(parse_pairs("Tcp: A B\nTcp: 1\n").is_err());
        assert!(parse_pairs("Tcp: A B\n").is_err());
        assert!(parse_pairs("Tcp: A\nTcp: x\n").is_err());
        // Negative values are real (Tcp MaxConn -1).
        assert_eq!(
            parse_pairs("Tcp: MaxConn\nTcp: -1\n").unwrap(),
            [("Tcp", "MaxConn", -1.0)]
        );
        assert_eq!(parse_pairs("").unwrap(), []);
        assert_eq!(
            parse_snmp6("Ip6InReceives\nNoSix 3\n\nIcmp6InMsgs 4\n").unwrap(),
            [("Icmp6", "InMsgs", 4.0)]
        );
        assert!(parse_snmp6("Ip6InReceives x\n").is_err());
    }

    fn write(root: &std::path::Path, rel: &str, contents: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn collect(root: &std::path::Path) -> Result<Vec<MetricFamily>, CollectError> {
        let paths = HostPaths {
            procfs: root.to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        NetStat::new(&paths, &CollectorSettings::default()).collect(&mut out)?;
        Ok(out)
    }

    #[test]
    fn collects_the_default_fields_from_the_host_namespace() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "1/net/netstat",
            "TcpExt: ListenDrops TW\nTcpExt: 3 4\n",
        );
        write(
            dir.path(),
            "1/net/snmp",
            "Ip: Forwarding DefaultTTL\nIp: 1 64\nUdp: InErrors\nUdp: 2\n",
        );
        write(
            dir.path(),
            "1/net/snmp6",
            "Ip6InOctets  \t10\nIp6InReceives 1\n",
        );
        // The agent's own namespace differs; it must not be read.
        write(
            dir.path(),
            "net/netstat",
            "TcpExt: ListenDrops\nTcpExt: 999\n",
        );
        let out = collect(dir.path()).unwrap();
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.name.as_ref(), f.help.as_ref(), f.samples[0].value))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "node_netstat_TcpExt_ListenDrops",
                    "Statistic TcpExtListenDrops.",
                    3.0
                ),
                ("node_netstat_Ip_Forwarding", "Statistic IpForwarding.", 1.0),
                ("node_netstat_Udp_InErrors", "Statistic UdpInErrors.", 2.0),
                ("node_netstat_Ip6_InOctets", "Statistic Ip6InOctets.", 10.0),
            ]
        );
        assert!(out.iter().all(|f| f.kind.text_name() == "untyped"));
    }

    #[test]
    fn without_ipv6_snmp6_is_skipped_and_without_snmp_it_fails() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "net/netstat",
            "TcpExt: ListenDrops\nTcpExt: 3\n",
        );
        assert!(collect(dir.path()).unwrap_err().is_not_found());
        write(dir.path(), "net/snmp", "Tcp: CurrEstab\nTcp: 5\n");
        let out = collect(dir.path()).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].name, "node_netstat_Tcp_CurrEstab");
    }
}
