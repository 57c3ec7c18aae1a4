#!/usr/bin/env python3
"""test_udp - UDP services (SPEC section 9) from outside, over 127.0.0.1 and ::1.

Every protocol's datagram form; a TCP and a UDP service on one port; the
reflection guard (source ports below 1024, an unspecified source sent raw);
the rate limit (burst, drop, refill, rate-limit = 0, the default of 20);
the drop summary lines and the SIGUSR1 numbers; every UDP config error
with FILE:LINE:; replies from the address a request was sent to; and a
forged-source flood of 100 000 addresses under which the per-source
table, the RSS and the log stay bounded.  IPv6 sources of many /64s need
a network namespace the test makes with ip(8) (as root): NetnsInner runs
inside it.

No assertion here depends on speed: "no reply" is proved by a later reply
to the same socket, or by the daemon's counters having seen the request.
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

WAIT = 3                         # seconds for a reply that must come
DAYTIME_RE = re.compile(rb"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n\Z")
TIME_EPOCH = 2208988800          # 1900-01-01 to 1970-01-01, RFC 868
UDP_STATS = ("received", "answered", "dropped", "bytes_in", "bytes_out")
SUMMARY_RX = (r"^%s: dropped (\d+) datagrams? in 10 s: (.*)$")
REASONS = {
    "rate-limited": "rate-limit",
    "from ports below 1024": "source-port",
    "from unspecified, broadcast or multicast addresses": "source-address",
    "malformed": "malformed",
    "denied by access list": "acl",
    "not sent (socket error)": "send-error",
}
ROOT = os.geteuid() == 0
FLOOD_SOURCES = 100000


def addresses(hosts):
    return "{ %s }" % ", ".join('"%s"' % h for h in hosts)


def client(host, source=None, sport=0):
    s = socket.socket(nt.family(host), socket.SOCK_DGRAM)
    s.settimeout(WAIT * nt.SLOW)
    if source is not None or sport:
        s.bind((source or ("::" if ":" in host else "0.0.0.0"), sport))
    return s


def ask(host, port, data, sock=None):
    """One request, its reply: (bytes, (source address, source port))."""
    s = sock or client(host)
    try:
        s.sendto(data, (host, port))
        reply, src = s.recvfrom(70000)
        return reply, src[:2]
    finally:
        if sock is None:
            s.close()


def queued(s):
    """Every datagram waiting on s now, without waiting for more."""
    out = []
    while True:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return out
        out.append(s.recv(70000))


def udp_stats(d, name, timeout=10):
    """SIGUSR1, then the UDP service's next statistics line as a dict."""
    rx = (r"^%s: statistics: received=(\d+) answered=(\d+) dropped=(\d+)"
          r" bytes_in=(\d+) bytes_out=(\d+)$" % re.escape(name))
    seen = len(re.findall(rx, d.log(), re.M))
    d.signal(signal.SIGUSR1)
    m = d.wait_log(rx, count=seen + 1, timeout=timeout)
    return dict(zip(UDP_STATS, (int(x) for x in m.groups())))


def settle(d, name, received, timeout=10):
    """Wait until the service has taken received datagrams in: its replies are sent by then."""
    deadline = time.monotonic() + timeout * nt.SLOW
    while True:
        st = udp_stats(d, name)
        if st["received"] >= received:
            return st
        if time.monotonic() > deadline:
            raise AssertionError("%s received %d of %d datagrams" % (name, st["received"],
                                                                     received))
        time.sleep(0.05)


SUMMARY_PART = r"(\d+) (%s) \((over )?(\d+) sources?\)" % "|".join(map(re.escape, REASONS))


def summaries(d, name):
    """The service's drop summary lines: [(total, {reason label: (count, sources)})]."""
    out = []
    for m in re.finditer(SUMMARY_RX % re.escape(name), d.log(), re.M):
        assert re.fullmatch(r"%s(, %s)*" % (SUMMARY_PART, SUMMARY_PART), m.group(2)), \
            "bad summary line %r" % m.group(0)
        parts = {}
        for pm in re.finditer(SUMMARY_PART, m.group(2)):
            parts[REASONS[pm.group(2)]] = (int(pm.group(1)), int(pm.group(4)))
        assert sum(c for c, _ in parts.values()) == int(m.group(1)), m.group(0)
        out.append((int(m.group(1)), parts))
    return out


def wait_summaries(d, name, total, timeout=15):
    """Wait until the summaries of name account for total drops; return them."""
    deadline = time.monotonic() + timeout * nt.SLOW
    while True:
        got = summaries(d, name)
        if sum(t for t, _ in got) >= total:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("summaries of %s count %d of %d drops:\n%s"
                                 % (name, sum(t for t, _ in got), total, d.log()))
        time.sleep(0.1)


def answered_summaries(d, name):
    """The counts of "NAME: answered N datagrams in 10 s: N not logged one by one" lines."""
    return [int(n) for n in re.findall(r"^%s: answered (\d+) datagrams? in 10 s: \1 not logged"
                                       r" one by one \((?:over )?\d+ sources?\)$"
                                       % re.escape(name), d.log(), re.M)]


