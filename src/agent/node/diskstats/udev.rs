//! Pure parser of a udev database entry (`/run/udev/data/b<major>:<minor>`): the device
//! properties node_exporter 1.5's diskstats collector turns into labels and metrics.
//! Only `E:KEY=VALUE` lines are properties (see udevadm(8)); the rest are symlinks,
//! tags and bookkeeping.

/// The properties node_exporter reads; `None` when the entry lacks them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UdevInfo<'a> {
    pub model: Option<&'a str>,
    pub path: Option<&'a str>,
    pub revision: Option<&'a str>,
    pub serial_short: Option<&'a str>,
    pub wwn: Option<&'a str>,
    pub fs_type: Option<&'a str>,
    pub fs_usage: Option<&'a str>,
    pub fs_uuid: Option<&'a str>,
    pub fs_version: Option<&'a str>,
    pub dm_name: Option<&'a str>,
    pub dm_uuid: Option<&'a str>,
    pub dm_vg_name: Option<&'a str>,
    pub dm_lv_name: Option<&'a str>,
    pub dm_lv_layer: Option<&'a str>,
    pub ata: Option<&'a str>,
    pub ata_write_cache: Option<&'a str>,
    pub ata_write_cache_enabled: Option<&'a str>,
    pub ata_rotation_rate_rpm: Option<&'a str>,
}

/// Parses an entry; a later duplicate key wins, as in node_exporter's map.
pub fn parse(contents: &str) -> UdevInfo<'_> {
    let mut info = UdevInfo::default();
    for line in contents.lines() {
        let Some((key, value)) = line.strip_prefix("E:").and_then(|p| p.split_once('=')) else {
            continue;
        };
        if let Some(slot) = info.slot(key) {
            *slot = Some(value);
        }
    }
    info
}

impl<'a> UdevInfo<'a> {
    fn slot(&mut self, key: &str) -> Option<&mut Option<&'a str>> {
        Some(match key {
            "ID_MODEL" => &mut self.model,
            "ID_PATH" => &mut self.path,
            "ID_REVISION" => &mut self.revision,
            "ID_SERIAL_SHORT" => &mut self.serial_short,
            "ID_WWN" => &mut self.wwn,
            "ID_FS_TYPE" => &mut self.fs_type,
            "ID_FS_USAGE" => &mut self.fs_usage,
            "ID_FS_UUID" => &mut self.fs_uuid,
            "ID_FS_VERSION" => &mut self.fs_version,
            "DM_NAME" => &mut self.dm_name,
            "DM_UUID" => &mut self.dm_uuid,
            "DM_VG_NAME" => &mut self.dm_vg_name,
            "DM_LV_NAME" => &mut self.dm_lv_name,
            "DM_LV_LAYER" => &mut self.dm_lv_layer,
            "ID_ATA" => &mut self.ata,
            "ID_ATA_WRITE_CACHE" => &mut self.ata_write_cache,
            "ID_ATA_WRITE_CACHE_ENABLED" => &mut self.ata_write_cache_enabled,
            "ID_ATA_ROTATION_RATE_RPM" => &mut self.ata_rotation_rate_rpm,
            _ => return None,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A SATA disk's entry (from node_exporter #304, trimmed).
    pub const SATA_DISK: &str = "\
S:disk/by-id/wwn-0x5001b449ce83154a
S:disk/by-path/pci-0000:00:1f.2-ata-1
W:18
I:1643451
E:ID_ATA=1
E:ID_ATA_FEATURE_SET_SMART=1
E:ID_ATA_ROTATION_RATE_RPM=0
E:ID_ATA_SATA=1
E:ID_ATA_WRITE_CACHE=1
E:ID_ATA_WRITE_CACHE_ENABLED=1
E:ID_BUS=ata
E:ID_MODEL=SanDisk_SD5SG2256G1052E
E:ID_MODEL_ENC=SanDisk\\x20SD5SG2256G1052E\\x20\\x20
E:ID_REVISION=X2310000
E:ID_SERIAL=SanDisk_SD5SG2256G1052E_132119402826
E:ID_SERIAL_SHORT=132119402826
E:ID_TYPE=disk
E:ID_WWN=0x5001b449ce83154a
E:ID_PATH=pci-0000:00:1f.2-ata-1
E:ID_PATH_TAG=pci-0000_00_1f_2-ata-1
G:systemd
";

    /// An LVM logical volume's entry.
    pub const LVM_VOLUME: &str = "\
S:mapper/vg0-root
E:DM_NAME=vg0-root
E:DM_UUID=LVM-zfR6VpZ7Aw4oOxOFVzKjr3U4IbdAcHdzHr9xMGykOaaUGIYvHXbOZ90TiOh39RYr
E:DM_VG_NAME=vg0
E:DM_LV_NAME=root
E:ID_FS_TYPE=ext4
E:ID_FS_USAGE=filesystem
E:ID_FS_UUID=1196ae70-dca7-4c89-8ea7-52456bf23052
E:ID_FS_VERSION=1.0
";

    #[test]
    fn reads_a_sata_disk() {
        let i = parse(SATA_DISK);
        assert_eq!(i.model, Some("SanDisk_SD5SG2256G1052E"));
        assert_eq!(i.serial_short, Some("132119402826"));
        assert_eq!(i.wwn, Some("0x5001b449ce83154a"));
        assert_eq!(i.path, Some("pci-0000:00:1f.2-ata-1"));
        assert_eq!(i.revision, Some("X2310000"));
        assert_eq!(i.ata, Some("1"));
        assert_eq!(i.ata_rotation_rate_rpm, Some("0"));
        assert_eq!(i.fs_type, None);
    }

    #[test]
    fn reads_a_device_mapper_volume() {
        let i = parse(LVM_VOLUME);
        assert_eq!(i.dm_name, Some("vg0-root"));
        assert_eq!(i.dm_lv_layer, None);
        assert_eq!(i.fs_usage, Some("filesystem"));
        assert_eq!(i.model, None);
    }

    #[test]
    fn only_property_lines_count_and_the_last_duplicate_wins() {
        let i = parse("ID_MODEL=bare\nS:ID_MODEL=link\nE:ID_MODEL\nE:ID_MODEL=a\nE:ID_MODEL=b=c\n");
        assert_eq!(i.model, Some("b=c"));
        assert_eq!(parse(""), UdevInfo::default());
        let odd = parse("E:ID_SERIAL_SHORT=a \"quoted\\ serial\"\nE:ID_WWN=\n");
        assert_eq!(odd.serial_short, Some("a \"quoted\\ serial\""));
        assert_eq!(odd.wwn, Some(""));
    }
}
