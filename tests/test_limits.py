#!/usr/bin/env python3
"""Connection limits (SPEC §3, §5): global and per-service max-connections,
max-per-source, idle-timeout; refusals logged with their reason and counted as
refused; slots coming back after every way a connection can end.

IPv4 and IPv6 each.  IPv4 per-source counting uses 127.0.0.2, 127.0.0.3, ...
as client addresses; IPv6 counts per /64: over ::1 here, and with several
addresses of one and of two /64s in a network namespace of the test's own
when unshare(1) and ip(8) work.
"""
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

STATS_FIELDS = nt.STATS_FIELDS
GLOBAL = "global max-connections reached"
SERVICE = "service max-connections reached"
PER_SOURCE = "max-per-source reached"


def addresses(hosts=None):
    return "{ %s }" % ", ".join('"%s"' % h for h in (hosts or nt.HOSTS))


stats = nt.stats


def wait_stats(d, name, timeout=5, **want):
    """Poll SIGUSR1 statistics until every field in want has its value."""
    deadline = time.monotonic() + timeout * nt.SLOW
    while True:
        st = stats(d, name)
        if all(st[k] == v for k, v in want.items()):
            return st
        if time.monotonic() > deadline:
            raise AssertionError("%s statistics %r never reached %r" % (name, st, want))
        time.sleep(0.05)


def echo_roundtrip(s, line=b"ping\n"):
    s.sendall(line)
    return nt.recv_exact(s, len(line))


def accepted_echo(host, port, source=None):
    """A connection the daemon has accepted (it answered a line)."""
    s = nt.connect(host, port, source=source)
    assert echo_roundtrip(s) == b"ping\n"
    return s


def refused_rx(name, peer, port, reason):
    return r"^%s: refused connection from %s, port=%d: %s$" % (
        re.escape(name), re.escape(peer), port, re.escape(reason))


def accepted_rx(name, peer, port):
    return r"^%s: accepted connection from %s, port=%d$" % (
        re.escape(name), re.escape(peer), port)


