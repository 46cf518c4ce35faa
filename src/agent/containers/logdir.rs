//! Container and pod names from the kubelet's log directories, for nodes without a
//! reachable API server: the symlinks `<containers-dir>/<pod>_<namespace>_<container>-<id>.log`
//! (kubernetes pkg/kubelet/kuberuntime/legacy.go `logSymlink`) and the pod directories
//! `<pods-dir>/<namespace>_<pod>_<uid>`. Pod, namespace and container names cannot hold
//! `_`, so the split is unambiguous. Each directory is re-listed only when its mtime
//! changes (adding or removing an entry changes it); the image is not known here.

use super::naming::{ContainerName, ContainerNames, PodName};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

/// Names from `--logs.containers-dir` and `--logs.pods-dir`.
pub struct LogDirNames {
    containers_dir: PathBuf,
    pods_dir: PathBuf,
    containers: RwLock<Listing<ContainerName>>,
    pods: RwLock<Listing<PodName>>,
}

/// One directory's parsed entries, valid for the directory's `mtime`.
struct Listing<T> {
    mtime: Option<SystemTime>,
    by_key: HashMap<String, T>,
}

impl<T> Default for Listing<T> {
    fn default() -> Self {
        Listing {
            mtime: None,
            by_key: HashMap::new(),
        }
    }
}

impl LogDirNames {
    pub fn new(containers_dir: PathBuf, pods_dir: PathBuf) -> Self {
        LogDirNames {
            containers_dir,
            pods_dir,
            containers: RwLock::default(),
            pods: RwLock::default(),
        }
    }
}

impl ContainerNames for LogDirNames {
    fn refresh(&self) {
        relist(&self.containers, &self.containers_dir, parse_symlink);
        relist(&self.pods, &self.pods_dir, parse_pod_dir);
    }

    fn container(&self, _pod_uid: &str, container_id: &str) -> Option<ContainerName> {
        let listing = self.containers.read().unwrap_or_else(|e| e.into_inner());
        listing.by_key.get(container_id).cloned()
    }

    fn pod(&self, pod_uid: &str) -> Option<PodName> {
        let listing = self.pods.read().unwrap_or_else(|e| e.into_inner());
        listing.by_key.get(pod_uid).cloned()
    }
}

/// Re-reads `dir` into `listing` when its mtime moved; a missing directory empties it.
fn relist<T>(listing: &RwLock<Listing<T>>, dir: &Path, parse: fn(&str) -> Option<(String, T)>) {
    let mtime = std::fs::metadata(dir).and_then(|m| m.modified()).ok();
    if mtime.is_some() && listing.read().unwrap_or_else(|e| e.into_inner()).mtime == mtime {
        return;
    }
    let mut by_key = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if let Some((key, value)) = entry.file_name().to_str().and_then(parse) {
                by_key.insert(key, value);
            }
        }
    }
    *listing.write().unwrap_or_else(|e| e.into_inner()) = Listing { mtime, by_key };
}

/// `<pod>_<namespace>_<container>-<64 hex id>.log` → (id, names). A name cut at 255
/// bytes (long pod names) has lost part of its id and is skipped.
pub fn parse_symlink(file: &str) -> Option<(String, ContainerName)> {
    let stem = file.strip_suffix(".log")?;
    let (prefix, id) = stem.rsplit_once('-')?;
    if id.len() != 64 || !id.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut parts = prefix.splitn(3, '_');
    let (pod, namespace, container) = (parts.next()?, parts.next()?, parts.next()?);
    if pod.is_empty() || namespace.is_empty() || container.is_empty() {
        return None;
    }
    let name = ContainerName {
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
        container: container.to_owned(),
        image: String::new(),
    };
    Some((id.to_owned(), name))
}

/// `<namespace>_<pod>_<uid>` → (uid, names).
pub fn parse_pod_dir(dir: &str) -> Option<(String, PodName)> {
    let mut parts = dir.splitn(3, '_');
    let (namespace, pod, uid) = (parts.next()?, parts.next()?, parts.next()?);
    if namespace.is_empty() || pod.is_empty() || uid.len() != 36 {
        return None;
    }
    let name = PodName {
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
    };
    Some((uid.to_owned(), name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809";
    const UID: &str = "3f2b8c1e-5d6a-4e7f-9a0b-1c2d3e4f5a6b";

    #[test]
    fn symlink_names() {
        let file = format!("checkout-7d9f8b6c5d-x2x9q_shop_proxy-{ID}.log");
        let (id, n) = parse_symlink(&file).unwrap();
        assert_eq!(id, ID);
        assert_eq!(
            (n.pod.as_str(), n.namespace.as_str(), n.container.as_str()),
            ("checkout-7d9f8b6c5d-x2x9q", "shop", "proxy")
        );
        assert_eq!(n.image, "");
        for bad in [
            format!("checkout_shop_proxy-{}.log", &ID[..40]),
            format!("checkout_shop-{ID}.log"),
            format!("checkout_shop_proxy-{ID}.log.1"),
            format!("_shop_proxy-{ID}.log"),
            "garbage".to_owned(),
        ] {
            assert_eq!(parse_symlink(&bad), None, "{bad}");
        }
    }

    #[test]
    fn pod_dir_names() {
        let (uid, n) = parse_pod_dir(&format!("shop_checkout-7d9f8b6c5d-x2x9q_{UID}")).unwrap();
        assert_eq!(uid, UID);
        assert_eq!(
            (n.namespace.as_str(), n.pod.as_str()),
            ("shop", "checkout-7d9f8b6c5d-x2x9q")
        );
        assert_eq!(parse_pod_dir("shop_checkout"), None);
        assert_eq!(parse_pod_dir("shop_checkout_short"), None);
    }

    #[test]
    fn follows_the_directories() {
        let dir = tempfile::tempdir().unwrap();
        let (containers, pods) = (dir.path().join("containers"), dir.path().join("pods"));
        let names = LogDirNames::new(containers.clone(), pods.clone());
        names.refresh();
        assert_eq!(names.container(UID, ID), None, "no directories yet");
        std::fs::create_dir_all(pods.join(format!("shop_web-0_{UID}"))).unwrap();
        std::fs::create_dir_all(&containers).unwrap();
        let link = containers.join(format!("web-0_shop_app-{ID}.log"));
        std::os::unix::fs::symlink("/nonexistent/0.log", &link).unwrap();
        names.refresh();
        assert_eq!(names.container(UID, ID).unwrap().container, "app");
        assert_eq!(names.pod(UID).unwrap().pod, "web-0");
        std::fs::remove_file(&link).unwrap();
        // The directory's mtime may keep its value within the filesystem's granularity.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::open(&containers)
            .unwrap()
            .set_modified(later)
            .unwrap();
        names.refresh();
        assert_eq!(names.container(UID, ID), None, "the symlink is gone");
    }
}
