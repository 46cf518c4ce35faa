//! The process's open-file limit (RLIMIT_NOFILE): raised once at start-up by the binary,
//! read by the collectors that hold files open to size their budgets (the containers
//! collector's held cgroup files, the sysfs attribute cache).

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The soft limit in force (`u64::MAX` when unlimited).
pub fn soft() -> u64 {
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Raises the soft limit to the hard one, as Go programs such as cAdvisor do at start
/// (systemd's default soft limit, 1024, is kept low only for programs using select(2));
/// returns the soft limit now in force. A process-wide change: the agent's start-up
/// calls it once, before the collectors are built.
pub fn raise() -> std::io::Result<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    Ok(soft())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_sets_the_soft_limit_to_the_hard_one() {
        let now = raise().unwrap();
        let after = getrlimit(Resource::Nofile);
        assert_eq!(after.current, after.maximum, "soft raised to hard");
        assert_eq!(after.current.unwrap_or(u64::MAX), now);
    }
}
