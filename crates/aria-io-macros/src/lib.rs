//! `#[aria_io::main]` and `#[aria_io::test]`: run an `async fn` on a fresh current-thread
//! runtime. Written on `proc_macro` alone (no `syn`), since the transformation is small:
//! drop the `async` keyword and wrap the body in `Runtime::new()...block_on(async move { .. })`.

use proc_macro::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// Runs `async fn main` on an aria-io runtime.
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

/// Like `#[test]`, for an `async fn` run on a fresh aria-io runtime.
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

fn expand(attr: TokenStream, item: TokenStream, test: bool) -> TokenStream {
    if let Some(t) = attr.into_iter().next() {
        return error("this attribute takes no arguments", t.span());
    }
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
    // `::aria_io::Runtime::new().expect(..).block_on(async move { <original body> })`, built
    // from tokens so the body keeps its spans (errors point into the user's code).
    let mut wrapped: Vec<TokenTree> =
        "::aria_io::Runtime::new().expect(\"failed to start the aria-io runtime\").block_on"
            .parse::<TokenStream>()
            .unwrap_or_default()
            .into_iter()
            .collect();
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
