//! timex: the `node_timex_*` families, the kernel's NTP state from adjtimex(2) with
//! modes 0 (read only; no capability needed). Mirrors node_exporter 1.5's timex
//! collector (collector/timex.go) and its unit conversions: `offset` and `jitter` are in
//! nanoseconds when STA_NANO is set, else microseconds; `maxerror`, `esterror` and `tick`
//! in microseconds; `freq`, `ppsfreq` and `stabil` in ppm with a 16-bit fraction.

use super::{CollectError, Collector};
use crate::exposition::{MetricFamily, MetricType};
use std::path::PathBuf;
use MetricType::{Counter, Gauge};

/// adjtimex's return value when the clock is not synchronized.
const TIME_ERROR: i32 = 5;
/// The `status` bit saying offsets are in nanoseconds.
const STA_NANO: i64 = 0x2000;
const NANOS: f64 = 1e9;
const MICROS: f64 = 1e6;
/// Scaled ppm: a 16-bit binary fraction of parts per million (see adjtimex(2) NOTES).
const PPM16FRAC: f64 = 1_000_000.0 * 65536.0;

/// The fields of `struct timex` that are reported, widened to i64, plus the call's
/// return value (the clock state).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Timex {
    pub state: i32,
    pub offset: i64,
    pub freq: i64,
    pub maxerror: i64,
    pub esterror: i64,
    pub status: i64,
    pub constant: i64,
    pub tick: i64,
    pub ppsfreq: i64,
    pub jitter: i64,
    pub shift: i64,
    pub stabil: i64,
    pub jitcnt: i64,
    pub calcnt: i64,
    pub errcnt: i64,
    pub stbcnt: i64,
    pub tai: i64,
}

impl Timex {
    /// Reads the kernel's state.
    pub fn read() -> std::io::Result<Self> {
        // SAFETY: `timex` is plain data; all-zero means modes 0, a pure read.
        let mut tx: libc::timex = unsafe { std::mem::zeroed() };
        // SAFETY: the pointer is valid and exclusive for the call.
        let state = unsafe { libc::adjtimex(&mut tx) };
        if state < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Timex {
            state,
            offset: tx.offset as i64,
            freq: tx.freq as i64,
            maxerror: tx.maxerror as i64,
            esterror: tx.esterror as i64,
            status: i64::from(tx.status),
            constant: tx.constant as i64,
            tick: tx.tick as i64,
            ppsfreq: tx.ppsfreq as i64,
            jitter: tx.jitter as i64,
            shift: i64::from(tx.shift),
            stabil: tx.stabil as i64,
            jitcnt: tx.jitcnt as i64,
            calcnt: tx.calcnt as i64,
            errcnt: tx.errcnt as i64,
            stbcnt: tx.stbcnt as i64,
            tai: i64::from(tx.tai),
        })
    }

    /// The values of [`FAMILIES`], converted as upstream does.
    pub fn values(&self) -> [f64; 17] {
        let divisor = if self.status & STA_NANO != 0 {
            NANOS
        } else {
            MICROS
        };
        let synced = if self.state == TIME_ERROR { 0.0 } else { 1.0 };
        let f = |v: i64| v as f64;
        [
            synced,
            f(self.offset) / divisor,
            1.0 + f(self.freq) / PPM16FRAC,
            f(self.maxerror) / MICROS,
            f(self.esterror) / MICROS,
            f(self.status),
            f(self.constant),
            f(self.tick) / MICROS,
            f(self.ppsfreq) / PPM16FRAC,
            f(self.jitter) / divisor,
            f(self.shift),
            f(self.stabil) / PPM16FRAC,
            f(self.jitcnt),
            f(self.calcnt),
            f(self.errcnt),
            f(self.stbcnt),
            f(self.tai),
        ]
    }

    /// The families in node_exporter's order.
    pub fn families(&self) -> Vec<MetricFamily> {
        FAMILIES
            .iter()
            .zip(self.values())
            .map(|((name, help, kind), v)| MetricFamily::new(*name, *help, *kind).value(v))
            .collect()
    }
}

