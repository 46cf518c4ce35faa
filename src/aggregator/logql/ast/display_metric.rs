//! Metric expressions printed back as LogQL (see [`super::display`]).

use super::display::{duration, quote};
use super::*;
use crate::aggregator::logql::parse::range_op_name;
use std::fmt::{self, Display, Formatter};

impl Display for MetricExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            MetricExpr::Range(r) => r.fmt(f),
            MetricExpr::Vector(v) => v.fmt(f),
            MetricExpr::Binary(b) => b.fmt(f),
            MetricExpr::Number(n) => write!(f, "{n}"),
            MetricExpr::VectorLit(n) => write!(f, "vector({n})"),
            MetricExpr::LabelReplace(l) => write!(
                f,
                "label_replace({}, {}, {}, {}, {})",
                l.inner,
                quote(&l.dst),
                quote(&l.replacement),
                quote(&l.src),
                quote(&l.regex)
            ),
        }
    }
}

impl Display for RangeAgg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", range_op_name(self.op))?;
        if let Some(p) = self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{}", self.log)?;
        if let Some(u) = &self.unwrap {
            write!(f, " {u}")?;
        }
        write!(f, " [{}]", duration(self.range))?;
        if self.offset != 0 {
            write!(f, " offset {}", duration(self.offset))?;
        }
        f.write_str(")")?;
        if let Some(g) = &self.grouping {
            write!(f, " {g}")?;
        }
        Ok(())
    }
}

impl Display for VectorAgg {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.name())?;
        if let Some(g) = &self.grouping {
            write!(f, " {g} ")?;
        }
        f.write_str("(")?;
        if let Some(p) = self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.inner)
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let side = |e: &MetricExpr| match e {
            MetricExpr::Binary(_) => format!("({e})"),
            MetricExpr::Number(n) if *n < 0.0 => format!("({e})"),
            _ => e.to_string(),
        };
        write!(f, "{} {}", side(&self.lhs), self.op.symbol())?;
        if self.return_bool {
            f.write_str(" bool")?;
        }
        if let Some(m) = &self.matching {
            write!(
                f,
                " {} ({})",
                if m.on { "on" } else { "ignoring" },
                m.labels.join(", ")
            )?;
            match &m.group {
                Some(GroupSide::Left(l)) => write!(f, " group_left ({})", l.join(", "))?,
                Some(GroupSide::Right(l)) => write!(f, " group_right ({})", l.join(", "))?,
                None => {}
            }
        }
        write!(f, " {}", side(&self.rhs))
    }
}
