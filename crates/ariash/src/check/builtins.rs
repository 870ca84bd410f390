//! The types of calls: the builtin functions' signatures and the script's own functions.

use crate::ast::{Expr, Ident, Span, Ty};
use crate::diag::{suggest, Diag};

use super::{assignable, conversion_hint, Checker};

/// The builtin functions and how they are called, for hints (`run` and `timeout` are
/// pipeline nodes, listed here for the same reason).
pub const BUILTINS: &[(&str, &str)] = &[
    ("run", "run(program) or run(program, [args])"),
    ("timeout", "timeout(duration, pipeline): status 124 when the deadline passes"),
    ("capture", "capture(pipeline) -> string"),
    ("print", "print(value, ...)"),
    ("eprint", "eprint(value, ...): to stderr"),
    ("cd", "cd(dir)"),
    ("env", "env(name) -> string"),
    ("setenv", "setenv(name, value)"),
    ("unsetenv", "unsetenv(name)"),
    ("exit", "exit() or exit(status)"),
    ("len", "len(list, map or string) -> int"),
    ("str", "str(value) -> string"),
    ("int", "int(string) -> int"),
    ("exists", "exists(path) -> bool"),
    ("is_dir", "is_dir(path) -> bool"),
    ("is_file", "is_file(path) -> bool"),
    ("status", "status() -> int"),
    ("split", "split(string, separator) -> [string]"),
    ("lines", "lines(string) -> [string]"),
    ("join", "join(list, separator) -> string"),
    ("trim", "trim(string) -> string"),
    ("replace", "replace(string, from, to) -> string"),
    ("contains", "contains(string, part) or contains(list, item) -> bool"),
    ("starts_with", "starts_with(string, prefix) -> bool"),
    ("ends_with", "ends_with(string, suffix) -> bool"),
    ("find", "find(string, part) -> int (-1 when absent)"),
    ("upper", "upper(string) -> string"),
    ("lower", "lower(string) -> string"),
    ("pad_left", "pad_left(value, width) or pad_left(value, width, fill) -> string"),
    ("pad_right", "pad_right(value, width) or pad_right(value, width, fill) -> string"),
    ("format", "format(template, value, ...) -> string: each {} takes the next value"),
    ("sort", "sort(list) -> list"),
    ("reverse", "reverse(list or string) -> the same type"),
    ("keys", "keys(map) -> list of keys"),
    ("values", "values(map) -> list of values"),
    ("has", "has(map, key) -> bool"),
    ("read_file", "read_file(path) -> string"),
    ("write_file", "write_file(path, text)"),
    ("append_file", "append_file(path, text)"),
    ("remove_file", "remove_file(path)"),
    ("glob", "glob(pattern) -> [string] (sorted; ** matches directories recursively)"),
    ("basename", "basename(path) -> string"),
    ("dirname", "dirname(path) -> string"),
    ("mtime", "mtime(path) -> int (milliseconds since the Unix epoch)"),
    ("read_line", "read_line() -> string (\"\" at the end of input)"),
    ("lines_of", "lines_of(stdin) -> the lines of the script's stdin, for a for loop"),
    ("stream", "stream(pipeline) -> its output's lines as they arrive, for a for loop"),
    ("wait", "wait(job) -> int (the job's status)"),
    ("wait_any", "wait_any([job]) -> job (the first to finish)"),
    ("jobs", "jobs() -> [job] (the running ones)"),
    ("kill", "kill(job) or kill(job, \"TERM\")"),
    ("parallel", "parallel(list, n, func) -> list of func's results, at most n at a time"),
    ("sleep", "sleep(duration)"),
    ("now", "now() -> int (milliseconds since the Unix epoch)"),
    ("log", "log(message) or log(level, message): a JSON line on stddbg (fd 3)"),
    ("throw", "throw(message): a runtime error that try/catch can catch"),
];

/// Whether values of `t` can be shown as text (printed, interpolated, joined).
pub(super) fn showable(t: &Ty) -> bool {
    !matches!(t, Ty::Pipeline | Ty::Void | Ty::Stream | Ty::Func(..))
}

fn list_of(t: Ty) -> Ty {
    Ty::List(Box::new(t))
}

