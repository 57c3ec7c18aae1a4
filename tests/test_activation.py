"""Socket activation (SPEC §7): sockets passed by systemd-socket-activate or
by a holder are matched to services by name, else by port; a service that
got sockets binds none of its own; the rest is logged and closed."""
import os
import re
import shutil
import signal
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402
import sockholder  # noqa: E402

SOCKET_ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"
HAVE_SOCKET_ACTIVATE = os.access(SOCKET_ACTIVATE, os.X_OK)
HAVE_SYSTEMD = os.access(nt.NETLABD, os.X_OK) and sockholder.systemd_build(nt.NETLABD)
need_systemd = unittest.skipUnless(HAVE_SYSTEMD, "netlabd built without libsystemd")
need_activate = unittest.skipUnless(HAVE_SOCKET_ACTIVATE, "no systemd-socket-activate")
need_ipv6 = unittest.skipUnless(nt.have_ipv6(), "no IPv6 on loopback")


def proc_net_addr(text, fam):
    """Decode a /proc/net/tcp{,6} 'HEXADDR:HEXPORT' field."""
    addr, port = text.split(":")
    if fam == socket.AF_INET:
        raw = struct.pack("<I", int(addr, 16))
    else:
        raw = b"".join(struct.pack("<I", int(addr[i:i + 8], 16)) for i in range(0, 32, 8))
    return socket.inet_ntop(fam, raw), int(port, 16)


def listening(pid):
    """The TCP endpoints process pid has listening sockets open on: {(addr, port)}."""
    inodes = set()
    fddir = "/proc/%d/fd" % pid
    for fd in os.listdir(fddir):
        try:
            target = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for path, fam in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    found.add(proc_net_addr(fields[1], fam))
    return found


def refused(host, port):
    with socket.socket(nt.family(host), socket.SOCK_STREAM) as s:
        s.settimeout(2 * nt.SLOW)
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            return True
    return False


def talk(host, port, data=b"", timeout=5):
    with nt.connect(host, port, timeout=timeout) as s:
        src = s.getsockname()[1]
        if data:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return nt.recv_all(s), src


class Activated(nt.Daemon):
    """netlabd started by systemd-socket-activate, which execs it (same pid)
    with the sockets when the first connection or datagram arrives."""

    def __init__(self, conf, listen, fdnames=None, datagram=False, **kw):
        super().__init__(conf, **kw)
        self.listen = listen
        self.fdnames = fdnames
        self.datagram = datagram

    def command(self):
        cmd = [SOCKET_ACTIVATE]
        for ep in self.listen:
            cmd += ["-l", ep]
        if self.fdnames:
            cmd.append("--fdname=" + ":".join(self.fdnames))
        if self.datagram:
            cmd.append("--datagram")
        return cmd + ["--"] + self.wrapper + [nt.NETLABD, "-c", self.conf_path] + self.args

    def start(self, wait=True, pass_fds=()):
        super().start(wait=False, pass_fds=pass_fds)
        self.wait_log(r"^Listening on ", count=len(self.listen), timeout=10)
        return self


class HolderDaemon(nt.Daemon):
    """netlabd started by an in-process sockholder with arbitrary passed fds."""

    def __init__(self, conf, holder, **kw):
        super().__init__(conf, **kw)
        self.holder = holder
        self.child = None

    def start(self, wait=True, pass_fds=()):
        open(self.log_path, "wb").close()
        pid = self.holder.spawn(self.command(), env=self.env, log_path=self.log_path)
        self.proc = _Child(pid)
        if wait:
            self.wait_log(r"netlabd: netlabd \S+ started", timeout=10)
        return self

    def stop(self, timeout=10):
        self.returncode = self.proc.stop(timeout)
        return self.returncode


