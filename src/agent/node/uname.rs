//! uname: `node_uname_info{domainname,machine,nodename,release,sysname,version}` from
//! the uname(2) system call. Mirrors node_exporter 1.5's uname collector
//! (collector/uname_linux.go): like upstream this is the agent's own UTS namespace, so
//! `nodename` is the pod's host name unless the pod runs with `hostNetwork` (which
//! shares the host's UTS namespace too).

use super::{CollectError, Collector};
use crate::exposition::MetricFamily;
use std::ffi::CStr;

/// The six uname fields as label values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnameInfo {
    pub domainname: String,
    pub machine: String,
    pub nodename: String,
    pub release: String,
    pub sysname: String,
    pub version: String,
}

impl UnameInfo {
    /// Reads this process's uname.
    pub fn current() -> Self {
        let u = rustix::system::uname();
        let s = |c: &CStr| c.to_string_lossy().into_owned();
        UnameInfo {
            domainname: s(u.domainname()),
            machine: s(u.machine()),
            nodename: s(u.nodename()),
            release: s(u.release()),
            sysname: s(u.sysname()),
            version: s(u.version()),
        }
    }

    pub fn family(&self) -> MetricFamily {
        MetricFamily::gauge(
            "node_uname_info",
            "Labeled system information as provided by the uname system call.",
        )
        .with(
            &[
                ("domainname", &self.domainname),
                ("machine", &self.machine),
                ("nodename", &self.nodename),
                ("release", &self.release),
                ("sysname", &self.sysname),
                ("version", &self.version),
            ],
            1.0,
        )
    }
}

/// Calls uname(2) on every scrape: the host name can change while the agent runs.
pub struct Uname;

impl Collector for Uname {
    fn name(&self) -> &'static str {
        "uname"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        out.push(UnameInfo::current().family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_the_six_labels_in_order() {
        let info = UnameInfo {
            domainname: "(none)".into(),
            machine: "x86_64".into(),
            nodename: "vm".into(),
            release: "6.18.44-fc-v669".into(),
            sysname: "Linux".into(),
            version: "#1 SMP PREEMPT_DYNAMIC @0".into(),
        };
        let f = info.family();
        let labels: Vec<_> = f.samples[0]
            .labels
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("domainname", "(none)"),
                ("machine", "x86_64"),
                ("nodename", "vm"),
                ("release", "6.18.44-fc-v669"),
                ("sysname", "Linux"),
                ("version", "#1 SMP PREEMPT_DYNAMIC @0"),
            ]
        );
        assert_eq!(f.samples[0].value, 1.0);
    }

    #[test]
    fn collects_this_machines_uname() {
        let mut out = Vec::new();
        Uname.collect(&mut out).unwrap();
        let labels = &out[0].samples[0].labels;
        assert_eq!(labels[4].1, "Linux");
        assert!(!labels[3].1.is_empty());
    }
}
