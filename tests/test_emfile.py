#!/usr/bin/env python3
"""Running short of descriptors: when the limit drops to 64 under a running
netlabd, a flood of held connections makes accept() fail with EMFILE; netlabd
must keep running, pause accepting (logged once per episode) instead of
spinning, keep serving the connections it has, and accept again once
descriptors free up.  Also: at start-up it raises its soft descriptor limit
to what max-connections and its listening sockets need, or says how many
connections it can really serve and refuses the rest (never leaving them in
the backlog).
"""
import os
import re
import resource
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

# Under valgrind (tests/valgrind.sh) time, CPU and RSS say nothing about netlabd.
MEASURE_OFF = bool(nt.WRAPPER) or bool(os.environ.get("NETLAB_UNDER_VALGRIND"))

FLOOD = 200
PAUSE = r"^netlabd: accept on (\S+): pausing new connections(?:: Too many open files)?$"
AGAIN = r"^netlabd: accepting connections again$"


def limit_nofile(soft, hard):
    def preexec():
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return preexec


own_nofile = nt.own_nofile


def daemon_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError("no Max open files in /proc/%d/limits" % pid)


stats = nt.stats


def count(d, rx):
    return len(re.findall(rx, d.log(), re.M))


def lastline(d, rxs=(PAUSE, AGAIN)):
    """The last log line that matches any of rxs."""
    lines = [l for l in d.log().splitlines() if any(re.match(rx, l) for rx in rxs)]
    return lines[-1] if lines else ""


def echo(s, line):
    s.sendall(line)
    return nt.recv_exact(s, len(line))


# valgrind keeps descriptors of its own below the limit, shows its client a
# lower one, and closes accepted sockets above it itself (the client sees a
# bare EOF): nothing here would be netlabd's behaviour.
NOT_UNDER_VALGRIND = unittest.skipIf(MEASURE_OFF, "descriptor limits are valgrind's own")


@NOT_UNDER_VALGRIND
class Emfile(unittest.TestCase):
    def test_flood_under_64_descriptors(self):
        own_nofile(FLOOD * 2 + 100)
        port, = nt.free_ports(1)
        conf = ("service echo { port = %d address = { %s } }\n"
                % (port, ", ".join('"%s"' % h for h in nt.HOSTS)))
        d = nt.Daemon(conf).start()
        self.addCleanup(d.stop)
        # The limit drops under the running daemon: max-connections no longer fits.
        resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (64, 64))
        self.assertEqual(daemon_nofile(d.pid), (64, 64))
        accepted = 0
        for host in nt.HOSTS:
            with self.subTest(host=host):
                pauses, agains = count(d, PAUSE), count(d, AGAIN)
                flood = []
                try:
                    for _ in range(FLOOD):
                        flood.append(nt.connect(host, port))
                    m = d.wait_log(PAUSE, count=pauses + 1)
                    self.assertIn(m.group(1), ("%s:%d" % (host, port), "[%s]:%d" % (host, port)))
                    # The first connections were accepted and are still served.
                    self.assertEqual(echo(flood[0], b"first\n"), b"first\n")
                    self.assertEqual(echo(flood[10], b"tenth\n"), b"tenth\n")
                    # A client that arrives now waits in the backlog.
                    waiting = nt.connect(host, port, timeout=15)
                    waiting.sendall(b"waiting\n")
                    # Saturated, it must not spin on accept().
                    cpu0, t0 = d.cpu_seconds(), time.monotonic()
                    time.sleep(2)
                    cpu = (d.cpu_seconds() - cpu0) / (time.monotonic() - t0)
                    self.assertIsNone(d.proc.poll(), "netlabd died:\n" + d.log())
                    print("\n%s: %.1f%% CPU while out of descriptors" % (host, cpu * 100),
                          file=sys.stderr)
                    if not MEASURE_OFF:
                        # Issue 5 asks for < 50%; retrying every 100 ms costs next
                        # to nothing, while a spinning daemon on this shared
                        # 2-core machine was measured at only 52%: keep a margin.
                        self.assertLess(cpu, 0.2, "netlabd used %.0f%% CPU while out of"
                                        " descriptors" % (cpu * 100))
                    # One saturation, one pause line (it retries every 100 ms).
                    self.assertEqual(count(d, PAUSE), pauses + 1,
                                     "pause logged more than once while saturated:\n" + d.log())
                    self.assertEqual(count(d, AGAIN), agains)
                    self.assertEqual(echo(flood[0], b"still\n"), b"still\n")
                finally:
                    for s in flood:
                        s.close()
                # Descriptors free up: it accepts again, on its own.
                d.wait_log(AGAIN, count=agains + 1, timeout=10)
                self.assertEqual(nt.recv_exact(waiting, 8), b"waiting\n")
                waiting.close()
                s = nt.connect(host, port)
                self.assertEqual(echo(s, b"new client\n"), b"new client\n")
                s.close()
                accepted += FLOOD + 2
                # Every connection of the flood was accepted in the end, none
                # refused or lost, and every slot came back.
                deadline = time.monotonic() + 10 * nt.SLOW
                while True:
                    st = stats(d, "echo")
                    if (st["accepted"], st["active"]) == (accepted, 0) or \
                            time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                self.assertEqual((st["accepted"], st["active"], st["refused"]),
                                 (accepted, 0, 0))
                # The episode is over: the last word is "accepting again".
                self.assertRegex(lastline(d), AGAIN)
        d.stop()
        self.assertEqual(d.returncode, 0, d.log())

    def test_emfile_with_two_services(self):
        # One service's flood pauses accepting; the other's backlog is served
        # as soon as descriptors free up too.
        own_nofile(FLOOD * 2 + 100)
        p1, p2 = nt.free_ports(2)
        conf = ("service echo { port = %d address = { \"127.0.0.1\" } }\n"
                "service hello { port = %d address = { \"127.0.0.1\" } }\n" % (p1, p2))
        d = nt.Daemon(conf).start()
        self.addCleanup(d.stop)
        resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (64, 64))
        flood = [nt.connect("127.0.0.1", p1) for _ in range(FLOOD)]
        d.wait_log(PAUSE)
        hello = nt.connect("127.0.0.1", p2, timeout=15)
        time.sleep(0.5)
        self.assertIsNone(d.proc.poll())
        for s in flood:
            s.close()
        self.assertEqual(nt.recv_all(hello), b"HELLO\n")
        hello.close()
        d.wait_log(AGAIN)
        s = nt.connect("127.0.0.1", p1)
        self.assertEqual(echo(s, b"after\n"), b"after\n")
        s.close()
        self.assertRegex(lastline(d), AGAIN)


