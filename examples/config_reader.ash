// Read an INI-style config file: `key = value` lines, `[section]` headers (a key in one is
// printed as section.key), comments starting with `#` or `;`, blank lines. Spaces around keys
// and values are trimmed; a later value for a key replaces the earlier one. Malformed lines
// are reported on stderr as FILE:LINE: ..., and the status is then 1. The settings are printed
// as key=value, sorted by key.
//
//   cargo run --release -p ariash -- examples/config_reader.ash FILE
//   cargo run --release -p ariash -- examples/config_reader.ash - < FILE    (stdin)

if (len(args) != 1) {
    eprint("usage: config_reader.ash FILE (or - for stdin)");
    exit(2);
}
string:path = args[0];

[string:string]:settings;
string:section = "";
int:number = 0;
int:bad = 0;

// Reports a malformed line on stderr.
func:malformed = void(string:why, int:number, string:line) {
    eprint(f"{path}:{number}: {why}: {line}");
}

[string]:text = [];
if (path == "-") {
    for (line in lines_of(stdin)) {
        text += [line];
    }
} else {
    text = lines(read_file(path));
}

for (raw in text) {
    number += 1;
    string:line = trim(raw);
    if (line == "" || starts_with(line, "#") || starts_with(line, ";")) {
        continue;
    }
    if (starts_with(line, "[")) {
        if (!ends_with(line, "]") || trim(line[1:-1]) == "") {
            malformed("bad section header", number, line);
            bad += 1;
        } else {
            section = trim(line[1:-1]);
        }
        continue;
    }
    int:eq = find(line, "=");
    if (eq < 0 || trim(line[:eq]) == "") {
        malformed("expected key = value", number, line);
        bad += 1;
        continue;
    }
    string:key = trim(line[:eq]);
    if (section != "") {
        key = f"{section}.{key}";
    }
    settings[key] = trim(line[eq + 1:]);
}

for (key in sort(keys(settings))) {
    print(f"{key}={settings[key]}");
}
if (bad > 0) {
    exit(1);
}
