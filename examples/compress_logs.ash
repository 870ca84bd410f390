// Compress the logs in DIR whose names match PATTERN and that were last modified more than
// DAYS days ago, with gzip; print each file compressed, then how many.
//
//   cargo run --release -p ariash -- examples/compress_logs.ash DIR PATTERN DAYS
//   e.g. examples/compress_logs.ash /var/log/myapp '*.log' 7
//
// What bash does with `find DIR -maxdepth 1 -type f -name PATTERN -mtime +DAYS -exec gzip {} +`,
// without find: the glob is sorted, a name with spaces is still one argument, and a file that
// gzip refuses is reported and skipped.

if (len(args) != 3) {
    eprint("usage: compress_logs.ash DIR PATTERN DAYS");
    exit(2);
}
string:dir = args[0];
int:days = 0;
try {
    days = int(args[2]);
} catch (string:e) {
    eprint(f"compress_logs: DAYS: {e}");
    exit(2);
}

int:cutoff = now() - days * 24 * 60 * 60 * 1000; // mtime() and now() are in milliseconds
int:count = 0;
for (path in glob(f"{dir}/{args[1]}")) {
    if (!is_file(path) || mtime(path) >= cutoff) {
        continue;
    }
    if (`gzip -- {path}`) {
        print(f"compressed {path}");
        count += 1;
    } else {
        eprint(f"compress_logs: gzip failed on {path} (status {status()})");
    }
}
print(f"{count} file(s) compressed");
