// The 20 most frequent words in every gzip-compressed document under /usr/share/doc.
//
//   cargo run --release -p ariash -- examples/wordfreq.ash [DIR]
//
// Eight processes, seven text pipes, one process group; pipefail by default, except that
// `sort -rn` being cut off by `head` (SIGPIPE) is not a failure because `head` succeeded.

string:root = "/usr/share/doc";
if (len(args) > 0) {
    root = args[0];
}
setenv("LC_ALL", "C"); // byte-wise sorting, identical to the same pipeline under bash

run("find", [root, "-type", "f", "-name", "*.gz", "-print0"])
    | run("xargs", ["-0", "zcat", "-f"])
    | run("tr", ["-cs", "A-Za-z", "\n"])
    | run("tr", ["A-Z", "a-z"])
    | run("sort")
    | run("uniq", ["-c"])
    | run("sort", ["-rn"])
    | run("head", ["-n", "20"])?;
