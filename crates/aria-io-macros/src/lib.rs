//! `#[aria_io::main]` and `#[aria_io::test]`: run an `async fn` on a fresh runtime
//! (current-thread unless `flavor = ".."` says otherwise). Written on `proc_macro` alone (no
//! `syn`), since the transformation is small: drop the `async` keyword and wrap the body in
//! `<runtime>.block_on(async move { .. })`.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// Runs `async fn main` on an aria-io runtime.
///
/// Arguments, all optional and each at most once: `flavor = "current_thread"` (the default),
/// `"multi_thread"` or `"thread_per_core"`, and `worker_threads = N` (workers or cores;
/// default the available parallelism). The runtime is built when the function is called; a
/// runtime that cannot be built (see `Builder::build`) panics with
/// "failed to start the aria-io runtime".
///
/// # Errors
/// Compile errors, pointing at the offending token: the item is not an `async fn` with a
/// body; an argument is unknown, repeated or not `name = value`; the flavor is not one of the
/// three; `worker_threads` is not a positive integer, or is given with the current-thread
/// flavor.
///
/// ```text
/// #[aria_io::main]
/// async fn main() -> std::io::Result<()> {
///     aria_io::time::sleep(std::time::Duration::from_millis(1)).await;
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr, item, false)
}

/// Like `#[test]`, for an `async fn` run on a fresh aria-io runtime; takes the arguments of
/// [`macro@main`] and reports the same errors: `#[aria_io::test(flavor = "multi_thread",
/// worker_threads = 2)]`. It adds `#[test]` itself, so the function must not carry one too.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr, item, true)
}

fn error(msg: &str, span: Span) -> TokenStream {
    format!("::core::compile_error!({msg:?});").parse::<TokenStream>().map_or_else(
        |_| TokenStream::new(),
        |ts| {
            ts.into_iter()
                .map(|mut t| {
                    t.set_span(span);
                    t
                })
                .collect()
        },
    )
}

/// The runtime an attribute asks for.
struct Config {
    builder: &'static str,
    workers: Option<usize>,
}

/// Parses `flavor = "..", worker_threads = N` (in any order, each at most once).
fn config(attr: TokenStream) -> Result<Config, TokenStream> {
    let mut config = Config { builder: "new_current_thread", workers: None };
    let mut seen: Vec<String> = Vec::new();
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    for arg in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        let (key, value) = match arg {
            [] => continue,
            [TokenTree::Ident(key), TokenTree::Punct(eq), value] if eq.as_char() == '=' => (key, value),
            [first, ..] => {
                return Err(error("expected `flavor = \"..\"` or `worker_threads = N`", first.span()));
            }
        };
        let name = key.to_string();
        if seen.contains(&name) {
            return Err(error(&format!("`{name}` is given twice"), key.span()));
        }
        seen.push(name.clone());
        let text = value.to_string();
        match name.as_str() {
            "flavor" => {
                config.builder = match text.as_str() {
                    "\"current_thread\"" => "new_current_thread",
                    "\"multi_thread\"" => "new_multi_thread",
                    "\"thread_per_core\"" => "new_thread_per_core",
                    _ => {
                        let msg = "unknown flavor: expected \"current_thread\", \"multi_thread\" or \"thread_per_core\"";
                        return Err(error(msg, value.span()));
                    }
                };
            }
            "worker_threads" => match text.parse::<usize>() {
                Ok(n) if n > 0 => config.workers = Some(n),
                _ => return Err(error("worker_threads must be a positive integer", value.span())),
            },
            _ => return Err(error("unknown argument: expected `flavor` or `worker_threads`", key.span())),
        }
    }
    if config.workers.is_some() && config.builder == "new_current_thread" {
        return Err(error(
            "worker_threads needs flavor = \"multi_thread\" or \"thread_per_core\"",
            Span::call_site(),
        ));
    }
    Ok(config)
}

fn expand(attr: TokenStream, item: TokenStream, test: bool) -> TokenStream {
    let config = match config(attr) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let Some(pos) = tokens.iter().position(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "async"))
    else {
        return error("the function must be `async fn`", Span::call_site());
    };
    let is_fn = matches!(tokens.get(pos + 1), Some(TokenTree::Ident(i)) if i.to_string() == "fn");
    if !is_fn {
        return error("the function must be `async fn`", tokens[pos].span());
    }
    tokens.remove(pos);
    let Some(TokenTree::Group(body)) = tokens.pop() else {
        return error("expected a function body", Span::call_site());
    };
    if body.delimiter() != Delimiter::Brace {
        return error("expected a function body", body.span());
    }
    // `<runtime>.block_on(async move { <original body> })`, built from tokens so the body
    // keeps its spans (errors point into the user's code).
    let workers = config.workers.map(|n| format!(".worker_threads({n})")).unwrap_or_default();
    let runtime = format!(
        "::aria_io::Builder::{}(){workers}.build().expect(\"failed to start the aria-io runtime\").block_on",
        config.builder
    );
    let mut wrapped: Vec<TokenTree> =
        runtime.parse::<TokenStream>().unwrap_or_default().into_iter().collect();
    let call: TokenStream = [
        TokenTree::Ident(Ident::new("async", Span::call_site())),
        TokenTree::Ident(Ident::new("move", Span::call_site())),
        TokenTree::Group(body),
    ]
    .into_iter()
    .collect();
    wrapped.push(TokenTree::Group(Group::new(Delimiter::Parenthesis, call)));
    let mut out: Vec<TokenTree> = Vec::new();
    if test {
        out.extend("#[::core::prelude::v1::test]".parse::<TokenStream>().unwrap_or_default());
    }
    out.extend(tokens);
    out.push(TokenTree::Group(Group::new(Delimiter::Brace, wrapped.into_iter().collect())));
    out.into_iter().collect()
}