def reset_close(s):
    """Close with SO_LINGER 0: the daemon sees a reset, not an EOF."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class Case(unittest.TestCase):
    def daemon(self, conf):
        d = nt.Daemon(conf).start()
        self.addCleanup(d.stop)
        return d

    def sock(self, s):
        self.addCleanup(s.close)
        return s

    def assert_refused(self, d, name, host, port, reason, source=None, send=b"ping\n"):
        """A client refused for reason: connected, closed at once, no byte, logged."""
        # Only lines from here on: an earlier client may have had the same port.
        before = len(d.log())
        s = self.sock(nt.connect(host, port, source=source))
        cport = s.getsockname()[1]
        peer = source or host
        if send:
            try:
                s.sendall(send)
            except (BrokenPipeError, ConnectionResetError):
                pass
        data, how = nt.recv_until_close(s)
        self.assertNotEqual(how, "open", "refused connection was not closed at once")
        self.assertEqual(data, b"", "a refused client got bytes")
        d.wait_log(refused_rx(name, peer, cport, reason))
        self.assertNotRegex(d.log()[before:], re.compile(accepted_rx(name, peer, cport), re.M))
        s.close()


class GlobalMax(Case):
    def test_global_max_connections(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                p1, p2 = nt.free_ports(2)
                d = self.daemon("max-connections = 3\n"
                                "service e1 { protocol = \"echo\" port = %d address = %s }\n"
                                "service e2 { protocol = \"echo\" port = %d address = %s }\n"
                                % (p1, addresses(), p2, addresses()))
                held = [self.sock(accepted_echo(host, p1)), self.sock(accepted_echo(host, p1)),
                        self.sock(accepted_echo(host, p2))]
                # The cap is for all services together: both are full now.
                self.assert_refused(d, "e2", host, p2, GLOBAL)
                self.assert_refused(d, "e1", host, p1, GLOBAL)
                self.assert_refused(d, "e1", host, p1, GLOBAL)
                self.assertEqual(stats(d, "e1"), dict(accepted=2, active=2, refused=2,
                                                      bytes_in=10, bytes_out=10))
                st = stats(d, "e2")
                self.assertEqual((st["accepted"], st["active"], st["refused"]), (1, 1, 1))
                # Held connections keep working while others are refused.
                for s in held:
                    self.assertEqual(echo_roundtrip(s, b"still\n"), b"still\n")
                # One closes: exactly one slot comes back, to any service.
                held.pop(0).close()
                wait_stats(d, "e1", active=1)
                held.append(self.sock(accepted_echo(host, p2)))
                self.assert_refused(d, "e1", host, p1, GLOBAL)
                for s in held:
                    s.close()
                wait_stats(d, "e1", active=0)
                wait_stats(d, "e2", active=0)
                again = [self.sock(accepted_echo(host, p)) for p in (p1, p2, p2)]
                st = stats(d, "e2")
                self.assertEqual((st["accepted"], st["active"], st["refused"]), (4, 2, 1))
                for s in again:
                    s.close()
                d.stop()
                self.assertEqual(d.returncode, 0)


class ServiceMax(Case):
    def test_service_max_connections(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                p1, p2 = nt.free_ports(2)
                d = self.daemon("service e1 { protocol = \"echo\" port = %d address = %s"
                                " max-connections = 2 }\n"
                                "service e2 { protocol = \"echo\" port = %d address = %s }\n"
                                % (p1, addresses(), p2, addresses()))
                held = [self.sock(accepted_echo(host, p1)) for _ in range(2)]
                self.assert_refused(d, "e1", host, p1, SERVICE)
                self.assert_refused(d, "e1", host, p1, SERVICE, send=b"")
                # Another service is not limited by e1's cap.
                others = [self.sock(accepted_echo(host, p2)) for _ in range(4)]
                st = stats(d, "e1")
                self.assertEqual((st["accepted"], st["active"], st["refused"]), (2, 2, 2))
                st = stats(d, "e2")
                self.assertEqual((st["accepted"], st["active"], st["refused"]), (4, 4, 0))
                held.pop().close()
                wait_stats(d, "e1", active=1)
                held.append(self.sock(accepted_echo(host, p1)))
                self.assert_refused(d, "e1", host, p1, SERVICE)
                for s in held + others:
                    s.close()
                wait_stats(d, "e1", active=0)
                self.sock(accepted_echo(host, p1))
                self.sock(accepted_echo(host, p1))


class PerSource(Case):
    def test_max_per_source_ipv4_counts_per_address(self):
        p1, p2 = nt.free_ports(2)
        d = self.daemon("service e1 { protocol = \"echo\" port = %d address = %s"
                        " max-per-source = 2 }\n"
                        "service e2 { protocol = \"echo\" port = %d address = %s"
                        " max-per-source = 2 }\n"
                        % (p1, addresses(), p2, addresses()))
        a = [self.sock(accepted_echo("127.0.0.1", p1, source="127.0.0.2")) for _ in range(2)]
        self.assert_refused(d, "e1", "127.0.0.1", p1, PER_SOURCE, source="127.0.0.2")
        # Other addresses have their own count.
        b = [self.sock(accepted_echo("127.0.0.1", p1, source="127.0.0.3")) for _ in range(2)]
        self.assert_refused(d, "e1", "127.0.0.1", p1, PER_SOURCE, source="127.0.0.3")
        self.sock(accepted_echo("127.0.0.1", p1, source="127.0.0.1"))
        # Per service: 127.0.0.2 still has two slots on e2.
        self.sock(accepted_echo("127.0.0.1", p2, source="127.0.0.2"))
        self.sock(accepted_echo("127.0.0.1", p2, source="127.0.0.2"))
        self.assert_refused(d, "e2", "127.0.0.1", p2, PER_SOURCE, source="127.0.0.2")
        if "::1" in nt.HOSTS:
            # IPv6 clients are counted apart from IPv4 ones.
            self.sock(accepted_echo("::1", p1))
        st = stats(d, "e1")
        self.assertEqual((st["accepted"], st["refused"]), (5 + ("::1" in nt.HOSTS), 2))
        # 127.0.0.2's slots come back when its connections close.
        for s in a:
            s.close()
        wait_stats(d, "e1", active=3 + ("::1" in nt.HOSTS))
        a = [self.sock(accepted_echo("127.0.0.1", p1, source="127.0.0.2")) for _ in range(2)]
        self.assert_refused(d, "e1", "127.0.0.1", p1, PER_SOURCE, source="127.0.0.2")
        self.assertEqual(echo_roundtrip(b[0], b"b\n"), b"b\n")

    @unittest.skipUnless("::1" in nt.HOSTS, "no IPv6 loopback")
    def test_max_per_source_ipv6(self):
        port, = nt.free_ports(1)
        d = self.daemon("service echo { port = %d address = %s max-per-source = 2 }\n"
                        % (port, addresses()))
        held = [self.sock(accepted_echo("::1", port)) for _ in range(2)]
        self.assert_refused(d, "echo", "::1", port, PER_SOURCE)
        self.assert_refused(d, "echo", "::1", port, PER_SOURCE, send=b"")
        # IPv4 clients have their own count.
        self.sock(accepted_echo("127.0.0.1", port))
        self.sock(accepted_echo("127.0.0.1", port))
        reset_close(held.pop())
        wait_stats(d, "echo", active=3)
        self.sock(accepted_echo("::1", port))
        self.assert_refused(d, "echo", "::1", port, PER_SOURCE)
        st = stats(d, "echo")
        self.assertEqual((st["accepted"], st["active"], st["refused"]), (5, 4, 3))


def netns_tools():
    for tool in ("unshare", "ip"):
        if subprocess.run(["sh", "-c", "command -v %s" % tool],
                          capture_output=True).returncode != 0:
            return False
    return True


class PerSourceIPv6Netns(unittest.TestCase):
    """Runs this file again inside a new network namespace (see NetnsInner)."""

    def test_ipv6_per_64_in_netns(self):
        if not nt.have_ipv6():
            self.skipTest("no IPv6")
        if not netns_tools():
            self.skipTest("unshare or ip missing")
        probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
        if probe.returncode != 0:
            self.skipTest("cannot create a network namespace: %s"
                          % probe.stderr.decode().strip())
        env = dict(os.environ, NETLAB_IN_NETNS="1")
        p = subprocess.run(["unshare", "-n", "--", sys.executable, os.path.abspath(__file__),
                            "NetnsInner"], env=env, capture_output=True,
                           timeout=60 * nt.SLOW)
        out = p.stdout.decode() + p.stderr.decode()
        if p.returncode == nt.SKIP:
            self.skipTest("inside the namespace: " + out.strip().splitlines()[-1])
        self.assertEqual(p.returncode, 0, out)


NS_A1, NS_A2, NS_B1 = "fd00:a:b:c::1", "fd00:a:b:c::2", "fd00:a:b:d::1"


@unittest.skipUnless(os.environ.get("NETLAB_IN_NETNS"), "runs only inside its own namespace")
class NetnsInner(Case):
    @classmethod
    def setUpClass(cls):
        cmds = [["ip", "link", "set", "lo", "up"]]
        cmds += [["ip", "-6", "addr", "add", a + "/64", "dev", "lo", "nodad"]
                 for a in (NS_A1, NS_A2, NS_B1)]
        for cmd in cmds:
            p = subprocess.run(cmd, capture_output=True, timeout=10)
            if p.returncode != 0:
                raise unittest.SkipTest("%s: %s" % (" ".join(cmd), p.stderr.decode().strip()))

    def test_two_addresses_of_one_64_count_together(self):
        port, = nt.free_ports(1)
        d = self.daemon("service echo { port = %d address = { \"::1\", \"%s\" }"
                        " max-per-source = 2 }\n" % (port, NS_B1))
        for dst in ("::1", NS_B1):
            with self.subTest(dst=dst):
                a1 = self.sock(accepted_echo(dst, port, source=NS_A1))
                a2 = self.sock(accepted_echo(dst, port, source=NS_A2))
                # fd00:a:b:c::1 and ::2 share a /64: its two slots are used.
                self.assert_refused(d, "echo", dst, port, PER_SOURCE, source=NS_A1)
                self.assert_refused(d, "echo", dst, port, PER_SOURCE, source=NS_A2)
                # Another /64 counts on its own, and so does ::1.
                b = [self.sock(accepted_echo(dst, port, source=NS_B1)) for _ in range(2)]
                self.assert_refused(d, "echo", dst, port, PER_SOURCE, source=NS_B1)
                lo = self.sock(accepted_echo(dst, port, source="::1"))
                # Closing either address of the /64 frees a slot for both.
                a1.close()
                wait_stats(d, "echo", active=4)
                a3 = self.sock(accepted_echo(dst, port, source=NS_A2))
                self.assert_refused(d, "echo", dst, port, PER_SOURCE, source=NS_A1)
                for s in [a2, a3, lo] + b:
                    s.close()
                wait_stats(d, "echo", active=0)


class SlotsComeBack(Case):
    """Every way a connection ends gives its slot back: the global count, the
    service's count and the per-source count."""

    CONFIGS = {
        GLOBAL: ("max-connections = 1\n", ""),
        SERVICE: ("", "max-connections = 1"),
        PER_SOURCE: ("", "max-per-source = 1"),
    }

    def start(self, reason):
        top, limit = self.CONFIGS[reason]
        self.ports = dict(zip(("echo", "tmo", "add", "hello"), nt.free_ports(4)))
        addrs = addresses()
        return self.daemon(
            top +
            "service echo  { port = %d address = %s %s }\n" % (self.ports["echo"], addrs, limit) +
            "service tmo   { protocol = \"echo\" port = %d address = %s %s idle-timeout = 1 }\n"
            % (self.ports["tmo"], addrs, limit) +
            "service add   { port = %d address = %s %s }\n" % (self.ports["add"], addrs, limit) +
            "service hello { port = %d address = %s %s }\n" % (self.ports["hello"], addrs, limit))

    def occupy_echo(self, d, svc, host, reason):
        port = self.ports[svc]
        s = self.sock(accepted_echo(host, port))
        self.assert_refused(d, svc, host, port, reason)
        return s

    def fresh_works(self, d, svc, host):
        wait_stats(d, svc, timeout=6, active=0)
        port = self.ports[svc]
        s = nt.connect(host, port)
        try:
            if svc == "add":
                s.sendall(struct.pack(">ii", 1000, 2000))
                self.assertEqual(nt.recv_exact(s, 8), struct.pack(">q", 3000))
            elif svc == "hello":
                self.assertEqual(nt.recv_all(s), b"HELLO\n")
            else:
                self.assertEqual(echo_roundtrip(s), b"ping\n")
        finally:
            s.close()
        wait_stats(d, svc, timeout=6, active=0)

    # Ways to end a connection.  Each gets an accepted connection and ends it.
    def end_client_close(self, d, s, host):
        s.close()

    def end_half_close(self, d, s, host):
        s.sendall(b"tail without newline")
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(nt.recv_all(s), b"tail without newline")
        s.close()

    def end_reset(self, d, s, host):
        reset_close(s)

    def end_reset_while_not_reading(self, d, s, host):
        # Fill the pipe both ways so the daemon holds unsent output and has
        # stopped reading, then reset.
        s.setblocking(False)
        chunk = b"x" * 65535 + b"\n"
        last = time.monotonic()
        while time.monotonic() - last < 0.5:
            try:
                s.send(chunk)
                last = time.monotonic()
            except BlockingIOError:
                time.sleep(0.05)
        reset_close(s)

    def end_idle_timeout(self, d, s, host):
        cport = s.getsockname()[1]
        self.assertTrue(nt.is_closed(s, timeout=5), "idle connection not closed")
        d.wait_log(r"^tmo: idle timeout, closing connection from %s, port=%d$"
                   % (re.escape(host), cport))
        s.close()

    def test_slots_come_back(self):
        ends = [("echo", self.end_client_close), ("echo", self.end_half_close),
                ("echo", self.end_reset), ("echo", self.end_reset_while_not_reading),
                ("tmo", self.end_idle_timeout)]
        for reason in self.CONFIGS:
            d = self.start(reason)
            for host in nt.HOSTS:
                for svc, end in ends:
                    with self.subTest(reason=reason, host=host, end=end.__name__):
                        s = self.occupy_echo(d, svc, host, reason)
                        end(d, s, host)
                        self.fresh_works(d, svc, host)
                        # The next one is limited again.
                        self.occupy_echo(d, svc, host, reason).close()
                        wait_stats(d, svc, active=0)
                for how in ("close", "reset"):
                    with self.subTest(reason=reason, host=host, end="silent client, " + how):
                        # Never sent a byte (the daemon keeps such a connection
                        # bare, without buffers): its slot comes back too.
                        s = self.sock(nt.connect(host, self.ports["echo"]))
                        # FIFO accept: once the next is refused, s was accepted.
                        self.assert_refused(d, "echo", host, self.ports["echo"], reason)
                        if how == "close":
                            s.close()
                        else:
                            reset_close(s)
                        self.fresh_works(d, "echo", host)
                with self.subTest(reason=reason, host=host, end="add truncated, EOF"):
                    s = self.occupy_add(d, host, reason)
                    cport = s.getsockname()[1]
                    s.sendall(b"\0\0\0")
                    s.shutdown(socket.SHUT_WR)
                    self.assertEqual(nt.recv_all(s), b"")
                    d.wait_log(r"^add: %s, port=%d: truncated request: 3 of 8 bytes$"
                               % (re.escape(host), cport))
                    s.close()
                    self.fresh_works(d, "add", host)
                with self.subTest(reason=reason, host=host, end="add truncated, reset"):
                    s = self.occupy_add(d, host, reason)
                    s.sendall(b"\0\0\0\1\0")
                    time.sleep(0.1)
                    reset_close(s)
                    self.fresh_works(d, "add", host)
                with self.subTest(reason=reason, host=host, end="hello, client sent data"):
                    # Input the daemon never reads: it drains it before closing
                    # so the greeting is not lost to a reset; the slot must
                    # still come back once the client closes ...
                    s = self.unread_hello(d, host)
                    s.close()
                    self.fresh_works(d, "hello", host)
                    # ... or when it never does (after the drain's own timeout).
                    s = self.unread_hello(d, host)
                    wait_stats(d, "hello", active=1)
                    self.fresh_works(d, "hello", host)
                    s.close()
            d.stop()
            self.assertEqual(d.returncode, 0, d.log())

    def unread_hello(self, d, host):
        """A hello client whose bytes are in the daemon's socket before it
        accepts (the daemon is stopped meanwhile): it must drain them."""
        d.signal(signal.SIGSTOP)
        try:
            s = self.sock(nt.connect(host, self.ports["hello"]))
            s.sendall(b"unwanted\n" * 100)
            time.sleep(0.05)
        finally:
            d.signal(signal.SIGCONT)
        data, how = nt.recv_until_close(s)
        self.assertEqual((data, how), (b"HELLO\n", "eof"))
        return s

    def occupy_add(self, d, host, reason):
        port = self.ports["add"]
        s = self.sock(nt.connect(host, port))
        s.sendall(struct.pack(">ii", -1, 1))
        self.assertEqual(nt.recv_exact(s, 8), bytes(8))
        self.assert_refused(d, "add", host, port, reason, send=struct.pack(">ii", 1, 1))
        return s

    # The 2 s drain after a greeting is a fixed deadline: a client that keeps
    # sending cannot hold its slot by renewing it.
    def test_drain_before_close_is_bounded(self):
        port, = nt.free_ports(1)
        d = self.daemon("service hello { port = %d address = { \"127.0.0.1\" }"
                        " max-connections = 1 }\n" % port)
        self.ports = {"hello": port}
        s = self.unread_hello(d, "127.0.0.1")
        # Keep trickling bytes at the closed-for-business connection.
        end = time.monotonic() + 5
        try:
            while time.monotonic() < end:
                s.sendall(b"x" * 64)
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass
        # Well past the 2 s drain: the slot must be free again.
        self.assertEqual(stats(d, "hello")["active"], 0)

    def test_many_refusals_leak_nothing(self):
        port, = nt.free_ports(1)
        for host in nt.HOSTS:
            with self.subTest(host=host):
                d = self.daemon("max-connections = 2\n"
                                "service echo { port = %d address = %s }\n" % (port, addresses()))
                held = [self.sock(accepted_echo(host, port)) for _ in range(2)]
                socks = [self.sock(nt.connect(host, port)) for _ in range(50)]
                for s in socks:
                    self.assertTrue(nt.is_closed(s, timeout=3))
                    s.close()
                st = wait_stats(d, "echo", refused=50)
                self.assertEqual((st["accepted"], st["active"]), (2, 2))
                for s in held:
                    s.close()
                wait_stats(d, "echo", active=0)
                held = [self.sock(accepted_echo(host, port)) for _ in range(2)]
                # Past 10 lines a second refusals are only counted (SPEC 4): the
                # next second logs again.
                time.sleep(1.1)
                self.assert_refused(d, "echo", host, port, GLOBAL)
                d.stop()


