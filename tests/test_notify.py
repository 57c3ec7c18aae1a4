"""sd_notify (SPEC §6) seen on the test's own NOTIFY_SOCKET: READY=1 once
serving, RELOADING=1 (MONOTONIC_USEC=) then READY=1 around SIGHUP, STATUS=
kept current but rate-limited, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1
on SIGTERM; and the journald "<N>" priority prefix when JOURNAL_STREAM is set."""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402
import sockholder  # noqa: E402

HAVE_SYSTEMD = os.access(nt.NETLABD, os.X_OK) and sockholder.systemd_build(nt.NETLABD)
need_systemd = unittest.skipUnless(HAVE_SYSTEMD, "netlabd built without libsystemd")


class NotifySocket:
    """An AF_UNIX datagram socket standing in for systemd's notify socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="netlabd-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []      # (monotonic time received, {key: value})

    def close(self):
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return None
        data = self.sock.recv(65536).decode()
        msg = dict(line.split("=", 1) for line in data.split("\n") if "=" in line)
        self.seen.append((time.monotonic(), msg))
        return msg

    def wait(self, key, value=None, timeout=5):
        """Read messages until one has key (= value, if given); return it."""
        deadline = time.monotonic() + timeout * nt.SLOW
        while True:
            msg = self._read(deadline - time.monotonic())
            if msg is None:
                raise AssertionError("no %s%s within %ss; got %r" % (
                    key, "" if value is None else "=" + value, timeout,
                    [m for _, m in self.seen]))
            if key in msg and (value is None or msg[key] == value):
                return msg

    def collect(self, seconds):
        """Every message received in the next seconds."""
        end = time.monotonic() + seconds
        got = []
        while True:
            msg = self._read(end - time.monotonic())
            if msg is None:
                return got
            got.append(msg)


HELLO = 'service hello { port = %d address = { "127.0.0.1" } }\n'


def hello(port):
    with nt.connect("127.0.0.1", port) as s:
        return nt.recv_all(s)


@unittest.skipIf(HAVE_SYSTEMD, "netlabd built with libsystemd (see NotifyTest)")
class WithoutSystemd(unittest.TestCase):
    """SPEC 1: ./configure --without-systemd builds a daemon without socket
    activation or sd_notify, serving as usual."""

    def test_serves_and_notifies_nothing(self):
        ldd = subprocess.run(["ldd", nt.NETLABD], capture_output=True, text=True)
        self.assertEqual(ldd.returncode, 0, ldd.stderr)
        self.assertNotIn("libsystemd", ldd.stdout)
        ns = NotifySocket()
        self.addCleanup(ns.close)
        p = nt.free_port()
        d = nt.Daemon(HELLO % p, env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000"})
        self.addCleanup(d.stop)
        d.start()
        self.assertEqual(hello(p), b"HELLO\n")
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded")
        self.assertEqual(hello(p), b"HELLO\n")
        # No READY, RELOADING, STATUS or WATCHDOG: the socket hears nothing.
        self.assertEqual(ns.collect(1), [])


@need_systemd
class NotifyTest(unittest.TestCase):

    def start(self, conf, env=None):
        self.ns = NotifySocket()
        self.addCleanup(self.ns.close)
        e = {"NOTIFY_SOCKET": self.ns.path}
        e.update(env or {})
        self.d = nt.Daemon(conf, env=e)
        self.addCleanup(self.d.stop)
        self.d.start(wait=False)
        return self.d

    def test_ready_after_listeners_serve(self):
        p = nt.free_port()
        d = self.start(HELLO % p)
        msg = self.ns.wait("READY", "1")
        # READY=1 comes with a status, and only once the listener serves.
        self.assertRegex(msg.get("STATUS", ""), r"^0 open connections, 0 accepted$")
        self.assertEqual(hello(p), b"HELLO\n")
        self.assertIn("netlabd: netlabd", d.log())
        self.assertNotIn("LISTEN_FDS", d.log())

    def test_no_ready_when_startup_fails(self):
        p = nt.free_port()
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", p))
            busy.listen(1)
            d = self.start(HELLO % p)
            self.assertEqual(d.wait(10), 1)
        got = self.ns.collect(0.2)
        self.assertFalse([m for m in got if m.get("READY") == "1"], got)

    def reload_ok(self, p):
        self.d.signal(signal.SIGHUP)
        before = time.monotonic()
        msg = self.ns.wait("RELOADING", "1")
        # MONOTONIC_USEC is CLOCK_MONOTONIC, the clock time.monotonic() reads.
        usec = int(msg["MONOTONIC_USEC"])
        self.assertLess(abs(usec / 1e6 - before), 5, msg)
        self.ns.wait("READY", "1")
        self.assertEqual(hello(p), b"HELLO\n")

    def test_reload(self):
        p, p2 = nt.free_ports(2)
        d = self.start(HELLO % p)
        self.ns.wait("READY", "1")
        self.reload_ok(p)
        d.wait_log(r"netlabd: reloaded ")
        # A reload that changes something: the new service serves after READY=1.
        d.write_conf(HELLO % p + 'service echo { port = %d address = { "127.0.0.1" } }\n' % p2)
        self.reload_ok(p)
        with nt.connect("127.0.0.1", p2) as s:
            s.sendall(b"x\n")
            self.assertEqual(nt.recv_exact(s, 2), b"x\n")

    def test_reload_broken_config_still_ready(self):
        p = nt.free_port()
        d = self.start(HELLO % p)
        self.ns.wait("READY", "1")
        d.write_conf("service hello { port = 0 }\n")
        self.reload_ok(p)
        d.wait_log(r"reload failed")

    def test_reload_cannot_open_a_port_keeps_the_old_one(self):
        # hello moves to a port another process holds, and echo is added: the
        # new socket cannot be opened, so the reload fails as a whole - the old
        # hello keeps serving, echo is not added - and the log and STATUS= say so.
        p, busy_port, p_echo = nt.free_ports(3)
        d = self.start(HELLO % p)
        self.ns.wait("READY", "1")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", busy_port))
            busy.listen(1)
            d.write_conf(HELLO % busy_port +
                         'service echo { port = %d address = { "127.0.0.1" } }\n' % p_echo)
            self.reload_ok(p)
            d.wait_log(r"^hello: cannot listen on 127\.0\.0\.1:%d: bind: Address already in use$"
                       % busy_port)
            d.wait_log(r"^netlabd: reload failed: a listener could not be opened: keeping the"
                       r" old configuration$")
            msg = self.ns.wait("STATUS")
            self.assertIn("last reload failed", msg["STATUS"])
            with socket.socket() as s:
                s.settimeout(2 * nt.SLOW)
                self.assertNotEqual(s.connect_ex(("127.0.0.1", p_echo)), 0)
            self.assertEqual(hello(p), b"HELLO\n")
        # Once the port is free, the same file reloads, and STATUS= forgets the failure.
        try:
            self.reload_ok(busy_port)
            d.wait_log(r"^netlabd: reloaded ")
        except (OSError, AssertionError) as e:
            self.fail("the reload after the port was freed did not serve it (%r); log:\n%s"
                      % (e, d.log()))
        self.assertEqual(hello(busy_port), b"HELLO\n")
        # Four hellos served in all (two by reload_ok), and no failure mentioned.
        self.ns.wait("STATUS", "0 open connections, 4 accepted", timeout=5)

    def test_status_current_and_rate_limited(self):
        p = nt.free_port()
        self.start(HELLO % p)
        self.ns.wait("READY", "1")
        for _ in range(3):
            self.assertEqual(hello(p), b"HELLO\n")
        self.ns.wait("STATUS", "0 open connections, 3 accepted", timeout=5)
        # A burst of connections over ~1.5 s: status follows, at most ~1/s.
        start = time.monotonic()
        n = 3
        while time.monotonic() - start < 1.5:
            self.assertEqual(hello(p), b"HELLO\n")
            n += 1
            time.sleep(0.01)
        got = self.ns.collect(2.5 * nt.SLOW)
        statuses = [m["STATUS"] for m in got if "STATUS" in m]
        self.assertIn("0 open connections, %d accepted" % n, statuses)
        # About 1.5 s of changes plus the last one: 2 or 3 updates, not ~100.
        self.assertLessEqual(len(statuses), 5, statuses)

    def test_status_counts_open_connections(self):
        p = nt.free_port()
        self.start('service echo { port = %d address = { "127.0.0.1" } }\n' % p)
        self.ns.wait("READY", "1")
        conns = [nt.connect("127.0.0.1", p) for _ in range(2)]
        try:
            self.ns.wait("STATUS", "2 open connections, 2 accepted", timeout=5)
        finally:
            for c in conns:
                c.close()
        self.ns.wait("STATUS", "0 open connections, 2 accepted", timeout=5)

    def test_watchdog(self):
        p = nt.free_port()
        self.start(HELLO % p, env={"WATCHDOG_USEC": "400000"})
        self.ns.wait("READY", "1")
        got = self.ns.collect(1.2 * nt.SLOW)
        pings = [m for m in got if m.get("WATCHDOG") == "1"]
        # Every 200 ms: about 6 in 1.2 s; allow for a loaded machine.
        self.assertGreaterEqual(len(pings), 3, got)
        self.assertLessEqual(len(pings), 9 * nt.SLOW, got)

    def test_watchdog_for_another_pid_is_ignored(self):
        p = nt.free_port()
        # WATCHDOG_PID names who the watchdog is for (sd_watchdog_enabled(3)).
        self.start(HELLO % p, env={"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
        self.ns.wait("READY", "1")
        got = self.ns.collect(0.8)
        self.assertFalse([m for m in got if "WATCHDOG" in m], got)

    def test_no_watchdog_without_usec(self):
        p = nt.free_port()
        self.start(HELLO % p)
        self.ns.wait("READY", "1")
        got = self.ns.collect(0.8)
        self.assertFalse([m for m in got if "WATCHDOG" in m], got)

    def test_stopping(self):
        p = nt.free_port()
        d = self.start(HELLO % p)
        self.ns.wait("READY", "1")
        d.signal(signal.SIGTERM)
        self.ns.wait("STOPPING", "1")
        self.assertEqual(d.wait(10), 0)


class JournalPrefixTest(unittest.TestCase):
    """Needs no libsystemd: the prefix is netlabd's own logging."""

    def journal_daemon(self, conf, stream=None):
        """A daemon whose JOURNAL_STREAM names its stderr (the log file), as
        systemd sets it, or the given "DEV:INODE"."""
        d = nt.Daemon(conf)
        open(d.log_path, "wb").close()      # start() truncates: same inode
        st = os.stat(d.log_path)
        d.env["JOURNAL_STREAM"] = stream or "%d:%d" % (st.st_dev, st.st_ino)
        return d

    def test_priority_prefix(self):
        p = nt.free_port()
        with self.journal_daemon(HELLO % p) as d:
            with nt.connect("127.0.0.1", p) as s:
                src = s.getsockname()[1]
                self.assertEqual(nt.recv_all(s), b"HELLO\n")
            d.wait_log(r"^<6>hello: accepted connection from 127\.0\.0\.1, port=%d$" % src)
            d.write_conf("service hello { port = 0 }\n")
            d.signal(signal.SIGHUP)
            d.wait_log(r"^<4>netlabd: reload failed")
        log = d.log()
        self.assertRegex(log, r"(?m)^<6>netlabd: netlabd \S+ started")
        for line in log.splitlines():
            self.assertRegex(line, r"^<[0-7]>\S", "line without a priority prefix")

    def test_no_prefix_when_stderr_is_not_the_journal(self):
        # JOURNAL_STREAM inherited by a process whose stderr went elsewhere.
        p = nt.free_port()
        with self.journal_daemon(HELLO % p, stream="1:1") as d:
            self.assertEqual(hello(p), b"HELLO\n")
            d.wait_log(r"^hello: accepted connection from 127\.0\.0\.1, port=\d+$")
        self.assertNotRegex(d.log(), r"(?m)^<\d>")

    def test_no_prefix_without_journal(self):
        p = nt.free_port()
        with nt.Daemon(HELLO % p) as d:
            self.assertEqual(hello(p), b"HELLO\n")
            d.wait_log(r"^hello: accepted connection from 127\.0\.0\.1, port=\d+$")
        self.assertNotRegex(d.log(), r"(?m)^<\d>")


if __name__ == "__main__":
    nt.main()
