//! Arbitrary bytes through the whole runner: scripts that compile (on the main thread's own
//! stack, as in `front_end`) are run on it too, in the interpreter's sandbox
//! (`ariash::run_sandboxed`): no process is spawned, nothing outside is touched, and the fuel
//! stops endless loops.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Statements and loop iterations one script may run.
const FUEL: u64 = 5_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = ariash::Source::new("fuzz.ash", text);
    let Ok(script) = ariash::compile_here(&source) else { return };
    let status = ariash::run_sandboxed(&source, &script, FUEL).expect("creating the runtime");
    assert!((0..=255).contains(&status), "exit status {status} out of range");
});