class RefusalFlood(Case):
    """SPEC 4: past 10 refusal lines a second for one service the rest are
    only counted, and one summary line per 10 s says how many, why, and
    from how many sources."""
    N = 60

    def flood(self, d, port, host, sources):
        start = time.monotonic()
        for i in range(self.N):
            source = sources[i % len(sources)] if sources else None
            s = self.sock(nt.connect(host, port, source=source))
            self.assertTrue(nt.is_closed(s, timeout=3))
            s.close()
        return time.monotonic() - start

    def test_flood_is_summarized(self):
        cases = []
        for host, sources in (("127.0.0.1", ["127.0.0.2", "127.0.0.3", "127.0.0.4"]),
                              ("::1", None)):
            if host not in nt.HOSTS:
                continue
            port, = nt.free_ports(1)
            d = self.daemon('service echo { port = %d address = { "%s" } deny = { "%s" } }\n'
                            % (port, host, "127.0.0.0/8" if ":" not in host else "::1"))
            took = self.flood(d, port, host, sources)
            cases.append((d, took, len(sources or [host])))
        for d, took, nsources in cases:
            wait_stats(d, "echo", refused=self.N)
            m = d.wait_log(r"^echo: refused (\d+) connections in 10 s: (\d+) denied by access"
                           r" list \((\d+) sources?\)$", timeout=15)
            lines = len(re.findall(r"^echo: refused connection from .*: denied by access list$",
                                   d.log(), re.M))
            # Ten lines in each second the flood touched, the rest counted.
            self.assertGreaterEqual(lines, 10)
            self.assertLessEqual(lines, 10 * (int(took) + 2))
            self.assertEqual(int(m.group(1)), self.N - lines)
            self.assertEqual(int(m.group(2)), self.N - lines)
            self.assertEqual(int(m.group(3)), nsources)
            self.assertEqual(len(re.findall(r"^echo: refused \d+ connections in 10 s",
                                            d.log(), re.M)), 1)


