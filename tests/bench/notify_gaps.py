#!/usr/bin/env python3
"""notify_gaps.py SOCKET OUT - stand in for systemd's notify socket and time
the daemon's WATCHDOG=1 pings: on SIGTERM, write the longest gap between two
pings, in milliseconds, and how many came, to OUT ("max_gap_ms=N pings=N")."""
import os
import signal
import socket
import sys
import time

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
last = None
worst = 0.0
pings = 0


def done(*_):
    with open(out, "w") as f:
        f.write("max_gap_ms=%d pings=%d\n" % (round(worst * 1000), pings))
    os.unlink(path)
    sys.exit(0)


signal.signal(signal.SIGTERM, done)
while True:
    msg = s.recv(4096).decode(errors="replace")
    if "WATCHDOG=1" in msg.split("\n"):
        now = time.monotonic()
        if last is not None:
            worst = max(worst, now - last)
        last = now
        pings += 1
