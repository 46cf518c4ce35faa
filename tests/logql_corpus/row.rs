//! One corpus row: the query text, when it is asked (a range with its step, limit and
//! direction, or an instant) and the reference's answer; plus the builders the row
//! tables use.

use crate::data::{Labels, HOUR, S, T0};
use crate::expect::Expected;
use crate::parsers::Line;
use crate::reference::{self, Series, Steps};
use crate::vectors;

#[derive(Clone, Copy, Debug)]
pub enum At {
    Range {
        start: i64,
        end: i64,
        step: i64,
        limit: usize,
        backward: bool,
    },
    Instant(i64),
}

pub struct Row {
    pub query: String,
    pub at: At,
    pub expect: Expected,
}

pub const MIN: i64 = 60 * S;
/// Metric rows' steps: every 5 minutes from T0+10m to T0+1h.
pub const STEPS: Steps = Steps {
    start: T0 + 10 * MIN,
    end: T0 + HOUR,
    step: 5 * MIN,
};

impl Row {
    pub fn url(&self) -> String {
        let q: String = form_urlencoded::byte_serialize(self.query.as_bytes()).collect();
        match self.at {
            At::Range {
                start,
                end,
                step,
                limit,
                backward,
            } => {
                let dir = if backward { "backward" } else { "forward" };
                format!(
                    "/loki/api/v1/query_range?query={q}&start={start}&end={end}&step={}&limit={limit}&direction={dir}",
                    step / S
                )
            }
            At::Instant(t) => format!("/loki/api/v1/query?query={q}&time={t}"),
        }
    }
}

/// A log query over the whole hour, newest first, limit high enough for every line.
pub fn log(query: &str, lines: Vec<Line>) -> Row {
    log_at(query, lines, T0, T0 + HOUR + 1, true, 1000)
}

/// A log query over `[start, end)` with this direction and limit.
pub fn log_at(
    query: &str,
    lines: Vec<Line>,
    start: i64,
    end: i64,
    backward: bool,
    limit: usize,
) -> Row {
    Row {
        query: query.to_string(),
        at: At::Range {
            start,
            end,
            step: S,
            limit,
            backward,
        },
        expect: reference::streams(lines, start, end, backward, limit).sorted(),
    }
}

/// A metric query over [`STEPS`].
pub fn range(query: &str, series: Series) -> Row {
    range_at(query, STEPS, series)
}

pub fn range_at(query: &str, steps: Steps, series: Series) -> Row {
    Row {
        query: query.to_string(),
        at: At::Range {
            start: steps.start,
            end: steps.end,
            step: steps.step,
            limit: 100,
            backward: true,
        },
        expect: vectors::matrix(series).sorted(),
    }
}

/// A metric query at one instant (the series as a one-step range at `t`).
pub fn instant(query: &str, t: i64, series: Series) -> Row {
    Row {
        query: query.to_string(),
        at: At::Instant(t),
        expect: vectors::vector(series, t).sorted(),
    }
}

/// A query refused with this status and a message containing `part`.
pub fn refused(query: &str, status: u16, part: &str) -> Row {
    let at = At::Range {
        start: STEPS.start,
        end: STEPS.end,
        step: STEPS.step,
        limit: 100,
        backward: true,
    };
    Row {
        query: query.to_string(),
        at,
        expect: Expected::Error(status, part.to_string()),
    }
}

/// One step at `t`, for instant rows' reference.
pub fn at(t: i64) -> Steps {
    Steps {
        start: t,
        end: t,
        step: S,
    }
}

/// A stream selector's `app="v"`, for `Data::select`.
pub fn app(v: &'static str) -> impl Fn(&Labels) -> bool {
    move |l| reference::is(l, "app", v)
}

/// `|= "s"`: the lines containing `s`.
pub fn grep(lines: Vec<Line>, s: &str) -> Vec<Line> {
    lines.into_iter().filter(|l| l.line.contains(s)).collect()
}

/// A label value as a float (`unwrap x`).
pub fn float(s: &str) -> Option<f64> {
    s.parse().ok()
}
