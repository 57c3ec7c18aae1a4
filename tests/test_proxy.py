#!/usr/bin/env python3
"""PROXY protocol (SPEC §10) from the outside: a client in proxy-from sends
v1 or v2 headers on raw sockets, over 127.0.0.1 and ::1.

After the header the header's source is the client everywhere: the accepted
line (with "via" the proxy), allow/deny, max-per-source, rate-limit;
IPv4-mapped header addresses are IPv4.  A LOCAL / UNKNOWN header (a health
check) is the proxy itself, off the info log and free of the per-source
limits.  Bytes right behind the header are the protocol's; server-first
protocols wait for the header.  A missing, malformed, oversized or late
(5 s) header closes the connection with a line naming the reason and the
socket's peer, counted in the metrics; a flood of them costs a few lines
and a summary.  A peer outside proxy-from is a direct client.
"""
import os
import re
import select
import signal
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
LOCAL = SIG + b"\x20\x00\x00\x00"
UNKNOWN = b"PROXY UNKNOWN\r\n"
PP2_TYPE_ALPN, PP2_TYPE_AUTHORITY, PP2_TYPE_NOOP, PP2_TYPE_UNIQUE_ID = 0x01, 0x02, 0x04, 0x05

SERVICES = ("echo", "add", "daytime", "hello", "time", "chargen", "acl", "persrc", "rated",
            "direct", "flood", "late")


def v1(src, sport, dst=None, dport=7):
    fam = "TCP6" if ":" in src else "TCP4"
    dst = dst or ("2001:db8::1" if fam == "TCP6" else "192.0.2.1")
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport, dport)).encode()


def tlv(kind, value):
    return bytes([kind]) + struct.pack("!H", len(value)) + value


def v2(src, sport, dst=None, dport=7, tlvs=b""):
    if ":" in src:
        fam, af = 0x21, socket.AF_INET6
        dst = dst or "2001:db8::1"
    else:
        fam, af = 0x11, socket.AF_INET
        dst = dst or "192.0.2.1"
    body = (socket.inet_pton(af, src) + socket.inet_pton(af, dst) +
            struct.pack("!HH", sport, dport) + tlvs)
    return SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def add_req(a, b):
    return struct.pack("!ii", a, b)


def accepted_rx(name, peer, port, via):
    return r"^%s: accepted connection from %s, port=%d via %s$" % (
        re.escape(name), re.escape(peer), port, re.escape(via))


def refused_rx(name, peer, port, reason):
    return r"^%s: refused connection from %s, port=%d: %s$" % (
        re.escape(name), re.escape(peer), port, re.escape(reason))


def bad_rx(name, sock, why):
    return r"^%s: bad PROXY header from %s, port=%d: %s$" % (
        re.escape(name), re.escape(sock.getsockname()[0]), sock.getsockname()[1], re.escape(why))


def silent(s, timeout=0.5):
    """Nothing to read (no byte, no close) for timeout seconds."""
    r, _, _ = select.select([s], [], [], timeout)
    return not r


class Ports:
    """Header source ports unique within the run, so each log line is one connection's."""
    n = 20000

    @classmethod
    def next(cls):
        cls.n += 1
        return cls.n


class Proxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ports = nt.free_ports(len(SERVICES) + 1)
        cls.port = dict(zip(SERVICES, ports))
        cls.mport = ports[-1]
        addrs = "{ %s }" % ", ".join('"%s"' % h for h in nt.HOSTS)
        pf = 'proxy-from = { "127.0.0.1", "::1" }'
        conf = ['log-level = "info"']
        for name, extra in (
                ("echo", ""), ("add", ""), ("daytime", ""), ("hello", ""), ("time", ""),
                ("chargen", ""),
                ("acl", 'protocol = echo  allow = { "192.0.2.0/24", "2001:db8::/32" }'
                        '  deny = { "192.0.2.66", "2001:db8::66" }'),
                ("persrc", "protocol = echo  max-per-source = 1"),
                ("rated", "protocol = hello  rate-limit = 1"),
                ("flood", "protocol = daytime"),
                ("late", "protocol = echo")):
            conf.append("service %s { port = %d  address = %s  %s  %s }"
                        % (name, cls.port[name], addrs, pf, extra))
        # Its proxy is 127.0.0.2 / ::2 only: 127.0.0.1 and ::1 are direct clients.
        conf.append('service direct { protocol = echo  port = %d  address = %s'
                    '  proxy-from = { "127.0.0.2", "::2" } }' % (cls.port["direct"], addrs))
        conf.append('service metrics { protocol = metrics  port = %d  address = { "127.0.0.1" } }'
                    % cls.mport)
        cls.d = nt.Daemon("\n".join(conf) + "\n").start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def conn(self, name, host, data=b"", source=None):
        s = nt.connect(host, self.port[name], source=source)
        if data:
            s.sendall(data)
        return s

    def errors(self, service, error):
        """netlabd_protocol_errors_total for service and error, from the metrics endpoint."""
        s = nt.connect("127.0.0.1", self.mport)
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        text = nt.recv_all(s).decode()
        s.close()
        for line in text.splitlines():
            if (line.startswith("netlabd_protocol_errors_total{") and
                    'service="%s"' % service in line and 'error="%s"' % error in line):
                return int(float(line.rsplit(" ", 1)[1]))
        self.fail("no protocol_errors_total for %s %s in:\n%s" % (service, error, text))

    def wait_errors(self, service, error, want, timeout=5):
        deadline = time.monotonic() + timeout * nt.SLOW
        while True:
            n = self.errors(service, error)
            if n >= want or time.monotonic() > deadline:
                return n
            time.sleep(0.05)

    # -- the real peer --------------------------------------------------

    def test_v1_tcp4_tcp6_echo_line_behind_header(self):
        for host in nt.HOSTS:
            for src in ("192.0.2.7", "2001:db8::7"):
                with self.subTest(host=host, src=src):
                    sport = Ports.next()
                    s = self.conn("echo", host, v1(src, sport) + b"line right behind\n")
                    self.assertEqual(nt.recv_exact(s, 18), b"line right behind\n")
                    s.sendall(b"and later\r\n")
                    self.assertEqual(nt.recv_exact(s, 11), b"and later\r\n")
                    s.close()
                    self.d.wait_log(accepted_rx("echo", src, sport, host))

    def test_v2_inet_inet6_with_tlvs_add_behind_header(self):
        tlvs = (tlv(PP2_TYPE_ALPN, b"h2") + tlv(PP2_TYPE_AUTHORITY, b"example.org") +
                tlv(PP2_TYPE_UNIQUE_ID, b"\x01" * 32) + tlv(PP2_TYPE_NOOP, b"\0" * 100))
        for host in nt.HOSTS:
            for src in ("192.0.2.8", "2001:db8::8"):
                for extra in (b"", tlvs):
                    with self.subTest(host=host, src=src, tlvs=bool(extra)):
                        sport = Ports.next()
                        s = self.conn("add", host, v2(src, sport, tlvs=extra) +
                                      add_req(2147483647, 2147483647))
                        self.assertEqual(struct.unpack("!q", nt.recv_exact(s, 8))[0], 4294967294)
                        s.sendall(add_req(-5, 3))
                        self.assertEqual(struct.unpack("!q", nt.recv_exact(s, 8))[0], -2)
                        s.close()
                        self.d.wait_log(accepted_rx("add", src, sport, host))

    def test_header_split_byte_by_byte(self):
        for hdr in (v1("192.0.2.9", 4242), v2("2001:db8::9", 4243, tlvs=tlv(PP2_TYPE_NOOP, b"x"))):
            with self.subTest(version=1 if hdr.startswith(b"P") else 2):
                s = self.conn("echo", "127.0.0.1")
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i in range(len(hdr)):
                    s.send(hdr[i:i + 1])
                    time.sleep(0.002)
                s.sendall(b"x\n")
                self.assertEqual(nt.recv_exact(s, 2), b"x\n")
                s.close()

    def test_v4_mapped_header_source_is_ipv4(self):
        for host in nt.HOSTS:
            for make in (v1, v2):
                with self.subTest(host=host, version=make.__name__):
                    sport = Ports.next()
                    s = self.conn("echo", host, make("::ffff:192.0.2.44", sport) + b"m\n")
                    self.assertEqual(nt.recv_exact(s, 2), b"m\n")
                    s.close()
                    self.d.wait_log(accepted_rx("echo", "192.0.2.44", sport, host))
                    # and the access lists see it as IPv4: 192.0.2.66 is denied
                    sport = Ports.next()
                    s = self.conn("acl", host, make("::ffff:192.0.2.66", sport) + b"m\n")
                    self.assertEqual(nt.recv_until_close(s)[0], b"")
                    s.close()
                    self.d.wait_log(refused_rx("acl", "192.0.2.66", sport,
                                               "denied by access list"))
        self.assertNotIn("::ffff:", self.d.log())

    def test_stats_count_the_served_client(self):
        before = nt.stats(self.d, "echo")
        for host in nt.HOSTS:
            s = self.conn("echo", host, v2("192.0.2.30", Ports.next()) + b"12345\n")
            self.assertEqual(nt.recv_exact(s, 6), b"12345\n")
            s.close()
        deadline = time.monotonic() + 5 * nt.SLOW
        while True:
            after = nt.stats(self.d, "echo")
            if after["active"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        n = len(nt.HOSTS)
        self.assertEqual(after["accepted"] - before["accepted"], n)
        self.assertEqual(after["refused"], before["refused"])
        self.assertEqual(after["active"], 0)
        # The protocol's bytes; the headers are the proxy's, not the client's.
        self.assertEqual(after["bytes_in"] - before["bytes_in"], 6 * n)
        self.assertEqual(after["bytes_out"] - before["bytes_out"], 6 * n)

    # -- admission on the header's address --------------------------------

    def test_allow_deny_on_header_address(self):
        for host in nt.HOSTS:
            for make in (v1, v2):
                for src, ok in (("192.0.2.5", True), ("192.0.2.66", False),
                                ("2001:db8::5", True), ("2001:db8::66", False),
                                ("198.51.100.1", False)):
                    with self.subTest(host=host, version=make.__name__, src=src):
                        sport = Ports.next()
                        s = self.conn("acl", host, make(src, sport) + b"a\n")
                        data, _ = nt.recv_until_close(s, timeout=1 if ok else 3)
                        s.close()
                        if ok:
                            self.assertEqual(data, b"a\n")
                            self.d.wait_log(accepted_rx("acl", src, sport, host))
                        else:
                            self.assertEqual(data, b"")
                            self.d.wait_log(refused_rx("acl", src, sport,
                                                       "denied by access list"))

    def test_max_per_source_counts_header_address(self):
        for host in nt.HOSTS:
            for a, same, other in (("192.0.2.10", "192.0.2.10", "192.0.2.11"),
                                   ("2001:db8::10", "2001:db8::99", "2001:db8:1::10")):
                with self.subTest(host=host, src=a):
                    first = self.conn("persrc", host, v2(a, Ports.next()) + b"1\n")
                    self.assertEqual(nt.recv_exact(first, 2), b"1\n")
                    sport = Ports.next()
                    # the same address (IPv6: the same /64), through the same proxy
                    second = self.conn("persrc", host, v1(same, sport) + b"2\n")
                    self.assertEqual(nt.recv_until_close(second)[0], b"")
                    second.close()
                    self.d.wait_log(refused_rx("persrc", same, sport, "max-per-source reached"))
                    # another client through the same proxy is not limited by the first
                    third = self.conn("persrc", host, v2(other, Ports.next()) + b"3\n")
                    self.assertEqual(nt.recv_exact(third, 2), b"3\n")
                    first.close()
                    third.close()
                    # the slot comes back when the first closes
                    deadline = time.monotonic() + 5 * nt.SLOW
                    while True:
                        again = self.conn("persrc", host, v2(a, Ports.next()) + b"4\n")
                        data, _ = nt.recv_until_close(again, timeout=0.5)
                        again.close()
                        if data == b"4\n" or time.monotonic() > deadline:
                            break
                        time.sleep(0.1)
                    self.assertEqual(data, b"4\n")

    def test_rate_limit_on_header_address(self):
        # rate-limit = 1: a burst of 2 per source, then about one a second.
        for host in nt.HOSTS:
            with self.subTest(host=host):
                src = "192.0.2.20" if host == "127.0.0.1" else "2001:db8:20::1"
                got = []
                for _ in range(6):
                    s = self.conn("rated", host, v2(src, Ports.next()))
                    got.append(nt.recv_until_close(s)[0])
                    s.close()
                self.assertEqual(got[:2], [b"HELLO\n"] * 2)
                self.assertIn(b"", got)
                self.d.wait_log(r"^rated: refused connection from %s, port=\d+: rate-limit reached$"
                                % re.escape(src))
                # another client of the same proxy still has its burst
                s = self.conn("rated", host, v1("192.0.2.21" if host == "127.0.0.1"
                                                else "2001:db8:21::1", Ports.next()))
                self.assertEqual(nt.recv_until_close(s)[0], b"HELLO\n")
                s.close()

    # -- health checks ---------------------------------------------------

    def test_local_and_unknown_are_the_proxy_off_the_info_log(self):
        before = nt.stats(self.d, "echo")
        for host in nt.HOSTS:
            for hdr in (LOCAL, UNKNOWN, b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"):
                with self.subTest(host=host, header=hdr[:14]):
                    seen = len(self.d.log())
                    s = self.conn("echo", host, hdr + b"hc\n")
                    self.assertEqual(nt.recv_exact(s, 3), b"hc\n")
                    port = s.getsockname()[1]
                    s.close()
                    self.assertNotIn("port=%d" % port, self.d.log()[seen:])
        after = nt.stats(self.d, "echo")
        self.assertEqual(after["accepted"] - before["accepted"], 3 * len(nt.HOSTS))

    def test_header_naming_its_own_connection_is_a_check(self):
        # HAProxy's v1 checks send "PROXY TCP4 <its own end> <ours>": no client behind it.
        for host in nt.HOSTS:
            for make in (v1, v2):
                with self.subTest(host=host, version=make.__name__):
                    seen = len(self.d.log())
                    s = nt.connect(host, self.port["persrc"])
                    me, here = s.getsockname(), s.getpeername()
                    held = [s]
                    s.sendall(make(me[0], me[1], dst=here[0], dport=here[1]) + b"c\n")
                    self.assertEqual(nt.recv_exact(s, 2), b"c\n")
                    # not counted against the proxy's address: max-per-source = 1 lets more in
                    for _ in range(2):
                        t = nt.connect(host, self.port["persrc"])
                        me2, here2 = t.getsockname(), t.getpeername()
                        t.sendall(make(me2[0], me2[1], dst=here2[0], dport=here2[1]) + b"d\n")
                        self.assertEqual(nt.recv_exact(t, 2), b"d\n")
                        held.append(t)
                    # the same source to another destination is a relayed client, logged
                    t = nt.connect(host, self.port["echo"])
                    me3 = t.getsockname()
                    t.sendall(make(me3[0], me3[1], dst=here[0], dport=1) + b"e\n")
                    self.assertEqual(nt.recv_exact(t, 2), b"e\n")
                    held.append(t)
                    self.d.wait_log(accepted_rx("echo", me3[0], me3[1], host))
                    for x in held:
                        x.close()
                    # no info line for the checks (only lines since they connected: the
                    # kernel reuses ephemeral ports, so an earlier client may have had one)
                    for x in (me, me2):
                        self.assertNotRegex(self.d.log()[seen:], r"(?m)^persrc: accepted connection"
                                            r" from %s, port=%d" % (re.escape(x[0]), x[1]))

    def test_local_not_limited_per_source_or_rate(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                held = []
                for i in range(4):   # max-per-source = 1
                    s = self.conn("persrc", host, (LOCAL, UNKNOWN)[i % 2] + b"k\n")
                    self.assertEqual(nt.recv_exact(s, 2), b"k\n")
                    held.append(s)
                for s in held:
                    s.close()
                for i in range(6):   # rate-limit = 1, burst 2
                    s = self.conn("rated", host, (LOCAL, UNKNOWN)[i % 2])
                    self.assertEqual(nt.recv_until_close(s)[0], b"HELLO\n")
                    s.close()

    def test_local_subject_to_access_lists(self):
        # In "acl" the proxy's own address is in no allow prefix: its health checks are refused.
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = self.conn("acl", host, LOCAL + b"a\n")
                port = s.getsockname()[1]
                self.assertEqual(nt.recv_until_close(s)[0], b"")
                s.close()
                self.d.wait_log(refused_rx("acl", host, port, "denied by access list"))

    # -- server-first protocols wait --------------------------------------

    def test_server_first_write_nothing_before_header(self):
        want = {"daytime": lambda d: d.endswith(b"\r\n") and len(d) > 10,
                "hello": lambda d: d == b"HELLO\n",
                "time": lambda d: len(d) == 4,
                "chargen": lambda d: d.startswith(b"!\"#$%&'()*+,-./0123")}
        for name, ok in want.items():
            for host in nt.HOSTS:
                for hdr in (v1("192.0.2.40", Ports.next()), v2("2001:db8::40", Ports.next())):
                    with self.subTest(name=name, host=host, version=1 if hdr[:1] == b"P" else 2):
                        s = self.conn(name, host, hdr[:len(hdr) // 2])
                        self.assertTrue(silent(s), "%s wrote before the header" % name)
                        s.sendall(hdr[len(hdr) // 2:])
                        if name == "chargen":
                            data = nt.recv_exact(s, 74)
                        else:
                            data = nt.recv_until_close(s)[0]
                        s.close()
                        self.assertTrue(ok(data), "%s: %r" % (name, data))

    # -- errors ----------------------------------------------------------

    def test_bad_headers_close_log_and_count(self):
        cases = [
            (b"GET / HTTP/1.0\r\n\r\n", "bad signature"),                 # missing
            (b"hello\n", "bad signature"),
            (b"PROXY TCP4 300.0.2.1 192.0.2.1 1 2\r\n", None),             # malformed
            (b"PROXY TCP4 192.0.2.1 192.0.2.2 65536 2\r\n", None),
            (b"PROXY TCP4 192.0.2.1 192.0.2.2 1 2\n", None),
            (SIG + b"\x31\x11\x00\x0c" + b"\0" * 12, None),                # bad version
            (SIG + b"\x21\x11\x00\x04" + b"\0" * 4, None),                 # too short for INET
            (b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n", None),              # oversized v1
            (SIG + b"\x21\x11\x04\x01" + b"\0" * 1025, None),              # oversized v2
        ]
        before = self.errors("daytime", "bad-proxy-header")
        for host in nt.HOSTS:
            # Past 10 lines a second they are only counted: each host's cases in a second of
            # their own (a little past its start: the daemon's time(3) is the tick-coarse clock).
            time.sleep(1.1 - time.time() % 1)
            for data, why in cases:
                with self.subTest(host=host, data=data[:20]):
                    s = self.conn("daytime", host, data)
                    got, how = nt.recv_until_close(s)
                    self.assertEqual(got, b"", "daytime wrote after a bad header")
                    self.assertIn(how, ("eof", "reset"))
                    self.d.wait_log(bad_rx("daytime", s, why) if why else
                                    r"^daytime: bad PROXY header from %s, port=%d: \S.*$"
                                    % (re.escape(host), s.getsockname()[1]))
                    s.close()
        n = len(cases) * len(nt.HOSTS)
        self.assertEqual(self.wait_errors("daytime", "bad-proxy-header", before + n), before + n)
        st = nt.stats(self.d, "daytime")
        self.assertEqual(st["active"], 0)

    def test_closed_inside_header_is_bad_nothing_is_not(self):
        before = self.errors("echo", "bad-proxy-header")
        s = self.conn("echo", "127.0.0.1", b"PROXY TCP4 192.0.2.1 ")
        port = s.getsockname()[1]
        time.sleep(0.1)
        s.close()
        self.d.wait_log(r"^echo: bad PROXY header from 127\.0\.0\.1, port=%d: "
                        r"connection closed inside the header$" % port)
        seen = len(self.d.log())
        s = self.conn("echo", "127.0.0.1")
        port = s.getsockname()[1]
        s.close()
        self.assertEqual(self.wait_errors("echo", "bad-proxy-header", before + 1), before + 1)
        time.sleep(0.2)
        self.assertNotIn("port=%d" % port, self.d.log()[seen:])
        self.assertEqual(self.errors("echo", "bad-proxy-header"), before + 1)

    def test_timeout_5s_fixed_deadline(self):
        before = self.errors("late", "proxy-header-timeout")
        t0 = time.monotonic()
        quiet = self.conn("late", nt.HOSTS[-1])
        partial = self.conn("late", "127.0.0.1", b"PROXY TCP4 192.0.2.1")
        trickle = self.conn("late", "127.0.0.1")
        hdr = v1("192.0.2.50", 5050)
        # One byte a second would take the header 40 s: the deadline is from accept, not idle.
        closed, i, next_byte = {}, 0, t0
        while len(closed) < 3 and time.monotonic() - t0 < 15 * nt.SLOW:
            if "trickle" not in closed and time.monotonic() >= next_byte and i < len(hdr):
                try:
                    trickle.send(hdr[i:i + 1])
                except OSError:
                    pass
                i += 1
                next_byte += 1
            for name, s in (("quiet", quiet), ("partial", partial), ("trickle", trickle)):
                if name not in closed and not silent(s, 0):
                    self.assertEqual(s.recv(100), b"")
                    closed[name] = time.monotonic() - t0
            time.sleep(0.05)
        self.assertEqual(sorted(closed), ["partial", "quiet", "trickle"])
        for name, t in closed.items():
            self.assertGreaterEqual(t, 4.5, "%s closed after %.1f s" % (name, t))
        self.assertLess(i, len(hdr), "the whole header went out before the deadline")
        self.assertEqual(self.wait_errors("late", "proxy-header-timeout", before + 3), before + 3)
        for s, why in ((quiet, "nothing received in 5 s"), (partial, "header incomplete after 5 s"),
                       (trickle, "header incomplete after 5 s")):
            host, port = s.getsockname()[:2]
            self.d.wait_log(r"^late: PROXY header timeout from %s, port=%d: %s$"
                            % (re.escape(host), port, re.escape(why)))
            s.close()
        self.assertEqual(nt.stats(self.d, "late")["active"], 0)

    def test_flood_of_bad_headers_costs_few_lines(self):
        n = 300
        t0 = time.monotonic()
        for i in range(n):
            s = self.conn("flood", "127.0.0.1", b"XXXXXXXXXXXXXXXX")
            s.close()
        elapsed = time.monotonic() - t0
        self.assertEqual(self.wait_errors("flood", "bad-proxy-header", n, timeout=10), n)
        rx = r"^flood: bad PROXY header from 127\.0\.0\.1, port=\d+: bad signature$"
        lines = len(re.findall(rx, self.d.log(), re.M))
        # 10 lines a second and service, then counted: the rest is one summary line.
        self.assertGreaterEqual(lines, 10)
        self.assertLessEqual(lines, 10 * (int(elapsed) + 2))
        m = self.d.wait_log(r"^flood: closed (\d+) connections in 10 s: "
                            r"\1 with a bad PROXY header \(1 source\)$", timeout=15)
        self.assertEqual(int(m.group(1)) + lines, n)

    # -- direct clients --------------------------------------------------

    def test_peer_not_in_proxy_from_is_direct(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                hdr = v1("192.0.2.77", 7777)
                s = self.conn("direct", host, hdr)
                # the header is the protocol's data: echoed line by line
                self.assertEqual(nt.recv_exact(s, len(hdr)), hdr)
                port = s.getsockname()[1]
                s.close()
                self.d.wait_log(r"^direct: accepted connection from %s, port=%d$"
                                % (re.escape(host), port))
        self.assertNotIn("192.0.2.77", self.d.log())

    def test_proxy_of_direct_service_must_send_header(self):
        # 127.0.0.2 is direct's proxy: what it sends must start a header.
        s = self.conn("direct", "127.0.0.1", b"plain line\n", source="127.0.0.2")
        self.assertEqual(nt.recv_until_close(s)[0], b"")
        self.d.wait_log(bad_rx("direct", s, "bad signature"))
        s.close()
        sport = Ports.next()
        s = self.conn("direct", "127.0.0.1", v2("192.0.2.78", sport) + b"ok\n", source="127.0.0.2")
        self.assertEqual(nt.recv_exact(s, 3), b"ok\n")
        self.d.wait_log(accepted_rx("direct", "192.0.2.78", sport, "127.0.0.2"))
        s.close()


TCP_ESTABLISHED, TCP_SYN_RECV = 0x01, 0x03


def server_side_state(host, port, client_port):
    """The state of the server's end of the connection from client_port, from /proc/net/tcp*:
    a connection defer-accept holds back is a request socket, still SYN_RECV."""
    with open("/proc/net/tcp6" if ":" in host else "/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, st = fields[1], fields[2], int(fields[3], 16)
            if (int(local.rsplit(":", 1)[1], 16) == port and
                    int(remote.rsplit(":", 1)[1], 16) == client_port):
                return st
    return None


class DeferAccept(unittest.TestCase):
    """defer-accept: the kernel holds a proxy's connection until its header is in,
    so netlabd takes both in one wake-up; without it, netlabd accepts at once and
    waits for the header itself.  A reload turns it on and off."""

    CONF = ('log-level = "info"\n'
            'service da { protocol = daytime  port = %d  address = { %s }\n'
            '    proxy-from = { "127.0.0.1", "::1" }  %s }\n'
            'service ec { protocol = echo  port = %d  address = { %s }\n'
            '    proxy-from = { "127.0.0.1", "::1" }  defer-accept = true }\n')

    def conf(self, defer):
        addrs = ", ".join('"%s"' % h for h in nt.HOSTS)
        return self.CONF % (self.port, addrs, "defer-accept = %s" % ("true" if defer else "false"),
                            self.eport, addrs)

    def setUp(self):
        self.port, self.eport = nt.free_ports(2)

    def state_after(self, host, port, pause=0.3):
        """Connect, send nothing, and see which end holds the connection after a pause.
        The state is the kernel's, so the pause is not scaled for slow runs (valgrind):
        it must stay well under the second after which the kernel hands the connection
        over anyway."""
        s = nt.connect(host, port)
        time.sleep(pause)
        return s, server_side_state(host, port, s.getsockname()[1])

    def check_deferred(self, d, host):
        s, st = self.state_after(host, self.port)
        self.assertEqual(st, TCP_SYN_RECV, "the kernel should still hold the connection")
        self.assertTrue(silent(s, 0.1))
        sport = Ports.next()
        s.sendall(v2("192.0.2.90", sport))
        line, _ = nt.recv_until_close(s)
        self.assertRegex(line, rb"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n$")
        s.close()
        d.wait_log(accepted_rx("da", "192.0.2.90", sport, host))

    def check_accepted_at_once(self, host):
        s, st = self.state_after(host, self.port)
        self.assertEqual(st, TCP_ESTABLISHED, "netlabd should have accepted the connection")
        # daytime waits for the header: nothing written yet
        self.assertTrue(silent(s, 0.1))
        s.close()

    def test_held_by_the_kernel_until_the_header(self):
        with nt.Daemon(self.conf(True)) as d:
            for host in nt.HOSTS:
                with self.subTest(host=host):
                    self.check_deferred(d, host)

    def test_data_behind_the_header_in_one_segment(self):
        with nt.Daemon(self.conf(True)) as d:
            for host in nt.HOSTS:
                with self.subTest(host=host):
                    sport = Ports.next()
                    s = nt.connect(host, self.eport)
                    s.sendall(v1("2001:db8::91", sport) + b"first line\n")
                    self.assertEqual(nt.recv_exact(s, 11), b"first line\n")
                    s.sendall(b"second\n")
                    self.assertEqual(nt.recv_exact(s, 7), b"second\n")
                    s.close()
                    d.wait_log(accepted_rx("ec", "2001:db8::91", sport, host))

    def test_off_netlabd_accepts_at_once(self):
        with nt.Daemon(self.conf(False)):
            for host in nt.HOSTS:
                with self.subTest(host=host):
                    self.check_accepted_at_once(host)

    def test_reload_turns_it_on_and_off(self):
        with nt.Daemon(self.conf(False)) as d:
            self.check_accepted_at_once("127.0.0.1")
            for n, defer in ((1, True), (2, False), (3, True)):
                d.write_conf(self.conf(defer))
                d.signal(signal.SIGHUP)
                d.wait_log(r"^netlabd: reloaded ", count=n)
                for host in nt.HOSTS:
                    with self.subTest(reload=n, host=host):
                        if defer:
                            self.check_deferred(d, host)
                        else:
                            self.check_accepted_at_once(host)

    def test_a_client_that_sends_nothing_is_handed_over_late(self):
        # A direct daytime client (127.0.0.5 is no proxy here) sends nothing: the kernel
        # hands it over after about a second, and it is served as itself.
        with nt.Daemon(self.conf(True)) as d:
            t = time.monotonic()
            s = nt.connect("127.0.0.1", self.port, source="127.0.0.5")
            line, how = nt.recv_until_close(s, timeout=5)
            waited = time.monotonic() - t
            self.assertEqual(how, "eof")
            self.assertTrue(line.endswith(b"\r\n"), line)
            self.assertGreater(waited, 0.5)
            d.wait_log(r"^da: accepted connection from 127\.0\.0\.5, port=%d$"
                       % s.getsockname()[1])
            s.close()
            # A proxy that sends nothing: handed over the same way, then the 5 s deadline.
            for host in nt.HOSTS:
                with self.subTest(host=host):
                    s = nt.connect(host, self.port)
                    t = time.monotonic()
                    _, how = nt.recv_until_close(s, timeout=10)
                    self.assertEqual(how, "eof")
                    self.assertGreater(time.monotonic() - t, 4.5)
                    d.wait_log(r"^da: PROXY header timeout from %s, port=%d: nothing received"
                               r" in 5 s$" % (re.escape(host), s.getsockname()[1]))
                    s.close()

    def test_needs_proxy_from(self):
        rc, out, err, path = nt.run_check('service d {\n    protocol = daytime\n'
                                          '    defer-accept = true\n}\n')
        self.assertEqual(rc, 1, out + err)
        self.assertIn("%s:3: service 'd': defer-accept is for clients that come through a"
                      " proxy: set proxy-from too" % path, err)
        rc, out, err, path = nt.run_check('service d {\n    protocol = daytime\n'
                                          '    defer-accept = false\n}\n')
        self.assertEqual(rc, 0, out + err)


class LocalDebug(unittest.TestCase):
    """At debug level the health check's line is there, naming the proxy."""

    def test_local_logged_at_debug(self):
        port = nt.free_port()
        conf = ('log-level = "debug"\nservice echo { port = %d  address = { "127.0.0.1" }'
                '  proxy-from = { "127.0.0.0/8" } }\n' % port)
        with nt.Daemon(conf) as d:
            for hdr, what in ((LOCAL, "PROXY v2 LOCAL"), (UNKNOWN, "PROXY v1 UNKNOWN"),
                              (None, "PROXY v1 naming its own connection")):
                s = nt.connect("127.0.0.1", port)
                if hdr is None:
                    hdr = v1("127.0.0.1", s.getsockname()[1], dst="127.0.0.1", dport=port)
                s.sendall(hdr + b"z\n")
                self.assertEqual(nt.recv_exact(s, 2), b"z\n")
                d.wait_log(r"^echo: accepted connection from 127\.0\.0\.1, port=%d: %s$"
                           % (s.getsockname()[1], what))
                s.close()


if __name__ == "__main__":
    nt.main()
