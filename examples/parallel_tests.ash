// Run every executable file in DIR as a test, at most LIMIT at a time (default 4), each for
// at most TEST_TIMEOUT seconds (default 300; a test stopped then fails with status 124).
// Prints one line per test in name order, with the output of each failed test indented under
// it, then the totals; the status is 1 if any test failed.
//
//   cargo run --release -p ariash -- examples/parallel_tests.ash DIR [LIMIT]

if (len(args) < 1 || len(args) > 2) {
    eprint("usage: parallel_tests.ash DIR [LIMIT]");
    exit(2);
}
int:limit = 4;
duration:time_limit = 300s;
try {
    if (len(args) > 1) {
        limit = int(args[1]);
    }
    if (env("TEST_TIMEOUT") != "") {
        time_limit = int(env("TEST_TIMEOUT")) * 1s;
    }
} catch (string:e) {
    eprint(f"parallel_tests: {e}");
    exit(2);
}

// Runs one test; its report is "PASS name", or "FAIL name (status N)" and its output.
func:run_test = string(string:path) {
    string:output = capture(timeout(time_limit, `{path}` 2>&1)); // stdout and stderr
    if (status() == 0) {
        return f"PASS {basename(path)}";
    }
    string:report = f"FAIL {basename(path)} (status {status()})";
    for (line in lines(output)) {
        report += "\n    " + line;
    }
    return report;
}

[string]:tests = [];
for (path in glob(f"{args[0]}/*")) {
    if (is_file(path) && `test -x {path}`) {
        tests += [path];
    }
}

int:failed = 0;
for (report in parallel(tests, limit, run_test)) { // results come back in the list's order
    print(report);
    if (starts_with(report, "FAIL")) {
        failed += 1;
    }
}
print(f"{len(tests) - failed} passed, {failed} failed");
if (failed > 0) {
    exit(1);
}
