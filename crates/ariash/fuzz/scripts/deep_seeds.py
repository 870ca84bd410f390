"""The deepest accepted script of each nesting shape of tests/shell_limits.rs, and one level past."""
import hashlib, os, subprocess, sys
ARIASH, out = sys.argv[1], sys.argv[2]
shapes = [
 lambda n: "int:x = %s1%s;\nprint(x);" % ("(" * n, ")" * n),
 lambda n: "%sprint(1);%s" % ("{" * n, "}" * n),
 lambda n: "%sprint(1);%s" % ("if (true) { " * n, "}" * n),
 lambda n: "%sexit(0);%s" % ("while (true) { " * n, "}" * n),
 lambda n: "%sprint(x);%s" % ("for (x in [7]) { " * n, "}" * n),
 lambda n: "%s{ print(1); }" % ("if (false) {} else " * n),
 lambda n: "bool:b = %strue;\nprint(b);" % ("!" * n),
 lambda n: "int:x = %s1;\nprint(x);" % ("-" * n),
 lambda n: "print(len(%s%s));" % ("[" * n, "]" * n),
 lambda n: "%sint%s:x;\nprint(len(x));" % ("[" * n, "]" * n),
 lambda n: "int:x = %s;\nprint(x);" % " + ".join(["1"] * n),
 lambda n: "int:x = %s1%s;\nprint(x);" % ("1 + (" * n, ")" * n),
 lambda n: "string:s = %s;\nprint(len(s));" % " + ".join(['"ab"'] * n),
 lambda n: "int:x = 1;\nx += %s;\nprint(x);" % " + ".join(["1"] * n),
 lambda n: "bool:a = true;\nbool:b = %s;\nprint(b);" % " && ".join(["a"] * n),
 lambda n: "bool:a = false;\nbool:b = %s;\nprint(b);" % " || ".join(["a"] * n),
 lambda n: "bool:b = %strue%s;\nprint(b);" % ("(" * n, " == true)" * n),
 lambda n: "[int]:xs = [0];\nprint(%s0%s);" % ("xs[" * n, "]" * n),
 lambda n: "print(%s1%s);" % ("str(" * n, ")" * n),
 lambda n: 'run("echo", [%s1%s]);' % ("str(" * n, ")" * n),
 lambda n: 'print(%s"x"%s);' % ('capture(run("echo", [' * n, "]))" * n),
 lambda n: 'run("echo", ["p"])%s;' % (' | run("cat")' * n),
 lambda n: 'run("echo", ["r"])%s;' % (' > "/dev/null"' * n),
 lambda n: 'run("true") > %s"/dev/null"%s;' % ("(" * n, ")" * n),
 lambda n: '%srun("true");' % ("!" * n),
 lambda n: "%sint:x = %s;\nprint(x);%s" % ("{ " * 100, " + ".join(["1"] * n), "}" * 100),
]
def accepts(text):
    return subprocess.run([ARIASH, "--check", "-c", text], capture_output=True).returncode == 0
os.makedirs(out, exist_ok=True)
for make in shapes:
    lo, hi = 1, 1002
    while hi - lo > 1:
        mid = (lo + hi) // 2
        (lo, hi) = (mid, hi) if accepts(make(mid)) else (lo, mid)
    for n in (lo, hi):
        data = make(n).encode()
        open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb").write(data)
    print(lo, make(1)[:40].replace("\n", " "))
