//! sockstat: `node_sockstat_sockets_used` and `node_sockstat_<PROTO>_<key>` gauges from
//! `net/sockstat` and `net/sockstat6` of the host's network namespace (see
//! [`super::hostnet`]). Mirrors node_exporter 1.5's sockstat collector
//! (collector/sockstat_linux.go over procfs's net_sockstat.go): `inuse` always, the
//! other known keys when present, and `mem_bytes` = `mem` pages × page size.

use super::host_net::HostNetFile;
use super::{CollectError, Collector, HostPaths};
use crate::exposition::parse::valid_metric_name;
use crate::exposition::MetricFamily;

/// The keys node_exporter exports, in its order; others are ignored.
const KEYS: [&str; 6] = ["inuse", "orphan", "tw", "alloc", "mem", "memory"];

/// One protocol line, e.g. `TCP: inuse 3 orphan 0 tw 1 alloc 3 mem 204`.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol<'a> {
    pub name: &'a str,
    /// Values of [`KEYS`], by position.
    pub values: [Option<i64>; 6],
}

/// A parsed sockstat file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sockstat<'a> {
    /// `sockets: used N` (IPv4 file only).
    pub used: Option<i64>,
    pub protocols: Vec<Protocol<'a>>,
}

/// Parses `sockstat` or `sockstat6`. Each line needs a protocol and key/value pairs.
pub fn parse(contents: &str) -> Result<Sockstat<'_>, String> {
    let mut stat = Sockstat::default();
    for line in contents.lines() {
        let mut fields = line.split_whitespace();
        let proto = fields.next().unwrap_or("");
        let proto = proto.strip_suffix(':').unwrap_or(proto);
        let pairs = key_values(fields).map_err(|m| format!("{m} in line {line:?}"))?;
        if proto == "sockets" {
            // Like procfs: a `sockets` line without `used` reads as 0.
            let used = pairs.iter().rev().find(|(k, _)| *k == "used");
            stat.used = Some(used.map_or(0, |(_, v)| *v));
            continue;
        }
        let mut values = [None; 6];
        for (k, v) in pairs {
            if let Some(i) = KEYS.iter().position(|key| *key == k) {
                values[i] = Some(v);
            }
        }
        stat.protocols.push(Protocol {
            name: proto,
            values,
        });
    }
    Ok(stat)
}

fn key_values<'a>(
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<Vec<(&'a str, i64)>, String> {
    let mut pairs = Vec::with_capacity(6);
    while let Some(key) = fields.next() {
        let value = fields.next().ok_or("odd number of fields")?;
        let value = value.parse().map_err(|_| format!("bad value {value:?}"))?;
        pairs.push((key, value));
    }
    if pairs.is_empty() {
        return Err("no key/value pairs".into());
    }
    Ok(pairs)
}

/// The families of one file; `used` is exported for IPv4 only, as node_exporter does.
pub fn families(stat: &Sockstat<'_>, ipv6: bool, page_size: i64, out: &mut Vec<MetricFamily>) {
    if let (false, Some(used)) = (ipv6, stat.used) {
        out.push(
            MetricFamily::gauge(
                "node_sockstat_sockets_used",
                "Number of IPv4 sockets in use.",
            )
            .value(used as f64),
        );
    }
    for p in &stat.protocols {
        let mut values = p.values;
        values[0] = Some(values[0].unwrap_or(0));
        let mem_bytes = values[4].map(|pages| pages.wrapping_mul(page_size));
        let named = KEYS.iter().zip(values).chain([(&"mem_bytes", mem_bytes)]);
        for (key, value) in named {
            let Some(value) = value else { continue };
            let metric = format!("node_sockstat_{}_{key}", p.name);
            if !valid_metric_name(&metric) {
                tracing::debug!(%metric, "Skipped a sockstat protocol that is not a metric name.");
                continue;
            }
            let help = format!("Number of {} sockets in state {key}.", p.name);
            out.push(MetricFamily::gauge(metric, help).value(value as f64));
        }
    }
}

pub struct SockStat {
    files: [(HostNetFile, bool); 2],
    page_size: i64,
}

