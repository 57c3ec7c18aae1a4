#!/usr/bin/env python3
"""The metrics protocol (SPEC section 11): HTTP/1.x GET /metrics in the
Prometheus text format, over IPv4 and IPv6.

Every counter is checked against traffic the test makes and against the
SIGUSR1 line that reads the same registry; the HTTP side (200, HEAD, 404,
405, 400, an oversized head, keep-alive, HTTP/1.0, Connection: close, a
request body, a slow client, allow/deny) is checked byte by byte, and the
daemon must keep serving after each.  `promtool check metrics` lints a
scrape taken after traffic on every kind of service, and a real Prometheus
server scrapes netlabd and is asked, through its HTTP API, for the numbers
the test produced.  Missing promtool or prometheus skips those tests.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FAMILIES = (
    "netlabd_connections_accepted_total", "netlabd_connections_refused_total",
    "netlabd_connections_active", "netlabd_received_bytes_total", "netlabd_sent_bytes_total",
    "netlabd_datagrams_received_total", "netlabd_datagrams_answered_total",
    "netlabd_datagrams_dropped_total", "netlabd_protocol_errors_total",
    "netlabd_reloads_total", "netlabd_config_last_reload_successful",
    "netlabd_config_last_reload_success_timestamp_seconds", "netlabd_build_info",
    "process_start_time_seconds", "process_cpu_seconds_total", "process_open_fds",
    "process_max_fds", "process_resident_memory_bytes",
)


def addresses(hosts=None):
    return "{ %s }" % ", ".join('"%s"' % h for h in (hosts or nt.HOSTS))


class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


class HttpConn:
    """One client connection; responses are read by Content-Length, so pipelining works."""

    def __init__(self, host, port, timeout=5):
        self.s = nt.connect(host, port, timeout=timeout)
        self.buf = b""
        self.received = 0

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed with %d bytes unparsed: %r" % (len(self.buf),
                                                                          self.buf[:200]))
        self.buf += chunk
        self.received += len(chunk)

    def response(self, head_only=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("ascii").split("\r\n")
        m = re.match(r"^HTTP/1\.1 (\d{3}) (.+)$", lines[0])
        assert m, "bad status line %r" % lines[0]
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            assert name.lower() not in headers, "header %s twice" % name
            headers[name.lower()] = value.strip()
        n = 0 if head_only else int(headers["content-length"])
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return Response(int(m.group(1)), m.group(2), headers, body)

    def closed(self, timeout=3):
        """The server closed after what was read so far, sending nothing more."""
        data, how = nt.recv_until_close(self.s, timeout)
        return self.buf + data == b"" and how in ("eof", "reset")

    def close(self):
        self.s.close()


def get(host, port, path="/metrics", method="GET", version="1.1", extra="", probe=False):
    """One request on a fresh connection: the response, and with probe whether the
    server closed after it (else None: the wait would cost half a second)."""
    c = HttpConn(host, port)
    try:
        hostline = "Host: %s\r\n" % host if version == "1.1" else ""
        c.send(("%s %s HTTP/%s\r\n%s%s\r\n" % (method, path, version, hostline, extra)).encode())
        r = c.response(head_only=method == "HEAD")
        return r, c.closed(timeout=0.5) if probe else None
    finally:
        c.close()


LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


class Scrape:
    """A parsed exposition: samples by name, with HELP and TYPE per family."""

    def __init__(self, text):
        self.text = text
        self.samples = {}
        self.types, self.helps = {}, {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ", 3)
                self.types[name] = kind
            elif line.startswith("# HELP "):
                _, _, name, text_ = line.split(" ", 3)
                self.helps[name] = text_
            else:
                m = LINE.match(line)
                assert m, "bad exposition line %r" % line
                labels = {}
                rest = m.group(2) or ""
                while rest:
                    lm = LABEL.match(rest)
                    assert lm, "bad labels in %r" % line
                    labels[lm.group(1)] = lm.group(2)
                    rest = rest[lm.end():]
                self.samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))

    def get(self, name, **labels):
        """The one sample of name whose labels include these; None if there is none."""
        found = [v for ls, v in self.samples.get(name, [])
                 if all(ls.get(k) == v for k, v in labels.items())]
        assert len(found) <= 1, "%d samples of %s%r" % (len(found), name, labels)
        return found[0] if found else None

    def svc(self, name, service, **labels):
        return self.get(name, service=service, **labels)


def scrape(host, port):
    r, _ = get(host, port)
    assert r.status == 200, r.status
    return Scrape(r.body.decode("utf-8"))


def wait_scrape(host, port, pred, timeout=5):
    """Scrape until pred(scrape) holds (the daemon counts as it gets to the events)."""
    deadline = time.monotonic() + timeout * nt.SLOW
    while True:
        sc = scrape(host, port)
        if pred(sc):
            return sc
        if time.monotonic() > deadline:
            return sc
        time.sleep(0.05)


def echo_conn(host, port, line=b"ping\n"):
    s = nt.connect(host, port)
    s.sendall(line)
    assert nt.recv_exact(s, len(line)) == line
    return s


def low_port_socket(host):
    """A UDP socket bound to a source port below 1024, or None (not root)."""
    for port in range(1000, 1024):
        s = socket.socket(nt.family(host), socket.SOCK_DGRAM)
        try:
            s.bind((host, port))
            return s
        except PermissionError:
            s.close()
            return None
        except OSError:
            s.close()
    return None


class Counters(unittest.TestCase):
    """Each counter against the traffic that made it, and against SIGUSR1."""

    @classmethod
    def setUpClass(cls):
        (cls.pm, cls.pe, cls.pa, cls.pi, cls.pd, cls.ps, cls.pp, cls.pr,
         cls.pu, cls.pl, cls.p2) = nt.free_ports(11)
        a = addresses()
        cls.conf = (
            "service metrics { protocol = metrics  port = %d  address = %s }\n"
            "service echo { port = %d  address = %s }\n"
            "service add { port = %d  address = %s }\n"
            "service idle { protocol = echo  port = %d  address = %s  idle-timeout = 1 }\n"
            "service denied { protocol = hello  port = %d  address = %s"
            "  deny = { \"127.0.0.0/8\", \"::1\" } }\n"
            "service single { protocol = echo  port = %d  address = %s  max-connections = 1 }\n"
            "service persrc { protocol = echo  port = %d  address = %s  max-per-source = 1 }\n"
            "service rated { protocol = hello  port = %d  address = %s  rate-limit = 1 }\n"
            "service eu { protocol = echo  transport = udp  port = %d  address = %s }\n"
            "service eurl { protocol = echo  transport = udp  port = %d  address = %s"
            "  rate-limit = 1 }\n"
            "service m2 { protocol = metrics  port = %d  address = %s }\n"
            % (cls.pm, a, cls.pe, a, cls.pa, a, cls.pi, a, cls.pd, a, cls.ps, a, cls.pp, a,
               cls.pr, a, cls.pu, a, cls.pl, a, cls.p2, a))
        cls.d = nt.Daemon(cls.conf).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def scrape(self, host="127.0.0.1"):
        return scrape(host, self.pm)

    def test_every_family_with_help_and_type(self):
        sc = self.scrape()
        for fam in FAMILIES:
            with self.subTest(family=fam):
                if fam == "process_open_fds" and os.stat("/proc/self/fd").st_size == 0:
                    # Left out before Linux 6.2 (netlabd.conf(5)): counting would cost a walk.
                    self.assertNotIn(fam, sc.types)
                    continue
                self.assertIn(fam, sc.types)
                self.assertIn(fam, sc.helps)
                self.assertIn(fam, sc.samples)
                want = "counter" if fam.endswith("_total") else "gauge"
                self.assertEqual(sc.types[fam], want)
        # Labels: service, protocol, transport on every per-service sample.
        self.assertEqual(sc.svc("netlabd_connections_active", "idle"), 0)
        self.assertEqual([ls for ls, _ in sc.samples["netlabd_connections_active"]
                          if ls["service"] == "idle"],
                         [{"service": "idle", "protocol": "echo", "transport": "tcp"}])
        self.assertEqual(sc.get("netlabd_datagrams_received_total", service="eu",
                                protocol="echo", transport="udp"), 0)
        # A family belongs to the transport it counts: no datagrams for tcp, no connections for udp.
        self.assertIsNone(sc.svc("netlabd_datagrams_received_total", "echo"))
        self.assertIsNone(sc.svc("netlabd_connections_accepted_total", "eu"))
        # Services in config order, as SIGUSR1 lists them.
        self.assertEqual([ls["service"] for ls, _ in sc.samples["netlabd_received_bytes_total"]],
                         ["metrics", "echo", "add", "idle", "denied", "single", "persrc",
                          "rated", "eu", "eurl", "m2"])

    def test_connections_and_bytes_exact(self):
        before = self.scrape()
        n, sent, conns = 0, 0, []
        for host in nt.HOSTS:
            for i in range(3):
                line = b"x" * (10 + i) + b"\r\n"
                s = echo_conn(host, self.pe, line)
                s.sendall(line * 2)
                self.assertEqual(nt.recv_exact(s, 2 * len(line)), line * 2)
                conns.append(s)
                n += 1
                sent += 3 * len(line)
        acc0 = before.svc("netlabd_connections_accepted_total", "echo")
        # All open: active counts them, on both address families.
        sc = wait_scrape("::1" if "::1" in nt.HOSTS else "127.0.0.1", self.pm, lambda sc:
                         sc.svc("netlabd_connections_active", "echo") == len(conns))
        self.assertEqual(sc.svc("netlabd_connections_active", "echo"), len(conns))
        self.assertEqual(sc.svc("netlabd_connections_accepted_total", "echo"), acc0 + n)
        for s in conns:
            s.close()
        sc = wait_scrape("127.0.0.1", self.pm,
                         lambda sc: sc.svc("netlabd_connections_active", "echo") == 0)
        self.assertEqual(sc.svc("netlabd_connections_active", "echo"), 0)
        self.assertEqual(sc.svc("netlabd_connections_accepted_total", "echo"), acc0 + n)
        self.assertEqual(sc.svc("netlabd_received_bytes_total", "echo") -
                         before.svc("netlabd_received_bytes_total", "echo"), sent)
        self.assertEqual(sc.svc("netlabd_sent_bytes_total", "echo") -
                         before.svc("netlabd_sent_bytes_total", "echo"), sent)
        self.assertEqual(sum(v for ls, v in sc.samples["netlabd_connections_refused_total"]
                             if ls["service"] == "echo"), 0)

    def test_bytes_each_way(self):
        # Requests to a second metrics service: what goes in is not what comes out.
        before = self.scrape()
        sent = received = 0
        for host in nt.HOSTS:
            c = HttpConn(host, self.p2)
            for req in (b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n",
                        b"HEAD /metrics HTTP/1.1\r\nHost: bb\r\n\r\n",
                        b"GET /none HTTP/1.1\r\nHost: ccc\r\n\r\n"):
                c.send(req)
                sent += len(req)
                c.response(head_only=req.startswith(b"HEAD"))
            c.close()
            received += c.received

        def delta(sc, name):
            return sc.svc(name, "m2") - before.svc(name, "m2")

        sc = wait_scrape("127.0.0.1", self.pm, lambda sc:
                         delta(sc, "netlabd_received_bytes_total") == sent)
        self.assertEqual(delta(sc, "netlabd_received_bytes_total"), sent)
        self.assertEqual(delta(sc, "netlabd_sent_bytes_total"), received)
        self.assertEqual(delta(sc, "netlabd_connections_accepted_total"), len(nt.HOSTS))

    def test_agrees_with_sigusr1(self):
        s = echo_conn("127.0.0.1", self.pe)
        try:
            # Quiet apart from the scrape itself: the two views must say the same.
            for name in ("echo", "denied", "single", "add"):
                with self.subTest(service=name):
                    st = nt.stats(self.d, name)
                    sc = self.scrape()
                    refused = sum(v for ls, v in sc.samples["netlabd_connections_refused_total"]
                                  if ls["service"] == name)
                    self.assertEqual(
                        (sc.svc("netlabd_connections_accepted_total", name),
                         sc.svc("netlabd_connections_active", name), refused,
                         sc.svc("netlabd_received_bytes_total", name),
                         sc.svc("netlabd_sent_bytes_total", name)),
                        (st["accepted"], st["active"], st["refused"], st["bytes_in"],
                         st["bytes_out"]))
        finally:
            s.close()

    def test_refusals_by_reason(self):
        before = self.scrape()

        def refused(sc, svc, reason):
            return sc.svc("netlabd_connections_refused_total", svc, reason=reason)

        # acl: denied every time, never accepted.
        for host in nt.HOSTS:
            s = nt.connect(host, self.pd)
            self.assertEqual(nt.recv_until_close(s), (b"", "eof"))
            s.close()
        # max-connections: one held, the next refused.
        held = [echo_conn(nt.HOSTS[0], self.ps)]
        for host in nt.HOSTS:
            s = nt.connect(host, self.ps)
            self.assertEqual(nt.recv_until_close(s)[0], b"")
            s.close()
        # max-per-source: one per source, per family.
        for host in nt.HOSTS:
            held.append(echo_conn(host, self.pp))
            s = nt.connect(host, self.pp)
            self.assertEqual(nt.recv_until_close(s)[0], b"")
            s.close()
        # rate-limit: a burst of 2 per source; five in a row cannot all pass.
        got = []
        for _ in range(5):
            s = nt.connect("127.0.0.1", self.pr)
            got.append(nt.recv_until_close(s)[0])
            s.close()
        served = got.count(b"HELLO\n")
        k = len(nt.HOSTS)
        want = {("denied", "acl"): k, ("single", "max-connections"): k,
                ("persrc", "max-per-source"): k, ("rated", "rate-limit"): 5 - served}

        def done(sc):
            return all(refused(sc, s, r) - refused(before, s, r) == n for (s, r), n in want.items())

        sc = wait_scrape("127.0.0.1", self.pm, done)
        for (svc, reason), n in want.items():
            with self.subTest(service=svc, reason=reason):
                self.assertEqual(refused(sc, svc, reason) - refused(before, svc, reason), n)
                # A refused connection is not an accepted one.
                others = sum(v - (before.svc("netlabd_connections_refused_total", svc,
                                             reason=ls["reason"]) or 0)
                             for ls, v in sc.samples["netlabd_connections_refused_total"]
                             if ls["service"] == svc and ls["reason"] != reason)
                self.assertEqual(others, 0)
        self.assertGreaterEqual(5 - served, 1)
        self.assertEqual(sc.svc("netlabd_connections_accepted_total", "denied"), 0)
        self.assertEqual(sc.svc("netlabd_connections_accepted_total", "rated") -
                         before.svc("netlabd_connections_accepted_total", "rated"), served)
        for s in held:
            s.close()

    def test_protocol_errors(self):
        before = self.scrape()
        for host in nt.HOSTS:
            # add: three bytes of an eight-byte request, then the client closes.
            s = nt.connect(host, self.pa)
            s.sendall(b"\x00\x00\x01")
            s.shutdown(socket.SHUT_WR)
            self.assertEqual(nt.recv_until_close(s), (b"", "eof"))
            s.close()
            # idle: a client that says nothing for the idle-timeout of 1 s.
            s = nt.connect(host, self.pi)
            self.assertEqual(nt.recv_until_close(s, timeout=5)[1], "eof")
            s.close()
        k = len(nt.HOSTS)

        def err(sc, svc, e):
            return sc.svc("netlabd_protocol_errors_total", svc, error=e)

        sc = wait_scrape("127.0.0.1", self.pm, lambda sc:
                         err(sc, "add", "truncated-request") -
                         err(before, "add", "truncated-request") == k and
                         err(sc, "idle", "idle-timeout") - err(before, "idle", "idle-timeout") == k)
        self.assertEqual(err(sc, "add", "truncated-request") -
                         err(before, "add", "truncated-request"), k)
        self.assertEqual(err(sc, "idle", "idle-timeout") - err(before, "idle", "idle-timeout"), k)
        self.assertEqual(err(sc, "add", "idle-timeout") - err(before, "add", "idle-timeout"), 0)

    def test_udp_received_answered_dropped(self):
        before = self.scrape()
        answered = received = bytes_in = bytes_out = low = 0
        for host in nt.HOSTS:
            with socket.socket(nt.family(host), socket.SOCK_DGRAM) as u:
                u.settimeout(2 * nt.SLOW)
                for i in range(4):
                    msg = b"datagram %d from %s" % (i, host.encode())
                    u.sendto(msg, (host, self.pu))
                    self.assertEqual(u.recvfrom(2048)[0], msg)
                    answered += 1
                    received += 1
                    bytes_in += len(msg)
                    bytes_out += len(msg)
            # The reflection guard: a source port below 1024 is never answered.
            s = low_port_socket(host)
            if s is not None:
                with s:
                    for _ in range(3):
                        s.sendto(b"reflect me", (host, self.pu))
                        received += 1
                        low += 1
                        bytes_in += len(b"reflect me")
        d = {k: before.svc(k, "eu") for k in ("netlabd_datagrams_received_total",
                                               "netlabd_datagrams_answered_total",
                                               "netlabd_received_bytes_total",
                                               "netlabd_sent_bytes_total")}
        sc = wait_scrape("127.0.0.1", self.pm, lambda sc:
                         sc.svc("netlabd_datagrams_received_total", "eu") -
                         d["netlabd_datagrams_received_total"] == received)
        self.assertEqual(sc.svc("netlabd_datagrams_received_total", "eu") -
                         d["netlabd_datagrams_received_total"], received)
        self.assertEqual(sc.svc("netlabd_datagrams_answered_total", "eu") -
                         d["netlabd_datagrams_answered_total"], answered)
        self.assertEqual(sc.svc("netlabd_received_bytes_total", "eu") -
                         d["netlabd_received_bytes_total"], bytes_in)
        self.assertEqual(sc.svc("netlabd_sent_bytes_total", "eu") -
                         d["netlabd_sent_bytes_total"], bytes_out)
        self.assertEqual(sc.svc("netlabd_datagrams_dropped_total", "eu", reason="source-port") -
                         before.svc("netlabd_datagrams_dropped_total", "eu",
                                    reason="source-port"), low)
        if low == 0:
            self.skipTest("not root: no source port below 1024 to send from")

    def test_udp_rate_limit_drops(self):
        before = self.scrape()
        sent = 12
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(0.3 * nt.SLOW)
            for i in range(sent):
                u.sendto(b"%d" % i, ("127.0.0.1", self.pl))
            replies = 0
            try:
                while True:
                    u.recvfrom(64)
                    replies += 1
            except socket.timeout:
                pass

        def delta(sc, name, **labels):
            return sc.svc(name, "eurl", **labels) - before.svc(name, "eurl", **labels)

        sc = wait_scrape("127.0.0.1", self.pm, lambda sc:
                         delta(sc, "netlabd_datagrams_received_total") == sent)
        self.assertEqual(delta(sc, "netlabd_datagrams_received_total"), sent)
        self.assertEqual(delta(sc, "netlabd_datagrams_answered_total"), replies)
        # A burst of twice the rate passes; the rest is rate-limited.
        self.assertGreaterEqual(replies, 1)
        self.assertLess(replies, sent)
        self.assertEqual(delta(sc, "netlabd_datagrams_dropped_total", reason="rate-limit"),
                         sent - replies)

    def test_promtool_check_metrics(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not found (Debian package prometheus)")
        # Traffic on every kind of service: accepted, refused, errors, datagrams, drops.
        echo_conn("127.0.0.1", self.pe).close()
        nt.connect("127.0.0.1", self.pd).close()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(2 * nt.SLOW)
            u.sendto(b"x", ("127.0.0.1", self.pu))
            u.recvfrom(64)
        s = low_port_socket("127.0.0.1")
        if s is not None:
            with s:
                s.sendto(b"y", ("127.0.0.1", self.pu))
        for host in nt.HOSTS:
            with self.subTest(host=host):
                r, _ = get(host, self.pm)
                p = subprocess.run([promtool, "check", "metrics"], input=r.body,
                                   capture_output=True, timeout=30)
                self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))


# The HTTP tests' idle-timeout: longer than the waits that check a connection
# stays open (0.5 s, scaled under valgrind and sanitizers), so that those see
# keep-alive, not the timeout.
HTTP_IDLE = max(2, int(2 * nt.SLOW + 0.999))


class Http(unittest.TestCase):
    """The HTTP side, on a metrics service with a short idle-timeout, and allow/deny on it."""

    @classmethod
    def setUpClass(cls):
        cls.pm, cls.p4, cls.p6 = nt.free_ports(3)
        cls.d = nt.Daemon(
            "service metrics { protocol = metrics  port = %d  address = %s  idle-timeout = %d }\n"
            "service m4 { protocol = metrics  port = %d  address = %s"
            "  allow = { \"127.0.0.0/8\" } }\n"
            "service m6 { protocol = metrics  port = %d  address = %s  deny = { \"127.0.0.1\" } }\n"
            % (cls.pm, addresses(), HTTP_IDLE, cls.p4, addresses(), cls.p6, addresses())).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def assertServing(self):
        for host in nt.HOSTS:
            r, _ = get(host, self.pm)
            self.assertEqual(r.status, 200)
            self.assertIn(b"netlabd_connections_accepted_total{", r.body)

    def test_get_200(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                r, closed = get(host, self.pm, probe=True)
                self.assertEqual((r.status, r.reason), (200, "OK"))
                self.assertEqual(r.headers["content-type"], CONTENT_TYPE)
                self.assertEqual(int(r.headers["content-length"]), len(r.body))
                self.assertNotIn("connection", r.headers)   # HTTP/1.1: keep-alive by default
                self.assertFalse(closed)
                self.assertTrue(r.body.startswith(b"# HELP "))
                sc = Scrape(r.body.decode())
                # The scrape's own connection is open and counted.
                self.assertGreaterEqual(sc.svc("netlabd_connections_active", "metrics"), 1)
                # The query string is not part of the path.
                r, _ = get(host, self.pm, "/metrics?name[]=up")
                self.assertEqual(r.status, 200)
        self.assertServing()

    def test_head(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                c = HttpConn(host, self.pm)
                c.send(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                r = c.response(head_only=True)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["content-type"], CONTENT_TYPE)
                self.assertGreater(int(r.headers["content-length"]), 1000)
                # No body follows: the next bytes are the next response's.
                c.send(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(c.response().status, 404)
                c.close()
        self.assertServing()

    def test_other_path_404(self):
        for host in nt.HOSTS:
            for path in ("/", "/metric", "/metrics/", "/Metrics", "http://h/"):
                with self.subTest(host=host, path=path):
                    r, closed = get(host, self.pm, path, probe=True)
                    self.assertEqual(r.status, 404)
                    self.assertEqual(int(r.headers["content-length"]), len(r.body))
                    self.assertFalse(closed)
        # The absolute form a proxy sends is the same resource.
        r, _ = get("127.0.0.1", self.pm, "http://localhost/metrics")
        self.assertEqual(r.status, 200)
        self.assertServing()

    def test_other_method_405_then_close(self):
        for host in nt.HOSTS:
            for method in ("POST", "PUT", "DELETE", "OPTIONS", "get"):
                with self.subTest(host=host, method=method):
                    r, closed = get(host, self.pm, method=method, probe=True)
                    self.assertEqual(r.status, 405)
                    self.assertEqual(r.headers["allow"], "GET, HEAD")
                    self.assertEqual(r.headers["connection"], "close")
                    self.assertTrue(closed)
        self.assertServing()

    def test_malformed_400_then_close(self):
        bad = (b"GET /metrics HTTP/1.1\r\n\r\n",            # 1.1 without Host
               b"GET /metrics\r\n\r\n",                      # HTTP/0.9
               b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n",
               b"GET /met\x00rics HTTP/1.1\r\nHost: x\r\n\r\n",
               b"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
               b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        before = scrape("127.0.0.1", self.pm).svc("netlabd_protocol_errors_total", "metrics",
                                                  error="bad-request")
        for host in nt.HOSTS:
            for req in bad:
                with self.subTest(host=host, request=req):
                    c = HttpConn(host, self.pm)
                    c.send(req)
                    r = c.response()
                    self.assertEqual(r.status, 400)
                    self.assertEqual(r.headers["connection"], "close")
                    self.assertTrue(r.body.startswith(b"Bad Request: "))
                    self.assertTrue(c.closed())
                    c.close()
        n = len(nt.HOSTS) * len(bad)
        sc = wait_scrape("127.0.0.1", self.pm, lambda sc: sc.svc(
            "netlabd_protocol_errors_total", "metrics", error="bad-request") - before == n)
        self.assertEqual(sc.svc("netlabd_protocol_errors_total", "metrics",
                                error="bad-request") - before, n)
        for host in nt.HOSTS:
            self.d.wait_log(r"^metrics: %s, port=\d+: bad HTTP request: HTTP/1\.1 request"
                            r" without Host$" % re.escape(host))
        self.assertServing()

    def test_oversized_head_400(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                c = HttpConn(host, self.pm)
                head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8200
                try:
                    c.send(head)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                r = c.response()
                self.assertEqual(r.status, 400)
                self.assertEqual(r.body, b"Bad Request: request head too large\n")
                self.assertTrue(c.closed())
                c.close()
                # The bound is 8192 bytes, the final empty line included: at it, served;
                # one more, refused.
                for size, status in ((8192, 200), (8193, 400)):
                    pad = size - len(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n")
                    c = HttpConn(host, self.pm)
                    c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (b"a" * pad))
                    self.assertEqual(c.response().status, status)
                    c.close()
        self.assertServing()

    def test_slow_client_idle_timeout(self):
        before = scrape("127.0.0.1", self.pm).svc("netlabd_protocol_errors_total", "metrics",
                                                  error="idle-timeout")
        for host in nt.HOSTS:
            with self.subTest(host=host):
                # Bytes that keep coming are no idleness: served.
                c = HttpConn(host, self.pm)
                for part in (b"GET /met", b"rics HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
                    c.send(part)
                    time.sleep(0.2)
                self.assertEqual(c.response().status, 200)
                c.close()
                # Half a head, then silence: closed after idle-timeout, unanswered.
                c = HttpConn(host, self.pm)
                c.send(b"GET /metrics HTTP/1.1\r\nHost")
                self.assertTrue(c.closed(timeout=HTTP_IDLE / nt.SLOW + 3))
                c.close()
        k = len(nt.HOSTS)
        sc = wait_scrape("127.0.0.1", self.pm, lambda sc: sc.svc(
            "netlabd_protocol_errors_total", "metrics", error="idle-timeout") - before == k)
        self.assertEqual(sc.svc("netlabd_protocol_errors_total", "metrics",
                                error="idle-timeout") - before, k)
        self.assertServing()

    def test_keep_alive_and_pipelining(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                c = HttpConn(host, self.pm)
                # Two requests one after the other on one connection.
                c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                r1 = c.response()
                c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                r2 = c.response()
                self.assertEqual((r1.status, r2.status), (200, 200))
                # The same connection: accepted once, so the count did not move between them.
                a1 = Scrape(r1.body.decode()).svc("netlabd_connections_accepted_total", "metrics")
                a2 = Scrape(r2.body.decode()).svc("netlabd_connections_accepted_total", "metrics")
                self.assertEqual(a1, a2)
                # Three in one segment: answered in order, then the connection stays.
                c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                       b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(c.response().status, 404)
                h = c.response(head_only=True)
                self.assertEqual(h.status, 200)
                self.assertEqual(c.response().status, 200)
                self.assertFalse(c.closed(timeout=0.3))
                c.close()
        self.assertServing()

    def test_http10_closes_unless_keep_alive(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                r, closed = get(host, self.pm, version="1.0", probe=True)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["connection"], "close")
                self.assertTrue(closed)
                c = HttpConn(host, self.pm)
                c.send(b"GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                r = c.response()
                self.assertEqual(r.headers["connection"], "keep-alive")
                c.send(b"GET /metrics HTTP/1.0\r\n\r\n")
                r = c.response()
                self.assertEqual(r.headers["connection"], "close")
                self.assertTrue(c.closed())
                c.close()
        self.assertServing()

    def test_connection_close_honoured(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                c = HttpConn(host, self.pm)
                c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                       b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                r = c.response()
                self.assertEqual((r.status, r.headers["connection"]), (200, "close"))
                # The second request is never answered.
                self.assertTrue(c.closed())
                c.close()
        self.assertServing()

    def test_request_body_never_read(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                c = HttpConn(host, self.pm)
                # The "body" is a request of its own: answering it would mean we read the body.
                c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 31\r\n\r\n"
                       b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n\r\n")
                r = c.response()
                self.assertEqual((r.status, r.headers["connection"]), (200, "close"))
                self.assertTrue(c.closed())
                c.close()
        self.assertServing()

    def test_allow_deny(self):
        # m4 allows 127.0.0.0/8 only; m6 denies 127.0.0.1: each refuses the other family.
        r, _ = get("127.0.0.1", self.p4)
        self.assertEqual(r.status, 200)
        s = nt.connect("127.0.0.1", self.p6)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(nt.recv_until_close(s)[0], b"")
        s.close()
        refused = {"m4": 0, "m6": 1}
        if "::1" in nt.HOSTS:
            r, _ = get("::1", self.p6)
            self.assertEqual(r.status, 200)
            s = nt.connect("::1", self.p4)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(nt.recv_until_close(s)[0], b"")
            s.close()
            refused["m4"] = 1
        sc = wait_scrape("127.0.0.1", self.pm, lambda sc: all(
            sc.svc("netlabd_connections_refused_total", m, reason="acl") == n
            for m, n in refused.items()))
        for m, n in refused.items():
            self.assertEqual(sc.svc("netlabd_connections_refused_total", m, reason="acl"), n)
        self.d.wait_log(r"^m6: refused connection from 127\.0\.0\.1, port=\d+: denied by"
                        r" access list$")
        self.assertServing()


class Reloads(unittest.TestCase):
    """netlabd_reloads_total, last_reload_successful and its timestamp follow SIGHUP."""

    def test_reload_counters(self):
        pm, pe = nt.free_ports(2)
        good = ("service metrics { protocol = metrics  port = %d  address = %s }\n"
                "service echo { port = %d  address = %s }\n" % (pm, addresses(), pe, addresses()))
        with nt.Daemon(good) as d:
            sc = scrape("127.0.0.1", pm)
            t0 = sc.get("netlabd_config_last_reload_success_timestamp_seconds")
            self.assertEqual(sc.get("netlabd_reloads_total", result="success"), 0)
            self.assertEqual(sc.get("netlabd_reloads_total", result="failure"), 0)
            self.assertEqual(sc.get("netlabd_config_last_reload_successful"), 1)
            self.assertEqual(t0, sc.get("process_start_time_seconds"))
            time.sleep(1.1)     # the timestamp has one-second resolution
            d.write_conf(good + "service hello { port = %d  address = %s }\n"
                         % (nt.free_port(), addresses()))
            d.signal(signal.SIGHUP)
            d.wait_log(r"^netlabd: reloaded ")
            sc = scrape("::1" if "::1" in nt.HOSTS else "127.0.0.1", pm)
            self.assertEqual(sc.get("netlabd_reloads_total", result="success"), 1)
            self.assertEqual(sc.get("netlabd_config_last_reload_successful"), 1)
            t1 = sc.get("netlabd_config_last_reload_success_timestamp_seconds")
            self.assertGreater(t1, t0)
            self.assertLessEqual(abs(t1 - time.time()), 5)
            self.assertIsNotNone(sc.svc("netlabd_connections_accepted_total", "hello"))
            d.write_conf(good + "bogus = 1\n")
            d.signal(signal.SIGHUP)
            d.wait_log(r"^netlabd: reload failed: keeping the old configuration$")
            sc = wait_scrape("127.0.0.1", pm, lambda sc:
                             sc.get("netlabd_reloads_total", result="failure") == 1)
            self.assertEqual(sc.get("netlabd_reloads_total", result="failure"), 1)
            self.assertEqual(sc.get("netlabd_reloads_total", result="success"), 1)
            self.assertEqual(sc.get("netlabd_config_last_reload_successful"), 0)
            self.assertEqual(sc.get("netlabd_config_last_reload_success_timestamp_seconds"), t1)
            # The old config keeps serving, hello included.
            self.assertIsNotNone(sc.svc("netlabd_connections_accepted_total", "hello"))


class Process(unittest.TestCase):
    """build_info and the process_* metrics against what /proc and the log say."""

    def test_build_and_process(self):
        pm = nt.free_port()
        with nt.Daemon("service metrics { protocol = metrics  port = %d  address = %s }\n"
                       % (pm, addresses())) as d:
            started = d.wait_log(r"netlabd: netlabd (\S+) started \(libevent (\S+),")
            sc = scrape("127.0.0.1", pm)
            self.assertEqual(sc.get("netlabd_build_info", version=started.group(1),
                                    libevent=started.group(2)), 1)
            self.assertEqual(len(sc.samples["netlabd_build_info"]), 1)
            self.assertLessEqual(abs(sc.get("process_start_time_seconds") - time.time()), 30)
            with open("/proc/%d/limits" % d.pid) as f:
                soft = [line.split()[3] for line in f if line.startswith("Max open files")][0]
            if nt.MEASURE_OFF:
                # valgrind keeps some descriptors of its own below the limit it shows.
                self.assertLessEqual(sc.get("process_max_fds"), int(soft))
                self.assertGreater(sc.get("process_max_fds"), int(soft) - 64)
            else:
                self.assertEqual(sc.get("process_max_fds"), int(soft))
            with open("/proc/%d/status" % d.pid) as f:
                rss = [int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")][0]
            self.assertGreater(sc.get("process_resident_memory_bytes"), rss / 2)
            self.assertLess(sc.get("process_resident_memory_bytes"), rss * 2)
            self.assertGreaterEqual(d.cpu_seconds() + 0.02, sc.get("process_cpu_seconds_total"))
            if os.stat("/proc/self/fd").st_size == 0:
                self.assertIsNone(sc.get("process_open_fds"))
                return
            # Quiet now: the descriptors the kernel lists, the scrape's connection among them
            # (until the daemon has seen the earlier scrapes' connections close).
            c = HttpConn("127.0.0.1", pm)

            def open_fds(want):
                deadline = time.monotonic() + 5 * nt.SLOW
                while True:
                    c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                    n = Scrape(c.response().body.decode()).get("process_open_fds")
                    if n == want() or time.monotonic() > deadline:
                        return n
                    time.sleep(0.05)

            listed = lambda: len(os.listdir("/proc/%d/fd" % d.pid))  # noqa: E731
            fds = open_fds(listed)
            self.assertEqual(fds, listed())
            held = [nt.connect("127.0.0.1", pm) for _ in range(5)]
            self.assertEqual(open_fds(lambda: fds + 5), fds + 5)
            for s in held:
                s.close()
            self.assertEqual(open_fds(lambda: fds), fds)
            c.close()


class Shipped(unittest.TestCase):
    """The shipped etc/netlabd.conf: a metrics service on loopback, showing every family."""

    def test_shipped_config(self):
        if "::1" not in nt.HOSTS:
            self.skipTest("no IPv6: the shipped config listens on ::")
        src = os.environ.get("NETLAB_SRCDIR", os.path.join(nt.HERE, ".."))
        with open(os.path.join(src, "etc", "netlabd.conf")) as f:
            text = f.read()
        rc, out, err, _ = nt.run_check(text, args=("-t", "--listen-units"))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual([u for u in out.splitlines() if u.endswith(":10013")],
                         ["ListenStream=127.0.0.1:10013", "ListenStream=[::1]:10013"])
        # The same config on free ports (a TCP and a UDP service sharing one keep sharing).
        ports = {}

        def move(m):
            ports.setdefault(m.group(2), nt.free_port())
            return "%sport = %d" % (m.group(1), ports[m.group(2)])

        text = re.sub(r"(?m)^(\s+)port\s*=\s*(\d+)", move, text)
        pm = ports["10013"]
        with nt.Daemon(text):
            for host in nt.HOSTS:
                sc = scrape(host, pm)
                for fam in FAMILIES:
                    if fam == "process_open_fds" and os.stat("/proc/self/fd").st_size == 0:
                        continue
                    self.assertIn(fam, sc.types)
                self.assertEqual(
                    [ls["service"] for ls, _ in sc.samples["netlabd_received_bytes_total"]],
                    ["daytime", "hello", "echo", "add", "daytime-udp", "hello-udp", "echo-udp",
                     "add-udp", "metrics"])
            promtool = shutil.which("promtool")
            if promtool is None:
                self.skipTest("promtool not found (Debian package prometheus)")
            r, _ = get("127.0.0.1", pm)
            p = subprocess.run([promtool, "check", "metrics"], input=r.body,
                               capture_output=True, timeout=30)
            self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))


class RealPrometheus(unittest.TestCase):
    """A Prometheus server scrapes netlabd every second; its query API shows our numbers."""

    def test_prometheus_scrapes(self):
        prom = shutil.which("prometheus")
        if prom is None:
            self.skipTest("prometheus not found (Debian package prometheus)")
        pm, pe, pp = nt.free_ports(3)
        conf = ("service metrics { protocol = metrics  port = %d  address = %s }\n"
                "service echo { port = %d  address = %s }\n" % (pm, addresses(), pe, addresses()))
        targets = ['"127.0.0.1:%d"' % pm] + (['"[::1]:%d"' % pm] if "::1" in nt.HOSTS else [])
        tmp = tempfile.mkdtemp(prefix="netlabd-prom-")
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: netlabd\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join(targets))
        with nt.Daemon(conf) as d:
            n = 0
            for host in nt.HOSTS:
                for _ in range(4):
                    echo_conn(host, pe).close()
                    n += 1
            log = open(os.path.join(tmp, "prometheus.log"), "wb")
            p = subprocess.Popen([prom, "--config.file=" + os.path.join(tmp, "prometheus.yml"),
                                  "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                                  "--web.listen-address=127.0.0.1:%d" % pp],
                                 stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            try:
                got = self.query_until(pp, p, 'netlabd_connections_accepted_total{service="echo"}',
                                       lambda rs: len(rs) == len(targets) and
                                       all(float(r["value"][1]) == n for r in rs))
                self.assertEqual(sorted(r["metric"]["instance"] for r in got),
                                 sorted(t.strip('"') for t in targets))
                for r in got:
                    self.assertEqual(float(r["value"][1]), n)
                    self.assertEqual((r["metric"]["job"], r["metric"]["protocol"],
                                      r["metric"]["transport"]), ("netlabd", "echo", "tcp"))
                up = self.query_until(pp, p, 'up{job="netlabd"} == 1',
                                      lambda rs: len(rs) == len(targets))
                self.assertEqual(len(up), len(targets))
                # Prometheus's own count of each scrape's samples: every one we expose.
                mine = sum(len(v) for v in scrape("127.0.0.1", pm).samples.values())
                rs = self.query_until(pp, p, 'scrape_samples_scraped{job="netlabd"}',
                                      lambda rs: len(rs) == len(targets))
                self.assertEqual([float(r["value"][1]) for r in rs], [mine] * len(targets))
                # Each scrape is a connection to the metrics service, accepted and logged.
                d.wait_log(r"^metrics: accepted connection from 127\.0\.0\.1, port=\d+$")
            finally:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                log.close()
                with open(os.path.join(tmp, "prometheus.log"), "rb") as f:
                    plog = f.read().decode("utf-8", "replace")
                shutil.rmtree(tmp, ignore_errors=True)
            self.assertNotIn("level=error", plog)

    def query_until(self, port, proc, q, pred, timeout=60):
        """Ask Prometheus's HTTP API until pred(result) holds; bounded."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": q}))
        deadline = time.monotonic() + timeout * nt.SLOW
        rs = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.fail("prometheus exited with %s" % proc.returncode)
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    body = json.load(resp)
                self.assertEqual(body["status"], "success")
                rs = body["data"]["result"]
                if pred(rs):
                    return rs
            except OSError:
                pass        # not listening yet
            time.sleep(0.5)
        self.fail("prometheus never answered %s as wanted; last: %r" % (q, rs))


if __name__ == "__main__":
    nt.main()
