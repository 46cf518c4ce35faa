//! Function calls: argument evaluation and dispatch by name to the families in
//! `range_fns`, `time_fns`, `label_fns` and `histogram`, plus the element-wise math
//! functions. Functions that compute a new value drop `__name__`, as in Prometheus.

use super::{drop_name, histogram, label_fns, range_fns, time_fns, Ctx, Elem, Val, Window};
use crate::aggregator::promql::QueryError;
use promql_parser::parser::{Call, Expr, MatrixSelector};

fn bad(msg: String) -> QueryError {
    QueryError::BadData(msg)
}

impl Ctx<'_> {
    pub(super) fn scalar_arg(&self, e: &Expr, t: i64, w: Window) -> Result<f64, QueryError> {
        match self.eval(e, t, w)? {
            Val::Scalar(v) => Ok(v),
            other => Err(bad(format!("expected scalar, got {}", other.type_name()))),
        }
    }

    pub(super) fn vector_arg(&self, e: &Expr, t: i64, w: Window) -> Result<Vec<Elem>, QueryError> {
        match self.eval(e, t, w)? {
            Val::Vector(v) => Ok(v),
            other => Err(bad(format!(
                "expected instant vector, got {}",
                other.type_name()
            ))),
        }
    }

    fn string_arg(&self, e: &Expr, t: i64, w: Window) -> Result<String, QueryError> {
        match self.eval(e, t, w)? {
            Val::Str(s) => Ok(s),
            other => Err(bad(format!("expected string, got {}", other.type_name()))),
        }
    }

    pub(super) fn call(&self, c: &Call, t: i64, w: Window) -> Result<Val, QueryError> {
        let name = c.func.name;
        let args: Vec<&Expr> = c.args.args.iter().map(|a| a.as_ref()).collect();
        if range_fns::is_range_fn(name) || name == "absent_over_time" {
            return self.range_call(name, &args, t, w);
        }
        if time_fns::is_time_fn(name) {
            return self.time_call(name, &args, t, w);
        }
        match name {
            "time" => Ok(Val::Scalar(t as f64 / 1000.0)),
            "pi" => Ok(Val::Scalar(std::f64::consts::PI)),
            "vector" => {
                let v = self.scalar_arg(args[0], t, w)?;
                Ok(Val::Vector(vec![Elem {
                    labels: Default::default(),
                    v,
                }]))
            }
            "scalar" => {
                let v = self.vector_arg(args[0], t, w)?;
                Ok(Val::Scalar(if v.len() == 1 { v[0].v } else { f64::NAN }))
            }
            "timestamp" => self.timestamp(args[0], t, w),
            "absent" => {
                let v = self.vector_arg(args[0], t, w)?;
                Ok(Val::Vector(absent(v.is_empty(), args[0])))
            }
            "sort" | "sort_desc" => {
                let mut v = self.vector_arg(args[0], t, w)?;
                sort(&mut v, name == "sort_desc");
                Ok(Val::Vector(v))
            }
            "histogram_quantile" => {
                let q = self.scalar_arg(args[0], t, w)?;
                let v = self.vector_arg(args[1], t, w)?;
                Ok(Val::Vector(histogram::histogram_quantile(q, &v)))
            }
            "label_replace" | "label_join" => self.label_call(name, &args, t, w),
            _ => self.math_call(name, &args, t, w),
        }
    }

    /// Functions over a range vector; `absent_over_time` included.
    fn range_call(&self, name: &str, args: &[&Expr], t: i64, w: Window) -> Result<Val, QueryError> {
        let (m_idx, p_idx) = match name {
            "quantile_over_time" => (1, Some(0)),
            "predict_linear" => (0, Some(1)),
            _ => (0, None),
        };
        let param = match p_idx {
            Some(i) => self.scalar_arg(args[i], t, w)?,
            None => 0.0,
        };
        if let (Expr::MatrixSelector(ms), false) =
            (unparen(args[m_idx]), name == "absent_over_time")
        {
            let constant = p_idx.is_none_or(|i| matches!(unparen(args[i]), Expr::NumberLiteral(_)));
            if let (true, Some(i)) = (constant, self.top_step(t, w)) {
                if let Some(v) = self.range_steps(name, ms, param, w, i)? {
                    return Ok(Val::Vector(v));
                }
            }
            return self.range_call_in_place(name, ms, param, t, w);
        }
        let (series, rc) = self.range_arg(args[m_idx], t, w)?;
        if name == "absent_over_time" {
            return Ok(Val::Vector(absent(series.is_empty(), args[m_idx])));
        }
        let keep_name = name == "last_over_time";
        let out = series.into_iter().filter_map(|s| {
            let v = range_fns::apply(name, &s.samples, rc, param)?;
            let labels = if keep_name {
                s.labels
            } else {
                drop_name(&s.labels)
            };
            Some(Elem { labels, v })
        });
        Ok(Val::Vector(out.collect()))
    }

    /// A range function over a plain matrix selector (the common case), reading the
    /// fetched series in place.
    fn range_call_in_place(
        &self,
        name: &str,
        ms: &MatrixSelector,
        param: f64,
        t: i64,
        w: Window,
    ) -> Result<Val, QueryError> {
        let keep_name = name == "last_over_time";
        let mut out = Vec::new();
        self.each_in_window(ms, t, w, |s, rc| {
            if let Some(v) = range_fns::apply(name, s.samples, rc, param) {
                let labels = if keep_name { s.labels } else { s.unnamed };
                out.push(Elem {
                    labels: labels.clone(),
                    v,
                });
            }
        })?;
        Ok(Val::Vector(out))
    }

    fn time_call(&self, name: &str, args: &[&Expr], t: i64, w: Window) -> Result<Val, QueryError> {
        let Some(arg) = args.first() else {
            let v = time_fns::apply(name, (t / 1000) as f64);
            return Ok(Val::Vector(vec![Elem {
                labels: Default::default(),
                v,
            }]));
        };
        let v = self.vector_arg(arg, t, w)?;
        Ok(Val::Vector(map_values(v, |x| time_fns::apply(name, x))))
    }

    /// `timestamp(v)`: a selector's sample times, or the evaluation time.
    fn timestamp(&self, arg: &Expr, t: i64, w: Window) -> Result<Val, QueryError> {
        let v = match arg {
            Expr::VectorSelector(vs) => self.selector_timestamps(vs, t, w)?,
            _ => map_values(self.vector_arg(arg, t, w)?, |_| t as f64 / 1000.0),
        };
        Ok(Val::Vector(map_values(v, |x| x)))
    }

    fn label_call(&self, name: &str, args: &[&Expr], t: i64, w: Window) -> Result<Val, QueryError> {
        let v = self.vector_arg(args[0], t, w)?;
        let mut strs = Vec::with_capacity(args.len());
        for a in &args[1..] {
            strs.push(self.string_arg(a, t, w)?);
        }
        let out = if name == "label_replace" {
            label_fns::label_replace(v, &strs[0], &strs[1], &strs[2], &strs[3])?
        } else {
            label_fns::label_join(v, &strs[0], &strs[1], &strs[2..])?
        };
        Ok(Val::Vector(out))
    }

    fn math_call(&self, name: &str, args: &[&Expr], t: i64, w: Window) -> Result<Val, QueryError> {
        let mut params = Vec::new();
        for a in &args[1..] {
            params.push(self.scalar_arg(a, t, w)?);
        }
        if name == "clamp" && params[1] < params[0] {
            return Ok(Val::Vector(Vec::new()));
        }
        let f = math_fn(name, &params).ok_or_else(|| bad(format!("unknown function: {name}")))?;
        let v = self.vector_arg(args[0], t, w)?;
        Ok(Val::Vector(map_values(v, f)))
    }
}