impl SockStat {
    pub fn new(paths: &HostPaths) -> Self {
        SockStat {
            files: [
                (HostNetFile::new(paths, "sockstat"), false),
                (HostNetFile::new(paths, "sockstat6"), true),
            ],
            page_size: procfs::page_size() as i64,
        }
    }
}

impl Collector for SockStat {
    fn name(&self) -> &'static str {
        "sockstat"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        for (file, ipv6) in &self.files {
            // A kernel without IPv4 or IPv6 lacks the file: skip it, as upstream does.
            let (text, path) = match file.read() {
                Ok(read) => read,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            let stat = parse(&text).map_err(|m| CollectError::parse(path, m))?;
            families(&stat, *ipv6, self.page_size, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKSTAT: &str = include_str!("../../../tests/fixtures/proc/net/sockstat");
    const SOCKSTAT6: &str = include_str!("../../../tests/fixtures/proc/net/sockstat6");

    fn names_values(stat: &Sockstat<'_>, ipv6: bool) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        families(stat, ipv6, 4096, &mut out);
        out.iter()
            .map(|f| (f.name.to_string(), f.samples[0].value))
            .collect()
    }

    #[test]
    fn parses_real_files() {
        let v4 = parse(SOCKSTAT).unwrap();
        assert!(v4.used.is_some());
        assert_eq!(v4.protocols[0].name, "TCP");
        // TCP: inuse orphan tw alloc mem, no memory.
        assert!(v4.protocols[0].values[..5].iter().all(Option::is_some));
        assert_eq!(v4.protocols[0].values[5], None);
        let v6 = parse(SOCKSTAT6).unwrap();
        assert_eq!(v6.used, None);
        assert_eq!(v6.protocols.last().unwrap().name, "FRAG6");
    }

    #[test]
    fn names_like_node_exporter() {
        let stat = parse("sockets: used 17\nTCP: inuse 3 orphan 0 tw 1 alloc 3 mem 204\nUDPLITE: inuse 0\nFRAG: inuse 0 memory 0\nX: foo 1\nBAD\"PROTO: inuse 1\n").unwrap();
        let got = names_values(&stat, false);
        let want = [
            ("node_sockstat_sockets_used", 17.0),
            ("node_sockstat_TCP_inuse", 3.0),
            ("node_sockstat_TCP_orphan", 0.0),
            ("node_sockstat_TCP_tw", 1.0),
            ("node_sockstat_TCP_alloc", 3.0),
            ("node_sockstat_TCP_mem", 204.0),
            ("node_sockstat_TCP_mem_bytes", 204.0 * 4096.0),
            ("node_sockstat_UDPLITE_inuse", 0.0),
            ("node_sockstat_FRAG_inuse", 0.0),
            ("node_sockstat_FRAG_memory", 0.0),
            // An unknown key still yields inuse (0), as procfs's struct does.
            ("node_sockstat_X_inuse", 0.0),
        ];
        let want: Vec<_> = want.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(got, want);
        // IPv6 files never export sockets_used.
        assert!(names_values(&stat, true)
            .iter()
            .all(|(n, _)| !n.contains("used")));
    }

    #[test]
    fn broken_lines() {
        assert!(parse("TCP:\n").is_err());
        assert!(parse("TCP: inuse\n").is_err());
        assert!(parse("TCP: inuse x\n").is_err());
        assert!(parse("TCP: inuse 1 tw\n").is_err());
        assert_eq!(parse("").unwrap(), Sockstat::default());
    }

    #[test]
    fn collects_from_a_procfs_root_without_ipv6() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("net")).unwrap();
        std::fs::write(
            dir.path().join("net/sockstat"),
            "sockets: used 5\nUDP: inuse 1 mem 2\n",
        )
        .unwrap();
        let paths = HostPaths {
            procfs: dir.path().to_owned(),
            ..HostPaths::default()
        };
        let mut out = Vec::new();
        SockStat::new(&paths).collect(&mut out).unwrap();
        let names: Vec<_> = out.iter().map(|f| f.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "node_sockstat_sockets_used",
                "node_sockstat_UDP_inuse",
                "node_sockstat_UDP_mem",
                "node_sockstat_UDP_mem_bytes"
            ]
        );
        assert_eq!(out[1].help, "Number of UDP sockets in state inuse.");
        assert_eq!(out[3].samples[0].value, 2.0 * procfs::page_size() as f64);
    }
}
