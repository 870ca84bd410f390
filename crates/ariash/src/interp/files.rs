//! Builtins that reach outside the interpreter: files, globs, the script's own stdin and
//! stderr, telemetry on stddbg, time.
//!
//! File operations run on the runtime's blocking pool (`aria_io::fs`, `spawn_blocking`), so
//! a slow disk never holds up the jobs the script is watching. Every failure is a runtime
//! error naming the path and the system's reason, which `try`/`catch` can catch.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{runtime_error, Eval, Flow, Interp};
use crate::ast::Span;
use crate::value::Value;

fn io_error(span: Span, what: &str, path: &str, e: &io::Error) -> Flow {
    let reason = match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    runtime_error(span, format!("cannot {what} `{path}`: {reason}"), what)
}

fn blocking_failed(span: Span) -> Flow {
    runtime_error(span, "the blocking pool failed", "here")
}

/// Milliseconds since the Unix epoch (negative before it).
fn epoch_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// `glob(pattern)`: the matching paths, sorted; `**` matches any number of directories.
/// Hidden files match only a pattern that starts them with a dot, as in a shell.
fn glob_paths(pattern: &str) -> Result<Vec<String>, String> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths =
        glob::glob_with(pattern, options).map_err(|e| format!("bad glob pattern `{pattern}`: {e}"))?;
    let mut out: Vec<String> =
        paths.filter_map(Result::ok).map(|p| p.to_string_lossy().into_owned()).collect();
    out.sort();
    Ok(out)
}

/// Reads one line of the script's stdin without its line ending; `None` at the end.
pub(super) async fn stdin_line(span: Span) -> Eval<Option<String>> {
    let read = aria_io::blocking::spawn_blocking(|| {
        let mut line = String::new();
        io::stdin().read_line(&mut line).map(|n| (n, line))
    });
    match read.await {
        Ok(Ok((0, _))) => Ok(None),
        Ok(Ok((_, mut line))) => {
            if line.ends_with('\n') {
                line.pop();
                if line.ends_with('\r') {
                    line.pop();
                }
            }
            Ok(Some(line))
        }
        Ok(Err(e)) => Err(runtime_error(span, format!("cannot read stdin: {e}"), "here")),
        Err(_) => Err(blocking_failed(span)),
    }
}