impl Checker {
    /// Reports a wrong argument count; returns false then (having checked the arguments).
    pub(super) fn arity(&mut self, name: &Ident, args: &[Expr], span: Span, range: (usize, usize)) -> bool {
        if (range.0..=range.1).contains(&args.len()) {
            return true;
        }
        let want = if range.0 == range.1 {
            format!("{}", range.0)
        } else if range.1 == usize::MAX {
            format!("at least {}", range.0)
        } else {
            format!("{} to {}", range.0, range.1)
        };
        let plural = if range == (1, 1) { "" } else { "s" };
        let usage = match self.funcs.get(&name.name) {
            Some(f) => format!("{} is {}", name.name, f.ty()),
            None => {
                BUILTINS.iter().find(|(n, _)| *n == name.name).map_or(String::new(), |(_, u)| u.to_string())
            }
        };
        self.error(
            Diag::new(
                "ariash::check::arg_count",
                format!(
                    "`{}` takes {want} argument{plural} but {} {} given",
                    name.name,
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                format!("{} argument(s)", args.len()),
            )
            .with_help(format!("usage: {usage}")),
        );
        for a in args {
            self.expr(a);
        }
        false
    }

    /// The type of argument `i`, or `None` if an error was reported inside it.
    fn arg_ty(&mut self, args: &[Expr], i: usize) -> Option<Ty> {
        self.expr(args.get(i)?)
    }

    /// Reports `found` where `want` (a description) was expected, at argument `i`.
    fn bad_arg(&mut self, name: &Ident, args: &[Expr], i: usize, want: &str, found: &Ty) {
        let Some(a) = args.get(i) else { return };
        let mut d = Diag::new(
            "ariash::check::type_mismatch",
            format!("argument {} of `{}` must be {want}, found {found}", i + 1, name.name),
            a.span,
            format!("this is {found}"),
        );
        if let Some(h) = conversion_hint(&Ty::Str, found).filter(|_| want == "string") {
            d = d.with_help(h);
        } else if *found == Ty::Pipeline {
            d = d.with_help("to use a program's output, wrap it in capture(...)");
        }
        self.error(d);
    }

    /// Checks argument `i` against a concrete type.
    fn want(&mut self, name: &Ident, args: &[Expr], i: usize, want: &Ty) {
        let Some(a) = args.get(i) else { return };
        let what = format!("argument {} of `{}`", i + 1, name.name);
        self.expect_ty(a, want, &what);
    }

    /// Checks that every argument from `from` on can be shown as text.
    fn showables(&mut self, name: &Ident, args: &[Expr], from: usize) {
        for i in from..args.len() {
            if let Some(t) = self.arg_ty(args, i) {
                if !showable(&t) {
                    self.bad_arg(name, args, i, "a value that can be shown", &t);
                }
            }
        }
    }

    /// The type of the call `name(args)`, or `None` after reporting an error.
    pub(super) fn call(&mut self, name: &Ident, args: &[Expr], span: Span) -> Option<Ty> {
        if let Some(f) = self.funcs.get(&name.name).cloned() {
            if !self.arity(name, args, span, (f.params.len(), f.params.len())) {
                return None;
            }
            for (i, (ty, pname)) in f.params.iter().enumerate() {
                let what = format!("argument {} of `{}` ({})", i + 1, name.name, pname.name);
                self.expect_ty(&args[i], &ty.ty, &what);
            }
            return Some(f.ret.ty.clone());
        }
        if self.lookup(&name.name).is_some_and(|v| matches!(v.ty, Some(Ty::Func(..)))) {
            // A function value (a parameter of type func) cannot be called directly.
            self.unknown_function(name);
            return None;
        }
        let (min, max) = match name.name.as_str() {
            "print" | "eprint" => (0, usize::MAX),
            "format" => (1, usize::MAX),
            "status" | "read_line" | "jobs" | "now" => (0, 0),
            "exit" => (0, 1),
            "capture" | "cd" | "unsetenv" | "env" | "len" | "int" | "str" | "exists" | "is_dir"
            | "is_file" | "lines" | "trim" | "upper" | "lower" | "sort" | "reverse" | "keys" | "values"
            | "read_file" | "remove_file" | "glob" | "basename" | "dirname" | "mtime" | "lines_of"
            | "stream" | "wait" | "wait_any" | "sleep" | "throw" => (1, 1),
            "setenv" | "split" | "join" | "contains" | "starts_with" | "ends_with" | "find" | "has"
            | "write_file" | "append_file" => (2, 2),
            "kill" | "log" => (1, 2),
            "pad_left" | "pad_right" => (2, 3),
            "replace" | "parallel" => (3, 3),
            _ => {
                self.unknown_function(name);
                for a in args {
                    self.expr(a);
                }
                return None;
            }
        };
        if !self.arity(name, args, span, (min, max)) {
            return None;
        }
        let s = Ty::Str;
        let n = name;
        Some(match name.name.as_str() {
            "print" | "eprint" => {
                self.showables(n, args, 0);
                Ty::Void
            }
            "format" => {
                self.want(n, args, 0, &s);
                self.showables(n, args, 1);
                Ty::Str
            }
            "capture" | "stream" => {
                let t = self.arg_ty(args, 0)?;
                if t != Ty::Pipeline {
                    let mut d = Diag::new(
                        "ariash::check::type_mismatch",
                        format!("{} needs a pipeline, found {t}", n.name),
                        args[0].span,
                        format!("this is {t}"),
                    );
                    d = d.with_help(format!("{}(`prog args`)", n.name));
                    self.error(d);
                }
                if n.name == "capture" {
                    Ty::Str
                } else {
                    Ty::Stream
                }
            }
            "lines_of" => {
                let t = self.arg_ty(args, 0)?;
                if t != Ty::Stream {
                    self.bad_arg(n, args, 0, "stdin", &t);
                }
                Ty::Stream
            }
            "cd" | "unsetenv" | "remove_file" | "throw" => {
                self.want(n, args, 0, &s);
                Ty::Void
            }
            "env" | "trim" | "upper" | "lower" | "read_file" | "basename" | "dirname" => {
                self.want(n, args, 0, &s);
                Ty::Str
            }
            "lines" | "glob" => {
                self.want(n, args, 0, &s);
                list_of(Ty::Str)
            }
            "exists" | "is_dir" | "is_file" => {
                self.want(n, args, 0, &s);
                Ty::Bool
            }
            "int" => {
                self.want(n, args, 0, &s);
                Ty::Int
            }
            "mtime" => {
                self.want(n, args, 0, &s);
                Ty::Int
            }
            "setenv" | "write_file" | "append_file" => {
                self.want(n, args, 0, &s);
                self.want(n, args, 1, &s);
                Ty::Void
            }
            "split" => {
                self.want(n, args, 0, &s);
                self.want(n, args, 1, &s);
                list_of(Ty::Str)
            }
            "starts_with" | "ends_with" => {
                self.want(n, args, 0, &s);
                self.want(n, args, 1, &s);
                Ty::Bool
            }
            "find" => {
                self.want(n, args, 0, &s);
                self.want(n, args, 1, &s);
                Ty::Int
            }
            "replace" => {
                for i in 0..3 {
                    self.want(n, args, i, &s);
                }
                Ty::Str
            }
            "exit" => {
                if !args.is_empty() {
                    self.want(n, args, 0, &Ty::Int);
                }
                Ty::Void
            }
            "status" | "now" => Ty::Int,
            "read_line" => Ty::Str,
            "len" => {
                let t = self.arg_ty(args, 0)?;
                if !matches!(t, Ty::List(_) | Ty::EmptyList | Ty::Str | Ty::Map(..) | Ty::EmptyMap) {
                    self.bad_arg(n, args, 0, "a list, map or string", &t);
                }
                Ty::Int
            }
            "str" => {
                let t = self.arg_ty(args, 0)?;
                if !showable(&t) {
                    let mut d = Diag::new(
                        "ariash::check::type_mismatch",
                        format!("str cannot convert {t}"),
                        args[0].span,
                        format!("this is {t}"),
                    );
                    if t == Ty::Pipeline {
                        d = d.with_help("to get a program's output as a string, use capture(...)");
                    }
                    self.error(d);
                }
                Ty::Str
            }
            "join" => {
                let t = self.arg_ty(args, 0);
                self.want(n, args, 1, &s);
                match t? {
                    Ty::List(e) if showable(&e) => {}
                    Ty::EmptyList => {}
                    t => self.bad_arg(n, args, 0, "a list", &t),
                }
                Ty::Str
            }
            "contains" => {
                let t = self.arg_ty(args, 0)?;
                match t {
                    Ty::Str => self.want(n, args, 1, &s),
                    Ty::List(e) => self.want(n, args, 1, &e),
                    t => self.bad_arg(n, args, 0, "a string or a list", &t),
                }
                Ty::Bool
            }
            "pad_left" | "pad_right" => {
                let t = self.arg_ty(args, 0)?;
                if !matches!(t, Ty::Str | Ty::Int) {
                    self.bad_arg(n, args, 0, "a string or an int", &t);
                }
                self.want(n, args, 1, &Ty::Int);
                if args.len() > 2 {
                    self.want(n, args, 2, &s);
                }
                Ty::Str
            }
            "sort" => match self.arg_ty(args, 0)? {
                t @ Ty::List(_) => {
                    if let Ty::List(e) = &t {
                        if !matches!(**e, Ty::Int | Ty::Str | Ty::Bool | Ty::Duration) {
                            self.bad_arg(n, args, 0, "a list of ints, strings, bools or durations", &t);
                        }
                    }
                    t
                }
                t => {
                    self.bad_arg(n, args, 0, "a list", &t);
                    return None;
                }
            },
            "reverse" => match self.arg_ty(args, 0)? {
                t @ (Ty::List(_) | Ty::Str) => t,
                t => {
                    self.bad_arg(n, args, 0, "a list or a string", &t);
                    return None;
                }
            },
            "keys" | "values" => match self.arg_ty(args, 0)? {
                Ty::Map(k, v) => list_of(if n.name == "keys" { *k } else { *v }),
                t => {
                    self.bad_arg(n, args, 0, "a map", &t);
                    return None;
                }
            },
            "has" => {
                match self.arg_ty(args, 0)? {
                    Ty::Map(k, _) => self.want(n, args, 1, &k),
                    t => self.bad_arg(n, args, 0, "a map", &t),
                }
                Ty::Bool
            }
            "wait" => {
                self.want(n, args, 0, &Ty::Job);
                Ty::Int
            }
            "wait_any" => {
                self.want(n, args, 0, &list_of(Ty::Job));
                Ty::Job
            }
            "jobs" => list_of(Ty::Job),
            "kill" => {
                self.want(n, args, 0, &Ty::Job);
                if args.len() > 1 {
                    self.want(n, args, 1, &s);
                }
                Ty::Void
            }
            "sleep" => {
                self.want(n, args, 0, &Ty::Duration);
                Ty::Void
            }
            "log" => {
                for i in 0..args.len() {
                    self.want(n, args, i, &s);
                }
                Ty::Void
            }
            "parallel" => return self.parallel(n, args),
            _ => return None,
        })
    }

    /// `parallel(list, n, func)`: `func` takes one element and returns a value (or nothing).
    fn parallel(&mut self, name: &Ident, args: &[Expr]) -> Option<Ty> {
        let items = self.arg_ty(args, 0);
        self.want(name, args, 1, &Ty::Int);
        let f = self.arg_ty(args, 2);
        let elem = match items? {
            Ty::List(e) => *e,
            t => {
                self.bad_arg(name, args, 0, "a list", &t);
                return None;
            }
        };
        match f? {
            Ty::Func(params, ret) if params.len() == 1 && assignable(&params[0], &elem) => {
                Some(if *ret == Ty::Void { Ty::Void } else { list_of(*ret) })
            }
            t => {
                let want = format!("a function taking one {elem}");
                self.bad_arg(name, args, 2, &want, &t);
                None
            }
        }
    }

    pub(super) fn unknown_function(&mut self, name: &Ident) {
        let is_var = self.lookup(&name.name).is_some();
        let help = if is_var {
            format!("`{}` is a variable, not a function", name.name)
        } else {
            let candidates = BUILTINS.iter().map(|(n, _)| *n).chain(self.funcs.keys().map(String::as_str));
            match suggest(&name.name, candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "to run a program, write `{}` or run(\"{}\", [...]); define a function with func:{} = void() {{ ... }}",
                    name.name, name.name, name.name
                ),
            }
        };
        self.error(
            Diag::new(
                "ariash::check::unknown_function",
                format!("unknown function `{}`", name.name),
                name.span,
                "not a builtin or a function of this script",
            )
            .with_help(help),
        );
    }
}
