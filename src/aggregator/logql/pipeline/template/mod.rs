//! The Go-template subset of `line_format` and `label_format`: text with `{{ }}`
//! actions (`{{- -}}` trim), each a pipeline of commands joined by `|` whose previous
//! value is passed as the last argument, as Go's text/template does. Arguments are
//! label fields (`.name`), strings, integers, parenthesised pipelines and the
//! functions in [`exec`] (`ToUpper`, `trunc`, `replace`, `default`, `__line__`, ...).
//! Control structures (`if`, `range`) are refused at parse time.

pub mod exec;
mod lex;

pub use exec::Func;

/// A compiled template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Action(Pipe),
}

/// `cmd | cmd | ...`
#[derive(Clone, Debug, PartialEq)]
struct Pipe(Vec<Cmd>);

/// A function call, or a single operand.
#[derive(Clone, Debug, PartialEq)]
enum Cmd {
    Call(Func, Vec<Arg>),
    Operand(Arg),
}

#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Field(String),
    Str(String),
    Int(i64),
    Sub(Pipe),
}

/// Why a template does not compile.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("template: {0}")]
pub struct TemplateError(pub String);

impl Template {
    /// Compiles `src`.
    pub fn new(src: &str) -> Result<Self, TemplateError> {
        let mut nodes = Vec::new();
        let mut rest = src;
        let mut trim_next = false;
        while !rest.is_empty() {
            let Some(open) = rest.find("{{") else {
                push_text(&mut nodes, rest, trim_next, false);
                break;
            };
            let trim_before =
                rest[open + 2..].starts_with("- ") || rest[open + 2..].starts_with("-\t");
            push_text(&mut nodes, &rest[..open], trim_next, trim_before);
            let body_start = open + 2 + usize::from(trim_before);
            let close = rest[body_start..]
                .find("}}")
                .ok_or_else(|| TemplateError("unclosed action".into()))?
                + body_start;
            let mut body = &rest[body_start..close];
            trim_next = body.ends_with(" -") || body.ends_with("\t-");
            if trim_next {
                body = &body[..body.len() - 1];
            }
            let toks = lex::lex(body)?;
            let mut cursor = 0;
            let pipe = parse_pipe(&toks, &mut cursor, 0)?;
            if cursor != toks.len() {
                return Err(TemplateError(format!(
                    "unexpected {:?} in action",
                    toks[cursor]
                )));
            }
            nodes.push(Node::Action(pipe));
            rest = &rest[close + 2..];
        }
        Ok(Template { nodes })
    }

    /// Whether the output is the same for every line (no actions).
    pub fn is_constant(&self) -> bool {
        self.nodes.iter().all(|n| matches!(n, Node::Text(_)))
    }
}

fn push_text(nodes: &mut Vec<Node>, text: &str, trim_start: bool, trim_end: bool) {
    let text = if trim_start { text.trim_start() } else { text };
    let text = if trim_end { text.trim_end() } else { text };
    if !text.is_empty() {
        nodes.push(Node::Text(text.to_string()));
    }
}

/// Nesting bound for parenthesised pipelines.
const MAX_DEPTH: usize = 16;

fn parse_pipe(toks: &[lex::Tok], i: &mut usize, depth: usize) -> Result<Pipe, TemplateError> {
    if depth > MAX_DEPTH {
        return Err(TemplateError("pipelines nested too deeply".into()));
    }
    let mut cmds = vec![parse_cmd(toks, i, depth)?];
    while toks.get(*i) == Some(&lex::Tok::Pipe) {
        *i += 1;
        cmds.push(parse_cmd(toks, i, depth)?);
    }
    for (n, cmd) in cmds.iter().enumerate() {
        let piped = usize::from(n > 0);
        match cmd {
            Cmd::Operand(_) if n > 0 => {
                return Err(TemplateError(format!(
                    "non executable command in pipeline stage {}",
                    n + 1
                )))
            }
            Cmd::Call(f, args) if args.len() + piped != f.arity() => {
                return Err(TemplateError(format!(
                    "wrong number of args for {}: want {} got {}",
                    f.name(),
                    f.arity(),
                    args.len() + piped
                )))
            }
            _ => {}
        }
    }
    Ok(Pipe(cmds))
}

fn parse_cmd(toks: &[lex::Tok], i: &mut usize, depth: usize) -> Result<Cmd, TemplateError> {
    if let Some(lex::Tok::Word(w)) = toks.get(*i) {
        let func = Func::named(w).ok_or_else(|| {
            let kind = if matches!(
                w.as_str(),
                "if" | "range" | "with" | "end" | "else" | "define" | "template" | "block"
            ) {
                "is not supported"
            } else {
                "not defined"
            };
            TemplateError(format!("function {w:?} {kind}"))
        })?;
        *i += 1;
        let mut args = Vec::new();
        while let Some(arg) = parse_arg(toks, i, depth)? {
            args.push(arg);
        }
        return Ok(Cmd::Call(func, args));
    }
    match parse_arg(toks, i, depth)? {
        Some(arg) => Ok(Cmd::Operand(arg)),
        None => Err(TemplateError("missing value for command".into())),
    }
}

fn parse_arg(toks: &[lex::Tok], i: &mut usize, depth: usize) -> Result<Option<Arg>, TemplateError> {
    let arg = match toks.get(*i) {
        Some(lex::Tok::Field(f)) => Arg::Field(f.clone()),
        Some(lex::Tok::Str(s)) => Arg::Str(s.clone()),
        Some(lex::Tok::Int(n)) => Arg::Int(*n),
        Some(lex::Tok::Open) => {
            *i += 1;
            let pipe = parse_pipe(toks, i, depth + 1)?;
            if toks.get(*i) != Some(&lex::Tok::Close) {
                return Err(TemplateError("unclosed left paren".into()));
            }
            Arg::Sub(pipe)
        }
        Some(lex::Tok::Word(w)) if Func::named(w).is_some_and(|f| f.arity() == 0) => {
            *i += 1;
            return Ok(Some(Arg::Sub(Pipe(vec![Cmd::Call(
                Func::named(w).unwrap_or(Func::Line),
                vec![],
            )]))));
        }
        _ => return Ok(None),
    };
    *i += 1;
    Ok(Some(arg))
}

#[cfg(test)]
mod tests;
