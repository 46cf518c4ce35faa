//! Pure parsers of the kernel's mount tables: `/proc/<pid>/mountinfo` (preferred: it is
//! per mount namespace and always carries the super-block options) and the older
//! `/proc/mounts` format (the fallback node_exporter 1.5 itself reads).

use std::borrow::Cow;

/// One mounted filesystem, as the labels of node_exporter's filesystem families need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount<'a> {
    /// The mount source as the kernel prints it (node_exporter 1.5 does not unescape it).
    pub device: &'a str,
    /// The mount point, with the kernel's octal escapes (`\040` for a space) decoded.
    pub mount_point: Cow<'a, str>,
    pub fstype: &'a str,
    /// The mount is read-only: `ro` among its options, as node_exporter checks.
    pub read_only: bool,
}

/// The mounts of a table, in the kernel's order, and how many lines could not be read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountTable<'a> {
    pub mounts: Vec<Mount<'a>>,
    pub malformed_lines: usize,
}

/// Parses `/proc/<pid>/mountinfo`:
/// `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`
/// (id, parent, dev, root, mount point, mount options, optional fields, `-`, fstype,
/// source, super options). A malformed line is skipped and counted, not fatal.
pub fn parse_mountinfo(contents: &str) -> MountTable<'_> {
    parse_lines(contents, mountinfo_line)
}

/// Parses `/proc/mounts` (`/dev/vda / ext4 rw,relatime 0 0`).
pub fn parse_mounts(contents: &str) -> MountTable<'_> {
    parse_lines(contents, mounts_line)
}

fn parse_lines<'a>(contents: &'a str, line: fn(&'a str) -> Option<Mount<'a>>) -> MountTable<'a> {
    let mut table = MountTable::default();
    for l in contents.lines().filter(|l| !l.trim().is_empty()) {
        match line(l) {
            Some(m) => table.mounts.push(m),
            None => table.malformed_lines += 1,
        }
    }
    table
}

fn mountinfo_line(line: &str) -> Option<Mount<'_>> {
    let mut f = line.split_ascii_whitespace();
    let (_id, _parent, _dev, _root) = (f.next()?, f.next()?, f.next()?, f.next()?);
    let (mount_point, mount_options) = (f.next()?, f.next()?);
    // Optional fields (shared:N, master:N, ...) run up to the `-` separator.
    f.by_ref().find(|&t| t == "-")?;
    let (fstype, device) = (f.next()?, f.next()?);
    // The super options (ro/rw of the super block, fs options); /proc/mounts prints both
    // lists as one, so node_exporter saw `ro` from either.
    let super_options = f.next().unwrap_or("");
    Some(Mount {
        device,
        mount_point: unescape(mount_point),
        fstype,
        read_only: has_ro(mount_options) || has_ro(super_options),
    })
}

fn mounts_line(line: &str) -> Option<Mount<'_>> {
    let mut f = line.split_ascii_whitespace();
    let (device, mount_point, fstype, options) = (f.next()?, f.next()?, f.next()?, f.next()?);
    Some(Mount {
        device,
        mount_point: unescape(mount_point),
        fstype,
        read_only: has_ro(options),
    })
}

fn has_ro(options: &str) -> bool {
    options.split(',').any(|o| o == "ro")
}

