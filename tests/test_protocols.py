"""The four protocols of SPEC §5 and the peer log lines of §4, over IPv4 and IPv6."""
import os
import re
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

CTIME = re.compile(rb"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
                   rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   rb"[ 123]\d \d\d:\d\d:\d\d \d{4}\r\n$")


def add_req(a, b):
    return struct.pack(">ii", a, b)


class Protocols(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        p = nt.free_ports(6)
        cls.port = dict(daytime=p[0], hello=p[1], echo=p[2], add=p[3], utc=p[4], greet=p[5])
        cls.d = nt.Daemon("""
service daytime { port = %(daytime)d }
service hello   { port = %(hello)d }
service echo    { port = %(echo)d  max-line = 64 }
service add     { port = %(add)d }
service utcday  { protocol = daytime port = %(utc)d utc = true format = "%%Y-%%m-%%dT%%H:%%M:%%SZ" }
service greet   { protocol = hello port = %(greet)d message = "Welcome, friend" }
""" % cls.port).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def talk(self, host, name, data=b"", half_close=True):
        s = nt.connect(host, self.port[name])
        if data:
            s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = nt.recv_all(s)
        s.close()
        return out

    def test_daytime_ctime_line_then_close(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = nt.connect(host, self.port["daytime"])
                line = nt.recv_all(s)   # the server closes: recv_all returns at EOF
                self.assertRegex(line, CTIME)
                # It is local time now, within a few seconds.
                t = time.mktime(time.strptime(line.decode().strip(), "%a %b %d %H:%M:%S %Y"))
                self.assertLess(abs(t - time.time()), 5)

    def test_daytime_utc_and_format(self):
        for host in nt.HOSTS:
            line = self.talk(host, "utc", half_close=False)
            self.assertRegex(line, rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\r\n$")
            t = time.strptime(line.decode().strip(), "%Y-%m-%dT%H:%M:%SZ")
            self.assertLess(abs(time.mktime(t) - time.mktime(time.gmtime())), 5)

    def test_daytime_ignores_input(self):
        # RFC 867: input is ignored; the line still arrives in full.
        s = nt.connect("127.0.0.1", self.port["daytime"])
        s.sendall(b"hello there\n")
        line = b""
        try:
            while True:
                chunk = s.recv(100)
                if not chunk:
                    break
                line += chunk
        except ConnectionResetError:
            pass
        s.close()
        self.assertRegex(line, CTIME)

    def test_hello(self):
        for host in nt.HOSTS:
            self.assertEqual(self.talk(host, "hello", half_close=False), b"HELLO\n")
            self.assertEqual(self.talk(host, "greet", half_close=False), b"Welcome, friend\n")

    def test_echo_lines_crlf_and_tail(self):
        data = b"one\r\ntwo\n\nthree with spaces \t\r\nunterminated tail"
        for host in nt.HOSTS:
            self.assertEqual(self.talk(host, "echo", data), data)

    def test_echo_keeps_connection_and_waits_for_newline(self):
        for host in nt.HOSTS:
            s = nt.connect(host, self.port["echo"])
            s.sendall(b"first\n")
            self.assertEqual(nt.recv_exact(s, 6), b"first\n")
            s.sendall(b"par")
            s.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                s.recv(10)   # an unfinished line is not echoed yet
            s.settimeout(5)
            s.sendall(b"tial\nnext\n")
            self.assertEqual(nt.recv_exact(s, 13), b"partial\nnext\n")
            s.close()

    def test_echo_pipelined(self):
        lines = b"".join(b"line %d\n" % i for i in range(2000))
        for host in nt.HOSTS:
            self.assertEqual(self.talk(host, "echo", lines), lines)

    def test_echo_split_reads(self):
        s = nt.connect("::1" if "::1" in nt.HOSTS else "127.0.0.1", self.port["echo"])
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for ch in b"split\n":
            s.send(bytes([ch]))
            time.sleep(0.01)
        self.assertEqual(nt.recv_exact(s, 6), b"split\n")
        s.close()

    def test_echo_long_line_in_pieces(self):
        # max-line is 64: a 10 000-byte line is echoed as it arrives, before its newline.
        s = nt.connect("127.0.0.1", self.port["echo"])
        s.sendall(b"x" * 10000)
        got = nt.recv_exact(s, 9000)
        self.assertEqual(got, b"x" * 9000)
        s.sendall(b"\n")
        rest = nt.recv_exact(s, 1001)
        self.assertEqual(rest, b"x" * 1000 + b"\n")
        s.close()

    def test_echo_binary_and_large(self):
        data = bytes(range(256)) * 4096 + b"\n"   # 1 MiB, every byte value
        self.assertEqual(self.talk("127.0.0.1", "echo", data), data)

    def test_add_seed_vector(self):
        for host in nt.HOSTS:
            self.assertEqual(self.talk(host, "add", bytes.fromhex("000003e8000007d0")),
                             bytes.fromhex("0000000000000bb8"))

    def test_add_extremes(self):
        cases = [(2147483647, 2147483647, 4294967294),
                 (-2147483648, -2147483648, -4294967296),
                 (2147483647, -2147483648, -1), (-5, 3, -2), (0, 0, 0)]
        for host in nt.HOSTS:
            s = nt.connect(host, self.port["add"])
            for a, b, want in cases:
                s.sendall(add_req(a, b))
                self.assertEqual(struct.unpack(">q", nt.recv_exact(s, 8))[0], want)
            s.close()

    def test_add_split_and_pipelined(self):
        import random
        rnd = random.Random(7)
        pairs = [(rnd.randint(-2**31, 2**31 - 1), rnd.randint(-2**31, 2**31 - 1))
                 for _ in range(5000)]
        req = b"".join(add_req(a, b) for a, b in pairs)
        for host in nt.HOSTS:
            s = nt.connect(host, self.port["add"])
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # one request split over three writes, then everything else in one go
            s.send(req[:3])
            time.sleep(0.02)
            s.send(req[3:7])
            time.sleep(0.02)
            s.sendall(req[7:])
            s.shutdown(socket.SHUT_WR)
            out = nt.recv_all(s)
            s.close()
            self.assertEqual(len(out), 8 * len(pairs))
            sums = struct.unpack(">%dq" % len(pairs), out)
            self.assertEqual(list(sums), [a + b for a, b in pairs])

    def test_add_truncated_request_logged(self):
        s = nt.connect("127.0.0.1", self.port["add"])
        port = s.getsockname()[1]
        s.sendall(add_req(1, 2) + b"\x00\x01\x02")
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(nt.recv_all(s), struct.pack(">q", 3))
        s.close()
        self.d.wait_log(r"^add: 127\.0\.0\.1, port=%d: truncated request: 3 of 8 bytes$" % port)

    def test_accept_log_lines_with_real_source_port(self):
        for host in nt.HOSTS:
            for name in ("daytime", "echo"):
                s = nt.connect(host, self.port[name])
                src = s.getsockname()[1]
                s.close()
                self.d.wait_log(r"^%s: accepted connection from %s, port=%d$"
                                % (name, re.escape(host), src))

    def test_two_services_same_protocol(self):
        # utcday and daytime, greet and hello: each with its own port and settings
        self.assertRegex(self.talk("127.0.0.1", "daytime", half_close=False), CTIME)
        self.assertNotRegex(self.talk("127.0.0.1", "utc", half_close=False), CTIME)
        s = nt.connect("127.0.0.1", self.port["greet"])
        src = s.getsockname()[1]
        nt.recv_all(s)
        s.close()
        self.d.wait_log(r"^greet: accepted connection from 127\.0\.0\.1, port=%d$" % src)


class IdleTimeout(unittest.TestCase):
    def test_idle_connections_closed_with_log_line(self):
        p = nt.free_ports(2)
        d = nt.Daemon("service echo { port = %d idle-timeout = 1 }\n"
                      "service add { port = %d idle-timeout = 0 }\n" % (p[0], p[1])).start()
        try:
            for host in nt.HOSTS:
                silent = nt.connect(host, p[0])          # never sends a byte
                talked = nt.connect(host, p[0])          # sends, then goes quiet
                talked.sendall(b"hi\n")
                self.assertEqual(nt.recv_exact(talked, 3), b"hi\n")
                busy = nt.connect(host, p[0])            # keeps talking: stays open
                forever = nt.connect(host, p[1])         # idle-timeout = 0: never closed
                for _ in range(6):
                    time.sleep(0.3)
                    busy.sendall(b"x\n")
                    self.assertEqual(nt.recv_exact(busy, 2), b"x\n")
                self.assertTrue(nt.is_closed(silent, 1))
                self.assertTrue(nt.is_closed(talked, 1))
                for s in (silent, talked):
                    d.wait_log(r"^echo: idle timeout, closing connection from %s, port=%d$"
                               % (re.escape(host), s.getsockname()[1]))
                    s.close()
                self.assertFalse(nt.is_closed(forever, 0.2))
                forever.sendall(bytes.fromhex("000003e8000007d0"))
                self.assertEqual(nt.recv_exact(forever, 8), bytes.fromhex("0000000000000bb8"))
                busy.close()
                forever.close()
        finally:
            d.stop()


class Addresses(unittest.TestCase):
    def test_one_socket_per_address_and_v6only(self):
        port = nt.free_port()
        d = nt.Daemon('service hello { port = %d address = { "127.0.0.1" } }\n' % port)
        with d:
            self.assertEqual(nt.recv_all(nt.connect("127.0.0.1", port)), b"HELLO\n")
            if "::1" in nt.HOSTS:
                with self.assertRaises(ConnectionRefusedError):
                    nt.connect("::1", port)
        if "::1" not in nt.HOSTS:
            return
        # IPv6 sockets are v6-only: "::" alone does not take IPv4 clients...
        d = nt.Daemon('service hello { port = %d address = { "::" } }\n' % port)
        with d:
            self.assertEqual(nt.recv_all(nt.connect("::1", port)), b"HELLO\n")
            with self.assertRaises(ConnectionRefusedError):
                nt.connect("127.0.0.1", port)
            # ...so another program can hold the IPv4 side of the same port.
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen()
            s.close()


if __name__ == "__main__":
    nt.main()