class _Child:
    """The bits of Popen that nt.Daemon uses, for a child forked by the holder."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def stop(self, timeout):
        self.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout * nt.SLOW
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


@need_systemd
@need_activate
class SocketActivateTest(unittest.TestCase):

    def run_daemon(self, d):
        self.addCleanup(d.stop)
        return d.start()

    def test_matched_by_port(self):
        p = nt.free_port()
        # The service is configured on 127.0.0.2: had netlabd bound its own
        # socket, it would be there.
        d = self.run_daemon(Activated(
            'service hello { port = %d address = { "127.0.0.2" } message = "PORT" }\n' % p,
            ["127.0.0.1:%d" % p]))
        reply, src = talk("127.0.0.1", p)      # this connection makes it exec netlabd
        self.assertEqual(reply, b"PORT\n")
        d.wait_log(r"netlabd \S+ started")
        d.wait_log(r"^netlabd: adopted 1 socket\(s\) from systemd$")
        d.wait_log(r"^hello: accepted connection from 127\.0\.0\.1, port=%d$" % src)
        self.assertEqual(talk("127.0.0.1", p)[0], b"PORT\n")
        self.assertEqual(listening(d.pid), {("127.0.0.1", p)})
        self.assertTrue(refused("127.0.0.2", p))

    def test_matched_by_fdname(self):
        p_sock, p_echo, p_hello = nt.free_ports(3)
        conf = ('service echo { port = %d address = { "127.0.0.1" } }\n'
                'service hello { port = %d address = { "127.0.0.1" } }\n' % (p_echo, p_hello))
        d = self.run_daemon(Activated(conf, ["127.0.0.1:%d" % p_sock], fdnames=["echo"]))
        reply, src = talk("127.0.0.1", p_sock, b"one\ntwo\n")
        self.assertEqual(reply, b"one\ntwo\n")
        d.wait_log(r"^echo: accepted connection from 127\.0\.0\.1, port=%d$" % src)
        # echo got a socket: it binds nothing; hello got none: it binds its own.
        self.assertTrue(refused("127.0.0.1", p_echo))
        self.assertEqual(talk("127.0.0.1", p_hello)[0], b"HELLO\n")
        self.assertEqual(listening(d.pid), {("127.0.0.1", p_sock), ("127.0.0.1", p_hello)})

    def test_name_wins_over_port(self):
        p, p_echo = nt.free_ports(2)
        # The socket is on hello's port but named echo: it goes to echo.
        conf = ('service echo { port = %d address = { "127.0.0.1" } }\n'
                'service hello { port = %d address = { "127.0.0.2" } }\n' % (p_echo, p))
        d = self.run_daemon(Activated(conf, ["127.0.0.1:%d" % p], fdnames=["echo"]))
        self.assertEqual(talk("127.0.0.1", p, b"x\n")[0], b"x\n")
        d.wait_log(r"netlabd \S+ started")
        self.assertEqual(talk("127.0.0.2", p)[0], b"HELLO\n")
        self.assertEqual(listening(d.pid), {("127.0.0.1", p), ("127.0.0.2", p)})

    @need_ipv6
    def test_dual_stack_socket_logs_plain_ipv4(self):
        p = nt.free_port()
        conf = 'service echo { port = %d address = { "127.0.0.2", "::1" } }\n' % p
        d = self.run_daemon(Activated(conf, ["[::]:%d" % p]))
        reply, src4 = talk("127.0.0.1", p, b"over ipv4\n")
        self.assertEqual(reply, b"over ipv4\n")
        d.wait_log(r"^echo: accepted connection from 127\.0\.0\.1, port=%d$" % src4)
        reply, src6 = talk("::1", p, b"over ipv6\n")
        self.assertEqual(reply, b"over ipv6\n")
        d.wait_log(r"^echo: accepted connection from ::1, port=%d$" % src6)
        self.assertNotIn("::ffff:", d.log())
        # Only the passed socket: nothing bound on 127.0.0.2 or ::1 by netlabd.
        self.assertEqual(listening(d.pid), {("::", p)})

    @need_ipv6
    def test_dual_stack_socket_ipv4_acl(self):
        p = nt.free_port()
        # IPv4 prefixes apply to IPv4 clients of a dual-stack socket.
        conf = ('service echo { port = %d address = { "::1" } deny = { "127.0.0.0/8" } }\n' % p)
        d = self.run_daemon(Activated(conf, ["[::]:%d" % p]))
        with nt.connect("127.0.0.1", p) as s:
            src = s.getsockname()[1]
            self.assertTrue(nt.is_closed(s))
        d.wait_log(r"^echo: refused connection from 127\.0\.0\.1, port=%d: denied by access list$"
                   % src)
        self.assertEqual(talk("::1", p, b"six\n")[0], b"six\n")

    @need_ipv6
    def test_same_port_two_services_matched_by_address(self):
        p = nt.free_port()
        # Two services may share a port on different addresses; each passed
        # socket belongs to the one configured on its address (if both went to
        # "one", "two" would fail to bind [::1]:p and netlabd would exit 1).
        conf = ('service one { protocol = "hello" port = %d address = { "127.0.0.1" }'
                ' message = "ONE" }\n'
                'service two { protocol = "hello" port = %d address = { "::1" }'
                ' message = "TWO" }\n' % (p, p))
        d = self.run_daemon(Activated(conf, ["127.0.0.1:%d" % p, "[::1]:%d" % p]))
        self.assertEqual(talk("127.0.0.1", p)[0], b"ONE\n")
        d.wait_log(r"netlabd \S+ started")
        self.assertEqual(talk("::1", p)[0], b"TWO\n")

    def test_unmatched_socket_logged_and_closed(self):
        p, p_none, p_named = nt.free_ports(3)
        d = self.run_daemon(Activated(
            'service hello { port = %d address = { "127.0.0.2" } }\n' % p,
            ["127.0.0.1:%d" % p, "127.0.0.1:%d" % p_none, "127.0.0.1:%d" % p_named],
            fdnames=["unknown", "unknown", "nosuch"]))
        self.assertEqual(talk("127.0.0.1", p)[0], b"HELLO\n")
        d.wait_log(r"passed socket 127\.0\.0\.1:%d .*matches no service.*clos" % p_none)
        d.wait_log(r"passed socket 127\.0\.0\.1:%d \(nosuch\) matches no service.*clos"
                   % p_named)
        self.assertEqual(listening(d.pid), {("127.0.0.1", p)})
        # Nobody else holds them here (systemd-socket-activate exec'ed netlabd).
        self.assertTrue(refused("127.0.0.1", p_none))
        self.assertTrue(refused("127.0.0.1", p_named))

    def test_datagram_socket_matches_udp_services_only(self):
        # A datagram socket on echo's port: echo is TCP, so it is not echo's;
        # echo binds its own stream socket, and the datagram one matches no one.
        p_udp, p_hello = nt.free_ports(2)
        d = self.run_daemon(Activated(
            'service hello { port = %d address = { "127.0.0.1" } }\n'
            'service echo { port = %d address = { "127.0.0.1" } }\n' % (p_hello, p_udp),
            ["127.0.0.1:%d" % p_udp], datagram=True))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"wake up\n", ("127.0.0.1", p_udp))
        d.wait_log(r"netlabd \S+ started", timeout=10)
        d.wait_log(r"passed socket 127\.0\.0\.1:%d \(udp\) \(\S+\) matches no service:"
                   r" closing it" % p_udp)
        self.assertEqual(talk("127.0.0.1", p_udp, b"tcp\n")[0], b"tcp\n")
        self.assertEqual(talk("127.0.0.1", p_hello)[0], b"HELLO\n")
        self.assertEqual(listening(d.pid), {("127.0.0.1", p_udp), ("127.0.0.1", p_hello)})

    def test_unused_datagram_socket_drops_and_summarizes(self):
        # A reload removes the UDP service of a passed datagram socket: systemd
        # keeps the socket, its datagrams are dropped, counted, and summarized.
        port, p_tcp = nt.free_ports(2)
        udp = ('service eu { protocol = echo transport = udp port = %d'
               ' address = { "127.0.0.1" } rate-limit = 0 }\n' % port)
        tcp = 'service hello { port = %d address = { "127.0.0.1" } }\n' % p_tcp
        d = self.run_daemon(Activated(udp + tcp, ["127.0.0.1:%d" % port], datagram=True))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(5 * nt.SLOW)
            u.sendto(b"one", ("127.0.0.1", port))
            d.wait_log(r"netlabd \S+ started", timeout=10)
            self.assertEqual(u.recv(10), b"one")
            d.write_conf(tcp)
            d.signal(signal.SIGHUP)
            d.wait_log(r"passed socket 127\.0\.0\.1:%d \(udp\) \(\S+\) no longer matches a"
                       r" service" % port)
            u.settimeout(0.5 * nt.SLOW)
            for _ in range(5):
                u.sendto(b"nobody", ("127.0.0.1", port))
            with self.assertRaises(socket.timeout):
                u.recv(10)
        # Never one line per datagram: one summary within the next 10 s.
        d.wait_log(r"^netlabd: dropped 5 datagrams in 10 s: 5 on passed sockets no service uses"
                   r" \(1 source\)$", timeout=15)
        self.assertEqual(talk("127.0.0.1", p_tcp)[0], b"HELLO\n")

    def test_datagram_socket_serves_the_udp_service(self):
        # ListenDatagram= on a port shared by a TCP and a UDP service: the
        # datagram socket is the UDP service's (by port), the TCP one binds.
        port, = nt.free_ports(1)
        d = self.run_daemon(Activated(
            'service echo { port = %d address = { "127.0.0.1" } }\n'
            'service echo-udp { protocol = echo transport = udp port = %d'
            ' address = { "127.0.0.2" } rate-limit = 0 }\n' % (port, port),
            ["127.0.0.1:%d" % port], datagram=True))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(5 * nt.SLOW)
            u.sendto(b"first\n", ("127.0.0.1", port))
            d.wait_log(r"netlabd \S+ started", timeout=10)
            # The datagram that started the daemon is answered, on the passed socket.
            self.assertEqual(u.recvfrom(100), (b"first\n", ("127.0.0.1", port)))
            u.sendto(b"again", ("127.0.0.1", port))
            self.assertEqual(u.recv(100), b"again")
        d.wait_log(r"^echo-udp: datagram from 127\.0\.0\.1, port=\d+$", count=2)
        self.assertEqual(talk("127.0.0.1", port, b"tcp\n")[0], b"tcp\n")
        self.assertNotIn("127.0.0.2", d.log())


@need_systemd
class HolderTest(unittest.TestCase):
    """Descriptors systemd-socket-activate cannot pass: a pipe, a socket that
    is bound but not listening, an AF_UNIX listener."""

    def test_not_listening_tcp_refused(self):
        p_hello, p_echo, p_bad = nt.free_ports(3)
        holder = sockholder.Holder()
        self.addCleanup(holder.close)
        rd, wr = os.pipe()
        self.addCleanup(os.close, rd)
        self.addCleanup(os.close, wr)
        holder.add_fd(rd, "echo")                                        # fd 3
        bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)       # fd 4
        self.addCleanup(bound.close)
        bound.bind(("127.0.0.1", p_bad))
        holder.add_fd(bound.fileno(), "echo")
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)        # fd 5
        self.addCleanup(unix.close)
        unix_dir = nt.tempfile.mkdtemp(prefix="netlabd-unix-")
        self.addCleanup(shutil.rmtree, unix_dir, True)
        unix.bind(os.path.join(unix_dir, "s"))
        unix.listen(8)
        holder.add_fd(unix.fileno(), "echo")
        holder.listen("127.0.0.1", p_hello, "hello")                    # fd 6
        conf = ('service hello { port = %d address = { "127.0.0.2" } }\n'
                'service echo { port = %d address = { "127.0.0.1" } }\n' % (p_hello, p_echo))
        d = HolderDaemon(conf, holder)
        self.addCleanup(d.stop)
        d.start()
        for fd in (3, 4, 5):
            d.wait_log(r"^netlabd: passed fd %d \(echo\) is not a listening TCP socket" % fd)
        d.wait_log(r"^netlabd: adopted 1 socket\(s\) from systemd$")
        self.assertEqual(talk("127.0.0.1", p_hello)[0], b"HELLO\n")
        self.assertEqual(talk("127.0.0.1", p_echo, b"own\n")[0], b"own\n")
        self.assertEqual(listening(d.pid), {("127.0.0.1", p_hello), ("127.0.0.1", p_echo)})
        # The refused descriptors were closed, not kept.
        held = set()
        for fd in os.listdir("/proc/%d/fd" % d.pid):
            try:
                held.add(os.readlink("/proc/%d/fd/%s" % (d.pid, fd)))
            except OSError:
                pass
        for what, obj in (("pipe", rd), ("socket", bound.fileno()), ("socket", unix.fileno())):
            self.assertNotIn("%s:[%d]" % (what, os.fstat(obj).st_ino), held)

    def test_reload_keeps_passed_sockets(self):
        p, q, p_echo, p_echo2, p_add = nt.free_ports(5)
        holder = sockholder.Holder()
        self.addCleanup(holder.close)
        holder.listen("127.0.0.1", p)                   # hello, by port
        holder.listen("127.0.0.1", q, "echo")           # echo, by name
        hello = 'service hello { port = %d address = { "127.0.0.2" } }\n' % p
        echo = 'service echo { port = %d address = { "127.0.0.2" } }\n'
        add = 'service add { port = %d address = { "127.0.0.1" } }\n' % p_add
        d = HolderDaemon(hello + echo % p_echo, holder)
        self.addCleanup(d.stop)
        d.start()
        self.assertEqual(talk("127.0.0.1", p)[0], b"HELLO\n")
        self.assertEqual(talk("127.0.0.1", q, b"a\n")[0], b"a\n")
        passed = {("127.0.0.1", p), ("127.0.0.1", q)}
        self.assertEqual(listening(d.pid), passed)

        # hello removed, echo moved to another port: the passed socket of
        # hello stays open but idle; echo keeps its socket, matched by name.
        d.write_conf(echo % p_echo2 + add)
        d.signal(signal.SIGHUP)
        d.wait_log(r"netlabd: reloaded ")
        d.wait_log(r"passed socket 127\.0\.0\.1:%d \(unnamed\) no longer matches a service:"
                   r" keeping it idle" % p)
        self.assertEqual(listening(d.pid), passed | {("127.0.0.1", p_add)})
        self.assertEqual(talk("127.0.0.1", q, b"b\n")[0], b"b\n")
        self.assertTrue(refused("127.0.0.2", p_echo2))
        # A client of the idle socket is not left hanging: accepted, closed at once,
        # and said so ...
        idle = nt.connect("127.0.0.1", p)
        self.addCleanup(idle.close)
        cport = idle.getsockname()[1]
        self.assertEqual(nt.recv_until_close(idle), (b"", "eof"))
        d.wait_log(r"^netlabd: closed a connection from 127\.0\.0\.1, port=%d on a passed"
                   r" socket no service uses$" % cport)

        # ... and hello is served again on the same socket once it is back.
        d.write_conf(hello + echo % p_echo)
        d.signal(signal.SIGHUP)
        d.wait_log(r"netlabd: reloaded ", count=2)
        self.assertEqual(talk("127.0.0.1", p)[0], b"HELLO\n")
        self.assertEqual(listening(d.pid), passed)
        self.assertTrue(refused("127.0.0.2", p))

    def test_broken_config_at_start_closes_pending(self):
        # systemd started netlabd because clients are waiting on its sockets;
        # with a broken config it must not leave them there, or systemd
        # starts it again at once for the same clients, in a tight loop.
        p, q, u = nt.free_ports(3)
        holder = sockholder.Holder()
        self.addCleanup(holder.close)
        holder.listen("127.0.0.1", p)
        holder.listen("127.0.0.1", q, "echo")
        holder.listen("127.0.0.1", u, "echo-udp", kind=socket.SOCK_DGRAM)
        pending = [nt.connect("127.0.0.1", port) for port in (p, p, q)]
        for s in pending:
            self.addCleanup(s.close)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.sendto(b"wake up\n", ("127.0.0.1", u))
        conf = ('service hello { port = %d address = { "127.0.0.1" } }\n'
                'service echo { port = %d address = { "127.0.0.1" } nosuch = 1 }\n' % (p, q))
        d = HolderDaemon(conf, holder)
        self.addCleanup(d.stop)
        d.start(wait=False)
        deadline = time.monotonic() + 10 * nt.SLOW
        while d.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(d.proc.poll(), 1, d.log())
        self.assertRegex(d.log(), r"(?m)^%s:2: " % re.escape(d.conf_path))
        self.assertRegex(d.log(), r"(?m)^netlabd: .*\b4 pending\b")
        # Every pending client was accepted and closed: none is left hanging.
        for s in pending:
            data, how = nt.recv_until_close(s)
            self.assertEqual(data, b"")
            self.assertIn(how, ("eof", "reset"))
        # The datagram was drained ...
        udp = holder.objs[2]
        udp.setblocking(False)
        with self.assertRaises(BlockingIOError):
            udp.recv(64)
        # ... and the borrowed sockets still listen (never shut down): a new
        # client waits in the backlog, as it would for the next start.
        late = nt.connect("127.0.0.1", p)
        self.addCleanup(late.close)
        self.assertFalse(nt.is_closed(late, timeout=0.3))


if __name__ == "__main__":
    nt.main()
