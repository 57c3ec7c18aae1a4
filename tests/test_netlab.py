#!/usr/bin/env python3
"""test_netlab - the netlab client (SPEC section 8) against the real daemon.

Every case runs the built client as a subprocess, over 127.0.0.1, ::1 and the
name localhost, and checks its stdout, its exit status and that every error
is exactly one "netlab: ..." line on stderr.  Misbehaving servers (short
replies, early closes, silence, slow or repeated datagrams) and wire values
the daemon cannot be made to send (the 2036 wrap of RFC 868) are small
python servers.

Two classes need daemon features that came later: the time protocol
(TestTimeDaemon) and UDP services (TestUdpDaemon).  Both are on by
default (DAEMON_TIME / DAEMON_UDP below; NETLAB_TEST_TIME=0 /
NETLAB_TEST_UDP=0 skip them against an older daemon), so a daemon that
refuses their config fails them.
"""
import datetime
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import netlabtest as nt

DAYTIME_RE = re.compile(rb"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n\Z")
ISO_RE = re.compile(rb"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z\n\Z")
USAGE_EXIT = 2
RUNTIME_EXIT = 1
RUN_TIMEOUT = 30                # seconds; a hung client fails the test
BIG = 16 * 1024 * 1024          # echo input far beyond what sockets buffer
UDP_MAX = 65507                 # the client's largest datagram
COMMANDS = ("daytime", "hello", "echo", "add", "time")
TIMING = not (nt.WRAPPER or os.environ.get("NETLAB_UNDER_VALGRIND"))

# The daemon features two classes need: on unless the environment says 0.
DAEMON_TIME = os.environ.get("NETLAB_TEST_TIME", "1") == "1"
DAEMON_UDP = os.environ.get("NETLAB_TEST_UDP", "1") == "1"


def netlab(args, stdin=b"", timeout=RUN_TIMEOUT, stdout=subprocess.PIPE, prefix=()):
    """Run the client; return (returncode, stdout bytes, stderr text, seconds)."""
    start = time.monotonic()
    p = subprocess.run(list(prefix) + nt.WRAPPER + [nt.NETLAB] + [str(a) for a in args],
                       input=stdin, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=timeout * nt.SLOW)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), \
        time.monotonic() - start


def config(ports, addresses):
    addr = ", ".join('"%s"' % a for a in addresses)
    names = ("daytime", "hello", "echo", "add")
    return "".join("service %s {\n    port = %d\n    address = { %s }\n}\n"
                   % (name, port, addr) for name, port in zip(names, ports))


def udp_config(ports, addresses, protocols):
    """Each protocol over TCP (named as the protocol) and UDP (NAME-udp) on one port."""
    addr = ", ".join('"%s"' % a for a in addresses)
    out = ""
    for name, port in zip(protocols, ports):
        out += ("service %s {\n    port = %d\n    address = { %s }\n}\n"
                "service %s-udp {\n    protocol = %s\n    transport = udp\n    port = %d\n"
                "    address = { %s }\n    rate-limit = 0\n}\n"
                % (name, port, addr, name, name, port, addr))
    return out


def loopbacks():
    return ["127.0.0.1", "::1"] if "::1" in nt.HOSTS else ["127.0.0.1"]


def refused_port():
    """A port nothing listens on (bound, then closed)."""
    return nt.free_port()


def udp_refused_port():
    """A UDP port free on 127.0.0.1 and ::1 right now, so datagrams to it are refused."""
    for _ in range(100):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s4.bind(("127.0.0.1", 0))
        port = s4.getsockname()[1]
        try:
            if "::1" in nt.HOSTS:
                s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                s6.bind(("::1", port))
                s6.close()
        except OSError:
            continue
        finally:
            s4.close()
        return port
    raise RuntimeError("no free UDP port")


