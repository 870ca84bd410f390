// Count the commits of each author in a git repository, most commits first, then by name.
//
//   cargo run --release -p ariash -- examples/git_authors.ash [REPO]
//
// The output is that of `git log --format=%an | sort | uniq -c | sort -k1,1nr -k2` (LC_ALL=C).
// The log is read line by line as git writes it, not held in memory.

string:repo = ".";
if (len(args) > 0) {
    repo = args[0];
}

[string:int]:commits;
for (author in stream(`git -C {repo} log --format=%an`?)) {
    commits[author] += 1; // a new key starts from 0
}

// Every distinct count, highest first; the authors with that count, by name.
[string]:names = sort(keys(commits));
int:previous = -1;
for (n in reverse(sort(values(commits)))) {
    if (n == previous) {
        continue;
    }
    previous = n;
    for (name in names) {
        if (commits[name] == n) {
            print(pad_left(n, 7), name);
        }
    }
}
