//! The workload that owns a pod, resolved from the pod alone (never an extra GET):
//! ReplicaSet → Deployment by the pod's own `pod-template-hash` label (the hash alphabet
//! is not hex, so it is stripped by value, not by a pattern), Job → CronJob when the Job
//! name ends in `-<scheduled minutes>`, StatefulSet / DaemonSet / Job / others as they
//! are, no controller → the pod itself.

/// One `metadata.ownerReferences` entry, as kept in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub kind: Box<str>,
    pub name: Box<str>,
    pub controller: bool,
}

/// The pod's workload: what a person would call the pod's app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub kind: Box<str>,
    pub name: Box<str>,
}

/// The label the Deployment controller puts on pods and ReplicaSets (`<deploy>-<hash>`).
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Resolves the workload of pod `pod_name` from its owners and `pod-template-hash`.
pub fn workload(owners: &[OwnerRef], template_hash: Option<&str>, pod_name: &str) -> Workload {
    let Some(owner) = owners.iter().find(|o| o.controller) else {
        return make("Pod", pod_name);
    };
    match &*owner.kind {
        "ReplicaSet" => match deployment_of(&owner.name, template_hash) {
            Some(deployment) => make("Deployment", deployment),
            None => make("ReplicaSet", &owner.name),
        },
        "Job" => match cronjob_of(&owner.name) {
            Some(cronjob) => make("CronJob", cronjob),
            None => make("Job", &owner.name),
        },
        kind => make(kind, &owner.name),
    }
}

/// `checkout-7d9f8b6c5d` with hash `7d9f8b6c5d` → `checkout`.
pub fn deployment_of<'a>(replicaset: &'a str, template_hash: Option<&str>) -> Option<&'a str> {
    let hash = template_hash.filter(|h| !h.is_empty())?;
    let prefix = replicaset.strip_suffix(hash)?.strip_suffix('-')?;
    (!prefix.is_empty()).then_some(prefix)
}

/// `backup-29012345` → `backup`: the CronJob controller names Jobs
/// `<cronjob>-<scheduled time in unix minutes>` (8 digits and more since 1970-07).
pub fn cronjob_of(job: &str) -> Option<&str> {
    let (prefix, minutes) = job.rsplit_once('-')?;
    let digits = minutes.len() >= 8 && minutes.bytes().all(|b| b.is_ascii_digit());
    (digits && !prefix.is_empty()).then_some(prefix)
}

fn make(kind: &str, name: &str) -> Workload {
    Workload {
        kind: kind.into(),
        name: name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(kind: &str, name: &str, controller: bool) -> OwnerRef {
        OwnerRef {
            kind: kind.into(),
            name: name.into(),
            controller,
        }
    }

    #[test]
    fn workloads_of_real_pods() {
        let rs = [owner("ReplicaSet", "checkout-7d9f8b6c5d", true)];
        let w = workload(&rs, Some("7d9f8b6c5d"), "checkout-7d9f8b6c5d-x2x9q");
        assert_eq!((&*w.kind, &*w.name), ("Deployment", "checkout"));
        // A hash of letters only (the alphabet is bcdfghjklmnpqrstvwxz2456789).
        let rs = [owner("ReplicaSet", "web-bdfzkq", true)];
        assert_eq!(&*workload(&rs, Some("bdfzkq"), "p").name, "web");
        // A bare ReplicaSet (no hash label) stays a ReplicaSet.
        assert_eq!(&*workload(&rs, None, "p").kind, "ReplicaSet");
        let job = [owner("Job", "backup-29012345", true)];
        let w = workload(&job, None, "backup-29012345-abcde");
        assert_eq!((&*w.kind, &*w.name), ("CronJob", "backup"));
        let job = [owner("Job", "migrate-v2", true)];
        assert_eq!(&*workload(&job, None, "p").kind, "Job");
        let sts = [owner("StatefulSet", "db", true)];
        assert_eq!(&*workload(&sts, None, "db-0").name, "db");
        // Not a controller: the pod is its own workload.
        let weak = [owner("Node", "node-1", false)];
        let w = workload(&weak, None, "static-web-node-1");
        assert_eq!((&*w.kind, &*w.name), ("Pod", "static-web-node-1"));
    }

    #[test]
    fn hash_is_stripped_by_value_only() {
        assert_eq!(deployment_of("api-abc", Some("xyz")), None);
        assert_eq!(deployment_of("-abc", Some("abc")), None);
        assert_eq!(deployment_of("api-abc", Some("")), None);
        assert_eq!(cronjob_of("x-1234567"), None);
        assert_eq!(cronjob_of("-12345678"), None);
    }
}
