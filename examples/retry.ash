// Run a command until it succeeds, at most ATTEMPTS times, waiting DELAY before the first
// retry and twice as long before each next one. Each attempt may run for RETRY_TIMEOUT
// (default 10m; an attempt stopped by it fails with status 124).
//
//   cargo run --release -p ariash -- examples/retry.ash ATTEMPTS DELAY COMMAND [ARGS...]
//   e.g. examples/retry.ash 5 500ms curl -fsS https://example.com/health
//
// DELAY and RETRY_TIMEOUT are written 250ms, 2s, 1m or as plain milliseconds. The exit status
// is the command's last status.

// "250ms", "2s", "1m" or "250" (milliseconds) as a duration; int(...) throws on junk.
func:duration_of = duration(string:text) {
    string:t = trim(text);
    if (ends_with(t, "ms")) {
        return int(t[:-2]) * 1ms;
    }
    if (ends_with(t, "s")) {
        return int(t[:-1]) * 1s;
    }
    if (ends_with(t, "m")) {
        return int(t[:-1]) * 1m;
    }
    return int(t) * 1ms;
}

if (len(args) < 3) {
    eprint("usage: retry.ash ATTEMPTS DELAY COMMAND [ARGS...]");
    exit(2);
}
int:attempts = 0;
duration:delay = 0ms;
duration:limit = 10m;
try {
    attempts = int(args[0]);
    delay = duration_of(args[1]);
    if (env("RETRY_TIMEOUT") != "") {
        limit = duration_of(env("RETRY_TIMEOUT"));
    }
} catch (string:e) {
    eprint(f"retry: {e}");
    exit(2);
}
[string]:command = args[2:];

int:attempt = 1;
while (!timeout(limit, `{...command}`)) {
    if (attempt >= attempts) {
        eprint(f"retry: giving up after {attempt} attempts (status {status()})");
        exit(status());
    }
    eprint(f"retry: attempt {attempt} of {attempts} failed (status {status()}), retrying in {delay}");
    sleep(delay);
    delay = delay * 2;
    attempt += 1;
}
