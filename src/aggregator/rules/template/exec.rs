//! Running a parsed template over the alert's data: Go's text/template semantics for
//! actions, variables and their scopes, field chains, pipelines (the previous value
//! is the last argument), `if`/`with`/`range` and the short-circuit `and`/`or`.

use super::funcs::{call, Func};
use super::parse::{Arg, Branch, Cmd, Node, Pipe};
use super::value::{field, fmt_v, Val};
use super::TemplateData;

/// Expansions longer than this fail (an annotation is text for a person).
const MAX_OUTPUT: usize = 1 << 20;

pub(super) struct State<'d, 'a> {
    data: &'a TemplateData<'d>,
    vars: Vec<(String, Val<'d>)>,
    pub out: String,
}

impl<'d, 'a> State<'d, 'a> {
    pub fn new(data: &'a TemplateData<'d>) -> Self {
        let vars = vec![
            (String::new(), Val::Data),
            ("labels".into(), Val::Map(data.labels)),
            ("externalLabels".into(), Val::Map(data.external_labels)),
            (
                "externalURL".into(),
                Val::Str(data.external_url.to_string()),
            ),
            ("value".into(), Val::Float(data.value)),
        ];
        State {
            data,
            vars,
            out: String::new(),
        }
    }

    pub fn run(&mut self, nodes: &[Node], dot: &Val<'d>) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(pipe) => {
                    let v = self.pipe(pipe, dot)?;
                    if pipe.vars.is_empty() {
                        self.print(&v);
                    }
                }
                Node::If(b) => self.branch(b, dot, false)?,
                Node::With(b) => self.branch(b, dot, true)?,
                Node::Range(b) => self.range(b, dot)?,
            }
            if self.out.len() > MAX_OUTPUT {
                return Err(format!("expansion over {MAX_OUTPUT} bytes"));
            }
        }
        Ok(())
    }

    /// An action's value as Go prints it (`<no value>` for nil).
    fn print(&mut self, v: &Val<'d>) {
        match v {
            Val::Nil => self.out.push_str("<no value>"),
            v => self.out.push_str(&fmt_v(v, self.data)),
        }
    }

    fn branch(&mut self, b: &Branch, dot: &Val<'d>, with: bool) -> Result<(), String> {
        let scope = self.vars.len();
        let v = self.pipe(&b.pipe, dot)?;
        let result = match (v.truth(), with) {
            (true, true) => self.run(&b.then, &v),
            (true, false) => self.run(&b.then, dot),
            (false, _) => self.run(&b.otherwise, dot),
        };
        self.vars.truncate(scope);
        result
    }

    /// `range` over a map: keys in order; `$k, $v :=` or `$v :=` or the dot.
    fn range(&mut self, b: &Branch, dot: &Val<'d>) -> Result<(), String> {
        let scope = self.vars.len();
        let mut decl = b.pipe.clone();
        let names = std::mem::take(&mut decl.vars);
        let v = self.pipe(&decl, dot)?;
        let map = match v {
            Val::Map(m) => m,
            other => {
                return Err(format!(
                    "range can't iterate over {}",
                    fmt_v(&other, self.data)
                ))
            }
        };
        if map.is_empty() {
            return self.run(&b.otherwise, dot);
        }
        for (k, val) in map.iter() {
            let (key, item) = (Val::Str(k.to_string()), Val::Str(val.to_string()));
            match names.as_slice() {
                [v] => self.vars.push((v.clone(), item.clone())),
                [kn, vn] => {
                    self.vars.push((kn.clone(), key));
                    self.vars.push((vn.clone(), item.clone()));
                }
                _ => {}
            }
            let result = self.run(&b.then, &item);
            self.vars.truncate(scope);
            result?;
        }
        Ok(())
    }

    fn pipe(&mut self, pipe: &Pipe, dot: &Val<'d>) -> Result<Val<'d>, String> {
        let mut prev: Option<Val<'d>> = None;
        for cmd in &pipe.cmds {
            prev = Some(self.cmd(cmd, dot, prev)?);
        }
        let v = prev.unwrap_or(Val::Nil);
        for name in &pipe.vars {
            if pipe.assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = v.clone();
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn cmd(&mut self, cmd: &Cmd, dot: &Val<'d>, last: Option<Val<'d>>) -> Result<Val<'d>, String> {
        let (first, rest) = cmd.0.split_first().ok_or("empty command")?;
        if let Arg::Func(f) = first {
            return self.call(*f, rest, dot, last);
        }
        if !rest.is_empty() || last.is_some() {
            let what = if rest.is_empty() {
                "pipeline"
            } else {
                "argument"
            };
            return Err(format!(
                "can't give {what} to non-function {}",
                describe(first)
            ));
        }
        self.arg(first, dot)
    }

    fn call(
        &mut self,
        f: Func,
        args: &[Arg],
        dot: &Val<'d>,
        last: Option<Val<'d>>,
    ) -> Result<Val<'d>, String> {
        let name = f.name();
        let wrap = |e: String| format!("error calling {name}: {e}");
        if matches!(f, Func::And | Func::Or) {
            return self.logic(f, args, dot, last).map_err(wrap);
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.arg(a, dot)?);
        }
        vals.extend(last);
        call(f, vals, self.data).map_err(|e| {
            if e.starts_with("wrong number of args") {
                e
            } else {
                wrap(e)
            }
        })
    }

    /// `and`: the first false argument or the last; `or`: the first true one or the
    /// last. Later arguments are not evaluated (Go 1.18).
    fn logic(
        &mut self,
        f: Func,
        args: &[Arg],
        dot: &Val<'d>,
        last: Option<Val<'d>>,
    ) -> Result<Val<'d>, String> {
        if args.len() + usize::from(last.is_some()) < 1 {
            return Err(format!(
                "wrong number of args for {}: want at least 1 got 0",
                f.name()
            ));
        }
        let stop_on = f == Func::Or;
        let mut v = Val::Nil;
        for a in args {
            v = self.arg(a, dot)?;
            if v.truth() == stop_on {
                return Ok(v);
            }
        }
        Ok(last.unwrap_or(v))
    }

    fn arg(&mut self, arg: &Arg, dot: &Val<'d>) -> Result<Val<'d>, String> {
        Ok(match arg {
            Arg::Func(f) => self.call(*f, &[], dot, None)?,
            Arg::Dot => dot.clone(),
            Arg::Field(path) => self.path(dot.clone(), path)?,
            Arg::Var(name, path) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone());
                self.path(
                    v.ok_or_else(|| format!("undefined variable: ${name}"))?,
                    path,
                )?
            }
            Arg::Str(s) => Val::Str(s.clone()),
            Arg::Int(n) => Val::Int(*n),
            Arg::Float(f) => Val::Float(*f),
            Arg::Bool(b) => Val::Bool(*b),
            Arg::Nil => return Err("nil is not a command".into()),
            Arg::Sub(p) => self.pipe(p, dot)?,
        })
    }

    fn path(&self, mut v: Val<'d>, path: &[String]) -> Result<Val<'d>, String> {
        for name in path {
            v = field(&v, name, self.data)?;
        }
        Ok(v)
    }
}

fn describe(a: &Arg) -> String {
    match a {
        Arg::Dot => ".".into(),
        Arg::Field(p) => format!(".{}", p.join(".")),
        Arg::Var(n, p) if p.is_empty() => format!("${n}"),
        Arg::Var(n, p) => format!("${n}.{}", p.join(".")),
        Arg::Str(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}
