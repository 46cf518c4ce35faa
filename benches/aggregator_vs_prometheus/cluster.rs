//! The series one node of the cluster exposes: node_exporter's (CPU, memory, load,
//! network, filesystems, disk) and the kubelet's (`up` and scrape durations, cAdvisor
//! container series with their long `id`/`image` labels, a request-latency histogram).

use super::workload::{Shape, Workload};
use nodepulse::aggregator::model::Labels;

const CPUS: usize = 4;
const MODES: [&str; 8] = [
    "idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice",
];
const MEMORY: [&str; 10] = [
    "MemTotal",
    "MemFree",
    "MemAvailable",
    "Cached",
    "Buffers",
    "Active",
    "Inactive",
    "Dirty",
    "SwapFree",
    "Slab",
];
const MOUNTS: [(&str, &str); 3] = [
    ("/", "/dev/vda1"),
    ("/var", "/dev/vdb1"),
    ("/boot", "/dev/vda15"),
];
const CONTAINERS: usize = 6;
const HANDLERS: [&str; 2] = ["/api/v1/query", "/metrics"];
pub const LES: [f64; 12] = [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    f64::INFINITY,
];

/// Series one node contributes (see `node`).
pub const SERIES_PER_NODE: usize = CPUS * MODES.len()
    + MEMORY.len()
    + 3
    + 8
    + 2 * MOUNTS.len()
    + 3
    + 4
    + 3 * CONTAINERS
    + HANDLERS.len() * (LES.len() + 2);

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

impl Workload {
    /// The series of node `n`: node_exporter's, then the kubelet's (cAdvisor and a
    /// request histogram).
    pub(crate) fn node(&mut self, n: usize) {
        let instance = format!("10.0.{}.{}:9100", n / 200, n % 200 + 10);
        let node = format!(
            "ip-10-0-{}-{}.eu-west-1.compute.internal",
            n / 200,
            n % 200 + 10
        );
        let base = [
            ("job", "node-exporter"),
            ("instance", instance.as_str()),
            ("node", node.as_str()),
        ];
        let with = |name: &str, extra: &[(&str, &str)]| {
            let mut p = vec![("__name__", name)];
            p.extend_from_slice(&base);
            p.extend_from_slice(extra);
            labels(&p)
        };
        for cpu in 0..CPUS {
            let c = cpu.to_string();
            for mode in MODES {
                let per_s = if mode == "idle" { 0.7 } else { 0.05 };
                let l = with("node_cpu_seconds_total", &[("cpu", &c), ("mode", mode)]);
                self.push(
                    Shape::Counter {
                        per_s,
                        whole: false,
                    },
                    n,
                    vec![l],
                );
            }
        }
        let total = with("node_memory_MemTotal_bytes", &[]);
        self.push(Shape::Constant, n, vec![total]);
        let memory = MEMORY[1..]
            .iter()
            .map(|m| with(&format!("node_memory_{m}_bytes"), &[]));
        self.push(
            Shape::Gauge {
                quantum: 4096.0,
                spread: 64,
            },
            n,
            memory.collect(),
        );
        let load = ["node_load1", "node_load5", "node_load15"].map(|m| with(m, &[]));
        self.push(
            Shape::Gauge {
                quantum: 0.01,
                spread: 20,
            },
            n,
            load.to_vec(),
        );
        let mut net = Vec::new();
        for dir in ["receive", "transmit"] {
            for unit in ["bytes", "packets"] {
                for device in ["eth0", "lo"] {
                    net.push(with(
                        &format!("node_network_{dir}_{unit}_total"),
                        &[("device", device)],
                    ));
                }
            }
        }
        self.push(
            Shape::Counter {
                per_s: 40_000.0,
                whole: true,
            },
            n,
            net,
        );
        let fs = |name: &str| {
            let l = MOUNTS.map(|(m, d)| {
                with(
                    name,
                    &[("mountpoint", m), ("device", d), ("fstype", "ext4")],
                )
            });
            l.to_vec()
        };
        self.push(Shape::Constant, n, fs("node_filesystem_size_bytes"));
        self.push(
            Shape::Gauge {
                quantum: 4096.0,
                spread: 8,
            },
            n,
            fs("node_filesystem_avail_bytes"),
        );
        let disk = ["read", "written"]
            .map(|d| with(&format!("node_disk_{d}_bytes_total"), &[("device", "vda")]));
        self.push(
            Shape::Counter {
                per_s: 300_000.0,
                whole: true,
            },
            n,
            disk.to_vec(),
        );
        let io = with("node_disk_io_time_seconds_total", &[("device", "vda")]);
        self.push(
            Shape::Counter {
                per_s: 0.02,
                whole: false,
            },
            n,
            vec![io],
        );
        self.kubelet(n, &instance, &node);
    }