def by_reason(lines):
    total = {}
    for _, parts in lines:
        for reason, (count, _) in parts.items():
            total[reason] = total.get(reason, 0) + count
    return total


def low_port_socket(host):
    """A UDP socket bound to a free port below 1024 (root only)."""
    for port in range(1023, 600, -1):
        try:
            return client(host, sport=port)
        except OSError:
            continue
    raise unittest.SkipTest("no free port below 1024")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def send_raw6(src, dst, sport, dport, payload):
    """One UDP datagram with a source address of our choosing (root: a raw socket)."""
    s6, d6 = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = s6 + d6 + struct.pack("!I", len(udp)) + b"\0\0\0\x11"
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xffff) + udp[8:]
    ip6 = struct.pack("!IHBB", 6 << 28, len(udp), socket.IPPROTO_UDP, 64) + s6 + d6
    r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        r.sendto(ip6 + udp, (dst, 0))
    finally:
        r.close()


def datagram_lines(d, name):
    return re.findall(r"^%s: datagram from (\S+), port=(\d+)$" % re.escape(name), d.log(),
                      re.M)


def service_lines(d, name):
    return [ln for ln in d.log().splitlines() if ln.startswith(name + ": ")]


class Case(unittest.TestCase):
    def daemon(self, conf):
        d = nt.Daemon(conf).start()
        self.addCleanup(d.stop)
        return d