class LimitValues(unittest.TestCase):
    def test_out_of_range_limits_are_config_errors(self):
        for conf, line, msg in (
                ("log-level = \"info\"\nmax-connections = 0\n", 2,
                 "max-connections 0 out of range"),
                ("max-connections = -5\n", 1, "max-connections -5 out of range"),
                ("max-connections = 1000001\n", 1, "max-connections 1000001 out of range"),
                ("service echo {\n  port = 7\n  max-connections = -1\n}\n", 3,
                 "max-connections -1 out of range"),
                ("service echo {\n  port = 7\n\n  max-per-source = -1\n}\n", 4,
                 "max-per-source -1 out of range"),
                ("service echo {\n  idle-timeout = -1\n}\n", 2, "idle-timeout -1 out of range"),
                ("service echo {\n  idle-timeout = \"soon\"\n}\n", 2, "")):
            with self.subTest(conf=conf):
                if "service" not in conf:
                    conf += "service hello { port = 12345 }\n"
                rc, out, err, path = nt.run_check(conf)
                self.assertEqual(rc, 1, out + err)
                self.assertRegex(err, re.compile(r"^%s:%d: %s" % (re.escape(path), line,
                                                                  re.escape(msg)), re.M))
        # 0 is "no limit" for a service's own limits and idle-timeout.
        rc, out, err, _ = nt.run_check("service echo { max-connections = 0 max-per-source = 0"
                                       " idle-timeout = 0 }\n")
        self.assertEqual(rc, 0, err)


