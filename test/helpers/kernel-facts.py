#!/usr/bin/env python3
# Measures, on sockets of its own, what mappings/ claims of the kernel (called
# by test/unit/mappings.test.ts with a JSON request on stdin, answers JSON):
#  inherited: each option set on a listener, read back from the socket it
#             accepts, and from a fresh socket for comparison;
#  tos:       SO_PRIORITY after IP_TOS = bits << 1, for each of the 16 bit values;
#  backlog:   the backlog each listen(n) gets (TCP_INFO tcpi_sacked).
import json, socket, struct, sys

req = json.load(sys.stdin)
out = {}

def value(o):
    if o["type"] == "linger":
        return struct.pack("ii", 1, o["set"])
    if o["type"] == "timeval":
        return struct.pack("qq", o["set"], 0)
    if o["type"] == "string":
        return o["set"].encode()
    return struct.pack("i", o["set"])

def read(s, o):
    size = {"linger": 8, "timeval": 16, "string": 16}.get(o["type"], 4)
    return s.getsockopt(o["level"], o["optname"], size).hex()

inherited = {}
for o in req.get("inherited", []):
    fam = socket.AF_INET6 if o["family"] == 6 else socket.AF_INET
    host = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
    fresh = socket.socket(fam, socket.SOCK_STREAM)
    lst = socket.socket(fam, socket.SOCK_STREAM)
    try:
        try:
            lst.setsockopt(o["level"], o["optname"], value(o))
        except PermissionError:
            inherited[o["name"]] = {"skipped": "EPERM"}
            continue
        lst.bind((host, 0))
        lst.listen(4)
        cli = socket.create_connection(lst.getsockname()[:2])
        cli.sendall(b"x")  # a listener with TCP_DEFER_ACCEPT accepts only once data came
        acc, _ = lst.accept()
        inherited[o["name"]] = {"listener": read(lst, o), "accepted": read(acc, o), "fresh": read(fresh, o)}
        acc.close()
        cli.close()
    finally:
        lst.close()
        fresh.close()
out["inherited"] = inherited

if req.get("tos"):
    prio = []
    for bits in range(16):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, bits << 1)
        prio.append(s.getsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY))
        s.close()
    out["tos"] = prio

backlogs = []
for n in req.get("backlog", []):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(n)
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    backlogs.append(struct.unpack_from("I", info, 28)[0])
    s.close()
out["backlog"] = backlogs

json.dump(out, sys.stdout)