/// `e` without the parentheses around it.
fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// Applies `f` to every value, dropping the metric name.
fn map_values(v: Vec<Elem>, f: impl Fn(f64) -> f64) -> Vec<Elem> {
    v.into_iter()
        .map(|e| Elem {
            labels: drop_name(&e.labels),
            v: f(e.v),
        })
        .collect()
}

/// Go's `math.Max`/`math.Min`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Go's `math.Log2` (Prometheus's log2 and, scaled, log10): exact for powers of two,
/// else `ln(frac) / ln 2 + exp` from `frexp`, so results match to the last bit.
fn go_log2(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return x.log2();
    }
    let (frac, exp) = frexp(x);
    if frac == 0.5 {
        return f64::from(exp - 1);
    }
    frac.ln() * std::f64::consts::LOG2_E + f64::from(exp)
}

/// `x = frac * 2^exp` with `frac` in `[0.5, 1)`, for finite non-zero `x`.
fn frexp(x: f64) -> (f64, i32) {
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022 + bias;
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, exp)
}

/// The element-wise function `name` with its scalar parameters.
fn math_fn(name: &str, p: &[f64]) -> Option<Box<dyn Fn(f64) -> f64>> {
    let p0 = p.first().copied().unwrap_or(1.0);
    let p1 = p.get(1).copied().unwrap_or(0.0);
    Some(match name {
        "abs" => Box::new(f64::abs),
        "ceil" => Box::new(f64::ceil),
        "floor" => Box::new(f64::floor),
        "exp" => Box::new(f64::exp),
        "ln" => Box::new(f64::ln),
        "log2" => Box::new(go_log2),
        "log10" => Box::new(|v| go_log2(v) * std::f64::consts::LOG10_2),
        "sqrt" => Box::new(f64::sqrt),
        "sgn" => Box::new(|v: f64| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        }),
        "round" => Box::new(move |v: f64| {
            let inv = 1.0 / p0;
            (v * inv + 0.5).floor() / inv
        }),
        "clamp" => Box::new(move |v| go_max(p0, go_min(p1, v))),
        "clamp_min" => Box::new(move |v| go_max(p0, v)),
        "clamp_max" => Box::new(move |v| go_min(p0, v)),
        "deg" => Box::new(f64::to_degrees),
        "rad" => Box::new(f64::to_radians),
        _ => trig_fn(name)?,
    })
}

fn trig_fn(name: &str) -> Option<Box<dyn Fn(f64) -> f64>> {
    Some(match name {
        "sin" => Box::new(f64::sin),
        "cos" => Box::new(f64::cos),
        "tan" => Box::new(f64::tan),
        "asin" => Box::new(f64::asin),
        "acos" => Box::new(f64::acos),
        "atan" => Box::new(f64::atan),
        "sinh" => Box::new(f64::sinh),
        "cosh" => Box::new(f64::cosh),
        "tanh" => Box::new(f64::tanh),
        "asinh" => Box::new(f64::asinh),
        "acosh" => Box::new(f64::acosh),
        "atanh" => Box::new(f64::atanh),
        _ => return None,
    })
}

/// absent / absent_over_time: one element when the argument had nothing.
fn absent(empty: bool, arg: &Expr) -> Vec<Elem> {
    if !empty {
        return Vec::new();
    }
    vec![Elem {
        labels: label_fns::absent_labels(arg),
        v: 1.0,
    }]
}

/// sort / sort_desc by value, NaN first in both, as Prometheus 2.42.
fn sort(v: &mut [Elem], desc: bool) {
    v.sort_by(|a, b| match (a.v.is_nan(), b.v.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ if desc => b.v.total_cmp(&a.v),
        _ => a.v.total_cmp(&b.v),
    });
}
