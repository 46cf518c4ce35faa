//! The parse tree of an alert template and its parser: text, actions, `if`/`else
//! if`/`else`, `range`, `with`, pipelines with `$x :=` declarations. As Go's parser
//! does, it rejects unknown functions and undefined variables before anything runs.

use super::funcs::Func;
use super::lex::{Item, Tok};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Node {
    Text(String),
    Action(Pipe),
    If(Branch),
    With(Branch),
    Range(Branch),
}

/// `{{if pipe}} then {{else}} otherwise {{end}}` (and `with`, `range`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Branch {
    pub pipe: Pipe,
    pub then: Vec<Node>,
    pub otherwise: Vec<Node>,
}

/// `$a, $b := cmd | cmd` (or `$a = ...`).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pipe {
    pub vars: Vec<String>,
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

/// A function and its arguments, or one operand.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Cmd(pub Vec<Arg>);

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Arg {
    Func(Func),
    Dot,
    Field(Vec<String>),
    Var(String, Vec<String>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    Sub(Pipe),
}

/// Variables the alert template defines before the rule's text (Prometheus prepends
/// `{{$labels := .Labels}}` and the like).
pub(super) const PREDEFINED: [&str; 5] = ["", "labels", "externalLabels", "externalURL", "value"];

/// Nesting bound for blocks and parentheses.
const MAX_DEPTH: usize = 100;

pub(super) fn parse(src: &str) -> Result<Vec<Node>, String> {
    let items = super::lex::items(src)?;
    let mut p = Parser {
        items,
        next: 0,
        vars: PREDEFINED.iter().map(|v| v.to_string()).collect(),
        depth: 0,
    };
    let (nodes, end) = p.list()?;
    match end {
        Stop::Eof => Ok(nodes),
        Stop::End => Err("unexpected {{end}}".into()),
        Stop::Else(_) => Err("unexpected {{else}}".into()),
    }
}

/// What ended a list of nodes.
enum Stop {
    Eof,
    End,
    /// `{{else}}`, with the tokens after `else` (`if x` for `else if x`).
    Else(Vec<Tok>),
}

struct Parser {
    items: Vec<Item>,
    next: usize,
    vars: Vec<String>,
    depth: usize,
}

impl Parser {
    fn list(&mut self) -> Result<(Vec<Node>, Stop), String> {
        let mut nodes = Vec::new();
        while let Some(item) = self.items.get(self.next).cloned() {
            self.next += 1;
            match item {
                Item::Text(t) => nodes.push(Node::Text(t)),
                Item::Action(toks, at) => {
                    match self
                        .action(toks)
                        .map_err(|e| format!("at byte {at}: {e}"))?
                    {
                        Ok(node) => nodes.push(node),
                        Err(end) => return Ok((nodes, end)),
                    }
                }
            }
        }
        Ok((nodes, Stop::Eof))
    }

    /// A node, or the `end`/`else` that closes the current list.
    fn action(&mut self, toks: Vec<Tok>) -> Result<Result<Node, Stop>, String> {
        let keyword = match toks.first() {
            Some(Tok::Ident(w)) => w.as_str(),
            _ => "",
        };
        Ok(Ok(match keyword {
            "end" if toks.len() == 1 => return Ok(Err(Stop::End)),
            "end" => return Err("unexpected tokens after end".into()),
            "else" => return Ok(Err(Stop::Else(toks[1..].to_vec()))),
            "if" => Node::If(self.branch("if", &toks[1..])?),
            "with" => Node::With(self.branch("with", &toks[1..])?),
            "range" => Node::Range(self.branch("range", &toks[1..])?),
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!(
                    "{{{{{keyword}}}}} is not supported in alert templates"
                ))
            }
            _ => Node::Action(self.pipe_decl(&toks, 0)?),
        }))
    }

    /// The rest of an `if`/`with`/`range` after its keyword: pipeline, body, `else`.
    fn branch(&mut self, kind: &str, toks: &[Tok]) -> Result<Branch, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("blocks nested too deeply".into());
        }
        let scope = self.vars.len();
        let max_vars = if kind == "range" { 2 } else { 1 };
        let pipe = self.pipe_decl(toks, max_vars)?;
        let (then, end) = self.list()?;
        let otherwise = match end {
            Stop::Eof => {
                return Err(format!(
                    "unexpected EOF: {{{{{kind}}}}} without {{{{end}}}}"
                ))
            }
            Stop::End => Vec::new(),
            Stop::Else(rest) if rest.is_empty() => match self.list()? {
                (nodes, Stop::End) => nodes,
                _ => return Err(format!("expected {{{{end}}}} after {{{{else}}}} of {kind}")),
            },
            // Go before 1.23 (Prometheus 2.42's) knows `else if` in an `if` only.
            Stop::Else(rest) => match rest.first() {
                Some(Tok::Ident(w)) if w == "if" && kind == "if" => {
                    vec![Node::If(self.branch("if", &rest[1..])?)]
                }
                Some(Tok::Ident(w)) => return Err(format!("unexpected <{w}> in else")),
                _ => return Err("unexpected tokens after else".into()),
            },
        };
        self.vars.truncate(scope);
        self.depth -= 1;
        Ok(Branch {
            pipe,
            then,
            otherwise,
        })
    }

    /// A pipeline that may start with up to `max_vars` declared variables (an action
    /// may declare one: `max_vars` 0 means 1 there).
    fn pipe_decl(&mut self, toks: &[Tok], max_vars: usize) -> Result<Pipe, String> {
        let (vars, assign, rest) = declaration(toks, max_vars.max(1));
        for v in &vars {
            if assign && !self.vars.contains(v) {
                return Err(format!("undefined variable \"${v}\""));
            }
        }
        let mut i = 0;
        let mut pipe = self.pipe(rest, &mut i)?;
        if i != rest.len() {
            return Err(format!("unexpected {:?} in operand", rest[i]));
        }
        if !assign {
            self.vars.extend(vars.iter().cloned());
        }
        pipe.vars = vars;
        pipe.assign = assign;
        Ok(pipe)
    }

    fn pipe(&mut self, toks: &[Tok], i: &mut usize) -> Result<Pipe, String> {
        let mut cmds = vec![self.cmd(toks, i)?];
        while toks.get(*i) == Some(&Tok::Pipe) {
            *i += 1;
            cmds.push(self.cmd(toks, i)?);
        }
        for (n, cmd) in cmds.iter().enumerate().skip(1) {
            if !matches!(
                cmd.0[0],
                Arg::Func(_) | Arg::Field(_) | Arg::Var(..) | Arg::Sub(_)
            ) {
                return Err(format!(
                    "non executable command in pipeline stage {}",
                    n + 1
                ));
            }
        }
        Ok(Pipe {
            vars: Vec::new(),
            assign: false,
            cmds,
        })
    }

    fn cmd(&mut self, toks: &[Tok], i: &mut usize) -> Result<Cmd, String> {
        let mut args = Vec::new();
        while let Some(arg) = self.arg(toks, i)? {
            args.push(arg);
        }
        if args.is_empty() {
            return Err("missing value for command".into());
        }
        Ok(Cmd(args))
    }

    fn arg(&mut self, toks: &[Tok], i: &mut usize) -> Result<Option<Arg>, String> {
        let arg = match toks.get(*i) {
            None | Some(Tok::Pipe | Tok::Close) => return Ok(None),
            Some(Tok::Dot) => Arg::Dot,
            Some(Tok::Field(f)) => Arg::Field(f.clone()),
            Some(Tok::Var(v, f)) if self.vars.contains(v) => Arg::Var(v.clone(), f.clone()),
            Some(Tok::Var(v, _)) => return Err(format!("undefined variable \"${v}\"")),
            Some(Tok::Str(s)) => Arg::Str(s.clone()),
            Some(Tok::Int(n)) => Arg::Int(*n),
            Some(Tok::Float(f)) => Arg::Float(*f),
            Some(Tok::Bool(b)) => Arg::Bool(*b),
            Some(Tok::Nil) => Arg::Nil,
            Some(Tok::Ident(w)) => {
                Arg::Func(Func::named(w).ok_or_else(|| format!("function \"{w}\" not defined"))?)
            }
            Some(Tok::Open) => return self.sub(toks, i).map(Some),
            Some(t) => return Err(format!("unexpected {t:?} in operand")),
        };
        *i += 1;
        Ok(Some(arg))
    }

    fn sub(&mut self, toks: &[Tok], i: &mut usize) -> Result<Arg, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("parentheses nested too deeply".into());
        }
        *i += 1;
        let pipe = self.pipe(toks, i)?;
        if toks.get(*i) != Some(&Tok::Close) {
            return Err("unclosed left paren".into());
        }
        *i += 1;
        self.depth -= 1;
        Ok(Arg::Sub(pipe))
    }
}

/// `$a, $b :=` or `$a =` at the start of an action: the names, whether it assigns,
/// and the tokens after it.
fn declaration(toks: &[Tok], max_vars: usize) -> (Vec<String>, bool, &[Tok]) {
    let mut names = Vec::new();
    let mut i = 0;
    while let Some(Tok::Var(v, path)) = toks.get(i) {
        if !path.is_empty() || names.len() == max_vars {
            break;
        }
        names.push(v.clone());
        match toks.get(i + 1) {
            Some(Tok::Declare) => return (names, false, &toks[i + 2..]),
            Some(Tok::Assign) => return (names, true, &toks[i + 2..]),
            Some(Tok::Comma) => i += 2,
            _ => break,
        }
    }
    (Vec::new(), false, toks)
}
