#!/usr/bin/env python3
"""metrics_scrape.py: scrape a Prometheus endpoint and check its text exposition (0.0.4).

  metrics_scrape.py URL     prints each sample as "name{labels} value", one a line

Checks: status 200 and Content-Type text/plain; every line is "# HELP name text",
"# TYPE name counter|gauge|...", or a sample "name{label="value",...} value"; each family has
HELP and TYPE before its first sample, its samples are contiguous, and a name is not a family
twice; counter values are non-negative numbers. Exit 0 when valid, 1 with the reason on stderr.
"""
import re
import sys
import urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) .*$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def die(msg):
    print("metrics_scrape: " + msg, file=sys.stderr)
    sys.exit(1)


def check(text):
    helps, types, done, out = set(), {}, set(), []
    current = None
    for n, line in enumerate(text.split("\n"), 1):
        if line == "":
            continue
        m = HELP.match(line) or TYPE.match(line)
        if m:
            name = m.group(1)
            if name in done or (current and current != name and name in types):
                die("line %d: family %s split" % (n, name))
            if current and current != name:
                done.add(current)
            current = name
            (helps.add(name) if line.startswith("# HELP") else types.__setitem__(name, m.group(2)))
            continue
        m = SAMPLE.match(line)
        if not m:
            die("line %d: not a sample: %r" % (n, line))
        name, value = m.group(1), m.group(3)
        if name != current or name not in helps or name not in types:
            die("line %d: %s without HELP and TYPE just before" % (n, name))
        try:
            v = float(value)
        except ValueError:
            die("line %d: bad value %r" % (n, value))
        if types[name] == "counter" and not v >= 0:
            die("line %d: counter %s is %s" % (n, name, value))
        out.append("%s%s %s" % (name, m.group(2) or "", value))
    if not out:
        die("no samples")
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
            ctype = r.headers.get("Content-Type", "")
            body = r.read().decode()
            status = r.status
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        die("%s: %s" % (sys.argv[1], e))
    if status != 200 or not ctype.startswith("text/plain"):
        die("status %d, Content-Type %r" % (status, ctype))
    print("\n".join(check(body)))


if __name__ == "__main__":
    main()