class Listener:
    """A one-connection python server running handler(conn) in a thread."""

    def __init__(self, handler, host="127.0.0.1"):
        self.sock = socket.socket(nt.family(host), socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.error = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            self.sock.settimeout(RUN_TIMEOUT * nt.SLOW)
            conn, _ = self.sock.accept()
            conn.settimeout(RUN_TIMEOUT * nt.SLOW)
            with conn:
                self.handler(conn)
        except Exception as e:          # reported by close()
            self.error = e

    def close(self):
        self.thread.join(RUN_TIMEOUT * nt.SLOW)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class UdpServer:
    """A python UDP server: handler(data, n) -> reply bytes or None, in a thread.

    n counts the datagrams received (from 0); every one is kept in .got.
    """

    def __init__(self, handler, host="127.0.0.1", port=0):
        self.sock = socket.socket(nt.family(host), socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.got = []
        self.error = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            self.sock.settimeout(0.05)
            while not self.done.is_set():
                try:
                    data, peer = self.sock.recvfrom(70000)
                except socket.timeout:
                    continue
                self.got.append(data)
                reply = self.handler(data, len(self.got) - 1)
                if reply is not None:
                    self.sock.sendto(reply, peer)
        except Exception as e:          # reported by close()
            self.error = e

    def close(self):
        self.done.set()
        self.thread.join(RUN_TIMEOUT * nt.SLOW)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def command(cmd, host, port, *opts):
    """The argument list of one subcommand; add gets operands 1 and 2."""
    return [cmd] + list(opts) + [host, port] + (["1", "2"] if cmd == "add" else [])


def rfc868(when):
    """The 32-bit RFC 868 value of an aware datetime, wrapped as on the wire."""
    base = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
    return int((when - base).total_seconds()) % (1 << 32)


def iso(value):
    """What netlab time prints for a wire value: before the 2036 wrap when
    the top bit is set, after it when not (RFC 4330 section 3)."""
    base = datetime.datetime(1900, 1, 1, tzinfo=datetime.timezone.utc)
    secs = value if value & 0x80000000 else value + (1 << 32)
    return (base + datetime.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%SZ\n").encode()


class ClientCase(unittest.TestCase):
    def assert_ok(self, args, stdin=b"", **kw):
        rc, out, err, _ = netlab(args, stdin, **kw)
        self.assertEqual((rc, err), (0, ""), "netlab %s" % " ".join(map(str, args)))
        return out

    def assert_error(self, args, pattern, code=None, stdin=b"", max_seconds=None):
        """Non-zero exit, nothing on stdout, one stderr line matching pattern."""
        rc, out, err, secs = netlab(args, stdin)
        what = "netlab %s -> rc=%s stderr=%r" % (" ".join(map(str, args)), rc, err)
        self.assertNotEqual(rc, 0, what)
        if code is not None:
            self.assertEqual(rc, code, what)
        self.assertLess(rc, 126, what + " (killed by a signal?)")
        self.assertEqual(out, b"", what)
        self.assertTrue(err.endswith("\n"), what)
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, what)
        self.assertTrue(lines[0].startswith("netlab: "), what)
        self.assertRegex(lines[0], re.compile(pattern, re.I), what)
        if max_seconds is not None:
            self.assertLess(secs, max_seconds * nt.SLOW, what)
        return lines[0]


class TestCommandLine(ClientCase):
    """What needs no server: help, version, and every usage error."""

    def test_help(self):
        for args in (["-h"], ["--help"], ["add", "-h"], ["echo", "--help"]):
            out = self.assert_ok(args).decode()
            for cmd in COMMANDS:
                self.assertRegex(out, r"netlab %s +\[-4\|-6\] \[-u\]" % cmd)
            self.assertIn("HOST [PORT] A B", out)
            self.assertIn("time 37", out)
            self.assertIn("Exit status", out)
            self.assertLessEqual(max(map(len, out.splitlines())), 80)

    def test_version(self):
        for args in (["-V"], ["--version"]):
            out = self.assert_ok(args).decode()
            self.assertRegex(out, r"^netlab \d+\.\d+\S*\n\Z")

    def test_missing_command(self):
        self.assert_error([], r"missing command", USAGE_EXIT)

    def test_unknown_command(self):
        self.assert_error(["frobnicate", "::1"], r"unknown command 'frobnicate'", USAGE_EXIT)
        self.assert_error(["--frob"], r"unknown option '--frob'", USAGE_EXIT)

    def test_unknown_option(self):
        self.assert_error(["daytime", "-x", "::1"], r"unknown option '-x'", USAGE_EXIT)
        self.assert_error(["hello", "--frob", "::1"], r"unknown option '--frob'", USAGE_EXIT)
        # Before HOST a negative number is an option, and a wrong one.
        self.assert_error(["add", "-5", "3"], r"unknown option '-5'", USAGE_EXIT)

    def test_missing_host(self):
        for cmd in COMMANDS:
            self.assert_error([cmd], r"%s: missing HOST" % cmd, USAGE_EXIT)
            self.assert_error([cmd, "-4"], r"%s: missing HOST" % cmd, USAGE_EXIT)
            self.assert_error([cmd, "-u"], r"%s: missing HOST" % cmd, USAGE_EXIT)

    def test_missing_operands(self):
        self.assert_error(["add", "::1"], r"missing A and B", USAGE_EXIT)
        self.assert_error(["add", "::1", "5"], r"missing B", USAGE_EXIT)
        self.assert_error(["add", "-u", "::1", "5"], r"missing B", USAGE_EXIT)

    def test_too_many_arguments(self):
        for cmd in ("daytime", "hello", "echo", "time"):
            self.assert_error([cmd, "::1", "13", "14"], r"too many arguments.*'14'", USAGE_EXIT)
            self.assert_error([cmd, "-u", "::1", "13", "14"], r"too many arguments.*'14'",
                              USAGE_EXIT)
        self.assert_error(["add", "::1", "54321", "1", "2", "3"],
                          r"too many arguments.*'3'", USAGE_EXIT)

    def test_bad_numbers(self):
        for bad in ("12x", "2147483648", "-2147483649", "1.5", "", "+", "-", "+5",
                    " 5", "5 ", "0x10", "1e3", "99999999999999999999999"):
            self.assert_error(["add", "::1", "1", bad], r"bad number '%s'.*32-bit"
                              % re.escape(bad), USAGE_EXIT)
            self.assert_error(["add", "::1", "54321", bad, "1"], r"bad number '%s'"
                              % re.escape(bad), USAGE_EXIT)

    def test_bad_port(self):
        for bad in ("0", "65536", "99999999999", "13x", "-1", "", "no-such-service"):
            self.assert_error(["daytime", "::1", bad], r"bad port '%s'" % re.escape(bad),
                              USAGE_EXIT)
            self.assert_error(["time", "-u", "::1", bad], r"bad port '%s'" % re.escape(bad),
                              USAGE_EXIT)
        self.assert_error(["add", "::1", "70000", "1", "2"], r"bad port '70000'", USAGE_EXIT)
        self.assert_error(["echo", "-u", "::1", "no-such-service"], r"UDP service name",
                          USAGE_EXIT)

    def test_bad_wait(self):
        self.assert_error(["hello", "-w"], r"'-w' needs a value", USAGE_EXIT)
        for bad in ("x", "-1", "1.5", "999999999"):
            self.assert_error(["hello", "-w", bad, "::1"], r"bad wait '%s'" % re.escape(bad),
                              USAGE_EXIT)

    def test_unknown_host(self):
        # No DNS here: the lookup must fail, and fail fast.
        for args in (["daytime", "nosuch.invalid"], ["add", "-4", "nosuch.invalid", "1", "2"],
                     ["echo", "-6", "nosuch.invalid", "7"], ["time", "nosuch.invalid"],
                     ["hello", "-u", "nosuch.invalid"]):
            self.assert_error(args, r"unknown host 'nosuch.invalid'|cannot resolve 'nosuch.invalid'",
                              RUNTIME_EXIT, max_seconds=20)

    def test_family_mismatch(self):
        self.assert_error(["hello", "-4", "::1", "1"], r"'::1' has no IPv4 address", RUNTIME_EXIT)
        self.assert_error(["hello", "-6", "127.0.0.1", "1"], r"'127.0.0.1' has no IPv6 address",
                          RUNTIME_EXIT)
        self.assert_error(["time", "-u", "-4", "::1", "1"], r"'::1' has no IPv4 address",
                          RUNTIME_EXIT)

    def test_refused(self):
        port = refused_port()
        for host in loopbacks():
            for cmd in COMMANDS:
                self.assert_error(command(cmd, host, port),
                                  r"^netlab: cannot connect to %s port %d: Connection refused$"
                                  % (re.escape(host), port), RUNTIME_EXIT)
        self.assert_error(["hello", "localhost", port],
                          r"cannot connect to localhost port %d: .*Connection refused" % port,
                          RUNTIME_EXIT)

    def test_default_ports(self):
        # Whatever may listen on the well-known ports here: success, or an
        # error that names the default port.
        for args, port in ((["daytime", "127.0.0.1"], 13), (["hello", "127.0.0.1"], 12345),
                           (["echo", "127.0.0.1"], 55556), (["add", "127.0.0.1", "-5", "3"], 54321),
                           (["time", "127.0.0.1"], 37), (["time", "-u", "127.0.0.1"], 37),
                           (["hello", "-u", "127.0.0.1"], 12345)):
            rc, out, err, _ = netlab(args, timeout=60)
            if rc != 0:
                self.assertIn(("udp port %d" if "-u" in args else " port %d") % port, err, args)
                self.assertEqual(len(err.splitlines()), 1, err)

    def test_service_name_port(self):
        try:
            socket.getservbyname("daytime", "tcp")
        except OSError:
            self.skipTest("no 'daytime' in the services database")
        rc, out, err, _ = netlab(["daytime", "127.0.0.1", "daytime"])
        if rc != 0:
            self.assertIn("port 13:", err)
        try:
            socket.getservbyname("time", "udp")
        except OSError:
            return
        rc, out, err, _ = netlab(["time", "-u", "127.0.0.1", "time"])
        if rc != 0:
            self.assertIn("udp port 37:", err)

    def test_udp_refused(self):
        # Nothing bound: the ICMP port-unreachable ends it at once, no retries.
        port = udp_refused_port()
        for host in loopbacks():
            for cmd in COMMANDS:
                self.assert_error(command(cmd, host, port, "-u"),
                                  r"^netlab: no reply from %s udp port %d: Connection refused$"
                                  % (re.escape(host), port), RUNTIME_EXIT,
                                  stdin=b"line\n", max_seconds=0.9 if TIMING else None)


class TestAgainstDaemon(ClientCase):
    """The four subcommands against one daemon on every loopback address."""

    @classmethod
    def setUpClass(cls):
        cls.ports = nt.free_ports(4)
        cls.daytime, cls.hello, cls.echo, cls.add = cls.ports
        cls.daemon = nt.Daemon(config(cls.ports, loopbacks())).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def hosts(self):
        return loopbacks() + ["localhost"]

    def test_daytime(self):
        for host in self.hosts():
            out = self.assert_ok(["daytime", host, self.daytime])
            self.assertRegex(out, DAYTIME_RE, host)
            self.assertNotIn(b"\r", out)

    def test_hello(self):
        for host in self.hosts():
            self.assertEqual(self.assert_ok(["hello", host, self.hello]), b"HELLO\n", host)

    def test_family_options(self):
        self.assertEqual(self.assert_ok(["hello", "-4", "127.0.0.1", self.hello]), b"HELLO\n")
        self.assertEqual(self.assert_ok(["hello", "-4", "localhost", self.hello]), b"HELLO\n")
        if "::1" in nt.HOSTS:
            self.assertEqual(self.assert_ok(["hello", "-6", "::1", self.hello]), b"HELLO\n")
            self.assertEqual(self.assert_ok(["hello", "-6", "[::1]", self.hello]), b"HELLO\n")
            out = self.assert_ok(["add", "-6", "::1", self.add, "-5", "3"])
            self.assertEqual(out, b"-2\n")

    def test_echo_lines(self):
        data = b"one\ntwo\r\n\nthree \t four\nlast line, unterminated"
        for host in self.hosts():
            self.assertEqual(self.assert_ok(["echo", host, self.echo], data), data, host)

    def test_echo_interactive(self):
        # Each line goes out as soon as it is read and its reply comes back
        # before stdin ends: a conversation, not a batch.
        for host in loopbacks():
            p = subprocess.Popen(nt.WRAPPER + [nt.NETLAB, "echo", host, str(self.echo)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            try:
                for line in (b"ping\n", b"pong\r\n", b"x" * 5000 + b"\n"):
                    p.stdin.write(line)
                    p.stdin.flush()
                    got = b""
                    while len(got) < len(line):
                        r, _, _ = select.select([p.stdout], [], [], 5 * nt.SLOW)
                        self.assertTrue(r, "no reply to %r before EOF" % line[:10])
                        chunk = os.read(p.stdout.fileno(), 65536)
                        self.assertNotEqual(chunk, b"")
                        got += chunk
                    self.assertEqual(got, line)
                p.stdin.close()
                self.assertEqual(p.stdout.read(), b"")
                self.assertEqual(p.wait(10 * nt.SLOW), 0)
                self.assertEqual(p.stderr.read(), b"")
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()

    def test_echo_empty_input(self):
        self.assertEqual(self.assert_ok(["echo", "127.0.0.1", self.echo], b""), b"")

    def test_echo_binary(self):
        data = bytes(range(256)) * 64 + b"\0\r\0"
        for host in loopbacks():
            self.assertEqual(self.assert_ok(["echo", host, self.echo], data), data, host)

    def test_echo_large_no_deadlock(self):
        # Far more than socket buffers and the server's high-water mark hold:
        # a client that wrote everything before reading would hang here.
        # (Loopback here buffers some 6 MiB before a writer blocks.)
        table = bytes(10 if i % 64 == 0 else 32 + i % 95 for i in range(256))
        data = random.Random(6).randbytes(BIG).translate(table) + b"tail without newline"
        for host in loopbacks():
            out = self.assert_ok(["echo", host, self.echo], data, timeout=60)
            self.assertEqual(len(out), len(data), host)
            self.assertEqual(out, data, host)

    def test_echo_large_binary_to_file(self):
        # No newlines at all (the server echoes in max-line pieces), and
        # stdout a regular file rather than a pipe.
        data = random.Random(7).randbytes(BIG)
        with tempfile.TemporaryFile() as f:
            rc, _, err, _ = netlab(["echo", loopbacks()[-1], self.echo], data, timeout=60,
                                   stdout=f)
            self.assertEqual((rc, err), (0, ""))
            f.seek(0)
            self.assertEqual(f.read(), data)

    def test_add(self):
        vectors = [("1000", "2000", "3000"),
                   ("2147483647", "2147483647", "4294967294"),
                   ("-2147483648", "-2147483648", "-4294967296"),
                   ("-5", "3", "-2"),
                   ("0", "-0", "0"),
                   ("-1", "1", "0"),
                   ("007", "-008", "-1")]
        for host in self.hosts():
            for a, b, want in vectors:
                out = self.assert_ok(["add", host, self.add, a, b])
                self.assertEqual(out, (want + "\n").encode(), (host, a, b))

    def test_add_options_then_negative_operands(self):
        out = self.assert_ok(["add", "-4", "-w", "5", "127.0.0.1", self.add, "-5", "-3"])
        self.assertEqual(out, b"-8\n")
        out = self.assert_ok(["add", "--", "127.0.0.1", self.add, "-1", "-2"])
        self.assertEqual(out, b"-3\n")

    def test_time_against_other_protocols(self):
        # More than 4 bytes is not RFC 868: pointed at daytime or hello, time
        # must say so rather than print a date made of text.
        for host in loopbacks():
            for port in (self.daytime, self.hello):
                self.assert_error(["time", host, port], r"long reply from %s port %d: more "
                                  r"than 4 bytes" % (re.escape(host), port), RUNTIME_EXIT)

    def test_udp_to_tcp_only_service(self):
        # The daemon serves these ports over TCP only: UDP is refused, at once.
        for host in loopbacks():
            self.assert_error(["hello", "-u", host, self.hello],
                              r"no reply from %s udp port %d: Connection refused$"
                              % (re.escape(host), self.hello), RUNTIME_EXIT,
                              max_seconds=0.9 if TIMING else None)
            self.assertEqual(self.assert_ok(["hello", host, self.hello]), b"HELLO\n")

    def test_errors_leave_daemon_untouched(self):
        # A usage error must not even connect: nothing new in the daemon's log.
        before = self.daemon.log().count("accepted connection")
        self.assert_error(["add", "127.0.0.1", self.add, "1", "12x"], r"bad number '12x'",
                          USAGE_EXIT)
        time.sleep(0.2)
        self.assertEqual(self.daemon.log().count("accepted connection"), before)


@unittest.skipUnless("::1" in nt.HOSTS, "no IPv6 loopback")
class TestFamilies(ClientCase):
    """-4 and -6 against daemons that listen on one family only."""

    def test_v6_only_daemon(self):
        ports = nt.free_ports(4)
        with nt.Daemon(config(ports, ["::1"])):
            hello = ports[1]
            self.assertEqual(self.assert_ok(["hello", "-6", "::1", hello]), b"HELLO\n")
            self.assert_error(["hello", "-4", "localhost", hello],
                              r"cannot connect to localhost port %d: 127\.0\.0\.1: "
                              r"Connection refused$" % hello, RUNTIME_EXIT)
            self.assert_error(["hello", "-4", "127.0.0.1", hello],
                              r"cannot connect to 127\.0\.0\.1 port %d: Connection refused$"
                              % hello, RUNTIME_EXIT)

    def test_v4_only_daemon(self):
        ports = nt.free_ports(4)
        with nt.Daemon(config(ports, ["127.0.0.1"])):
            add = ports[3]
            self.assertEqual(self.assert_ok(["add", "-4", "localhost", add, "1000", "2000"]),
                             b"3000\n")
            self.assert_error(["add", "-6", "::1", add, "1", "2"],
                              r"cannot connect to ::1 port %d: Connection refused$" % add,
                              RUNTIME_EXIT)


def close_to_now(test, out):
    """out is one ISO 8601 UTC line within a few seconds of this machine's clock."""
    m = ISO_RE.match(out)
    test.assertIsNotNone(m, out)
    got = datetime.datetime(*map(int, m.groups()), tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    test.assertLess(abs((got - now).total_seconds()), 5 * nt.SLOW, out)


@unittest.skipUnless(DAEMON_TIME, "the daemon's time protocol is not enabled here yet "
                     "(DAEMON_TIME, NETLAB_TEST_TIME=1)")
class TestTimeDaemon(ClientCase):
    """netlab time against the daemon's RFC 868 service (SPEC section 12)."""

    @classmethod
    def setUpClass(cls):
        cls.port = nt.free_port()
        addr = ", ".join('"%s"' % a for a in loopbacks())
        conf = "service t {\n    protocol = time\n    port = %d\n    address = { %s }\n}\n" \
            % (cls.port, addr)
        if DAEMON_UDP:
            conf += ("service tu {\n    protocol = time\n    transport = udp\n    port = %d\n"
                     "    address = { %s }\n    rate-limit = 0\n}\n" % (cls.port, addr))
        cls.daemon = nt.Daemon(conf).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def test_time(self):
        for host in loopbacks() + ["localhost"]:
            close_to_now(self, self.assert_ok(["time", host, self.port]))

    def test_time_families(self):
        close_to_now(self, self.assert_ok(["time", "-4", "localhost", self.port]))
        if "::1" in nt.HOSTS:
            close_to_now(self, self.assert_ok(["time", "-6", "[::1]", self.port]))

    @unittest.skipUnless(DAEMON_UDP, "the daemon's UDP services are not enabled here yet")
    def test_time_udp(self):
        for host in loopbacks() + ["localhost"]:
            close_to_now(self, self.assert_ok(["time", "-u", host, self.port]))


@unittest.skipUnless(DAEMON_UDP, "the daemon's UDP services are not enabled here yet "
                     "(DAEMON_UDP, NETLAB_TEST_UDP=1)")
class TestUdpDaemon(ClientCase):
    """netlab -u against the daemon's UDP services (SPEC section 9), which
    share their ports with the TCP ones."""

    @classmethod
    def setUpClass(cls):
        cls.ports = nt.free_ports(4)
        cls.daytime, cls.hello, cls.echo, cls.add = cls.ports
        cls.daemon = nt.Daemon(udp_config(cls.ports, loopbacks(),
                                          ("daytime", "hello", "echo", "add"))).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def hosts(self):
        return loopbacks() + ["localhost"]

    def datagrams(self, service):
        return len(re.findall(r"^%s: datagram from " % re.escape(service), self.daemon.log(),
                              re.M))

    def test_daytime(self):
        for host in self.hosts():
            out = self.assert_ok(["daytime", "-u", host, self.daytime])
            self.assertRegex(out, DAYTIME_RE, host)

    def test_hello(self):
        for host in self.hosts():
            self.assertEqual(self.assert_ok(["hello", "-u", host, self.hello]), b"HELLO\n", host)

    def test_same_port_both_transports(self):
        for host in loopbacks():
            self.assertEqual(self.assert_ok(["hello", host, self.hello]), b"HELLO\n")
            self.assertEqual(self.assert_ok(["hello", "-u", host, self.hello]), b"HELLO\n")

    def test_family_options(self):
        self.assertEqual(self.assert_ok(["add", "-u", "-4", "localhost", self.add, "-5", "3"]),
                         b"-2\n")
        if "::1" in nt.HOSTS:
            self.assertEqual(self.assert_ok(["hello", "-u", "-6", "[::1]", self.hello]),
                             b"HELLO\n")

    def test_echo_one_datagram_per_line(self):
        lines = [b"one\n", b"two\r\n", b"\n", b"x" * 9000 + b"\n", b"last, unterminated"]
        for host in loopbacks():
            before = self.datagrams("echo-udp")
            out = self.assert_ok(["echo", "-u", host, self.echo], b"".join(lines))
            self.assertEqual(out, b"".join(lines), host)
            # Loopback loses nothing: one datagram per line, none sent twice.
            self.daemon.wait_log(r"^echo-udp: datagram from ", count=before + len(lines))
            time.sleep(0.2)
            self.assertEqual(self.datagrams("echo-udp"), before + len(lines), host)

    def test_echo_empty_input(self):
        before = self.datagrams("echo-udp")
        self.assertEqual(self.assert_ok(["echo", "-u", "127.0.0.1", self.echo], b""), b"")
        time.sleep(0.2)
        self.assertEqual(self.datagrams("echo-udp"), before)

    def test_echo_interactive(self):
        p = subprocess.Popen(nt.WRAPPER + [nt.NETLAB, "echo", "-u", loopbacks()[-1],
                                           str(self.echo)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            for line in (b"ping\n", b"pong\r\n"):
                p.stdin.write(line)
                p.stdin.flush()
                r, _, _ = select.select([p.stdout], [], [], 5 * nt.SLOW)
                self.assertTrue(r, "no reply to %r before EOF" % line)
                self.assertEqual(os.read(p.stdout.fileno(), 65536), line)
            p.stdin.close()
            self.assertEqual(p.stdout.read(), b"")
            self.assertEqual(p.wait(10 * nt.SLOW), 0)
            self.assertEqual(p.stderr.read(), b"")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()

    def test_add(self):
        for host in self.hosts():
            for a, b, want in (("2147483647", "2147483647", "4294967294"),
                               ("-2147483648", "-2147483648", "-4294967296"),
                               ("-5", "3", "-2")):
                out = self.assert_ok(["add", "-u", host, self.add, a, b])
                self.assertEqual(out, (want + "\n").encode(), (host, a, b))


MULTI_NAME = "netlab-test-multi.test"


def multi_prefix():
    """A command prefix under which a name resolves to 127.0.0.1 and ::1.

    Either a name in /etc/hosts already does, or, as root with unshare(1),
    a private mount namespace sees /etc/hosts plus two lines for MULTI_NAME
    (the real file is never touched).  Returns (prefix, name) or None.
    """
    def both(name):
        try:
            addrs = {ai[4][0] for ai in socket.getaddrinfo(name, 1, 0, socket.SOCK_STREAM)}
        except OSError:
            return False
        return {"127.0.0.1", "::1"} <= addrs

    for name in ("localhost", "ip6-localhost", "localhost6", "localhost.localdomain"):
        if both(name):
            return [], name
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if os.geteuid() != 0 or unshare is None or mount is None:
        return None
    d = tempfile.mkdtemp(prefix="netlab-hosts-")
    hosts = os.path.join(d, "hosts")
    with open("/etc/hosts", "rb") as src:
        text = src.read()
    with open(hosts, "wb") as dst:
        dst.write(text + b"\n127.0.0.1 " + MULTI_NAME.encode() + b"\n::1 "
                  + MULTI_NAME.encode() + b"\n")
    prefix = [unshare, "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts]
    try:
        p = subprocess.run(prefix + ["getent", "ahosts", MULTI_NAME], capture_output=True,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    got = p.stdout.decode()
    if p.returncode != 0 or "127.0.0.1" not in got or "::1" not in got:
        return None
    return prefix, MULTI_NAME


@unittest.skipUnless("::1" in nt.HOSTS, "no IPv6 loopback")
class TestEveryAddress(ClientCase):
    """A name with two addresses: the one that is refused does not stop the other."""

    @classmethod
    def setUpClass(cls):
        cls.multi = multi_prefix()

    def setUp(self):
        if self.multi is None:
            self.skipTest("no name resolves to both 127.0.0.1 and ::1, and no private "
                          "mount namespace to make one")

    def test_each_address_alone(self):
        # The daemon listens on one address at a time; whichever order the
        # resolver puts them in, one of the two runs has the first refused.
        prefix, name = self.multi
        for only in ("127.0.0.1", "::1"):
            ports = nt.free_ports(4)
            with nt.Daemon(config(ports, [only])):
                rc, out, err, _ = netlab(["hello", name, ports[1]], prefix=prefix)
                self.assertEqual((rc, out, err), (0, b"HELLO\n", ""), only)
                rc, out, err, _ = netlab(["add", name, ports[3], "-5", "3"], prefix=prefix)
                self.assertEqual((rc, out, err), (0, b"-2\n", ""), only)

    def test_all_refused(self):
        prefix, name = self.multi
        port = refused_port()
        rc, out, err, _ = netlab(["daytime", name, port], prefix=prefix)
        self.assertEqual(rc, RUNTIME_EXIT, err)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertRegex(err, r"^netlab: cannot connect to %s port %d: " % (re.escape(name), port))
        self.assertIn("127.0.0.1: Connection refused", err)
        self.assertIn("::1: Connection refused", err)


    def test_udp_each_address_alone(self):
        # A UDP server on one of the two addresses: the other is refused
        # (ICMP) and the next address is tried, in either order.
        prefix, name = self.multi
        for only in ("127.0.0.1", "::1"):
            port = udp_refused_port()
            with UdpServer(lambda data, n: b"HELLO\n", only, port) as u:
                rc, out, err, _ = netlab(["hello", "-u", name, port], prefix=prefix)
                self.assertEqual((rc, out, err), (0, b"HELLO\n", ""), only)
            self.assertEqual(u.got, [b""], only)

    def test_udp_all_refused(self):
        prefix, name = self.multi
        port = udp_refused_port()
        rc, out, err, _ = netlab(["time", "-u", name, port], prefix=prefix)
        self.assertEqual(rc, RUNTIME_EXIT, err)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertRegex(err, r"^netlab: no reply from %s udp port %d: "
                         % (re.escape(name), port))
        self.assertIn("127.0.0.1: Connection refused", err)
        self.assertIn("::1: Connection refused", err)


class TestBadServers(ClientCase):
    """Servers that break the protocol: the client says so and exits 1."""

    def test_add_short_reply(self):
        def handler(conn):
            nt.recv_exact(conn, 8)
            conn.sendall(b"\0\0\0")
        with Listener(handler) as l:
            self.assert_error(["add", "127.0.0.1", l.port, "1", "2"],
                              r"short reply from 127\.0\.0\.1 port %d: 3 of 8 bytes" % l.port,
                              RUNTIME_EXIT)
        self.assertIsNone(l.error)

    def test_add_no_reply(self):
        def handler(conn):
            nt.recv_exact(conn, 8)
        with Listener(handler) as l:
            self.assert_error(["add", "127.0.0.1", l.port, "1", "2"],
                              r"closed the connection without replying", RUNTIME_EXIT)

    def test_add_request_bytes(self):
        got = []

        def handler(conn):
            got.append(nt.recv_exact(conn, 8))
            conn.sendall((-1).to_bytes(8, "big", signed=True))
        with Listener(handler) as l:
            self.assertEqual(self.assert_ok(["add", "127.0.0.1", l.port, "-2", "258"]), b"-1\n")
        self.assertEqual(got, [b"\xff\xff\xff\xfe\x00\x00\x01\x02"])

    def test_hello_nothing_sent(self):
        with Listener(lambda conn: None) as l:
            self.assert_error(["hello", "127.0.0.1", l.port],
                              r"closed the connection without sending anything", RUNTIME_EXIT)

    def test_daytime_keeps_other_bytes(self):
        # Only a CR before LF is dropped; the rest comes through as sent.
        with Listener(lambda conn: conn.sendall(b"a\rb\r\r\nc\r\n")) as l:
            self.assertEqual(self.assert_ok(["daytime", "127.0.0.1", l.port]), b"a\rb\r\nc\n")

    def test_silent_server_times_out(self):
        def handler(conn):
            time.sleep(5 * nt.SLOW)
        with Listener(handler) as l:
            self.assert_error(["hello", "-w", "1", "127.0.0.1", l.port],
                              r"timed out waiting for 127\.0\.0\.1 port %d" % l.port,
                              RUNTIME_EXIT, max_seconds=4.5)

    def test_echo_server_closes_early(self):
        # Closing with our bytes unread resets the connection.
        def handler(conn):
            conn.recv(10)
        with Listener(handler) as l:
            self.assert_error(["echo", "127.0.0.1", l.port], r"closed the connection before"
                              r" the end of input|connection to .* lost", RUNTIME_EXIT,
                              stdin=b"x" * (4 * 1024 * 1024))

    def test_echo_server_ends_early(self):
        # An orderly EOF while stdin still has data is an error too.
        def handler(conn):
            conn.sendall(nt.recv_exact(conn, 4))
            conn.shutdown(socket.SHUT_WR)
            nt.recv_all(conn)
        with Listener(handler) as l:
            rc, out, err, _ = netlab(["echo", "127.0.0.1", l.port], b"abcd" * (1 << 20))
            self.assertEqual(rc, RUNTIME_EXIT, err)
            self.assertEqual(out, b"abcd")
            self.assertEqual(err, "netlab: 127.0.0.1 port %d closed the connection before"
                             " the end of input\n" % l.port)

    def test_echo_server_loses_bytes(self):
        def handler(conn):
            data = nt.recv_all(conn)
            conn.sendall(data[:len(data) // 2])
        with Listener(handler) as l:
            rc, out, err, _ = netlab(["echo", "127.0.0.1", l.port], b"0123456789\n" * 10)
            self.assertEqual(rc, RUNTIME_EXIT, err)
            self.assertEqual(out, (b"0123456789\n" * 10)[:55])
            self.assertEqual(err, "netlab: 127.0.0.1 port %d echoed 55 of 110 bytes\n" % l.port)



class TestTimeWire(ClientCase):
    """netlab time's reading of the 4 bytes, from python servers that can
    send any value: the 1900 epoch, the 2036 wrap, short and long replies."""

    def served(self, data, args=()):
        with Listener(lambda conn: conn.sendall(data)) as l:
            return netlab(["time"] + list(args) + ["127.0.0.1", l.port])

    def test_dates(self):
        utc = datetime.timezone.utc
        cases = {
            2208988800: b"1970-01-01T00:00:00Z\n",         # the Unix epoch
            0xFFFFFFFF: b"2036-02-07T06:28:15Z\n",         # the last second before the wrap
            0: b"2036-02-07T06:28:16Z\n",                  # the wrap itself
            0x7FFFFFFF: b"2104-02-26T09:42:23Z\n",         # the latest date printed
            0x80000000: b"1968-01-20T03:14:08Z\n",         # the earliest
            rfc868(datetime.datetime(2026, 12, 1, 22, 23, 13, tzinfo=utc)):
                b"2026-12-01T22:23:13Z\n",
            rfc868(datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=utc)):
                b"2024-02-29T23:59:59Z\n",
            rfc868(datetime.datetime(2100, 3, 1, 0, 0, 0, tzinfo=utc)):
                b"2100-03-01T00:00:00Z\n",                 # 2100 is no leap year
            rfc868(datetime.datetime(2000, 2, 29, 12, 0, 0, tzinfo=utc)):
                b"2000-02-29T12:00:00Z\n",                 # 2000 is one
        }
        rng = random.Random(868)
        for v in [rng.getrandbits(32) for _ in range(20)]:
            cases.setdefault(v, iso(v))
        for value, want in cases.items():
            rc, out, err, _ = self.served(value.to_bytes(4, "big"))
            self.assertEqual((rc, out, err), (0, want, ""), hex(value))
            self.assertEqual(iso(value), want, hex(value))

    def test_short_reply(self):
        for data in (b"\x01", b"\x01\x02\x03"):
            with Listener(lambda conn: conn.sendall(data)) as l:
                self.assert_error(["time", "127.0.0.1", l.port],
                                  r"short reply from 127\.0\.0\.1 port %d: %d of 4 bytes$"
                                  % (l.port, len(data)), RUNTIME_EXIT)

    def test_nothing_sent(self):
        with Listener(lambda conn: None) as l:
            self.assert_error(["time", "127.0.0.1", l.port],
                              r"closed the connection without sending anything", RUNTIME_EXIT)

    def test_long_reply(self):
        for data in (b"\0\0\0\0\0", b"Tue Dec  1 22:23:13 2026\r\n"):
            with Listener(lambda conn: conn.sendall(data)) as l:
                self.assert_error(["time", "127.0.0.1", l.port],
                                  r"long reply from 127\.0\.0\.1 port %d: more than 4 bytes"
                                  % l.port, RUNTIME_EXIT)

    def test_long_reply_kept_open(self):
        # A fifth byte is enough to know: no waiting for the close.
        def handler(conn):
            conn.sendall(b"\1\2\3\4\5")
            time.sleep(5 * nt.SLOW)
        with Listener(handler) as l:
            self.assert_error(["time", "127.0.0.1", l.port], r"long reply", RUNTIME_EXIT,
                              max_seconds=3)

    def test_four_bytes_never_closed(self):
        # RFC 868 servers close after the 4 bytes; one that does not is waited
        # for (a fifth byte would make it no time server) until -w runs out.
        def handler(conn):
            conn.sendall(b"\x83\xaa\x7e\x80")
            time.sleep(5 * nt.SLOW)
        with Listener(handler) as l:
            self.assert_error(["time", "-w", "1", "127.0.0.1", l.port],
                              r"timed out waiting for 127\.0\.0\.1 port %d" % l.port,
                              RUNTIME_EXIT, max_seconds=4.5)


class TestUdpServers(ClientCase):
    """-u against python UDP servers: what goes out, retries, silence and bad replies."""

    def udp(self, handler, host="127.0.0.1"):
        return UdpServer(handler, host)

    def test_requests_on_the_wire(self):
        # daytime, hello and time send one empty datagram (RFC 868's request);
        # add one 8-byte request; echo one datagram per line.
        replies = {"daytime": b"Tue Dec  1 22:23:13 2026\r\n", "hello": b"HI there\n",
                   "time": (2208988800).to_bytes(4, "big")}
        prints = {"daytime": b"Tue Dec  1 22:23:13 2026\n", "hello": b"HI there\n",
                  "time": b"1970-01-01T00:00:00Z\n"}
        for host in loopbacks():
            for cmd in ("daytime", "hello", "time"):
                with self.udp(lambda data, n: replies[cmd], host) as u:
                    self.assertEqual(self.assert_ok([cmd, "-u", host, u.port]), prints[cmd])
                self.assertEqual(u.got, [b""], (cmd, host))
            with self.udp(lambda data, n: (-1).to_bytes(8, "big", signed=True), host) as u:
                self.assertEqual(self.assert_ok(["add", "-u", host, u.port, "-2", "258"]),
                                 b"-1\n")
            self.assertEqual(u.got, [b"\xff\xff\xff\xfe\x00\x00\x01\x02"])
            lines = [b"a\n", b"bb\r\n", b"\n", b"a\n", b"tail"]
            with self.udp(lambda data, n: data, host) as u:
                self.assertEqual(self.assert_ok(["echo", "-u", host, u.port], b"".join(lines)),
                                 b"".join(lines))
            self.assertEqual(u.got, lines, host)

    def test_echo_long_line_in_pieces(self):
        # A line longer than a datagram can carry goes in UDP_MAX pieces.
        data = b"y" * (UDP_MAX + 1000) + b"\nz"
        with self.udp(lambda d, n: d) as u:
            self.assertEqual(self.assert_ok(["echo", "-u", "127.0.0.1", u.port], data), data)
        self.assertEqual([len(d) for d in u.got], [UDP_MAX, 1001, 1])

    def test_echo_empty_input(self):
        with self.udp(lambda d, n: d) as u:
            self.assertEqual(self.assert_ok(["echo", "-u", "127.0.0.1", u.port], b""), b"")
        self.assertEqual(u.got, [])

    def test_silence_is_no_reply(self):
        # Three datagrams, a second apart, then one line and exit 1.
        for host in loopbacks():
            with self.udp(lambda d, n: None, host) as u:
                rc, out, err, secs = netlab(["add", "-u", host, u.port, "1", "2"])
            self.assertEqual((rc, out), (RUNTIME_EXIT, b""), err)
            self.assertEqual(err, "netlab: no reply from %s udp port %d: 3 datagrams "
                             "unanswered\n" % (host, u.port))
            self.assertEqual(u.got, [b"\0\0\0\1\0\0\0\2"] * 3, host)
            if TIMING:
                self.assertGreater(secs, 2.9)
                self.assertLess(secs, 4.5 * nt.SLOW)

    def test_wait_option(self):
        # -w sets the wait for each datagram's reply.
        with self.udp(lambda d, n: None) as u:
            rc, out, err, secs = netlab(["hello", "-u", "-w", "2", "127.0.0.1", u.port])
        self.assertEqual(rc, RUNTIME_EXIT, err)
        self.assertRegex(err, r"no reply from .*: 3 datagrams unanswered")
        self.assertEqual(len(u.got), 3)
        if TIMING:
            self.assertGreater(secs, 5.9)
            self.assertLess(secs, 7.5 * nt.SLOW)

    def test_third_try_answered(self):
        with self.udp(lambda d, n: b"HELLO\n" if n == 2 else None) as u:
            rc, out, err, secs = netlab(["hello", "-u", "127.0.0.1", u.port])
        self.assertEqual((rc, out, err), (0, b"HELLO\n", ""))
        self.assertEqual(u.got, [b""] * 3)
        if TIMING:
            self.assertGreater(secs, 1.9)

    def test_echo_late_duplicate_skipped(self):
        # The first line's reply is slow, so it is sent again and comes back
        # twice; the second copy, arriving while the next line waits, is not
        # taken for that line's reply.
        def handler(data, n):
            if n == 0:
                time.sleep(1.5)
            return data
        with self.udp(handler) as u:
            data = b"first\nsecond\nthird\n"
            self.assertEqual(self.assert_ok(["echo", "-u", "127.0.0.1", u.port], data), data)
        self.assertEqual(u.got, [b"first\n", b"first\n", b"second\n", b"third\n"])

    def test_echo_repeated_line(self):
        # The same line twice is two requests, each with its own reply.
        with self.udp(lambda d, n: d) as u:
            data = b"same\nsame\nsame\n"
            self.assertEqual(self.assert_ok(["echo", "-u", "127.0.0.1", u.port], data), data)
        self.assertEqual(u.got, [b"same\n"] * 3)

    def test_echo_wrong_reply(self):
        with self.udp(lambda d, n: d[:2]) as u:
            rc, out, err, _ = netlab(["echo", "-u", "127.0.0.1", u.port], b"hello\nworld\n")
        self.assertEqual((rc, out), (RUNTIME_EXIT, b"he"), err)
        self.assertEqual(err, "netlab: 127.0.0.1 udp port %d echoed a different datagram: "
                         "2 bytes for 6\n" % u.port)

    def test_echo_later_line_unanswered(self):
        with self.udp(lambda d, n: d if n == 0 else None) as u:
            rc, out, err, _ = netlab(["echo", "-u", "127.0.0.1", u.port], b"one\ntwo\n")
        self.assertEqual((rc, out), (RUNTIME_EXIT, b"one\n"), err)
        self.assertEqual(err, "netlab: no reply from 127.0.0.1 udp port %d: 3 datagrams "
                         "unanswered\n" % u.port)

    def test_add_reply_length(self):
        for reply, pattern in ((b"\0" * 7, r"short reply from .*: 7 of 8 bytes$"),
                               (b"", r"short reply from .*: 0 of 8 bytes$"),
                               (b"\0" * 9, r"long reply from .*: 9 bytes, want 8$"),
                               (b"\0" * 16, r"long reply from .*: 16 bytes, want 8$")):
            with self.udp(lambda d, n: reply) as u:
                self.assert_error(["add", "-u", "127.0.0.1", u.port, "1", "2"], pattern,
                                  RUNTIME_EXIT)

    def test_time_reply_length(self):
        for reply, pattern in ((b"\0" * 3, r"short reply from .*: 3 of 4 bytes$"),
                               (b"\0" * 5, r"long reply from .*: 5 bytes, want 4"),
                               (b"Tue Dec  1 22:23:13 2026\r\n", r"long reply from .*: 26 bytes")):
            with self.udp(lambda d, n: reply) as u:
                self.assert_error(["time", "-u", "127.0.0.1", u.port], pattern, RUNTIME_EXIT)

    def test_empty_reply(self):
        for cmd in ("daytime", "hello"):
            with self.udp(lambda d, n: b"") as u:
                self.assert_error([cmd, "-u", "127.0.0.1", u.port],
                                  r"empty reply from 127\.0\.0\.1 udp port %d$" % u.port,
                                  RUNTIME_EXIT)

    def test_refused_after_silence(self):
        # A server that goes away between tries: the ICMP refusal of the
        # second datagram ends the wait before the third.
        port = udp_refused_port()
        u = UdpServer(lambda d, n: None, "127.0.0.1", port)
        def stop():
            time.sleep(0.5)
            u.close()
        threading.Thread(target=stop, daemon=True).start()
        rc, out, err, secs = netlab(["daytime", "-u", "127.0.0.1", port])
        self.assertEqual(rc, RUNTIME_EXIT, err)
        self.assertEqual(err, "netlab: no reply from 127.0.0.1 udp port %d: Connection "
                         "refused\n" % port)
        if TIMING:
            self.assertLess(secs, 1.9 * nt.SLOW)


if __name__ == "__main__":
    if not os.access(nt.NETLAB, os.X_OK):
        print("netlab binary not found at %s" % nt.NETLAB)
        sys.exit(nt.SKIP)
    nt.main()
