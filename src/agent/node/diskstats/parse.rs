//! Pure parser of `/proc/diskstats`, as prometheus/procfs's `ProcDiskstats` reads it for
//! node_exporter: up to 17 counters after `major minor name` (14 fields before Linux
//! 4.18, 18 with discards, 20 with flushes since 5.5).

/// The most counters a line carries (kernel 5.5+).
pub const MAX_STATS: usize = 17;

/// The fewest counters procfs accepts: shorter lines (partitions on kernels before 2.6.25
/// had 4) are skipped.
const MIN_STATS: usize = 11;

/// One line of `/proc/diskstats`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskLine<'a> {
    pub major: u32,
    pub minor: u32,
    pub device: &'a str,
    /// The counters in the kernel's order; only the first `count` are present.
    pub stats: [u64; MAX_STATS],
    pub count: usize,
}

impl DiskLine<'_> {
    /// The counters this kernel reports.
    pub fn present(&self) -> &[u64] {
        &self.stats[..self.count]
    }
}

/// Parses the whole file. Like procfs: a line with fewer than 14 fields is skipped, a
/// field that is not a number fails the file, fields past the 20th are ignored.
pub fn parse(contents: &str) -> Result<Vec<DiskLine<'_>>, String> {
    let mut out = Vec::with_capacity(32);
    for (n, line) in contents.lines().enumerate() {
        if let Some(d) = parse_line(line).map_err(|m| format!("line {}: {m}", n + 1))? {
            out.push(d);
        }
    }
    Ok(out)
}

fn parse_line(line: &str) -> Result<Option<DiskLine<'_>>, String> {
    let mut fields = line.split_ascii_whitespace();
    let (Some(major), Some(minor), Some(device)) = (fields.next(), fields.next(), fields.next())
    else {
        return Ok(None);
    };
    let mut d = DiskLine {
        major: number(major)?,
        minor: number(minor)?,
        device,
        stats: [0; MAX_STATS],
        count: 0,
    };
    for (slot, field) in d.stats.iter_mut().zip(fields) {
        *slot = number(field)?;
        d.count += 1;
    }
    Ok((d.count >= MIN_STATS).then_some(d))
}

fn number<T: std::str::FromStr>(field: &str) -> Result<T, String> {
    field
        .parse()
        .map_err(|_| format!("{field:?} is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine's `/proc/diskstats` (kernel with flush fields: 20 per line).
    const REAL: &str = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 42273 7054 4228218 27397 9363 24668 6675984 28113 0 9140 56106 4972 53 234464 553 924 41
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
";

    #[test]
    fn parses_a_real_twenty_field_file() {
        let lines = parse(REAL).unwrap();
        assert_eq!(lines.len(), 3);
        let vda = &lines[1];
        assert_eq!(
            (vda.major, vda.minor, vda.device, vda.count),
            (254, 0, "vda", 17)
        );
        assert_eq!(vda.present()[0], 42273);
        assert_eq!(vda.present()[2], 4228218);
        assert_eq!(vda.present()[16], 41);
    }

    #[test]
    fn older_kernels_have_fewer_fields() {
        // 4.18 to 5.4: discards but no flushes; before 4.18: 14 fields.
        let input = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n\
                     8       1 sda1 1 2 3 4 5 6 7 8 9 10 11\n";
        let lines = parse(input).unwrap();
        assert_eq!(
            lines[0].present(),
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        );
        assert_eq!(lines[1].count, 11);
    }

    #[test]
    fn short_lines_are_skipped_and_extra_fields_ignored() {
        let input = "\n   8  1 sda1 40 0 4128\n   8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n";
        let lines = parse(input).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].count, 17);
        assert_eq!(lines[0].present()[16], 17);
    }

    #[test]
    fn odd_device_names_and_huge_counters() {
        let input = "252 3 dm-3.ü_x 18446744073709551615 0 0 0 0 0 0 0 0 0 0\n";
        let lines = parse(input).unwrap();
        assert_eq!(lines[0].device, "dm-3.ü_x");
        assert_eq!(lines[0].stats[0], u64::MAX);
    }

    #[test]
    fn a_field_that_is_not_a_number_fails_the_file() {
        let err = parse("8 0 sda 1 2 x 4 5 6 7 8 9 10 11\n").unwrap_err();
        assert!(err.contains("line 1") && err.contains("\"x\""), "{err}");
        assert!(parse("x 0 sda 1 2 3 4 5 6 7 8 9 10 11\n").is_err());
        assert!(parse("8 0 sda -1 2 3 4 5 6 7 8 9 10 11\n").is_err());
    }
}