@NOT_UNDER_VALGRIND
class RaiseLimit(unittest.TestCase):
    def start(self, soft, hard, max_conns):
        port, = nt.free_ports(1)
        d = nt.Daemon("max-connections = %d\nservice hello { port = %d address = { \"127.0.0.1\" } }\n"
                      % (max_conns, port), preexec=limit_nofile(soft, hard)).start()
        self.addCleanup(d.stop)
        return d

    def test_raises_soft_limit_for_max_connections(self):
        d = self.start(256, 4096, 1000)
        # max-connections plus its spare descriptors; the hard limit stays.
        soft, hard = daemon_nofile(d.pid)
        self.assertGreaterEqual(soft, 1000)
        self.assertLessEqual(soft, 4096)
        self.assertEqual(hard, 4096)
        self.assertNotIn("descriptors", d.log())

    def test_says_why_it_cannot(self):
        d = self.start(256, 512, 1000)
        self.assertEqual(daemon_nofile(d.pid), (512, 512))
        self.assertRegex(d.log(), re.compile(
            r"^netlabd: max-connections 1000 and 1 listening socket\(s\) need \d+ descriptors,"
            r" but the limit is 512: serving at most (\d+) connections, refusing the rest$",
            re.M))

    def test_limit_too_low_refuses_instead_of_backlog(self):
        # 64 descriptors, 600 listening sockets wanted: what cannot be served
        # is refused at once, never left waiting in the backlog.
        own_nofile(FLOOD * 2 + 100)
        port, = nt.free_ports(1)
        d = nt.Daemon("service echo { port = %d address = { \"127.0.0.1\" } }\n" % port,
                      preexec=limit_nofile(64, 64)).start()
        self.addCleanup(d.stop)
        m = re.search(r"serving at most (\d+) connections, refusing the rest", d.log())
        self.assertIsNotNone(m, d.log())
        room = int(m.group(1))
        self.assertGreater(room, 10)
        self.assertLess(room, 64)
        held = []
        try:
            for _ in range(room):
                s = nt.connect("127.0.0.1", port)
                held.append(s)
                self.assertEqual(echo(s, b"x\n"), b"x\n")
            extra = [nt.connect("127.0.0.1", port) for _ in range(20)]
            for s in extra:
                # Refused: closed at once, not left hanging.
                self.assertTrue(nt.is_closed(s, timeout=3))
                s.close()
            st = stats(d, "echo")
            self.assertEqual((st["accepted"], st["active"], st["refused"]), (room, room, 20))
            self.assertEqual(echo(held[0], b"still\n"), b"still\n")
            self.assertNotRegex(d.log(), re.compile(PAUSE, re.M))
        finally:
            for s in held:
                s.close()

    def test_never_lowers_a_higher_limit(self):
        d = self.start(3000, 4096, 10)
        self.assertEqual(daemon_nofile(d.pid), (3000, 4096))
        self.assertNotIn("descriptors", d.log())

    def test_reload_raises_for_new_max_connections(self):
        d = self.start(256, 4096, 10)
        self.assertEqual(daemon_nofile(d.pid)[0], 256)
        with open(d.conf_path) as f:
            conf = f.read().replace("max-connections = 10", "max-connections = 2000")
        d.write_conf(conf)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ")
        self.assertGreaterEqual(daemon_nofile(d.pid)[0], 2000)


if __name__ == "__main__":
    nt.main()
