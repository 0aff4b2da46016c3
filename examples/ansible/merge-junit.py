#!/usr/bin/env python3
"""One JUnit file per host from the per-JVM files of `knetstat-java check`.

Used by knetstat-java.yml until `check --all-jvms` writes that file itself.
Runs on the managed host with its python3 (which Ansible needs anyway),
standard library only.

  merge-junit.py OUT DIR [--gone PID=MAINCLASS ...]

Reads DIR/junit-*.xml (each a <testsuites> of one JVM), writes OUT: one
<testsuites> with every <testsuite>, counts summed. A JVM listed but gone
before its check (--gone) becomes a skipped suite, not a failure. OUT is
written to a temporary file beside it and renamed: never half-written.
"""
import glob
import os
import re
import socket
import sys
import tempfile
import xml.etree.ElementTree as ET


# Text the target controls (a main class from `list`) goes into XML: terminal
# escape sequences out, and characters XML 1.0 forbids even escaped become "?",
# as the tool itself does in its JUnit.
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|.)", re.S)
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(s):
    return NOT_XML.sub("?", ESCAPES.sub("", s))


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out, folder, rest = argv[1], argv[2], argv[3:]
    gone = []
    while rest:
        if rest[0] != "--gone" or len(rest) < 2:
            sys.stderr.write("merge-junit.py: bad arguments\n")
            return 2
        pid, _, main_class = rest[1].partition("=")
        gone.append((xml_text(pid), xml_text(main_class)))
        rest = rest[2:]

    root = ET.Element("testsuites", {"name": "knetstat-java"})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for path in sorted(glob.glob(os.path.join(folder, "junit-*.xml"))):
        suites = ET.parse(path).getroot()
        for suite in suites.iter("testsuite"):
            root.append(suite)
            for k in totals:
                totals[k] += int(suite.get(k, "0"))
    host = socket.gethostname()
    for pid, main_class in gone:
        suite = ET.SubElement(root, "testsuite", {
            "name": f"pid {pid}", "tests": "1", "failures": "0", "errors": "0", "skipped": "1", "hostname": host,
        })
        props = ET.SubElement(suite, "properties")
        for name, value in (("host", host), ("pid", pid), ("mainClass", main_class)):
            ET.SubElement(props, "property", {"name": name, "value": value})
        case = ET.SubElement(suite, "testcase", {"name": "check", "classname": f"pid {pid}"})
        ET.SubElement(case, "skipped", {"message": "the JVM exited before it was checked"})
        totals["tests"] += 1
    for k, v in totals.items():
        root.set(k, str(v))

    if hasattr(ET, "indent"):  # Python 3.9+
        ET.indent(root)
    fd, tmp = tempfile.mkstemp(prefix=".junit-", dir=os.path.dirname(os.path.abspath(out)))
    try:
        with os.fdopen(fd, "wb") as f:
            ET.ElementTree(root).write(f, encoding="UTF-8", xml_declaration=True)
            f.write(b"\n")
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