/// Decodes the kernel's `\ooo` octal escapes (it escapes space, tab, newline and
/// backslash in paths). Borrows when there is nothing to decode, the usual case.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i..i + 4).and_then(octal_escape) {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// `\ooo` (exactly three octal digits, value ≤ 0o377) to its byte.
fn octal_escape(four: &[u8]) -> Option<u8> {
    let [b'\\', a, b, c] = *four else {
        return None;
    };
    let digit = |d: u8| (b'0'..=b'7').contains(&d).then(|| u32::from(d - b'0'));
    let v = digit(a)? * 64 + digit(b)? * 8 + digit(c)?;
    u8::try_from(v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's `/proc/1/mountinfo` (a sandbox: no optional fields).
    const REAL_MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k,nr_inodes=3083615,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    /// A Kubernetes node's mountinfo (systemd host: optional fields, a projected volume,
    /// NFS, a bind mount, a mount point with a space and one with a backslash).
    const K8S_MOUNTINFO: &str = "\
24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
25 24 259:1 / /boot/efi rw,relatime shared:2 - vfat /dev/nvme0n1p1 rw,fmask=0077,dmask=0077
300 24 0:62 / /var/lib/kubelet/pods/0e1c-44/volumes/kubernetes.io~projected/kube-api-access-x rw,relatime shared:150 - tmpfs tmpfs rw,size=174080k
310 24 0:70 / /mnt/nfs rw,relatime shared:160 master:3 - nfs4 10.0.0.5:/export rw,vers=4.2,rsize=1048576
311 24 259:2 /srv/data /var/lib/data rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
312 24 259:3 / /media/My\\040Disk ro,nosuid shared:170 - ext4 /dev/sdb1 rw
313 24 259:4 / /odd\\134path\\011tab rw - xfs /dev/sdc rw
";

    #[test]
    fn parses_real_mountinfo() {
        let t = parse_mountinfo(REAL_MOUNTINFO);
        assert_eq!(t.malformed_lines, 0);
        assert_eq!(t.mounts.len(), 6);
        let root = &t.mounts[3];
        assert_eq!(
            (
                root.device,
                root.mount_point.as_ref(),
                root.fstype,
                root.read_only
            ),
            ("/dev/vda", "/", "ext4", false)
        );
        assert!(t.mounts[4].read_only);
        assert_eq!(t.mounts[4].device, "model_tools_unavailable");
    }

    #[test]
    fn parses_optional_fields_escapes_and_read_only() {
        let t = parse_mountinfo(K8S_MOUNTINFO);
        assert_eq!(t.malformed_lines, 0);
        let got: Vec<_> = t
            .mounts
            .iter()
            .map(|m| (m.device, m.mount_point.as_ref(), m.fstype, m.read_only))
            .collect();
        assert_eq!(got[3], ("10.0.0.5:/export", "/mnt/nfs", "nfs4", false));
        assert_eq!(got[4], ("/dev/nvme0n1p2", "/var/lib/data", "ext4", false));
        assert_eq!(got[5], ("/dev/sdb1", "/media/My Disk", "ext4", true));
        assert_eq!(got[6], ("/dev/sdc", "/odd\\path\ttab", "xfs", false));
    }

    #[test]
    fn skips_and_counts_malformed_lines() {
        let input = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
garbage
28 27 0:25 / /x rw,relatime no-separator tmpfs tmpfs rw
29 27 0:25 / /y rw - tmpfs
30 27 0:25 / /z rw - tmpfs none

31 27 0:25 /
";
        let t = parse_mountinfo(input);
        assert_eq!(t.malformed_lines, 4);
        let points: Vec<_> = t.mounts.iter().map(|m| m.mount_point.as_ref()).collect();
        // A line without super options is still usable.
        assert_eq!(points, ["/", "/z"]);
        assert_eq!(parse_mountinfo(""), MountTable::default());
    }

    #[test]
    fn parses_proc_mounts() {
        let input = "\
/dev/vda / ext4 rw,relatime,discard 0 0
model_tools_unavailable /mnt/sandboxing/python tmpfs ro,nosuid,nodev,relatime,size=4k 0 0
/dev/sdb1 /media/My\\040Disk ext4 rw 0 0
short line
";
        let t = parse_mounts(input);
        assert_eq!(t.malformed_lines, 1);
        assert_eq!(t.mounts.len(), 3);
        assert!(t.mounts[1].read_only);
        assert_eq!(t.mounts[2].mount_point, "/media/My Disk");
    }

    #[test]
    fn unescape_decodes_only_valid_octal_escapes() {
        assert!(matches!(unescape("/plain"), Cow::Borrowed("/plain")));
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/a\\012b"), "/a\nb");
        assert_eq!(unescape("/a\\134b"), "/a\\b");
        assert_eq!(unescape("/a\\99b\\"), "/a\\99b\\");
        assert_eq!(unescape("/a\\04"), "/a\\04");
        assert_eq!(unescape("/a\\777"), "/a\\777");
        assert_eq!(unescape("/δ\\040ü"), "/δ ü");
        // A lone high byte is not UTF-8: replaced, never a panic.
        assert_eq!(unescape("/a\\377"), "/a\u{fffd}");
    }
}
