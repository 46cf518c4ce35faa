//! Builds kubelet-shaped cgroup trees in a temp dir, cgroup v1 or v2, systemd or
//! cgroupfs driver, containerd / CRI-O / docker names, with every file the containers
//! collector reads written in the kernel's real format (full memory.stat, cpu.stat,
//! io.stat, blkio, ...), plus the procfs (`<pid>/comm`, `<pid>/net/dev`) and the
//! kubelet log directories that name containers. Shared by tests/containers_cgroup.rs
//! and benches/containers_scrape.rs.
#![allow(dead_code)]

pub mod expected;
mod files;
pub mod node;

pub use files::Vals;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Systemd,
    Cgroupfs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Containerd,
    Crio,
    Docker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    Guaranteed,
    Burstable,
    BestEffort,
}

/// A temp dir holding `sys/fs/cgroup`, `proc`, `log/pods`, `log/containers`.
pub struct Tree {
    pub dir: tempfile::TempDir,
    pub version: Version,
    pub driver: Driver,
    pub runtime: Runtime,
}

impl Tree {
    pub fn new(version: Version, driver: Driver, runtime: Runtime) -> Tree {
        let dir = tempfile::tempdir().expect("a temp dir");
        let tree = Tree {
            dir,
            version,
            driver,
            runtime,
        };
        for d in [
            "sys/fs/cgroup",
            "proc",
            "log/pods",
            "log/containers",
            "sys/dev/block",
        ] {
            std::fs::create_dir_all(tree.path(d)).unwrap();
        }
        match version {
            Version::V2 => write(
                &tree.cgroup(),
                "cgroup.controllers",
                "cpuset cpu io memory hugetlb pids rdma misc\n",
            ),
            Version::V1 => {
                for c in ["cpu,cpuacct", "memory", "blkio", "pids", "cpuset"] {
                    std::fs::create_dir_all(tree.cgroup().join(c)).unwrap();
                }
            }
        }
        // /sys/dev/block/253:0 -> ../../devices/virtual/block/vda, as on a VM.
        std::os::unix::fs::symlink(
            "../../devices/virtual/block/vda",
            tree.path("sys/dev/block/253:0"),
        )
        .unwrap();
        tree
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn cgroup(&self) -> PathBuf {
        self.path("sys/fs/cgroup")
    }

    /// The pod cgroup's path below the hierarchy root.
    pub fn pod_rel(&self, uid: &str, qos: Qos) -> String {
        let u = uid.replace('-', "_");
        match (self.driver, qos) {
            (Driver::Systemd, Qos::Guaranteed) => format!("kubepods.slice/kubepods-pod{u}.slice"),
            (Driver::Systemd, Qos::Burstable) => {
                format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{u}.slice")
            }
            (Driver::Systemd, Qos::BestEffort) => {
                format!("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{u}.slice")
            }
            (Driver::Cgroupfs, Qos::Guaranteed) => format!("kubepods/pod{uid}"),
            (Driver::Cgroupfs, Qos::Burstable) => format!("kubepods/burstable/pod{uid}"),
            (Driver::Cgroupfs, Qos::BestEffort) => format!("kubepods/besteffort/pod{uid}"),
        }
    }

    /// A container cgroup's path below the hierarchy root.
    pub fn container_rel(&self, pod_rel: &str, id: &str) -> String {
        let name = match (self.driver, self.runtime) {
            (Driver::Systemd, Runtime::Containerd) => format!("cri-containerd-{id}.scope"),
            (Driver::Systemd, Runtime::Crio) => format!("crio-{id}.scope"),
            (Driver::Systemd, Runtime::Docker) => format!("docker-{id}.scope"),
            (Driver::Cgroupfs, Runtime::Crio) => format!("crio-{id}"),
            (Driver::Cgroupfs, _) => id.to_owned(),
        };
        format!("{pod_rel}/{name}")
    }

    /// Writes one cgroup's files (creating its directories).
    pub fn cgroup_files(&self, rel: &str, v: &Vals) {
        match self.version {
            Version::V2 => files::write_v2(&self.cgroup().join(rel), v),
            Version::V1 => files::write_v1(&self.cgroup(), rel, v),
        }
        if self.runtime == Runtime::Crio && rel.ends_with(".scope") {
            // CRI-O's monitor sits next to each container scope; it is no container.
            let conmon = rel.replace("/crio-", "/crio-conmon-");
            match self.version {
                Version::V2 => files::write_v2(&self.cgroup().join(conmon), v),
                Version::V1 => files::write_v1(&self.cgroup(), &conmon, v),
            }
        }
    }

    /// Sets the cgroup's creation-time mtimes: its directory and the file cAdvisor
    /// compares it with (cgroup.events / cgroup.clone_children). Call after writing.
    pub fn set_mtimes(&self, rel: &str, dir_secs: u64, file_secs: u64) {
        let root = match self.version {
            Version::V2 => self.cgroup(),
            Version::V1 => self.cgroup().join("memory"),
        };
        let file = match self.version {
            Version::V2 => "cgroup.events",
            Version::V1 => "cgroup.clone_children",
        };
        let at = |s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let dir = root.join(rel);
        std::fs::File::open(dir.join(file))
            .unwrap()
            .set_modified(at(file_secs))
            .unwrap();
        std::fs::File::open(&dir)
            .unwrap()
            .set_modified(at(dir_secs))
            .unwrap();
    }

    /// A process: its comm and its network namespace's net/dev.
    pub fn process(&self, pid: u32, comm: &str, net_dev: &str) {
        let dir = self.path(&format!("proc/{pid}/net"));
        std::fs::create_dir_all(&dir).unwrap();
        write(&dir, "dev", net_dev);
        write(dir.parent().unwrap(), "comm", &format!("{comm}\n"));
    }

    /// The kubelet's log symlink of a container and its pod directory.
    pub fn log_names(&self, ns: &str, pod: &str, uid: &str, container: &str, id: &str) {
        let pod_dir = self.path(&format!("log/pods/{ns}_{pod}_{uid}/{container}"));
        std::fs::create_dir_all(&pod_dir).unwrap();
        let link = self.path(&format!("log/containers/{pod}_{ns}_{container}-{id}.log"));
        std::os::unix::fs::symlink(pod_dir.join("0.log"), link).unwrap();
    }

    /// Removes a cgroup (a container exited), in every hierarchy.
    pub fn remove(&self, rel: &str) {
        let roots: Vec<PathBuf> = match self.version {
            Version::V2 => vec![self.cgroup()],
            Version::V1 => files::V1_CONTROLLERS
                .iter()
                .map(|c| self.cgroup().join(c))
                .collect(),
        };
        for r in roots {
            std::fs::remove_dir_all(r.join(rel)).unwrap();
        }
    }
}

pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), text).unwrap();
}

/// A pod sandbox's `/proc/<pid>/net/dev` with `eth0` at the given rx/tx bytes.
pub fn net_dev(rx_bytes: u64, tx_bytes: u64) -> String {
    format!(
        "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:    1200      12    0    0    0     0          0         0     1200      12    0    0    0     0       0          0\n  \
eth0: {rx_bytes:>9}    8858    3    4    0     0          0         0 {tx_bytes:>9}    6737    5    6    0     0       0          0\n"
    )
}

/// A 64-hex container id derived from `n`.
pub fn id(n: u64) -> String {
    format!("{:016x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).repeat(4)
}

/// A pod uid derived from `n`.
pub fn uid(n: u64) -> String {
    let h = format!(
        "{:032x}",
        (n as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)
    );
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
