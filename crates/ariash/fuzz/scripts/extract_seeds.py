"""Pulls the Rust string literals that look like ariash scripts out of the given test files."""
import hashlib, os, re, sys

def literals(src):
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            i = src.find('\n', i); i = n if i < 0 else i; continue
        if c == "'" :  # char literal or lifetime: skip a char literal like '"'
            m = re.match(r"'(\\.|[^\\'])'", src[i:])
            if m: i += m.end(); continue
            i += 1; continue
        m = re.match(r'r(#*)"', src[i:])
        if m and (i == 0 or not (src[i-1].isalnum() or src[i-1] == '_')):
            hashes = m.group(1); end = '"' + hashes
            j = src.find(end, i + m.end())
            yield src[i + m.end():j]; i = j + len(end); continue
        if c == '"':
            j = i + 1; out = []
            while src[j] != '"':
                if src[j] == '\\':
                    e = src[j+1]
                    if e == '\n':
                        j += 2
                        while src[j] in ' \t\n': j += 1
                        continue
                    if e == 'u':
                        k = src.index('}', j); out.append(chr(int(src[j+3:k], 16))); j = k + 1; continue
                    if e == 'x':
                        out.append(chr(int(src[j+2:j+4], 16))); j += 4; continue
                    out.append({'n': '\n', 't': '\t', 'r': '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'"}[e]); j += 2; continue
                out.append(src[j]); j += 1
            yield ''.join(out); i = j + 1; continue
        i += 1

outdir = sys.argv[1]
os.makedirs(outdir, exist_ok=True)
count = 0
for path in sys.argv[2:]:
    text = open(path).read()
    found = literals(text) if path.endswith('.rs') else [text]
    for lit in found:
        if path.endswith('.rs') and (';' not in lit or len(lit) < 4 or len(lit) > 4096):
            continue
        data = lit.encode()
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(outdir, name), 'wb') as f:
            f.write(data)
        count += 1
print(count, 'seeds')