class IdleTimeout(Case):
    def test_idle_connection_closed_after_timeout(self):
        port, = nt.free_ports(1)
        d = self.daemon("service echo { port = %d address = %s idle-timeout = 1 }\n"
                        % (port, addresses()))
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = self.sock(accepted_echo(host, port))
                cport = s.getsockname()[1]
                t0 = time.monotonic()
                self.assertTrue(nt.is_closed(s, timeout=5), "idle connection was not closed")
                took = time.monotonic() - t0
                self.assertGreater(took, 0.7, "closed before idle-timeout")
                self.assertLess(took, 3.0 * nt.SLOW, "closed long after idle-timeout")
                d.wait_log(r"^echo: idle timeout, closing connection from %s, port=%d$"
                           % (re.escape(host), cport))
                # A connection that never sent anything times out the same way.
                s = self.sock(nt.connect(host, port))
                cport = s.getsockname()[1]
                self.assertTrue(nt.is_closed(s, timeout=5))
                d.wait_log(r"^echo: idle timeout, closing connection from %s, port=%d$"
                           % (re.escape(host), cport))
        wait_stats(d, "echo", active=0)

    def test_busy_connection_is_not_closed(self):
        port, = nt.free_ports(1)
        d = self.daemon("service echo { port = %d address = %s idle-timeout = 1 }\n"
                        % (port, addresses()))
        for host in nt.HOSTS:
            with self.subTest(host=host):
                before = len(d.log())
                s = self.sock(accepted_echo(host, port))
                cport = s.getsockname()[1]
                end = time.monotonic() + 2.2
                n = 0
                while time.monotonic() < end:
                    line = b"line %d\n" % n
                    self.assertEqual(echo_roundtrip(s, line), line)
                    n += 1
                    time.sleep(0.3)
                # A client that keeps sending bytes, never a whole line, is busy too.
                end = time.monotonic() + 2.0
                sent = 0
                while time.monotonic() < end:
                    s.sendall(b"x")
                    sent += 1
                    time.sleep(0.3)
                s.sendall(b"\n")
                self.assertEqual(nt.recv_exact(s, sent + 1), b"x" * sent + b"\n")
                self.assertNotIn("port=%d" % cport, "\n".join(
                    l for l in d.log()[before:].splitlines() if "idle" in l))
                # Silence now: closed after about a second.
                self.assertTrue(nt.is_closed(s, timeout=5))
                d.wait_log(r"^echo: idle timeout, closing connection from %s, port=%d$"
                           % (re.escape(host), cport))

    def test_idle_timeout_zero_keeps_connections(self):
        port, = nt.free_ports(1)
        d = self.daemon("service echo { port = %d address = %s idle-timeout = 0 }\n"
                        % (port, addresses()))
        socks = [self.sock(accepted_echo(h, port)) for h in nt.HOSTS]
        time.sleep(2.5)
        for s in socks:
            r, _, _ = select.select([s], [], [], 0)
            self.assertEqual(r, [], "connection closed without an idle-timeout")
            self.assertEqual(echo_roundtrip(s), b"ping\n")
        self.assertNotIn("idle timeout", d.log())


if __name__ == "__main__":
    nt.main()
