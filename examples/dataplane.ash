// A tar stream of /usr/share/man sent over the data plane: the producer writes the archive
// to stddato (fd 5), `|*` joins it to the consumer's stddati (fd 4), and the consumer prints
// the stream's sha256 and byte count. Meanwhile both stages write human text to stdout, which
// stays on the terminal, and a JSON line each to stddbg (fd 3), redirected to files.
//
//   cargo run --release -p ariash -- examples/dataplane.ash [SRC] [LOGDIR]
//
// The hash equals `tar --sort=name -C /usr/share -cf - man | sha256sum` under bash.

string:parent = "/usr/share";
string:dir = "man";
string:logs = env("TMPDIR");
if (logs == "") {
    logs = "/tmp";
}
if (len(args) > 0) {
    parent = args[0];
}
if (len(args) > 1) {
    logs = args[1];
}

string:producer = "echo \"producer: packing $1/$2 onto the data plane\"; "
    + "printf '{\"stage\":\"producer\",\"event\":\"start\",\"dir\":\"%s\"}\\n' \"$2\" >&3; "
    + "tar --sort=name -C \"$1\" -cf - \"$2\" >&5";

string:consumer = "import hashlib, json, os\n"
    + "print('consumer: hashing the data plane', flush=True)\n"
    + "h, n = hashlib.sha256(), 0\n"
    + "with os.fdopen(4, 'rb', buffering=0) as data:\n"
    + "    while chunk := data.read(1 << 20):\n"
    + "        h.update(chunk)\n"
    + "        n += len(chunk)\n"
    + "print(f'sha256 {h.hexdigest()} bytes {n}')\n"
    + "with os.fdopen(3, 'w') as dbg:\n"
    + "    dbg.write(json.dumps({'stage': 'consumer', 'sha256': h.hexdigest(), 'bytes': n}) + '\\n')\n";

run("sh", ["-c", producer, "producer", parent, dir]) 3> logs + "/dataplane.producer.jsonl"
    |* run("python3", ["-c", consumer]) 3> logs + "/dataplane.consumer.jsonl"?;

print("telemetry:", logs + "/dataplane.producer.jsonl", logs + "/dataplane.consumer.jsonl");
