//! Discovery against real temp dirs: kubelet's layout, rotated siblings, symlinks (no
//! file twice), globs, and a file created after start found through inotify and,
//! with inotify off, through the periodic rescan (Vector #18710).

use super::*;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

fn touch(p: &Path) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, b"x\n").unwrap();
}

#[test]
fn finds_streams_with_their_rotated_files_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let pods = dir.path().join("pods");
    let c = pods.join("default_web-1.a_uid1/nginx");
    for name in [
        "0.log",
        "0.log.20240102-000000",
        "0.log.20240101-000000",
        "0.log.20231231-000000.gz",
        "0.log.20231230-000000.gz.tmp",
        "1.log",
        "notes.txt",
    ] {
        touch(&c.join(name));
    }
    touch(&pods.join("not-a-pod-dir/app/0.log"));
    let found = scan(&DiscoverConfig::new(pods.clone(), None)).unwrap();
    assert_eq!(
        found,
        vec![
            Discovered {
                live: c.join("0.log"),
                rotated: vec![
                    c.join("0.log.20240101-000000"),
                    c.join("0.log.20240102-000000")
                ],
            },
            Discovered {
                live: c.join("1.log"),
                rotated: vec![],
            },
        ]
    );
}

#[test]
fn a_cri_dockerd_stream_lists_dockers_rotated_files_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let docker = dir.path().join("docker/containers/abc");
    for name in [
        "abc-json.log",
        "abc-json.log.1",
        "abc-json.log.2",
        "abc-json.log.10",
        "abc-json.log.3.gz",
        "abc-json.log.tmp",
        "other-json.log.1",
    ] {
        touch(&docker.join(name));
    }
    let pods = dir.path().join("pods");
    let (absolute, relative) = (pods.join("ns_a_uid1/app"), pods.join("ns_b_uid2/app"));
    fs::create_dir_all(&absolute).unwrap();
    fs::create_dir_all(&relative).unwrap();
    symlink(docker.join("abc-json.log"), absolute.join("0.log")).unwrap();
    // a relative link, from the link's own directory
    symlink(
        "../../../docker/containers/abc/abc-json.log",
        relative.join("0.log"),
    )
    .unwrap();
    let found = scan(&DiscoverConfig::new(pods.clone(), None)).unwrap();
    let older = ["abc-json.log.10", "abc-json.log.2", "abc-json.log.1"];
    for (d, c) in found.iter().zip([&absolute, &relative]) {
        assert_eq!(d.live, c.join("0.log"));
        let names: Vec<String> = d
            .rotated
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, older, "{}", d.live.display());
        assert!(d.rotated.iter().all(|p| p.is_file()), "{:?}", d.rotated);
    }
    assert_eq!(found.len(), 2);
}

#[test]
fn a_stream_whose_live_file_is_being_rotated_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path().join("ns_pod_uid/app");
    touch(&c.join("0.log.20240101-000000"));
    let found = scan(&DiscoverConfig::new(dir.path().to_owned(), None)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].live, c.join("0.log"));
}

#[test]
fn symlinks_never_yield_the_same_file_twice() {
    let dir = tempfile::tempdir().unwrap();
    let pods = dir.path().join("pods");
    let containers = dir.path().join("containers");
    let elsewhere = dir.path().join("docker/abc-json.log");
    let live = pods.join("ns_pod_uid/app/0.log");
    touch(&live);
    touch(&elsewhere);
    fs::create_dir_all(&containers).unwrap();
    symlink(&live, containers.join("pod_ns_app-1234.log")).unwrap();
    symlink(&live, containers.join("again_ns_app-1234.log")).unwrap();
    symlink(&elsewhere, containers.join("other_ns_app-5678.log")).unwrap();
    symlink(&elsewhere, containers.join("twice_ns_app-5678.log")).unwrap();
    symlink(
        dir.path().join("gone"),
        containers.join("dangling_ns_app-0.log"),
    )
    .unwrap();
    let found = scan(&DiscoverConfig::new(pods, Some(containers))).unwrap();
    let lives: Vec<_> = found.iter().map(|d| d.live.clone()).collect();
    assert_eq!(lives, vec![live, fs::canonicalize(&elsewhere).unwrap()]);
}

#[test]
fn include_and_exclude_globs_filter_on_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for pod in ["kube-system_dns_u1", "default_web_u2", "default_debug_u3"] {
        touch(&dir.path().join(pod).join("c/0.log"));
    }
    let config = DiscoverConfig::new(dir.path().to_owned(), None)
        .with_globs(&["**/default_*/**"], &["**/*_debug_*/**"])
        .unwrap();
    let found = scan(&config).unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].live.to_string_lossy().contains("default_web_u2"));
    let bad = DiscoverConfig::new(dir.path().to_owned(), None).with_globs(&["a[b"], &[]);
    assert!(bad.is_err());
}

/// Polls the provider until `want` streams are found or `limit` passes.
fn wait_for(p: &mut WatchedProvider, want: usize, limit: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if p.paths().len() == want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_file_created_after_start_is_found_through_inotify() {
    let dir = tempfile::tempdir().unwrap();
    let config = DiscoverConfig::new(dir.path().to_owned(), None);
    let mut p = WatchedProvider::new(config, Duration::from_secs(3600), true);
    assert!(p.is_watching());
    assert!(p.paths().is_empty());
    touch(&dir.path().join("ns_new-pod_uid/app/0.log"));
    assert!(wait_for(&mut p, 1, Duration::from_secs(5)));
    assert!(p.notified_scans >= 1);
}

#[test]
fn a_file_created_after_start_is_found_by_the_rescan_without_inotify() {
    let dir = tempfile::tempdir().unwrap();
    let config = DiscoverConfig::new(dir.path().to_owned(), None);
    let mut p = WatchedProvider::new(config, Duration::from_millis(100), false);
    assert!(!p.is_watching());
    assert!(p.paths().is_empty());
    touch(&dir.path().join("ns_new-pod_uid/app/0.log"));
    assert!(wait_for(&mut p, 1, Duration::from_secs(5)));
    assert_eq!(p.notified_scans, 0);
    assert!(p.scans >= 2);
}
