"""netlabtest - shared harness for netlabd's integration tests.

Each test starts the real daemon on free loopback ports in its own temp dir
and talks to it over real sockets.  Binaries come from the environment the
automake harness sets (NETLABD, NETLAB, ...), else from ../src.
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("NETLAB_BUILDDIR", os.path.join(HERE, ".."))
NETLABD = os.environ.get("NETLABD", os.path.join(BUILD, "src", "netlabd"))
NETLAB = os.environ.get("NETLAB", os.path.join(BUILD, "src", "netlab"))
SKIP = 77

# Under valgrind or sanitizers everything is slower: scale waits.
SLOW = float(os.environ.get("NETLAB_TIMEOUT_SCALE", "1"))
WRAPPER = os.environ.get("NETLAB_WRAPPER", "").split()


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def free_port():
    """A port free for TCP and UDP on 0.0.0.0 and :: right now."""
    for _ in range(200):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("0.0.0.0", 0))
        port = u.getsockname()[1]
        held = [u]
        try:
            for fam, kind, host in ((socket.AF_INET, socket.SOCK_STREAM, "0.0.0.0"),
                                    (socket.AF_INET6, socket.SOCK_DGRAM, "::"),
                                    (socket.AF_INET6, socket.SOCK_STREAM, "::")):
                s = socket.socket(fam, kind)
                held.append(s)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((host, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise RuntimeError("no free port")


def free_ports(n):
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


class Daemon:
    """The real netlabd on a config written to a temp dir.

    conf is the config text; start() waits for the "started" log line.
    """

    def __init__(self, conf, args=(), env=None, preexec=None, wrapper=None):
        self.dir = tempfile.mkdtemp(prefix="netlabd-test-")
        self.conf_path = os.path.join(self.dir, "netlabd.conf")
        self.log_path = os.path.join(self.dir, "netlabd.log")
        self.write_conf(conf)
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("NOTIFY_SOCKET", None)
        self.env.pop("LISTEN_FDS", None)
        self.env.pop("JOURNAL_STREAM", None)
        if env:
            self.env.update(env)
        self.preexec = preexec
        self.wrapper = WRAPPER if wrapper is None else wrapper
        self.proc = None
        self.returncode = None

    def write_conf(self, conf):
        with open(self.conf_path, "w") as f:
            f.write(conf)

    def command(self):
        return self.wrapper + [NETLABD, "-c", self.conf_path] + self.args

    def start(self, wait=True, pass_fds=()):
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     env=self.env, preexec_fn=self.preexec,
                                     pass_fds=pass_fds)
        if wait:
            self.wait_log(r"netlabd: netlabd \S+ started", timeout=10)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=5, count=1):
        """Wait until pattern has matched count lines; return the last match."""
        deadline = time.monotonic() + timeout * SLOW
        rx = re.compile(pattern, re.M)
        while True:
            found = list(rx.finditer(self.log()))
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None and len(list(rx.finditer(self.log()))) < count:
                raise AssertionError("netlabd exited (%s) before logging %r:\n%s"
                                     % (self.proc.returncode, pattern, self.log()))
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %r in log:\n%s"
                                     % (pattern, self.log()))
            time.sleep(0.02)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=10):
        self.returncode = self.proc.wait(timeout * SLOW)
        return self.returncode

    def stop(self, timeout=10):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode
            self.logf.close()
        return self.returncode

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tck

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


STATS_FIELDS = ("accepted", "active", "refused", "bytes_in", "bytes_out")


def stats(d, name, timeout=10):
    """Send SIGUSR1 and return the service's next statistics line as a dict."""
    rx = (r"^%s: statistics: accepted=(\d+) active=(\d+) refused=(\d+)"
          r" bytes_in=(\d+) bytes_out=(\d+)$" % re.escape(name))
    seen = len(re.findall(rx, d.log(), re.M))
    d.signal(signal.SIGUSR1)
    m = d.wait_log(rx, count=seen + 1, timeout=timeout)
    return dict(zip(STATS_FIELDS, (int(x) for x in m.groups())))


def own_nofile(need):
    """Raise this process's descriptor limit to need, or skip the test."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            raise unittest.SkipTest("need %d descriptors, hard limit is %d" % (need, hard))
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def run_check(conf, args=("-t",), timeout=10):
    """Run netlabd -t (or other args) on conf text; return (rc, stdout, stderr, path)."""
    d = tempfile.mkdtemp(prefix="netlabd-conf-")
    path = os.path.join(d, "netlabd.conf")
    with open(path, "w") as f:
        f.write(conf)
    p = subprocess.run(WRAPPER + [NETLABD, "-c", path] + list(args), capture_output=True,
                       timeout=timeout * SLOW, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode(), path


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(host, port, timeout=5, source=None):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(timeout * SLOW)
    if source is not None:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def recv_all(s, limit=1 << 24):
    """Read until EOF."""
    data = b""
    while len(data) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise AssertionError("EOF after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def recv_until_close(s, timeout=3):
    """Read until the peer closes: (data, "eof" | "reset" | "open")."""
    s.settimeout(timeout * SLOW)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data, "eof"
            data += chunk
    except ConnectionResetError:
        return data, "reset"
    except socket.timeout:
        return data, "open"


def is_closed(s, timeout=2):
    """True when the peer closed (EOF or reset) within timeout."""
    r, _, _ = select.select([s], [], [], timeout * SLOW)
    if not r:
        return False
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


HOSTS = ["127.0.0.1", "::1"] if have_ipv6() else ["127.0.0.1"]

# Under valgrind (tests/valgrind.sh) time, CPU and RSS say nothing about netlabd.
MEASURE_OFF = bool(WRAPPER) or bool(os.environ.get("NETLAB_UNDER_VALGRIND"))


def built_with_asan():
    """AddressSanitizer's shadow memory and quarantine make RSS meaningless."""
    try:
        with open(NETLABD, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


RSS_OFF = MEASURE_OFF or built_with_asan()


def main():
    if not os.access(NETLABD, os.X_OK):
        print("netlabd binary not found at %s" % NETLABD)
        sys.exit(SKIP)
    prog = unittest.main(exit=False, verbosity=2)
    res = prog.result
    if res.testsRun == len(res.skipped) and res.testsRun > 0:
        sys.exit(SKIP)
    sys.exit(0 if res.wasSuccessful() else 1)