class Protocols(Case):
    """Each protocol's UDP form (SPEC 9's table), TCP twins on the same ports."""

    @classmethod
    def setUpClass(cls):
        names = ("daytime", "hello", "echo", "add", "discard", "time", "utc")
        cls.port = dict(zip(names, nt.free_ports(len(names))))
        addr = addresses(nt.HOSTS)
        conf = ""
        for name in names[:-1]:
            conf += ("service %s-udp {\n    protocol = %s\n    transport = udp\n"
                     "    port = %d\n    address = %s\n    rate-limit = 0\n}\n"
                     % (name, name, cls.port[name], addr))
        conf += ("service utc-udp {\n    protocol = daytime\n    transport = udp\n"
                 "    port = %d\n    address = %s\n    format = \"%%Y %%H\"\n"
                 "    utc = true\n}\n" % (cls.port["utc"], addr))
        # The TCP twins on the same ports and addresses, saying which they are.
        conf += ("service hello {\n    port = %d\n    address = %s\n    message = \"over tcp\"\n}\n"
                 "service echo {\n    port = %d\n    address = %s\n}\n"
                 % (cls.port["hello"], addr, cls.port["echo"], addr))
        conf = conf.replace("protocol = hello\n", "protocol = hello\n    message = \"over udp\"\n")
        cls.d = nt.Daemon(conf).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_daytime(self):
        for host in nt.HOSTS:
            for req in (b"", b"what time is it?\n", b"\0" * 1000):
                reply, src = ask(host, self.port["daytime"], req)
                self.assertRegex(reply, DAYTIME_RE, (host, req[:20]))
                self.assertEqual(src, (host, self.port["daytime"]))

    def test_daytime_options(self):
        for host in nt.HOSTS:
            reply, _ = ask(host, self.port["utc"], b"")
            self.assertEqual(reply, time.strftime("%Y %H", time.gmtime()).encode() + b"\r\n")

    def test_hello(self):
        for host in nt.HOSTS:
            for req in (b"", b"hi\n", b"x" * 5000):
                self.assertEqual(ask(host, self.port["hello"], req)[0], b"over udp\n")

    def test_echo(self):
        big = (bytes(range(256)) * 235)[:60000]
        for host in nt.HOSTS:
            for req in (b"", b"a", b"two\nlines\r\nand a tail", b"\0\r\n\xff", big,
                        b"y" * (65507 if host == "127.0.0.1" else 65527)):
                with self.subTest(host=host, size=len(req)):
                    reply, src = ask(host, self.port["echo"], req)
                    self.assertEqual(reply, req)
                    self.assertEqual(src, (host, self.port["echo"]))

    def test_add(self):
        pairs = [(2147483647, 2147483647), (-2147483648, -2147483648), (-5, 3), (0, 0),
                 (1, -1), (123456789, -987654321), (-1, -1), (2147483647, -2147483648),
                 (7, 8), (1000, 2000), (-300, 299), (65536, 65536), (-65536, 1),
                 (42, 0), (0, -42), (99, 1)]
        for host in nt.HOSTS:
            for k in (1, 2, 16):
                req = b"".join(struct.pack(">ii", a, b) for a, b in pairs[:k])
                reply, _ = ask(host, self.port["add"], req)
                self.assertEqual(reply, b"".join(struct.pack(">q", a + b)
                                                 for a, b in pairs[:k]), (host, k))
            # Sums in order for the longest datagram too (8188 or 8190 requests).
            many = [(i, -2 * i) for i in range((65507 if host == "127.0.0.1" else 65527) // 8)]
            reply, _ = ask(host, self.port["add"],
                           b"".join(struct.pack(">ii", a, b) for a, b in many))
            self.assertEqual(reply, b"".join(struct.pack(">q", -i) for i, _ in many))

    def test_add_malformed_then_good(self):
        for host in nt.HOSTS:
            before = udp_stats(self.d, "add-udp")
            s = client(host)
            for bad in (b"", b"1234567", b"123456789", b"x" * 15, b"x" * 17):
                s.sendto(bad, (host, self.port["add"]))
            # The good one's reply is the first thing this socket gets: no reply to the rest.
            reply, _ = ask(host, self.port["add"], struct.pack(">ii", 40, 2), sock=s)
            self.assertEqual(reply, struct.pack(">q", 42))
            self.assertEqual(queued(s), [])
            s.close()
            after = udp_stats(self.d, "add-udp")
            self.assertEqual(after["received"] - before["received"], 6)
            self.assertEqual(after["answered"] - before["answered"], 1)
            self.assertEqual(after["dropped"] - before["dropped"], 5)
            self.assertEqual(after["bytes_in"] - before["bytes_in"], 7 + 9 + 15 + 17 + 8)

    def test_discard(self):
        for host in nt.HOSTS:
            before = udp_stats(self.d, "discard-udp")
            s = client(host)
            for req in (b"", b"throw me away", b"z" * 3000):
                s.sendto(req, (host, self.port["discard"]))
            after = settle(self.d, "discard-udp", before["received"] + 3)
            self.assertEqual(queued(s), [])
            s.close()
            # Received, never answered, and not a drop either.
            self.assertEqual(after["answered"], before["answered"])
            self.assertEqual(after["dropped"], before["dropped"])
            self.assertEqual(after["bytes_in"] - before["bytes_in"], 3013)
            self.assertEqual(after["bytes_out"], 0)

    def test_time(self):
        for host in nt.HOSTS:
            for req in (b"", b"\n", b"t" * 100):
                reply, _ = ask(host, self.port["time"], req)
                self.assertEqual(len(reply), 4)
                got = struct.unpack(">I", reply)[0] - TIME_EPOCH
                self.assertLess(abs(got - time.time()), 5 * nt.SLOW, reply)

    def test_tcp_and_udp_share_a_port(self):
        for host in nt.HOSTS:
            with nt.connect(host, self.port["hello"]) as c:
                self.assertEqual(nt.recv_all(c), b"over tcp\n")
            self.assertEqual(ask(host, self.port["hello"], b"")[0], b"over udp\n")
            with nt.connect(host, self.port["echo"]) as c:
                c.sendall(b"tcp line\npartial")
                self.assertEqual(nt.recv_exact(c, 9), b"tcp line\n")
                # Meanwhile the UDP twin answers whole datagrams.
                self.assertEqual(ask(host, self.port["echo"], b"udp\npartial")[0],
                                 b"udp\npartial")
                c.shutdown(socket.SHUT_WR)
                self.assertEqual(nt.recv_all(c), b"partial")

    def test_datagram_logged_like_a_connection(self):
        for host in nt.HOSTS:
            s = client(host)
            ask(host, self.port["hello"], b"", sock=s)
            port = s.getsockname()[1]
            s.close()
            self.d.wait_log(r"^hello-udp: datagram from %s, port=%d$" % (re.escape(host), port))


@unittest.skipUnless(ROOT, "a source port below 1024 or a forged source needs root")
class Guard(Case):
    """No reply to a source port below 1024 or an unspecified source; counted."""

    def test_guard(self):
        port = nt.free_port()
        d = self.daemon("service echo-udp {\n    protocol = echo\n    transport = udp\n"
                        "    port = %d\n    address = %s\n    rate-limit = 0\n}\n"
                        % (port, addresses(nt.HOSTS)))
        sent = 0
        for host in nt.HOSTS:
            low = low_port_socket(host)
            at_1024 = client(host, sport=1024)
            ephemeral = client(host)
            low.sendto(b"reflect me", (host, port))
            # 1024 is the first port answered; an ephemeral one is answered too.
            self.assertEqual(ask(host, port, b"first allowed", sock=at_1024)[0],
                             b"first allowed")
            self.assertEqual(ask(host, port, b"ephemeral", sock=ephemeral)[0], b"ephemeral")
            sent += 3
            st = settle(d, "echo-udp", sent)
            # The low port's datagram came in before the others were answered: none for it.
            self.assertEqual(queued(low), [], host)
            self.assertEqual(st["dropped"], sent // 3)
            for s in (low, at_1024, ephemeral):
                s.close()
        forged = 0
        if "::1" in nt.HOSTS:
            # The kernel delivers these to a v6-only socket; the guard drops them.
            for src in ("::", "::ffff:224.0.0.1", "::ffff:255.255.255.255", "::ffff:0.0.0.0"):
                send_raw6(src, "::1", 40000, port, b"forged")
                forged += 1
            st = settle(d, "echo-udp", sent + forged)
            self.assertEqual(st["dropped"], len(nt.HOSTS) + forged)
            self.assertEqual(st["bytes_in"] - 6 * forged,
                             sum(len(b) for b in (b"reflect me", b"first allowed", b"ephemeral"))
                             * len(nt.HOSTS))
        lines = wait_summaries(d, "echo-udp", len(nt.HOSTS) + forged)
        want = {"source-port": len(nt.HOSTS)}
        if forged:
            want["source-address"] = forged
        self.assertEqual(by_reason(lines), want)
        self.assertEqual(len(datagram_lines(d, "echo-udp")), 2 * len(nt.HOSTS))


class RateLimit(Case):
    """rate-limit per source: burst of twice the rate, then drops, then a refill."""

    def burst(self, d, name, host, port, n, sock=None):
        """n datagrams at once from one socket: (replies, seconds it all took)."""
        before = udp_stats(d, name)
        s = sock or client(host)
        start = time.monotonic()
        for i in range(n):
            s.sendto(b"%d" % i, (host, port))
        settle(d, name, before["received"] + n)
        took = time.monotonic() - start
        got = queued(s)
        if sock is None:
            s.close()
        return got, took

    def test_burst_drop_refill(self):
        port = nt.free_port()
        rate = 2
        d = self.daemon("service e {\n    protocol = echo\n    transport = udp\n"
                        "    port = %d\n    address = %s\n    rate-limit = %d\n}\n"
                        % (port, addresses(nt.HOSTS), rate))
        for host in nt.HOSTS:
            s = client(host)
            got, took = self.burst(d, "e", host, port, 30, sock=s)
            # The burst (2 x rate) is answered, in order, and what came on top is not,
            # but for the tokens that the time the burst took earned.
            self.assertGreaterEqual(len(got), 2 * rate, host)
            self.assertLessEqual(len(got), 2 * rate + int(rate * took) + 1, (host, took))
            self.assertEqual(got, [b"%d" % i for i in range(len(got))])
            # 1.5 tokens' time later there is one again.
            time.sleep(1.5 / rate)
            self.assertEqual(ask(host, port, b"again", sock=s)[0], b"again")
            s.close()
        st = udp_stats(d, "e")
        self.assertEqual(st["received"], st["answered"] + st["dropped"])
        self.assertEqual(len(datagram_lines(d, "e")), st["answered"])

    def test_sources_count_apart(self):
        port = nt.free_port()
        d = self.daemon("service e {\n    protocol = echo\n    transport = udp\n"
                        "    port = %d\n    address = { \"0.0.0.0\" }\n    rate-limit = 1\n}\n"
                        % port)
        got, took = self.burst(d, "e", "127.0.0.1", port, 10)
        self.assertLessEqual(len(got), 2 + int(took) + 1)
        # 127.0.0.1 is out of tokens; 127.0.0.2 has its own.
        s = client("127.0.0.1", source="127.0.0.2")
        self.assertEqual(ask("127.0.0.1", port, b"other source", sock=s)[0], b"other source")
        s.close()

    def test_only_replies_take_tokens(self):
        port = nt.free_port()
        d = self.daemon("service a {\n    protocol = add\n    transport = udp\n"
                        "    port = %d\n    address = %s\n    rate-limit = 2\n}\n"
                        % (port, addresses(nt.HOSTS)))
        for host in nt.HOSTS:
            s = client(host)
            for _ in range(20):
                s.sendto(b"bad", (host, port))
            # 20 malformed datagrams took no token: the 4 of the burst are all there.
            for i in range(4):
                self.assertEqual(ask(host, port, struct.pack(">ii", i, 1), sock=s)[0],
                                 struct.pack(">q", i + 1))
            s.close()

    def test_zero_drops_nothing(self):
        port = nt.free_port()
        d = self.daemon("service e {\n    protocol = echo\n    transport = udp\n"
                        "    port = %d\n    address = %s\n    rate-limit = 0\n}\n"
                        % (port, addresses(nt.HOSTS)))
        for host in nt.HOSTS:
            s = client(host)
            for w in range(20):
                # Windows of 50, so that our own receive buffer drops nothing.
                for i in range(50):
                    s.sendto(b"%d.%d" % (w, i), (host, port))
                for i in range(50):
                    self.assertEqual(s.recv(100), b"%d.%d" % (w, i))
            s.close()
        st = udp_stats(d, "e")
        self.assertEqual(st["answered"], 1000 * len(nt.HOSTS))
        self.assertEqual(st["dropped"], 0)

    def test_default_is_20_for_udp_and_none_for_tcp(self):
        port = nt.free_port()
        d = self.daemon("service e {\n    protocol = echo\n    transport = udp\n"
                        "    port = %d\n    address = %s\n}\n"
                        "service h {\n    protocol = hello\n    port = %d\n    address = %s\n}\n"
                        % (port, addresses(nt.HOSTS), port, addresses(nt.HOSTS)))
        for host in nt.HOSTS:
            got, took = self.burst(d, "e", host, port, 100)
            self.assertGreaterEqual(len(got), 40, host)
            self.assertLessEqual(len(got), 40 + int(20 * took) + 1, (host, took))
            # TCP: no limit unless set, so 60 quick connections are all served.
            for _ in range(60):
                with nt.connect(host, port) as c:
                    self.assertEqual(nt.recv_all(c), b"HELLO\n")
        self.assertEqual(nt.stats(d, "h")["refused"], 0)


class Accounting(Case):
    """SIGUSR1's numbers and the summary lines, exactly (SPEC 9's example)."""

    def test_statistics_and_summary(self):
        port, aport = nt.free_ports(2)
        d = self.daemon(
            "service echo-udp {\n    protocol = echo\n    transport = udp\n    port = %d\n"
            "    address = { \"0.0.0.0\", \"::\" }\n    rate-limit = 1\n"
            "    deny = { \"127.0.0.9\" }\n}\n"
            "service add-udp {\n    protocol = add\n    transport = udp\n    port = %d\n"
            "    address = %s\n}\n" % (port, aport, addresses(nt.HOSTS)))
        want = dict.fromkeys(UDP_STATS, 0)
        drops = {}

        def count(sizes, reason=None):
            """Datagrams of these sizes came in: answered (reason None) or dropped."""
            want["received"] += len(sizes)
            want["bytes_in"] += sum(sizes)
            if reason is None:
                want["answered"] += len(sizes)
                want["bytes_out"] += sum(sizes)
            else:
                want["dropped"] += len(sizes)
                drops[reason] = drops.get(reason, 0) + len(sizes)

        for host in nt.HOSTS:
            s = client(host)
            for i in range(5):
                s.sendto(b"x" * (10 + i), (host, port))
            settle(d, "echo-udp", want["received"] + 5)
            # rate-limit = 1: a burst of 2, the other 3 dropped.
            self.assertEqual(queued(s), [b"x" * 10, b"x" * 11], host)
            s.close()
            count([10, 11])
            count([12, 13, 14], "rate-limit")
        denied = client("127.0.0.1", source="127.0.0.9")
        denied.sendto(b"denied", ("127.0.0.1", port))
        count([6], "acl")
        sources = len(nt.HOSTS)
        if ROOT:
            for host in nt.HOSTS:
                low = low_port_socket(host)
                low.sendto(b"low", (host, port))
                low.close()
                count([3], "source-port")
        st = settle(d, "echo-udp", want["received"])
        self.assertEqual(queued(denied), [])
        denied.close()
        self.assertEqual(st, want)
        # A malformed add datagram: a summary of its own, in the singular.
        s = client(nt.HOSTS[0])
        s.sendto(b"odd", (nt.HOSTS[0], aport))
        settle(d, "add-udp", 1)
        s.close()
        self.assertEqual(udp_stats(d, "add-udp"),
                         dict(received=1, answered=0, dropped=1, bytes_in=3, bytes_out=0))

        lines = wait_summaries(d, "echo-udp", want["dropped"])
        self.assertEqual(by_reason(lines), drops)
        alines = wait_summaries(d, "add-udp", 1)
        self.assertEqual(by_reason(alines), {"malformed": 1})
        if len(lines) == 1:
            text = "echo-udp: dropped %d datagrams in 10 s: %d rate-limited (%d source%s)" % (
                want["dropped"], drops["rate-limit"], sources, "s" if sources > 1 else "")
            if ROOT:
                text += ", %d from ports below 1024 (%d source%s)" % (
                    drops["source-port"], sources, "s" if sources > 1 else "")
            text += ", 1 denied by access list (1 source)"
            self.assertIn(text, service_lines(d, "echo-udp"))
        if len(alines) == 1:
            self.assertIn("add-udp: dropped 1 datagram in 10 s: 1 malformed (1 source)",
                          service_lines(d, "add-udp"))
        # Drops are never logged one by one: answered lines, statistics, summaries.
        for line in service_lines(d, "echo-udp"):
            self.assertRegex(line, r"^echo-udp: (datagram from |statistics: |dropped \d+ )")
        self.assertEqual(len(datagram_lines(d, "echo-udp")), want["answered"])
        self.assertEqual(sorted(set(a for a, _ in datagram_lines(d, "echo-udp"))),
                         sorted(nt.HOSTS))


class ReplySource(Case):
    """A wildcard service answers from the address each request was sent to."""

    def test_reply_from_the_address_asked(self):
        port = nt.free_port()
        self.daemon("service e {\n    protocol = echo\n    transport = udp\n    port = %d\n"
                    "    address = { \"0.0.0.0\", \"::\" }\n}\n" % port)
        s = client("127.0.0.1")
        for dst in ("127.0.0.2", "127.0.0.3", "127.0.0.1", "127.1.2.3"):
            reply, src = ask(dst, port, dst.encode(), sock=s)
            self.assertEqual((reply, src), (dst.encode(), (dst, port)))
        s.close()
        # A connected client (nc -u does this) takes only replies from its peer.
        c = client("127.0.0.5")
        c.connect(("127.0.0.5", port))
        c.send(b"connected")
        self.assertEqual(c.recv(100), b"connected")
        c.close()
        if "::1" in nt.HOSTS:
            self.assertEqual(ask("::1", port, b"v6"), (b"v6", ("::1", port)))


class ConfigErrors(Case):
    """Every UDP config error, as FILE:LINE: message, below comments (libconfuse's miscount)."""

    HEAD = "# netlabd.conf\n# UDP\n// services\n/* a block\n   comment */\n"

    def assert_error(self, body, line, message):
        rc, out, err, path = nt.run_check(self.HEAD + body)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("%s:%d: %s" % (path, line, message), err)

    def test_errors(self):
        cases = [
            ("service c {\n    protocol = chargen\n    transport = udp\n}\n", 8,
             "service 'c': protocol 'chargen' does not run over udp"),
            ("service e {\n    protocol = echo\n    transport = udp\n    port = 7\n"
             "    max-connections = 5\n}\n", 10,
             "service 'e': option 'max-connections' is for tcp services only"),
            ("service e {\n    protocol = echo\n    transport = udp\n    port = 7\n"
             "    max-per-source = 2\n}\n", 10,
             "service 'e': option 'max-per-source' is for tcp services only"),
            ("service e {\n    protocol = echo\n    transport = udp\n    port = 7\n"
             "    idle-timeout = 0\n}\n", 10,
             "service 'e': option 'idle-timeout' is for tcp services only"),
            ("service e {\n    protocol = echo\n    transport = udp\n    port = 7\n"
             "    proxy-from = { \"10.0.0.0/8\" }\n}\n", 10,
             "service 'e': option 'proxy-from' is for tcp services only"),
            ("service e {\n    protocol = echo\n    transport = udp\n    port = 7\n"
             "    defer-accept = true\n}\n", 10,
             "service 'e': option 'defer-accept' is for tcp services only"),
            ("service e {\n    protocol = echo\n    transport = sctp\n}\n", 8,
             "unknown transport 'sctp' (tcp or udp)"),
            ("service e {\n    protocol = echo\n    transport = \"\"\n}\n", 8,
             "unknown transport '' (tcp or udp)"),
            ("service e {\n    protocol = echo\n    transport = udp\n    rate-limit = -1\n}\n", 9,
             "rate-limit -1 out of range (0 to 1000000)"),
            # Two UDP services overlapping: identical, and wildcard vs specific.
            ("service a {\n    protocol = echo\n    transport = udp\n    port = 7000\n"
             "    address = { \"127.0.0.1\" }\n}\nservice b {\n    protocol = hello\n"
             "    transport = udp\n    port = 7000\n    address = { \"127.0.0.1\" }\n}\n", 15,
             "service 'b': 127.0.0.1:7000 (udp) overlaps 127.0.0.1:7000 (udp) of service 'a'"),
            ("service a {\n    protocol = echo\n    transport = udp\n    port = 7000\n}\n"
             "service b {\n    protocol = hello\n    transport = udp\n    port = 7000\n"
             "    address = { \"::1\" }\n}\n", 14,
             "service 'b': [::1]:7000 (udp) overlaps [::]:7000 (udp) of service 'a'"),
        ]
        for body, line, message in cases:
            with self.subTest(message=message):
                self.assert_error(body, line, message)

    def test_tcp_and_udp_do_not_overlap(self):
        rc, out, err, _ = nt.run_check(
            self.HEAD + "service a {\n    protocol = echo\n    port = 7000\n}\n"
            "service b {\n    protocol = echo\n    transport = udp\n    port = 7000\n}\n"
            "service c {\n    protocol = hello\n    transport = udp\n    port = 7001\n"
            "    address = { \"127.0.0.1\" }\n}\nservice d {\n    protocol = daytime\n"
            "    port = 7001\n    address = { \"0.0.0.0\" }\n}\n")
        self.assertEqual((rc, err), (0, ""), out)

    def test_start_and_reload(self):
        # At start: the same line on stderr, exit 1.
        rc, out, err, path = nt.run_check(
            self.HEAD + "service c {\n    protocol = chargen\n    transport = udp\n}\n", args=())
        self.assertEqual(rc, 1)
        self.assertIn("%s:8: service 'c': protocol 'chargen' does not run over udp" % path, err)
        # On reload: logged, and the UDP service in force keeps answering.
        port = nt.free_port()
        good = ("service e {\n    protocol = echo\n    transport = udp\n    port = %d\n"
                "    address = { \"127.0.0.1\" }\n}\n" % port)
        d = self.daemon(good)
        d.write_conf(self.HEAD + good[:-2] + "    idle-timeout = 5\n}\n")
        d.signal(signal.SIGHUP)
        d.wait_log(r"^%s:11: service 'e': option 'idle-timeout' is for tcp services only$"
                   % re.escape(d.conf_path))
        self.assertEqual(ask("127.0.0.1", port, b"still")[0], b"still")


def sources_v4(n, first=1 << 16):
    """n distinct 127/8 addresses, from 127.1.0.1 on (no .0 or .255)."""
    i = first
    while n > 0:
        if i & 0xff not in (0, 0xff):
            yield "127.%d.%d.%d" % (i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff)
            n -= 1
        i += 1


def sources_v6(n, first=1):
    """n addresses in n distinct /64s of 2001:db8::/32."""
    for i in range(first, first + n):
        yield "2001:db8:%x:%x::1" % (i >> 16 & 0xffff, i & 0xffff)


def flood(dst, port, sources, per_source, freebind=False):
    """From each source (a socket of its own, opened and closed in turn), per_source datagrams."""
    fam = nt.family(dst)
    sent = 0
    for src in sources:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if freebind:
            s.setsockopt(socket.SOL_IP, 15, 1)   # IP_FREEBIND: any address of the AnyIP route
        s.bind((src, 0))
        for _ in range(per_source):
            try:
                s.sendto(b"f", (dst, port))
                sent += 1
            except OSError:
                pass
        s.close()
    return sent


class FloodCase(Case):
    """A forged-source flood: 100 000 sources, each 3 datagrams over a limit of 1 a second.

    The bound: after a warm-up of 3 000 sources has made the rate table
    (16384 buckets of 8 bytes, 128 KiB) and filled every slot of a batch,
    the other 100 000 sources add less than 512 KiB of RSS; one entry of
    even 16 bytes per source would add 1.5 MiB.  The log: the drops are
    one summary line per 10 s however many there are; answered datagrams
    are each logged (SPEC 9), and at most 2 of each source's 3 are.
    """

    def run_flood(self, dst, sources, freebind=False):
        port = nt.free_port()
        d = self.daemon("log-level = \"info\"\nservice f {\n    protocol = echo\n"
                        "    transport = udp\n    port = %d\n    address = { \"%s\" }\n"
                        "    rate-limit = 1\n}\n" % (port, dst))
        gen = sources(FLOOD_SOURCES + 3000)
        # Warm up with the daemon stopped, so that its batches fill to the last slot
        # and its tables are made: what the flood adds after that is what it keeps.
        d.signal(signal.SIGSTOP)
        warm = flood(dst, port, (next(gen) for _ in range(300)), 3, freebind)
        d.signal(signal.SIGCONT)
        warm += flood(dst, port, (next(gen) for _ in range(2700)), 3, freebind)
        self.quiet(d, "f")
        rss0 = d.rss_kib()
        start = time.monotonic()
        sent = flood(dst, port, gen, 3, freebind)
        st = self.quiet(d, "f")
        took = time.monotonic() - start
        rss1 = d.rss_kib()
        print("\nflood %s: %d sources, %d datagrams sent in %.1f s: received %d, answered %d,"
              " dropped %d; RSS %d -> %d KiB" % (dst, FLOOD_SOURCES, sent, took, st["received"],
                                                  st["answered"], st["dropped"], rss0, rss1),
              file=sys.stderr)
        total = warm + sent
        # Most of it reached the daemon (the kernel may drop some when its buffer is full;
        # under valgrind, most: the daemon is many times slower than the sender).
        self.assertGreater(st["received"], total * (0.05 if nt.MEASURE_OFF else 0.5))
        self.assertEqual(st["received"], st["answered"] + st["dropped"])
        # At most the burst of 2 per source: the third datagram of each is never answered.
        self.assertLessEqual(st["answered"], 2 * (FLOOD_SOURCES + 3000))
        if not nt.RSS_OFF:
            # The table of buckets is fixed (16384 x 8 bytes, made before the warm-up
            # ended), and the datagram path allocates nothing: the flood adds no memory.
            # Anything kept per source, even 16 bytes, would add 1.5 MiB here.
            self.assertLess(rss1 - rss0, 512, "RSS grew from %d to %d KiB" % (rss0, rss1))
        lines = wait_summaries(d, "f", st["dropped"], timeout=25)
        # O(1) lines per 10 s for any number of drops: one summary per tick.
        self.assertLessEqual(len(lines), int((time.monotonic() - start) / 10) + 3, lines)
        self.assertTrue(all(parts["rate-limit"][1] > 1000 for _, parts in lines if
                            "rate-limit" in parts and parts["rate-limit"][0] > 5000), lines)
        others = [ln for ln in service_lines(d, "f")
                  if not re.match(r"^f: (datagram from |statistics: |dropped \d+ datagrams|"
                                  r"answered \d+ datagrams)", ln)]
        self.assertEqual(others, [])
        # Answered datagrams are logged one by one up to 100 a second (forged sources
        # cost nothing), the rest counted in the 10 s summaries: every one is told,
        # and the log stays bounded whatever the flood.
        deadline = time.monotonic() + 25 * nt.SLOW
        while (len(datagram_lines(d, "f")) + sum(answered_summaries(d, "f")) < st["answered"]
               and time.monotonic() < deadline):
            time.sleep(0.2)
        logged = len(datagram_lines(d, "f"))
        self.assertEqual(logged + sum(answered_summaries(d, "f")), st["answered"])
        self.assertLessEqual(logged, 100 * (int(time.monotonic() - start) + 2))
        netlabd_lines = [ln for ln in d.log().splitlines() if not ln.startswith("f: ")]
        self.assertLess(len(netlabd_lines), 10, netlabd_lines)

    def quiet(self, d, name):
        """Statistics once the daemon has taken in everything that came."""
        last = None
        while True:
            st = udp_stats(d, name)
            if last is not None and st["received"] == last["received"]:
                return st
            last = st
            time.sleep(0.5)


class FloodIPv4(FloodCase):
    def test_flood_from_100000_addresses(self):
        self.run_flood("127.0.0.1", sources_v4)


NETNS_INNER = "NETLAB_UDP_NETNS"


class Netns(unittest.TestCase):
    """Runs NetnsInner again inside a network namespace made with ip netns add."""

    def test_inside_a_network_namespace(self):
        if not ROOT:
            self.skipTest("ip netns add needs root")
        if subprocess.run(["sh", "-c", "command -v ip"], capture_output=True).returncode:
            self.skipTest("no ip(8)")
        if not nt.have_ipv6():
            self.skipTest("no IPv6")
        ns = "netlabd-udp-%d" % os.getpid()
        p = subprocess.run(["ip", "netns", "add", ns], capture_output=True, timeout=10)
        if p.returncode != 0:
            self.skipTest("ip netns add: %s" % p.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["ip", "netns", "del", ns], capture_output=True,
                        timeout=10)
        for cmd in (["ip", "-n", ns, "link", "set", "lo", "up"],
                    ["ip", "-n", ns, "-6", "route", "add", "local", "2001:db8::/32", "dev", "lo"],
                    ["ip", "-n", ns, "-6", "addr", "add", "2001:db8:a::2/128", "dev", "lo",
                     "nodad"],
                    ["ip", "-n", ns, "-6", "addr", "add", "2001:db8:a::3/128", "dev", "lo",
                     "nodad"]):
            p = subprocess.run(cmd, capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 0, "%s: %s" % (" ".join(cmd), p.stderr.decode()))
        env = dict(os.environ, **{NETNS_INNER: "1"})
        p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                            "NetnsInner"], env=env, capture_output=True, timeout=180 * nt.SLOW)
        out = p.stdout.decode() + p.stderr.decode()
        print(out, file=sys.stderr)
        self.assertEqual(p.returncode, 0, out)


@unittest.skipUnless(os.environ.get(NETNS_INNER), "runs only inside Netns's namespace")
class NetnsInner(FloodCase):
    """Inside the namespace: 2001:db8::/32 is local (AnyIP), ::2 and ::3 of 2001:db8:a:: too."""

    def test_flood_from_100000_prefixes(self):
        self.run_flood("::1", sources_v6, freebind=True)

    def test_one_64_shares_a_bucket(self):
        port = nt.free_port()
        d = self.daemon("service e {\n    protocol = echo\n    transport = udp\n    port = %d\n"
                        "    address = { \"::1\" }\n    rate-limit = 1\n}\n" % port)

        def source(addr):
            s = client("::1")
            s.setsockopt(socket.SOL_IP, 15, 1)
            s.bind((addr, 0))
            return s

        a1, a2, b = source("2001:db8:1:1::1"), source("2001:db8:1:1::2"), source("2001:db8:1:2::1")
        for i in range(4):
            a1.sendto(b"%d" % i, ("::1", port))
        a2.sendto(b"a2", ("::1", port))
        self.assertEqual(ask("::1", port, b"other 64", sock=b)[0], b"other 64")
        settle(d, "e", 6)
        # a1 had the burst of 2; a2, in the same /64, found the bucket empty.
        self.assertEqual(queued(a1), [b"0", b"1"])
        self.assertEqual(queued(a2), [])
        for s in (a1, a2, b):
            s.close()

    def test_distinct_64s_count_apart(self):
        # /64s that differ in their last byte only: each has buckets of its own.
        port = nt.free_port()
        self.daemon("service e {\n    protocol = echo\n    transport = udp\n    port = %d\n"
                    "    address = { \"::1\" }\n    rate-limit = 1\n}\n" % port)
        for i in range(1, 101):
            s = client("::1")
            s.setsockopt(socket.SOL_IP, 15, 1)
            s.bind(("2001:db8:5:%x::1" % i, 0))
            self.assertEqual(ask("::1", port, b"%d" % i, sock=s)[0], b"%d" % i)
            s.close()

    def test_reply_from_the_address_asked_v6(self):
        port = nt.free_port()
        self.daemon("service e {\n    protocol = echo\n    transport = udp\n    port = %d\n"
                    "    address = { \"::\" }\n}\n" % port)
        s = client("::1")
        for dst in ("2001:db8:a::2", "2001:db8:a::3", "::1"):
            self.assertEqual(ask(dst, port, dst.encode(), sock=s), (dst.encode(), (dst, port)))
        s.close()


if __name__ == "__main__":
    nt.main()
