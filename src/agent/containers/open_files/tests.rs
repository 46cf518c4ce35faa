use super::*;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

fn cgroup(root: &Path, rel: &str, usage: &str) -> u64 {
    let dir = root.join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("memory.current"), usage).unwrap();
    std::fs::write(dir.join("memory.peak"), "7\n").unwrap();
    std::fs::metadata(&dir).unwrap().ino()
}

/// Reads `memory.current` and `memory.peak` of `rel` through the cache.
fn read(cache: &mut DirCache, root: &Path, rel: &str, ino: u64) -> Option<(String, String)> {
    let dir = match cache.get(rel, ino, None, |_| {
        Some(Dirs::V2(CgroupDir::open(&root.join(rel)).ok()?))
    })? {
        Dirs::V2(d) => d,
        Dirs::V1(_) => unreachable!("opened as v2"),
    };
    let mut buf = Vec::new();
    let current = dir.read("memory.current", &mut buf).unwrap().to_owned();
    let peak = dir.read("memory.peak", &mut buf).unwrap().to_owned();
    Some((current, peak))
}

#[test]
fn keeps_files_open_and_sees_new_values() {
    let root = tempfile::tempdir().unwrap();
    let ino = cgroup(root.path(), "pod/a", "1\n");
    let budget = FdBudget::exact(100);
    let mut cache = DirCache::new(budget.clone());
    let got = read(&mut cache, root.path(), "pod/a", ino).unwrap();
    assert_eq!(got, ("1\n".into(), "7\n".into()));
    assert_eq!(budget.held(), 3, "the directory and its two files");
    std::fs::write(root.path().join("pod/a/memory.current"), "22\n").unwrap();
    cache.sweep();
    let got = read(&mut cache, root.path(), "pod/a", ino).unwrap();
    assert_eq!(got.0, "22\n", "read afresh from offset 0");
    assert_eq!(budget.held(), 3);
    assert_eq!(budget.uncached.load(Ordering::Relaxed), 0);
}

#[test]
fn reopens_a_cgroup_recreated_under_the_same_path() {
    let root = tempfile::tempdir().unwrap();
    let ino = cgroup(root.path(), "pod/a", "1\n");
    let mut cache = DirCache::new(FdBudget::exact(100));
    read(&mut cache, root.path(), "pod/a", ino).unwrap();
    std::fs::remove_dir_all(root.path().join("pod/a")).unwrap();
    // Keep the old inode number from being reused for the new directory.
    let _other = cgroup(root.path(), "pod/b", "0\n");
    let ino2 = cgroup(root.path(), "pod/a", "5\n");
    assert_ne!(ino, ino2);
    let got = read(&mut cache, root.path(), "pod/a", ino2).unwrap();
    assert_eq!(got.0, "5\n", "not the removed cgroup's file");
}

#[test]
fn sweep_closes_cgroups_that_went_away_and_returns_the_budget() {
    let root = tempfile::tempdir().unwrap();
    let a = cgroup(root.path(), "a", "1\n");
    let b = cgroup(root.path(), "b", "2\n");
    let budget = FdBudget::exact(100);
    let mut cache = DirCache::new(budget.clone());
    read(&mut cache, root.path(), "a", a).unwrap();
    read(&mut cache, root.path(), "b", b).unwrap();
    cache.sweep();
    assert_eq!(budget.held(), 6);
    read(&mut cache, root.path(), "a", a).unwrap();
    cache.sweep();
    assert_eq!(budget.held(), 3, "b was not asked for");
    drop(cache);
    assert_eq!(budget.held(), 0);
}

#[test]
fn beyond_the_bound_cgroups_and_files_are_read_uncached_and_counted() {
    let root = tempfile::tempdir().unwrap();
    let a = cgroup(root.path(), "a", "1\n");
    let b = cgroup(root.path(), "b", "2\n");
    let budget = FdBudget::exact(2);
    let mut cache = DirCache::new(budget.clone());
    // a: its directory and memory.current fit, memory.peak does not.
    assert_eq!(read(&mut cache, root.path(), "a", a).unwrap().1, "7\n");
    assert_eq!(budget.held(), 2);
    assert_eq!(budget.uncached.load(Ordering::Relaxed), 1);
    // b: no room for its directory (counted once per read, its files with it).
    assert_eq!(read(&mut cache, root.path(), "b", b).unwrap().0, "2\n");
    assert_eq!(read(&mut cache, root.path(), "b", b).unwrap().0, "2\n");
    assert_eq!(budget.held(), 2);
    assert_eq!(budget.uncached.load(Ordering::Relaxed), 3);
}

#[test]
fn a_gone_cgroup_is_none_and_a_failing_held_file_is_reopened() {
    let root = tempfile::tempdir().unwrap();
    let mut cache = DirCache::new(FdBudget::exact(100));
    assert_eq!(read(&mut cache, root.path(), "gone", 1), None);
    let budget = FdBudget::exact(10);
    let held = Held::new(budget.clone());
    let file = std::fs::File::open(root.path()).unwrap();
    held.keep("f", file.into());
    assert_eq!(budget.held(), 1);
    let failed: Option<()> = held.read("f", |_| Err(()));
    assert_eq!(failed, None);
    assert_eq!(budget.held(), 0, "closed after the failure");
    assert_eq!(held.read("f", |_| Ok::<_, ()>(())), None, "no longer held");
}

#[test]
fn the_budget_is_bounded_by_the_descriptor_limit() {
    let budget = FdBudget::new(usize::MAX);
    assert!(budget.take(1));
    assert!((budget.left.load(Ordering::Relaxed) as u64) < crate::agent::fdlimit::soft() / 2);
}

#[test]
fn a_budget_changes_no_limit() {
    // Raised first (as at start-up): a raise by another test meanwhile changes nothing.
    crate::agent::fdlimit::raise().unwrap();
    let before = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let _budget = FdBudget::new(8192);
    let after = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    assert_eq!(
        (after.current, after.maximum),
        (before.current, before.maximum)
    );
}

#[test]
fn an_absent_file_is_looked_up_again_only_every_absent_skips_reads() {
    let root = tempfile::tempdir().unwrap();
    let ino = cgroup(root.path(), "pod/a", "1\n");
    let mut cache = DirCache::new(FdBudget::exact(100));
    let mut buf = Vec::new();
    let mut read_swap = |cache: &mut DirCache| {
        let Some(Dirs::V2(dir)) = cache.get("pod/a", ino, None, |_| {
            Some(Dirs::V2(CgroupDir::open(&root.path().join("pod/a")).ok()?))
        }) else {
            unreachable!("opened as v2")
        };
        dir.read("memory.swap.current", &mut buf).map(str::to_owned)
    };
    let err = read_swap(&mut cache).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    // The file appears (a controller enabled later): still absent for the skips left.
    std::fs::write(root.path().join("pod/a/memory.swap.current"), "5\n").unwrap();
    for _ in 0..ABSENT_SKIPS {
        let err = read_swap(&mut cache).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
    assert_eq!(read_swap(&mut cache).unwrap(), "5\n", "looked up again");
    assert_eq!(read_swap(&mut cache).unwrap(), "5\n", "and now held");
}