/// Name, help and type of each family, in the order of [`Timex::values`].
#[rustfmt::skip]
const FAMILIES: [(&str, &str, MetricType); 17] = [
    ("node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).", Gauge),
    ("node_timex_offset_seconds", "Time offset in between local system and reference clock.", Gauge),
    ("node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.", Gauge),
    ("node_timex_maxerror_seconds", "Maximum error in seconds.", Gauge),
    ("node_timex_estimated_error_seconds", "Estimated error in seconds.", Gauge),
    ("node_timex_status", "Value of the status array bits.", Gauge),
    ("node_timex_loop_time_constant", "Phase-locked loop time constant.", Gauge),
    ("node_timex_tick_seconds", "Seconds between clock ticks.", Gauge),
    ("node_timex_pps_frequency_hertz", "Pulse per second frequency.", Gauge),
    ("node_timex_pps_jitter_seconds", "Pulse per second jitter.", Gauge),
    ("node_timex_pps_shift_seconds", "Pulse per second interval duration.", Gauge),
    ("node_timex_pps_stability_hertz", "Pulse per second stability, average of recent frequency changes.", Gauge),
    ("node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.", Counter),
    ("node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.", Counter),
    ("node_timex_pps_error_total", "Pulse per second count of calibration errors.", Counter),
    ("node_timex_pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events.", Counter),
    ("node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", Gauge),
];

pub struct TimexCollector;

impl Collector for TimexCollector {
    fn name(&self) -> &'static str {
        "timex"
    }

    fn collect(&self, out: &mut Vec<MetricFamily>) -> Result<(), CollectError> {
        let tx = Timex::read().map_err(|source| CollectError::Io {
            path: PathBuf::from("adjtimex(2)"),
            source,
        })?;
        out.extend(tx.families());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(fams: &[MetricFamily], name: &str) -> f64 {
        fams.iter().find(|f| f.name == name).unwrap().samples[0].value
    }

    /// This machine's state: unsynchronized (STA_UNSYNC), microsecond resolution.
    const UNSYNCED: Timex = Timex {
        state: TIME_ERROR,
        offset: 0,
        freq: 0,
        maxerror: 16_000_000,
        esterror: 16_000_000,
        status: 0x40,
        constant: 2,
        tick: 10_000,
        ppsfreq: 0,
        jitter: 0,
        shift: 0,
        stabil: 0,
        jitcnt: 0,
        calcnt: 0,
        errcnt: 0,
        stbcnt: 0,
        tai: 0,
    };

    #[test]
    fn converts_like_node_exporter() {
        let f = UNSYNCED.families();
        assert_eq!(f.len(), 17);
        assert_eq!(value(&f, "node_timex_sync_status"), 0.0);
        assert_eq!(value(&f, "node_timex_maxerror_seconds"), 16.0);
        assert_eq!(value(&f, "node_timex_estimated_error_seconds"), 16.0);
        assert_eq!(value(&f, "node_timex_status"), 64.0);
        assert_eq!(value(&f, "node_timex_tick_seconds"), 0.01);
        assert_eq!(value(&f, "node_timex_frequency_adjustment_ratio"), 1.0);
        assert_eq!(value(&f, "node_timex_loop_time_constant"), 2.0);
    }

    #[test]
    fn offset_unit_follows_the_sta_nano_bit() {
        let chrony = Timex {
            state: 0,
            offset: -1_500,
            jitter: 250,
            freq: -655_360,
            ppsfreq: 65_536,
            stabil: 131_072,
            tai: 37,
            calcnt: 9,
            ..UNSYNCED
        };
        let micro = chrony.families();
        assert_eq!(value(&micro, "node_timex_sync_status"), 1.0);
        assert_eq!(value(&micro, "node_timex_offset_seconds"), -0.0015);
        assert_eq!(value(&micro, "node_timex_pps_jitter_seconds"), 0.00025);
        assert_eq!(
            value(&micro, "node_timex_frequency_adjustment_ratio"),
            1.0 - 1e-5
        );
        assert_eq!(value(&micro, "node_timex_pps_frequency_hertz"), 1e-6);
        assert_eq!(value(&micro, "node_timex_pps_stability_hertz"), 2e-6);
        assert_eq!(value(&micro, "node_timex_tai_offset_seconds"), 37.0);
        let nano = Timex {
            status: 0x2000 | 0x1,
            ..chrony
        }
        .families();
        assert_eq!(value(&nano, "node_timex_offset_seconds"), -0.0000015);
        assert_eq!(value(&nano, "node_timex_pps_jitter_seconds"), 0.00000025);
        let calibration = nano
            .iter()
            .find(|f| f.name == "node_timex_pps_calibration_total");
        assert_eq!(calibration.unwrap().kind, MetricType::Counter);
    }

    #[test]
    fn reads_this_kernel() {
        let mut out = Vec::new();
        TimexCollector.collect(&mut out).unwrap();
        assert!(value(&out, "node_timex_tick_seconds") > 0.0);
    }
}
