#!/usr/bin/env python3
"""Behind a real load balancer (SPEC §10): HAProxy in front of two netlabd.

HAProxy (mode tcp, balance roundrobin, TCP health checks every 200 ms)
runs in the foreground on free loopback ports; its backends are two
netlabd instances whose services trust it through proxy-from.  Most
frontends use send-proxy-v2, one uses send-proxy (v1).  Clients bind
127.0.0.2, 127.0.0.3, ... before connecting, and netlabd must see them,
not the balancer: in its accepted lines (with their real ports), in
allow/deny and in max-per-source.  Every TCP protocol works through it
(daytime and hello with defer-accept);
health checks never reach the info log; when one netlabd is killed,
HAProxy's checks take it out and every new connection is served by the
other.  Skipped (77) only when haproxy is not installed.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

HAPROXY = shutil.which("haproxy", path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin")
V6 = "::1" in nt.HOSTS

# service -> (protocol, PROXY version HAProxy sends, extra netlabd options)
SERVICES = {
    # the server-first ones as README "Scaling out" advises: held by the kernel until the header
    "daytime": ("daytime", 2, "defer-accept = true"),
    "hello": ("hello", 2, "defer-accept = true"),
    "echo": ("echo", 2, ""),
    "add": ("add", 2, ""),
    "echo1": ("echo", 1, ""),
    "guarded": ("echo", 2, 'deny = { "127.0.0.3" }  max-per-source = 1'),
}


def netlabd_conf(ports):
    lines = ['log-level = "info"']
    for name, (proto, _, extra) in SERVICES.items():
        lines.append('service %s { protocol = %s  port = %d  address = { "127.0.0.1" }'
                     '  proxy-from = { "127.0.0.1" }  %s }' % (name, proto, ports[name], extra))
    return "\n".join(lines) + "\n"


def haproxy_conf(front, backs):
    out = ["global", "    maxconn 512", "    nbthread 1",
           "defaults", "    mode tcp", "    timeout connect 2s", "    timeout client 30s",
           "    timeout server 30s", "    timeout check 1s",
           # no redispatch: a connection sent to a dead server fails, so
           # only the health checks can keep clients away from it
           "    retries 0"]
    for name, (_, version, _) in SERVICES.items():
        out += ["frontend fe_%s" % name, "    bind 127.0.0.1:%d" % front[name]]
        if V6:
            out.append("    bind [::1]:%d" % front[name])
        out += ["    default_backend be_%s" % name,
                "backend be_%s" % name, "    balance roundrobin"]
        for server, ports in backs:
            out.append("    server %s 127.0.0.1:%d %s check inter 200ms fall 2 rise 1"
                       % (server, ports[name], "send-proxy-v2" if version == 2 else "send-proxy"))
    return "\n".join(out) + "\n"


class Cluster:
    """Two netlabd and one HAProxy in front of them."""

    def __init__(self):
        ports = nt.free_ports(3 * len(SERVICES))
        k = len(SERVICES)
        self.front = dict(zip(SERVICES, ports[:k]))
        self.ports = {"a": dict(zip(SERVICES, ports[k:2 * k])),
                      "b": dict(zip(SERVICES, ports[2 * k:]))}
        self.nl = {s: nt.Daemon(netlabd_conf(p)) for s, p in self.ports.items()}
        self.dir = tempfile.mkdtemp(prefix="netlabd-haproxy-")
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        self.out_path = os.path.join(self.dir, "haproxy.out")
        with open(self.conf, "w") as f:
            f.write(haproxy_conf(self.front, sorted(self.ports.items())))
        self.proc = None

    def start(self):
        for d in self.nl.values():
            d.start()
        check = subprocess.run([HAPROXY, "-c", "-f", self.conf], capture_output=True, text=True,
                               timeout=10)
        if check.returncode != 0:
            raise AssertionError("haproxy -c rejects the config:\n%s%s"
                                 % (check.stdout, check.stderr))
        self.out = open(self.out_path, "wb")
        # Bounded: whatever happens to this test, HAProxy is gone within 5 minutes.
        self.proc = subprocess.Popen(["timeout", "300", HAPROXY, "-f", self.conf, "-db"],
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10 * nt.SLOW
        for port in self.front.values():
            while True:
                try:
                    # from an address of its own: 127.0.0.1 is HAProxy's, to netlabd
                    socket.create_connection(("127.0.0.1", port), timeout=1,
                                             source_address=("127.0.0.254", 0)).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError("haproxy did not listen on %d:\n%s"
                                             % (port, self.haproxy_log()))
                    time.sleep(0.05)
        return self

    def haproxy_log(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_haproxy(self, pattern, count=1, timeout=10):
        deadline = time.monotonic() + timeout * nt.SLOW
        while len(re.findall(pattern, self.haproxy_log(), re.M)) < count:
            if time.monotonic() > deadline:
                raise AssertionError("haproxy never said %r:\n%s" % (pattern, self.haproxy_log()))
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.out.close()
        for d in self.nl.values():
            d.stop()

    def logs(self):
        return {s: d.log() for s, d in self.nl.items()}

    def wait_any_log(self, pattern, timeout=5):
        """The instance that logged pattern (each connection is on one of them)."""
        deadline = time.monotonic() + timeout * nt.SLOW
        while True:
            for s, d in self.nl.items():
                if re.search(pattern, d.log(), re.M):
                    return s
            if time.monotonic() > deadline:
                raise AssertionError("no netlabd logged %r:\n%s" % (pattern, self.logs()))
            time.sleep(0.02)


def client(cluster, name, source="127.0.0.2", host="127.0.0.1"):
    return nt.connect(host, cluster.front[name], source=source)


def accepted_rx(name, s):
    host, port = s.getsockname()[:2]
    return r"^%s: accepted connection from %s, port=%d via 127\.0\.0\.1$" % (
        re.escape(name), re.escape(host), port)


def use(name, s):
    """One exchange of the protocol; True when it was served right."""
    try:
        if name == "daytime":
            data = nt.recv_until_close(s)[0]
            return data.endswith(b"\r\n") and len(data) > 20
        if name == "hello":
            return nt.recv_until_close(s)[0] == b"HELLO\n"
        if name == "add":
            s.sendall(struct.pack("!ii", -2147483648, -2147483648))
            return struct.unpack("!q", nt.recv_exact(s, 8))[0] == -4294967296
        s.sendall(b"through the balancer\n")
        return nt.recv_exact(s, 21) == b"through the balancer\n"
    except (OSError, AssertionError):
        return False


def skip_without_haproxy():
    if HAPROXY is None:
        raise unittest.SkipTest("haproxy is not installed (apt-get install haproxy)")


class Balanced(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        skip_without_haproxy()
        cls.c = Cluster().start()

    @classmethod
    def tearDownClass(cls):
        cls.c.stop()

    def test_clients_logged_under_their_own_address_and_port(self):
        for name in ("echo", "echo1"):          # PROXY v2 and v1
            for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
                with self.subTest(service=name, source=source):
                    s = client(self.c, name, source)
                    self.assertTrue(use(name, s))
                    self.c.wait_any_log(accepted_rx(name, s))
                    s.close()

    @unittest.skipUnless(V6, "no IPv6 loopback")
    def test_ipv6_client(self):
        s = client(self.c, "echo", source=None, host="::1")
        self.assertTrue(use("echo", s))
        self.c.wait_any_log(accepted_rx("echo", s))
        s.close()

    def test_every_protocol_round_robin(self):
        for name in SERVICES:
            with self.subTest(service=name):
                served = {"a": 0, "b": 0}
                for i in range(6):
                    s = client(self.c, name, "127.0.0.%d" % (5 + i))
                    self.assertTrue(use(name, s), "%s connection %d" % (name, i))
                    served[self.c.wait_any_log(accepted_rx(name, s))] += 1
                    s.close()
                self.assertEqual(served, {"a": 3, "b": 3})

    def test_deny_refuses_only_that_client(self):
        for _ in range(2):       # once on each instance
            ok = client(self.c, "guarded", "127.0.0.2")
            self.assertTrue(use("guarded", ok))
            ok.close()
            denied = client(self.c, "guarded", "127.0.0.3")
            host, port = denied.getsockname()
            self.assertFalse(use("guarded", denied))
            denied.close()
            self.c.wait_any_log(r"^guarded: refused connection from 127\.0\.0\.3, port=%d: "
                                r"denied by access list$" % port)

    def test_max_per_source_limits_each_client_not_the_balancer(self):
        # max-per-source = 1 per instance: of three held connections from one
        # client, round robin gives one instance two, and that one is refused.
        held, results = [], []
        for _ in range(3):
            s = client(self.c, "guarded", "127.0.0.6")
            results.append(use("guarded", s))
            held.append(s)
        self.assertEqual(sorted(results), [False, True, True])
        refused = held[results.index(False)]
        self.c.wait_any_log(r"^guarded: refused connection from 127\.0\.0\.6, port=%d: "
                            r"max-per-source reached$" % refused.getsockname()[1])
        # every other client of the same balancer still gets in, on both instances
        others = []
        for i in range(4):
            s = client(self.c, "guarded", "127.0.0.%d" % (20 + i))
            self.assertTrue(use("guarded", s), "client 127.0.0.%d" % (20 + i))
            others.append(s)
        for s in held + others:
            s.close()

    def test_health_checks_stay_off_the_info_log(self):
        before = {s: nt.stats(d, "daytime")["accepted"] for s, d in self.c.nl.items()}
        time.sleep(1.5)    # 7 checks per server and backend
        after = {s: nt.stats(d, "daytime")["accepted"] for s, d in self.c.nl.items()}
        for s in self.c.nl:
            # the checks reach netlabd (served as connections from the proxy) ...
            self.assertGreaterEqual(after[s] - before[s], 3, "no health checks reached %s" % s)
            # ... and say nothing at info level: clients are 127.0.0.2 and up or ::1, so a
            # line naming 127.0.0.1 as the peer would be HAProxy's own check (v1 or v2)
            for line in self.c.nl[s].log().splitlines():
                self.assertNotRegex(line, r"connection from 127\.0\.0\.1, port=")
                self.assertNotIn("PROXY header", line)


class Failover(unittest.TestCase):
    def setUp(self):
        skip_without_haproxy()
        self.c = Cluster().start()

    def tearDown(self):
        self.c.stop()

    def test_killed_instance_is_taken_out(self):
        stop = threading.Event()
        tally = {"ok": 0, "failed": 0}

        def load():
            i = 0
            while not stop.is_set():
                name = ("daytime", "hello", "echo", "add")[i % 4]
                s = None
                try:
                    s = client(self.c, name, "127.0.0.%d" % (2 + i % 50))
                    tally["ok" if use(name, s) else "failed"] += 1
                except OSError:
                    tally["failed"] += 1
                finally:
                    if s is not None:
                        s.close()
                i += 1

        t = threading.Thread(target=load)
        t.start()
        try:
            time.sleep(0.5)
            self.assertGreater(tally["ok"], 0)
            self.c.nl["b"].proc.send_signal(signal.SIGKILL)
            self.c.nl["b"].proc.wait(10)
            # fall 2, inter 200ms: every backend marks b down within a few checks
            for name in SERVICES:
                self.c.wait_haproxy(r"Server be_%s/b is DOWN" % name, timeout=10)
        finally:
            stop.set()
            t.join(30)
        print("\nwhile b died: %d served, %d failed" % (tally["ok"], tally["failed"]))
        failures = 0
        for name in SERVICES:
            for i in range(20):
                s = client(self.c, name, "127.0.0.%d" % (60 + i))
                if use(name, s):
                    self.c.wait_any_log(accepted_rx(name, s))
                else:
                    failures += 1
                s.close()
        self.assertEqual(failures, 0)
        self.assertIsNone(self.c.nl["a"].proc.poll())


if __name__ == "__main__":
    nt.main()