    fn kubelet(&mut self, n: usize, instance: &str, node: &str) {
        let kubelet = instance.replace(":9100", ":10250");
        let base = [("instance", kubelet.as_str()), ("node", node)];
        let up = [("node-exporter", instance), ("kubelet", kubelet.as_str())];
        let ups = up.map(|(job, i)| {
            labels(&[
                ("__name__", "up"),
                ("job", job),
                ("instance", i),
                ("node", node),
            ])
        });
        self.push(Shape::Constant, n, ups.to_vec());
        let took = up.map(|(job, i)| {
            labels(&[
                ("__name__", "scrape_duration_seconds"),
                ("job", job),
                ("instance", i),
                ("node", node),
            ])
        });
        self.push(
            Shape::Gauge {
                quantum: 0.0001,
                spread: 30,
            },
            n,
            took.to_vec(),
        );
        let (mut cpu, mut mem, mut rx) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..CONTAINERS {
            let ns = ["default", "kube-system", "monitoring"][c % 3];
            let pod = format!("app-{}-7c9f8d{:04x}-x{c}k2l", c % 3, n);
            let container = ["app", "sidecar"][c % 2];
            let id = format!(
                "/kubepods/burstable/pod{n:08x}-{c:04x}-4c1e-9a51-{:012x}",
                n * 31 + c
            );
            let image = format!("registry.example.com/team/{container}:v1.{}.{}", c, n % 7);
            let with = |name: &str| {
                let mut p = vec![
                    ("__name__", name),
                    ("job", "kubelet"),
                    ("namespace", ns),
                    ("pod", pod.as_str()),
                ];
                p.extend_from_slice(&[("container", container), ("id", &id), ("image", &image)]);
                p.extend_from_slice(&base);
                labels(&p)
            };
            cpu.push(with("container_cpu_usage_seconds_total"));
            mem.push(with("container_memory_working_set_bytes"));
            rx.push(with("container_fs_reads_bytes_total"));
        }
        self.push(
            Shape::Counter {
                per_s: 0.15,
                whole: false,
            },
            n,
            cpu,
        );
        self.push(
            Shape::Gauge {
                quantum: 4096.0,
                spread: 32,
            },
            n,
            mem,
        );
        self.push(
            Shape::Counter {
                per_s: 5_000.0,
                whole: true,
            },
            n,
            rx,
        );
        for handler in HANDLERS {
            let mut series = Vec::new();
            for le in LES {
                let le = if le.is_infinite() {
                    "+Inf".to_string()
                } else {
                    le.to_string()
                };
                let extra = [
                    ("job", "kubelet"),
                    ("handler", handler),
                    ("le", le.as_str()),
                ];
                series.push(labels(
                    &[
                        &[("__name__", "http_request_duration_seconds_bucket")][..],
                        &extra,
                        &base,
                    ]
                    .concat(),
                ));
            }
            for suffix in ["sum", "count"] {
                let name = format!("http_request_duration_seconds_{suffix}");
                let extra = [
                    ("__name__", name.as_str()),
                    ("job", "kubelet"),
                    ("handler", handler),
                ];
                series.push(labels(&[&extra[..], &base].concat()));
            }
            self.push(Shape::Histogram { per_s: 2 }, n, series);
        }
    }
}