impl Interp<'_> {
    /// The builtins of this module: `None` if `name` is not one of them. The checker has
    /// validated the argument count and types.
    pub(super) async fn file_builtin(
        &mut self,
        name: &str,
        args: &[Value],
        span: Span,
    ) -> Option<Eval<Value>> {
        let void = Value::Str(Default::default());
        let a = |i: usize| match args.get(i) {
            Some(Value::Str(s)) => s.as_str().to_string(),
            _ => String::new(),
        };
        let sandboxed = self.sandboxed();
        Some(Ok(match name {
            "read_file" => {
                let path = a(0);
                if sandboxed {
                    return Some(Err(io_error(span, "read", &path, &io::ErrorKind::NotFound.into())));
                }
                match aria_io::fs::read(&path).await {
                    Ok(bytes) => Value::str(String::from_utf8_lossy(&bytes).into_owned()),
                    Err(e) => return Some(Err(io_error(span, "read", &path, &e))),
                }
            }
            "write_file" | "append_file" => {
                let (path, text) = (a(0), a(1));
                if sandboxed {
                    return Some(Ok(void));
                }
                let append = name == "append_file";
                let p = path.clone();
                let result = aria_io::blocking::spawn_blocking(move || {
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .write(true)
                        .append(append)
                        .truncate(!append)
                        .open(&p)?;
                    f.write_all(text.as_bytes())
                });
                match result.await {
                    Ok(Ok(())) => void,
                    Ok(Err(e)) => return Some(Err(io_error(span, "write", &path, &e))),
                    Err(_) => return Some(Err(blocking_failed(span))),
                }
            }
            "remove_file" => {
                let path = a(0);
                if sandboxed {
                    return Some(Ok(void));
                }
                match aria_io::fs::remove_file(&path).await {
                    Ok(()) => void,
                    Err(e) => return Some(Err(io_error(span, "remove", &path, &e))),
                }
            }
            "glob" => {
                let pattern = a(0);
                if sandboxed {
                    return Some(Ok(Value::list(Vec::new())));
                }
                match aria_io::blocking::spawn_blocking(move || glob_paths(&pattern)).await {
                    Ok(Ok(paths)) => Value::list(paths.into_iter().map(Value::str).collect()),
                    Ok(Err(message)) => {
                        return Some(Err(runtime_error(span, message, "bad pattern").with_help(
                            "* matches within a name, ? one character, [abc] a set, ** whole directories",
                        )))
                    }
                    Err(_) => return Some(Err(blocking_failed(span))),
                }
            }
            "exists" | "is_dir" | "is_file" => {
                let path = a(0);
                if sandboxed {
                    return Some(Ok(Value::Bool(false)));
                }
                let meta = aria_io::fs::metadata(&path).await;
                Value::Bool(match (name, meta) {
                    ("exists", m) => m.is_ok(),
                    ("is_dir", Ok(m)) => m.is_dir(),
                    ("is_file", Ok(m)) => m.is_file(),
                    _ => false,
                })
            }
            "mtime" => {
                let path = a(0);
                if sandboxed {
                    return Some(Ok(Value::Int(0)));
                }
                match aria_io::fs::metadata(&path).await.and_then(|m| m.modified()) {
                    Ok(t) => Value::Int(epoch_ms(t)),
                    Err(e) => return Some(Err(io_error(span, "stat", &path, &e))),
                }
            }
            "now" => Value::Int(epoch_ms(SystemTime::now())),
            "sleep" => {
                let Some(Value::Duration(d)) = args.first() else { return None };
                if !sandboxed {
                    if let Err(e) = self.sleep(*d).await {
                        return Some(Err(e));
                    }
                }
                void
            }
            "read_line" => {
                if sandboxed {
                    return Some(Ok(void));
                }
                match stdin_line(span).await {
                    Ok(line) => Value::str(line.unwrap_or_default()),
                    Err(e) => return Some(Err(e)),
                }
            }
            "eprint" => {
                if sandboxed {
                    return Some(Ok(void));
                }
                let parts: Vec<String> = args.iter().map(ToString::to_string).collect();
                let mut err = io::stderr().lock();
                let _ = writeln!(err, "{}", parts.join(" "));
                void
            }
            "log" => {
                let (level, message) =
                    if args.len() == 2 { (a(0), a(1)) } else { ("info".to_string(), a(0)) };
                if !sandboxed {
                    self.log(&level, &message);
                }
                void
            }
            "throw" => return Some(Err(runtime_error(span, a(0), "thrown here"))),
            _ => return None,
        }))
    }

    /// `sleep(d)`: one timer on the timer wheel; a termination signal ends it early.
    async fn sleep(&mut self, d: Duration) -> Eval<()> {
        // `Err` is the deadline passing: the sleep ran its course.
        let _ = aria_io::time::timeout(d, self.groups.terminated()).await;
        self.check_signal()
    }

    /// `log(level, message)`: one JSON object per line on stddbg (fd 3), the six-stream
    /// model's telemetry stream: `{"ts":...,"level":"info","msg":"...","script":"..."}` (`ts` in milliseconds since the Unix epoch).
    /// Nothing is written when ariash was not given fd 3.
    fn log(&self, level: &str, message: &str) {
        let Some(out) = &self.stddbg else { return };
        let line = serde_json::json!({
            "ts": epoch_ms(SystemTime::now()),
            "level": level,
            "msg": message,
            "script": self.source.name,
        });
        let mut out: &std::fs::File = out;
        // Telemetry is best effort: a closed reader must not stop the script.
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_sorts_and_recurses() {
        let dir = std::env::temp_dir().join(format!("ariash-glob-{}", std::process::id()));
        let sub = dir.join("a/b");
        std::fs::create_dir_all(&sub).expect("glob test set-up");
        for f in ["z.log", "a.log", "a/m.log", "a/b/deep.log", ".hidden.log", "x.txt"] {
            std::fs::write(dir.join(f), "").expect("glob test set-up");
        }
        let d = dir.to_string_lossy();
        let top = glob_paths(&format!("{d}/*.log")).expect("glob test set-up");
        assert_eq!(top, vec![format!("{d}/a.log"), format!("{d}/z.log")]);
        let all = glob_paths(&format!("{d}/**/*.log")).expect("glob test set-up");
        assert_eq!(all.len(), 4, "{all:?}");
        assert!(all.contains(&format!("{d}/a/b/deep.log")));
        assert!(glob_paths(&format!("{d}/*.none")).expect("glob test set-up").is_empty());
        assert!(glob_paths("[").is_err());
        std::fs::remove_dir_all(&dir).expect("glob test set-up");
    }
}
