//! Arbitrary bytes through the front end: if they are UTF-8, lex, parse and check them on the
//! main thread's own stack (not the script stack `ariash::compile` uses, so a walk deeper than
//! the stack budget of `ariash::stack` shows up as a stack overflow), and render whatever
//! diagnostics come out.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = ariash::Source::new("fuzz.ash", text);
    if let Err(diags) = ariash::compile_here(&source) {
        assert!(!diags.is_empty(), "a failed compile reports at least one diagnostic");
        let rendered = ariash::diag::render(&diags, &source);
        assert!(rendered.contains("fuzz.ash:"), "every diagnostic names its location: {rendered}");
    }
});
