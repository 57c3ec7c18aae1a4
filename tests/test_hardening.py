#!/usr/bin/env python3
"""Big configs and hostile clients (issue 14), each item as an administrator
or an attacker would check it: what sits at the config path (a FIFO, a
device, a directory), config text that used to be misread, signals during
start-up, memory per connection, a stalled log reader, a service removed and
re-added, the shipped config under a flood from one address, and a config
the daemon can no longer read after dropping root.
Timings are figures for the benchmark (tests/bench/run, BENCH_ONLY=issue14);
here every wait is only a bound against a hang.
"""
import os
import pwd
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

SRCDIR = os.environ.get("NETLAB_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))
REFUSED_PER_SOURCE = "max-per-source reached"


def addresses(hosts=None):
    return "{ %s }" % ", ".join('"%s"' % h for h in (hosts or nt.HOSTS))


def hello(host, port, source=None):
    s = nt.connect(host, port, source=source)
    try:
        return nt.recv_all(s)
    finally:
        s.close()


def echo_roundtrip(s, line=b"ping\n"):
    s.sendall(line)
    return nt.recv_exact(s, len(line))


def wait_stats(d, name, timeout=10, **want):
    """Poll SIGUSR1 statistics until every field in want has its value."""
    deadline = time.monotonic() + timeout * nt.SLOW
    while True:
        st = nt.stats(d, name)
        if all(st[k] == v for k, v in want.items()):
            return st
        if time.monotonic() > deadline:
            raise AssertionError("%s statistics %r never reached %r" % (name, st, want))
        time.sleep(0.05)


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def hup_blocked(status):
    return bool(int(status["SigBlk"], 16) & (1 << (signal.SIGHUP - 1)))


def deny_list(n):
    """n distinct prefixes, IPv4 /24s then IPv6 /48s, none of them loopback."""
    out = []
    for i in range(n):
        if i < 40000:
            out.append('"%d.%d.%d.0/24"' % (11 + i % 100, (i // 100) % 256, i // 25600))
        else:
            out.append('"2001:db8:%x::/48"' % (i - 40000))
    return ",\n".join(out)


class ConfigPath(unittest.TestCase):
    """A FIFO, a device or a directory at the config path is refused at once:
    -t, start-up and a running daemon's SIGHUP each say so, none of them
    waits for a writer or reads forever."""

    KINDS = (("fifo", "a FIFO"), ("device", "a character device"), ("directory", "a directory"))

    def place(self, path, kind):
        if os.path.lexists(path):
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "device":
            os.symlink("/dev/zero", path)
        else:
            os.mkdir(path)

    def not_regular_rx(self, path, what):
        return r"^netlabd: %s: not a regular file \(%s\)$" % (re.escape(path), what)

    def test_check_and_startup_refuse_at_once(self):
        d = self.tmpdir()
        for kind, what in self.KINDS:
            path = os.path.join(d, "netlabd.conf")
            self.place(path, kind)
            for args in (["-t"], []):
                with self.subTest(kind=kind, args=args):
                    # A hang here is the bug: the timeout is only a bound.
                    p = subprocess.run(nt.WRAPPER + [nt.NETLABD, "-c", path] + args,
                                       capture_output=True, timeout=10 * nt.SLOW,
                                       stdin=subprocess.DEVNULL)
                    err = p.stderr.decode()
                    self.assertEqual(p.returncode, 1, err)
                    self.assertRegex(err, re.compile(self.not_regular_rx(path, what), re.M))
                    self.assertNotIn("started", err)

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="netlabd-path-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def test_sighup_keeps_serving_and_obeys_sigterm(self):
        port, = nt.free_ports(1)
        d = nt.Daemon("service hello { port = %d address = %s }\n" % (port, addresses())).start()
        self.addCleanup(d.stop)
        for n, (kind, what) in enumerate(self.KINDS, 1):
            with self.subTest(kind=kind):
                self.place(d.conf_path, kind)
                d.signal(signal.SIGHUP)
                d.wait_log(self.not_regular_rx(d.conf_path, what), count=1)
                d.wait_log(r"^netlabd: reload failed: keeping the old configuration$", count=n)
                for host in nt.HOSTS:
                    self.assertEqual(hello(host, port), b"HELLO\n", host)
        # A FIFO again, with no writer: the daemon must not be stuck in open(2).
        self.place(d.conf_path, "fifo")
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reload failed: keeping the old configuration$", count=4)
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(10), 0, d.log())
        self.assertRegex(d.log(), re.compile(r"^netlabd: stopped$", re.M))


class ConfigText(unittest.TestCase):
    """Text libconfuse used to misread: each is a FILE:LINE: error naming
    the real cause and line, or (${VAR}) a value taken literally."""

    def assert_error(self, conf, line, msg):
        for args in (["-t"], []):
            rc, out, err, path = nt.run_check(conf, args=args)
            self.assertEqual(rc, 1, out + err)
            first = err.splitlines()[0] if err else ""
            self.assertEqual(first, "%s:%d: %s" % (path, line, msg), err)
            self.assertNotIn("configuration OK", out)
            self.assertNotIn("started", err)

    def test_unterminated_comment(self):
        # The services after the comment used to vanish without a word.
        conf = ("service hello { port = 7001 }\n"
                "# a comment\n"
                "/* the rest of the file\n"
                "service echo { port = 7002 }\n")
        self.assert_error(conf, 3, "a '/*' comment is never closed")
        # Inside a section too, after a closed one.
        conf = ("/* one */ service hello {\n port = 7001\n /* two */\n /*\n}\n")
        self.assert_error(conf, 4, "a '/*' comment is never closed")

    def test_unterminated_comment_on_reload_keeps_every_service(self):
        p = nt.free_ports(2)
        good = ("service hello { port = %d address = %s }\n"
                "service echo { port = %d address = %s }\n"
                % (p[0], addresses(), p[1], addresses()))
        d = nt.Daemon(good).start()
        self.addCleanup(d.stop)
        d.write_conf(good.replace("service echo", "/* service echo"))
        d.signal(signal.SIGHUP)
        d.wait_log(r"^%s:2: a '/\*' comment is never closed$" % re.escape(d.conf_path))
        d.wait_log(r"^netlabd: reload failed: keeping the old configuration$")
        self.assertNotRegex(d.log(), re.compile(r"^echo: removed", re.M))
        for host in nt.HOSTS:
            s = nt.connect(host, p[1])
            self.assertEqual(echo_roundtrip(s), b"ping\n")
            s.close()

    def test_unterminated_string(self):
        # Reported where the string starts, not as "'{' is never closed".
        conf = ("service hello {\n"
                "  port = 7001\n"
                "  message = \"hi there\n"
                "}\n"
                "service echo { port = 7002 }\n")
        self.assert_error(conf, 3, "a string is never closed (missing quote)")
        self.assert_error("service 'hello { port = 7001 }\n", 1,
                          "a string is never closed (missing quote)")

    def test_nul_byte_names_its_line(self):
        for line in (1, 4, 9):
            with self.subTest(line=line):
                text = ["# line %d" % (i + 1) for i in range(10)]
                text[line - 1] = "# a NUL \0 here"
                conf = "\n".join(text) + "\nservice echo { port = 7002 }\n"
                self.assert_error(conf, line, "the file contains a NUL byte")

    def test_escaped_nul_is_an_error(self):
        # "ab\0cd" used to become "ab" without a word.
        for value in ("ab\\0cd", "ab\\000cd", "ab\\x00cd", "ab\\x0", "\\0"):
            with self.subTest(value=value):
                conf = "service hello {\n  port = 7001\n  message = \"%s\"\n}\n" % value
                self.assert_error(conf, 3, "a string holds a NUL byte (\\0)")
        # Escapes that are not NUL stay what they are.
        rc, out, err, _ = nt.run_check("service hello {\n message = \"a\\x41\\101\\\\0\"\n}\n")
        self.assertEqual(rc, 0, err)

    def test_no_environment_substitution(self):
        port, = nt.free_ports(1)
        conf = 'service hello { port = %d address = %s message = "home is ${HOME}" }\n' % (
            port, addresses())
        env = {"HOME": "/somewhere/else"}
        rc, out, err, _ = nt.run_check(conf)
        self.assertEqual(rc, 0, err)
        d = nt.Daemon(conf, env=env).start()
        self.addCleanup(d.stop)
        for host in nt.HOSTS:
            self.assertEqual(hello(host, port), b"home is ${HOME}\n", host)
        # Single quotes: as written too.
        d.write_conf(conf.replace('"home is ${HOME}"', "'${HOME}'"))
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ")
        self.assertEqual(hello(nt.HOSTS[0], port), b"${HOME}\n")
        # Unquoted, it is an error that says why, not a silent expansion.
        self.assert_error("service hello {\n port = 7001\n message = ${HOME}\n}\n", 3,
                          "${...} is not replaced from the environment (netlabd does no"
                          " substitution): write the value in quotes")

    def test_line_numbers_after_300_sections(self):
        # Comments of every kind between the sections: libconfuse 3.3
        # miscounts after them, and the section table used to stop at 256.
        def config(n, bad_section, bad_line_text):
            lines, target = [], None
            for i in range(1, n + 1):
                lines.append("# service %d" % i)
                if i % 3 == 0:
                    lines.append("/* a block")
                    lines.append("   comment */")
                lines.append("service h%d {  // trailing" % i)
                lines.append("    protocol = hello")
                lines.append("    port = %d" % (20000 + i))
                if i == bad_section:
                    lines.append(bad_line_text)
                    target = len(lines)
                if not (i == bad_section and "address" in bad_line_text):
                    lines.append("    address = { \"127.0.0.1\" }")
                lines.append("}")
            return "\n".join(lines) + "\n", target

        cases = (
            (300, "    port = 70000", "port 70000 out of range (1 to 65535)"),
            (299, "    colour = 1", "no such option 'colour'"),
            (290, "    max-line = 5", "service 'h290': option 'max-line' does not apply to"
             " protocol 'hello'"),
            (257, "    address = { \"::1\", \"::1\" }", "address '::1' overlaps '::1' in the same"
             " list"),
        )
        for section, text, msg in cases:
            with self.subTest(section=section, msg=msg):
                conf, line = config(300, section, text)
                rc, out, err, path = nt.run_check(conf)
                self.assertEqual(rc, 1, err)
                self.assertIn("%s:%d: %s" % (path, line, msg), err.splitlines()[0])
        # An overlap between section 280 and section 3 names 280's port line.
        conf, _ = config(300, 0, "")
        conf = conf.replace("port = %d\n" % (20000 + 280), "port = %d\n" % (20000 + 3))
        line = conf[:conf.index("port = %d\n" % (20000 + 3), conf.index("service h280 "))].count(
            "\n") + 1
        rc, out, err, path = nt.run_check(conf)
        self.assertEqual(rc, 1, err)
        self.assertEqual(err.splitlines()[0],
                         "%s:%d: service 'h280': 127.0.0.1:20003 overlaps 127.0.0.1:20003 of"
                         " service 'h3'" % (path, line))
        conf, _ = config(300, 0, "")
        rc, out, err, path = nt.run_check(conf)
        self.assertEqual(rc, 0, err)


class DaytimeTooLong(unittest.TestCase):
    """netlabd.conf(5) CAVEATS: a format checked in UTC may give too long a
    line with a long local zone name; then the default line is sent."""

    def test_long_zone_name_falls_back_to_the_default_line(self):
        port, = nt.free_ports(1)
        # 80 x "%Z": 240 characters in UTC (GMT), so the check passes.
        conf = 'service daytime { port = %d address = %s format = "%s" }\n' % (
            port, addresses(), "%Z" * 80)
        for zone, want in (("ABCDEFGHIJ", b"ABCDEFGHIJ" * 80 + b"\r\n"),   # 800: fits
                           ("ABCDEFGHIJKLMNOP", None)):                 # 1 280: too long
            with self.subTest(zone=zone):
                d = nt.Daemon(conf, env={"TZ": "<%s>-1" % zone}).start()
                self.addCleanup(d.stop)
                for host in nt.HOSTS:
                    line = hello(host, port)
                    if want is not None:
                        self.assertEqual(line, want, host)
                    else:
                        self.assertRegex(line, rb"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$",
                                         host)
                d.stop()


class StartupSignals(unittest.TestCase):
    """A signal that arrives while netlabd is still parsing and binding waits
    for the event loop: SIGHUP is then a reload, SIGTERM a clean stop.  To
    send it inside that window for sure, the daemon is stopped (SIGSTOP) at a
    moment /proc shows the signal blocked, and continued after the kill."""

    def setUp(self):
        if nt.WRAPPER:
            self.skipTest("under a wrapper the process is not netlabd itself")

    def stopped_in_startup(self, conf):
        """A daemon SIGSTOPped during start-up with SIGHUP blocked."""
        for _ in range(30):
            d = nt.Daemon(conf)
            d.start(wait=False)
            caught = False
            deadline = time.monotonic() + 10 * nt.SLOW
            while time.monotonic() < deadline and d.proc.poll() is None:
                try:
                    st = proc_status(d.pid)
                except OSError:
                    break
                if st.get("Name") == "netlabd" and hup_blocked(st):
                    os.kill(d.pid, signal.SIGSTOP)
                    while proc_status(d.pid)["State"][0] != "T":
                        self.assertLess(time.monotonic(), deadline, "SIGSTOP did not stop it")
                        time.sleep(0.001)
                    # Still in start-up once stopped: the signal will wait for the loop.
                    caught = hup_blocked(proc_status(d.pid))
                    break
                if "started" in d.log():
                    break
            if caught:
                return d
            os.kill(d.pid, signal.SIGCONT)
            d.stop()
        self.fail("never saw netlabd in start-up with SIGHUP blocked: a signal then kills it")

    def big_conf(self, port):
        # A 50 000-prefix deny list makes start-up long enough to catch.
        return ("service hello { port = %d address = %s deny = {\n%s\n} }\n"
                % (port, addresses(), deny_list(50000)))

    def test_sighup_during_startup_is_a_reload_once_running(self):
        port, = nt.free_ports(1)
        d = self.stopped_in_startup(self.big_conf(port))
        self.addCleanup(d.stop)
        os.kill(d.pid, signal.SIGHUP)
        os.kill(d.pid, signal.SIGCONT)
        d.wait_log(r"^netlabd: reloaded ", timeout=20)
        self.assertIsNone(d.proc.poll(), d.log())
        log = d.log()
        self.assertLess(log.index("started"), log.index("netlabd: reloading"), log)
        for host in nt.HOSTS:
            self.assertEqual(hello(host, port), b"HELLO\n", host)
        d.stop()
        self.assertEqual(d.returncode, 0, d.log())

    def test_sigterm_during_startup_stops_cleanly(self):
        port, = nt.free_ports(1)
        d = self.stopped_in_startup(self.big_conf(port))
        self.addCleanup(d.stop)
        os.kill(d.pid, signal.SIGTERM)
        os.kill(d.pid, signal.SIGCONT)
        self.assertEqual(d.wait(20), 0, d.log())
        self.assertRegex(d.log(), re.compile(r"^netlabd: Terminated: stopping", re.M))
        self.assertRegex(d.log(), re.compile(r"^netlabd: stopped$", re.M))


class MemoryPerConnection(unittest.TestCase):
    """An idle connection holding an unfinished line or request of B bytes,
    after a 200 KB burst, costs at most B + 1 KiB of daemon RSS."""

    CONNS = 1000
    BURST = 200000

    def setUp(self):
        if nt.RSS_OFF:
            self.skipTest("RSS means nothing under valgrind or ASan")
        nt.own_nofile(self.CONNS + 200)

    def held(self, proto, burst, tail, reply_len):
        port, = nt.free_ports(1)
        d = nt.Daemon("service %s { port = %d address = %s idle-timeout = 0 }\n"
                      % (proto, port, addresses())).start()
        self.addCleanup(d.stop)

        def one(host):
            s = nt.connect(host, port, timeout=20)
            s.sendall(burst + tail)
            nt.recv_exact(s, reply_len)
            return s

        # Warm-up: the allocator's first bursts are not a connection's cost.
        for i in range(20):
            one(nt.HOSTS[i % len(nt.HOSTS)]).close()
        wait_stats(d, proto, active=0)
        before = d.rss_kib()
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for i in range(self.CONNS):
            socks.append(one(nt.HOSTS[i % len(nt.HOSTS)]))
        # Every byte sent, the tails too, has been read by the daemon.
        total = (20 + self.CONNS) * (len(burst) + len(tail))
        wait_stats(d, proto, active=self.CONNS, bytes_in=total)
        after = d.rss_kib()
        each = (after - before) * 1024 / self.CONNS
        print("\n%s: %d connections holding %d byte(s) each after a %d-byte burst:"
              " RSS %d -> %d KiB, %.0f B per connection"
              % (proto, self.CONNS, len(tail), len(burst), before, after, each),
              file=sys.stderr)
        self.assertLessEqual(each, len(tail) + 1024)
        # What they hold is intact: the tails come back when they end their lines.
        if proto == "echo":
            for s in socks[:10]:
                s.sendall(b"\n")
                self.assertEqual(nt.recv_exact(s, len(tail) + 1), tail + b"\n")

    def test_echo_one_byte_tail(self):
        line = b"x" * 999 + b"\n"
        self.held("echo", line * (self.BURST // len(line)), b"t", self.BURST)

    def test_echo_3000_byte_tail(self):
        line = b"y" * 999 + b"\n"
        self.held("echo", line * (self.BURST // len(line)), b"z" * 3000, self.BURST)

    def test_add_7_byte_tail(self):
        req = bytes.fromhex("0000000100000002")
        self.held("add", req * (self.BURST // 8), b"\0" * 7, self.BURST)


class LogStall(unittest.TestCase):
    """stderr is a pipe whose reader has stopped: the daemon keeps serving,
    obeys SIGTERM, and once the reader is back one line says how many lines
    were dropped."""

    # A long name makes each accepted line long: 5 000 of them are more than
    # the pipe and the daemon's queue together hold.
    NAME = "a-service-with-a-rather-long-name-to-make-long-log-lines"
    CONNS = 5000

    def start(self):
        port, = nt.free_ports(1)
        d = tempfile.mkdtemp(prefix="netlabd-stall-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "netlabd.conf")
        with open(path, "w") as f:
            f.write("service %s { protocol = hello port = %d address = %s }\n"
                    % (self.NAME, port, addresses()))
        r, w = os.pipe()
        env = dict(os.environ)
        for k in ("NOTIFY_SOCKET", "LISTEN_FDS", "JOURNAL_STREAM"):
            env.pop(k, None)
        proc = subprocess.Popen(nt.WRAPPER + [nt.NETLABD, "-c", path], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=w, env=env)
        os.close(w)
        self.addCleanup(self.kill, proc)
        self.addCleanup(os.close, r)
        # Read up to the "started" line, then stop reading.
        got = b""
        deadline = time.monotonic() + 10 * nt.SLOW
        while b" started (" not in got:
            self.assertLess(time.monotonic(), deadline, got)
            if select.select([r], [], [], 0.1)[0]:
                got += os.read(r, 4096)
        return proc, port, r, got

    def kill(self, proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    def flood(self, port):
        for i in range(self.CONNS):
            host = nt.HOSTS[i % len(nt.HOSTS)]
            # Each is served within the socket timeout while nobody reads the log.
            self.assertEqual(hello(host, port), b"HELLO\n", "connection %d" % i)

    def test_stalled_reader_sigterm(self):
        proc, port, r, _ = self.start()
        self.flood(port)
        for host in nt.HOSTS:
            self.assertEqual(hello(host, port), b"HELLO\n")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10 * nt.SLOW), 0)

    def test_stalled_reader_resumes_and_drops_are_counted(self):
        proc, port, r, head = self.start()
        self.flood(port)
        # The reader comes back.
        out = bytearray(head)

        def reader():
            while True:
                chunk = os.read(r, 65536)
                if not chunk:
                    return
                out.extend(chunk)
        th = threading.Thread(target=reader, daemon=True)
        th.start()
        rx = re.compile(rb"^netlabd: the log sink stalled: (\d+) line\(s\) dropped$", re.M)
        deadline = time.monotonic() + 10 * nt.SLOW
        extra = 0
        while not rx.search(bytes(out)) and time.monotonic() < deadline:
            # Anything the daemon logs makes it try the sink again.
            hello(nt.HOSTS[0], port)
            extra += 1
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(10 * nt.SLOW), 0)
        th.join(10)
        text = bytes(out)
        m = rx.findall(text)
        self.assertEqual(len(m), 1, text[-500:])
        dropped = int(m[0])
        accepted = len(re.findall(rb"^%s: accepted connection from " % self.NAME.encode(),
                                  text, re.M))
        print("\n%d connections with the log reader stopped: %d lines written, %d dropped"
              % (self.CONNS, accepted, dropped), file=sys.stderr)
        self.assertGreater(dropped, 0)
        # Every connection's line is either written or counted as dropped, and whole:
        # the lines that got through are complete lines.
        self.assertEqual(accepted + dropped, self.CONNS + extra)
        for line in text.splitlines():
            self.assertRegex(line, rb"^(netlabd|%s): " % self.NAME.encode())


class RetiredService(unittest.TestCase):
    def test_removed_and_readded_service_keeps_per_source_counts(self):
        pe, ph = nt.free_ports(2)
        keep = "service hello { port = %d address = %s }\n" % (ph, addresses())
        echo = ("service echo { port = %d address = %s max-per-source = %%d }\n"
                % (pe, addresses()))
        d = nt.Daemon(keep + echo % 10).start()
        self.addCleanup(d.stop)
        sources = [("127.0.0.1", "127.0.0.2")] + ([("::1", None)] if "::1" in nt.HOSTS else [])
        held = {}
        for host, src in sources:
            held[host] = []
            for _ in range(10):
                s = nt.connect(host, pe, source=src)
                self.addCleanup(s.close)
                self.assertEqual(echo_roundtrip(s), b"ping\n")
                held[host].append(s)
        # Removed: the open connections keep going.
        d.write_conf(keep)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ", count=1)
        # Re-added with a lower limit: the ten are still counted.
        d.write_conf(keep + echo % 5)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ", count=2)
        for host, src in sources:
            with self.subTest(host=host):
                for s in held[host]:
                    self.assertEqual(echo_roundtrip(s, b"still\n"), b"still\n")
                s = nt.connect(host, pe, source=src)
                self.addCleanup(s.close)
                cport = s.getsockname()[1]
                data, how = nt.recv_until_close(s)
                self.assertEqual(data, b"")
                self.assertNotEqual(how, "open", "the 11th was served")
                d.wait_log(r"^echo: refused connection from %s, port=%d: %s$"
                           % (re.escape(src or host), cport, REFUSED_PER_SOURCE))
                # Six close: four left, so exactly one more fits under five.
                for s in held[host][:6]:
                    s.close()
        wait_stats(d, "echo", active=4 * len(sources))
        for host, src in sources:
            s = nt.connect(host, pe, source=src)
            self.addCleanup(s.close)
            self.assertEqual(echo_roundtrip(s), b"ping\n")
            s2 = nt.connect(host, pe, source=src)
            self.addCleanup(s2.close)
            self.assertNotEqual(nt.recv_until_close(s2)[1], "open", "a 6th was served")
        # Another address was never limited by them.
        s = nt.connect("127.0.0.1", pe, source="127.0.0.3")
        self.addCleanup(s.close)
        self.assertEqual(echo_roundtrip(s), b"ping\n")


def shipped_tcp_only(text, ports):
    """etc/netlabd.conf with its UDP services dropped and each TCP port replaced."""
    out, names = [], []
    rx = re.compile(r"^service ([\w.-]+) \{\n(.*?)^\}\n", re.M | re.S)
    pos = 0
    for m in rx.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        body = m.group(2)
        if re.search(r"^\s*transport\s*=\s*\"?udp", body, re.M):
            continue
        names.append(m.group(1))
        body, n = re.subn(r"^(\s*port\s*=\s*)\d+", lambda p: p.group(1) + str(ports[m.group(1)]),
                          body, flags=re.M)
        assert n == 1, m.group(1)
        out.append("service %s {\n%s}\n" % (m.group(1), body))
    out.append(text[pos:])
    return "".join(out), names


class ShippedConfig(unittest.TestCase):
    """Issue 14 item 9: with the shipped config, 4 200 idle echo connections
    from one address leave other clients served."""

    FLOOD = 4200

    def shipped(self):
        with open(os.path.join(SRCDIR, "etc", "netlabd.conf")) as f:
            return f.read()

    def test_every_tcp_service_limits_one_source(self):
        text = self.shipped()
        total = 0
        glob = int(re.search(r"^max-connections\s*=\s*(\d+)", text, re.M).group(1))
        for m in re.finditer(r"^service ([\w.-]+) \{\n(.*?)^\}\n", text, re.M | re.S):
            if re.search(r"^\s*transport\s*=\s*\"?udp", m.group(2), re.M):
                continue
            per = re.search(r"^\s*max-per-source\s*=\s*(\d+)", m.group(2), re.M)
            self.assertIsNotNone(per, "service %s has no max-per-source" % m.group(1))
            total += int(per.group(1))
        # One address on every service at once still leaves most slots to others.
        self.assertLessEqual(total * 2, glob, "one address can take %d of %d" % (total, glob))

    def test_flood_from_one_address_leaves_others_served(self):
        nt.own_nofile(self.FLOOD + 500)
        text = self.shipped()
        names = re.findall(r"^service ([\w.-]+) \{", text, re.M)
        ports = dict(zip(names, nt.free_ports(len(names))))
        conf, tcp = shipped_tcp_only(text, ports)
        self.assertIn("echo", tcp)
        self.assertIn("daytime", tcp)
        d = nt.Daemon(conf).start()
        self.addCleanup(d.stop)
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(self.FLOOD):
            socks.append(nt.connect("127.0.0.1", ports["echo"], timeout=10, source="127.0.0.2"))
        # Wait until the daemon has decided on every one of them.
        deadline = time.monotonic() + 30 * nt.SLOW
        while True:
            st = nt.stats(d, "echo")
            if st["accepted"] + st["refused"] == self.FLOOD or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(st["accepted"] + st["refused"], self.FLOOD, st)
        # Everybody else: ten daytime requests from another address, and over IPv6.
        line_rx = rb"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$"
        for host, src in [("127.0.0.1", "127.0.0.3")] + (
                [("::1", None)] if "::1" in nt.HOSTS else []):
            for i in range(10):
                self.assertRegex(hello(host, ports["daytime"], source=src), line_rx,
                                 "%s request %d of 10 during the flood" % (host, i + 1))
            s = nt.connect(host, ports["echo"], source=src)
            socks.append(s)
            self.assertEqual(echo_roundtrip(s), b"ping\n")
        # The flood got what the shipped max-per-source gives one address, no more.
        per = re.search(r"^service echo \{\n.*?^\s*max-per-source\s*=\s*(\d+)", text,
                        re.M | re.S)
        self.assertIsNotNone(per, "the shipped echo service sets no max-per-source")
        self.assertEqual(st["accepted"], int(per.group(1)))
        self.assertEqual(echo_roundtrip(socks[0]), b"ping\n")


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class UnreadableConfig(unittest.TestCase):
    """user + a config only root can read: every reload fails, and the error
    says why and what to do."""

    USER = "nobody"

    def setUp(self):
        try:
            self.pw = pwd.getpwnam(self.USER)
        except KeyError:
            self.skipTest("no user %s" % self.USER)

    def as_nobody(self):
        uid, gid = self.pw.pw_uid, self.pw.pw_gid

        def become():
            os.setgroups([gid])
            os.setgid(gid)
            os.setuid(uid)
        if subprocess.run(["test", "-x", nt.NETLABD], preexec_fn=become, timeout=10).returncode:
            self.skipTest("%s is not reachable for uid %d" % (nt.NETLABD, uid))
        return become

    def test_reload_after_drop_says_why(self):
        self.as_nobody()
        port, = nt.free_ports(1)
        d = nt.Daemon('user = "%s"\nservice hello { port = %d address = %s }\n'
                      % (self.USER, port, addresses()))
        os.chmod(d.dir, 0o755)
        os.chmod(d.conf_path, 0o644)
        d.start()
        self.addCleanup(d.stop)
        os.chmod(d.conf_path, 0o600)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: cannot open config %s: Permission denied: netlabd runs as uid %d"
                   r" \(user %s\) after dropping privileges; make the file readable to it$"
                   % (re.escape(d.conf_path), self.pw.pw_uid, self.USER))
        d.wait_log(r"^netlabd: reload failed: keeping the old configuration$")
        for host in nt.HOSTS:
            self.assertEqual(hello(host, port), b"HELLO\n")
        # Readable again: the next reload works.
        os.chmod(d.conf_path, 0o644)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ")

    def test_check_as_another_user_says_why(self):
        become = self.as_nobody()
        rc, out, err, path = nt.run_check("service hello { port = 7001 }\n")
        os.chmod(os.path.dirname(path), 0o755)
        os.chmod(path, 0o600)
        p = subprocess.run([nt.NETLABD, "-t", "-c", path], capture_output=True, timeout=10,
                           preexec_fn=become, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.decode(),
                         "netlabd: cannot open config %s: Permission denied: netlabd runs as"
                         " uid %d, not root; make the file readable to it\n"
                         % (path, self.pw.pw_uid))


if __name__ == "__main__":
    nt.main()
