"""The classic small services of SPEC section 12 over TCP, IPv4 and IPv6: discard (RFC 863),
chargen (RFC 864), time (RFC 868)."""
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402


class Discard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = nt.free_port()
        cls.d = nt.Daemon("service discard { port = %d address = { %s } }\n"
                          % (cls.port, ", ".join('"%s"' % h for h in nt.HOSTS))).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_reads_everything_answers_nothing(self):
        sent = 0
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = nt.connect(host, self.port)
                for _ in range(50):
                    s.sendall(b"x" * 20000 + b"\n")
                    sent += 20001
                # Nothing comes back while the client talks, and the connection stays.
                s.settimeout(0.3 * nt.SLOW)
                with self.assertRaises(socket.timeout):
                    s.recv(1)
                s.sendall(b"more\n")
                sent += 5
                # The client closes its side: the server closes too, having said nothing.
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(nt.recv_until_close(s), (b"", "eof"))
                s.close()
        deadline = time.monotonic() + 5 * nt.SLOW
        while True:
            st = nt.stats(self.d, "discard")
            if st["bytes_in"] == sent or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual((st["bytes_in"], st["bytes_out"], st["active"]), (sent, 0, 0))

    def test_logged_like_any_service(self):
        s = nt.connect("127.0.0.1", self.port)
        port = s.getsockname()[1]
        self.d.wait_log(r"^discard: accepted connection from 127\.0\.0\.1, port=%d$" % port)
        s.close()


def chargen_pattern(nlines, first=0):
    """RFC 864: 72 of the 95 printable characters and CRLF, each line one later."""
    ring = bytes(range(0x20, 0x7f))
    out = []
    for n in range(first, first + nlines):
        start = (1 + n) % 95
        out.append((ring * 2)[start:start + 72] + b"\r\n")
    return b"".join(out)


class Chargen(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = nt.free_port()
        cls.d = nt.Daemon("service chargen { port = %d address = { %s } }\n"
                          % (cls.port, ", ".join('"%s"' % h for h in nt.HOSTS))).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_pattern_exact(self):
        # Three cycles of 95 lines and then some: the ring wraps exactly.
        want = chargen_pattern(95 * 3 + 40)
        self.assertTrue(want.startswith(b'!"#$%&\'()*+,-./0123'))
        self.assertEqual(want[74:76], b'"#')
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = nt.connect(host, self.port)
                got = nt.recv_exact(s, len(want))
                self.assertEqual(got, want)
                # What the client sends is ignored; the stream goes on.
                s.sendall(b"stop please\n")
                self.assertEqual(len(nt.recv_exact(s, 100000)), 100000)
                s.close()

    def test_client_close_ends_it(self):
        s = nt.connect("127.0.0.1", self.port)
        nt.recv_exact(s, 1000)
        port = s.getsockname()[1]
        s.close()
        self.d.wait_log(r"^chargen: accepted connection from 127\.0\.0\.1, port=%d$" % port)
        deadline = time.monotonic() + 5 * nt.SLOW
        while nt.stats(self.d, "chargen")["active"] != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(nt.stats(self.d, "chargen")["active"], 0)

    @unittest.skipIf(nt.RSS_OFF, "RSS says nothing under valgrind or AddressSanitizer")
    def test_non_reading_clients_bounded(self):
        # Clients that never read: each holds at most the high-water mark, not an
        # endless stream; the daemon stays small and serves others.
        nt.own_nofile(2000)
        before = self.d.rss_kib()
        held = []
        try:
            for _ in range(300):
                s = nt.connect("127.0.0.1", self.port)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                held.append(s)
            time.sleep(2 * nt.SLOW)
            rss = self.d.rss_kib()
            print("\nchargen: RSS %d KiB before, %d KiB with 300 non-reading clients"
                  % (before, rss), file=sys.stderr)
            self.assertLess(rss, 64 * 1024)
            other = nt.connect("::1" if "::1" in nt.HOSTS else "127.0.0.1", self.port)
            self.assertEqual(nt.recv_exact(other, 7030), chargen_pattern(95))
            other.close()
        finally:
            for s in held:
                s.close()


class ChargenIdle(unittest.TestCase):
    """idle-timeout closes a client that neither sends nor reads: a chargen
    client that only reads is not idle, one that stops reading is."""
    IDLE = 2

    @classmethod
    def setUpClass(cls):
        cls.port = nt.free_port()
        cls.d = nt.Daemon("service chargen { port = %d address = { %s } idle-timeout = %d }\n"
                          % (cls.port, ", ".join('"%s"' % h for h in nt.HOSTS),
                             cls.IDLE)).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_reading_client_is_not_idle(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                before = self.d.log().count("idle timeout")
                s = nt.connect(host, self.port)
                end = time.monotonic() + (2 * self.IDLE + 1) * nt.SLOW
                got = 0
                while time.monotonic() < end:
                    got += len(nt.recv_exact(s, 4096))
                    time.sleep(0.01)
                # Still streaming, and the daemon said nothing of a timeout.
                self.assertEqual(len(nt.recv_exact(s, 7030)), 7030)
                self.assertEqual(self.d.log().count("idle timeout"), before)
                s.close()

    def test_non_reading_client_is_idle(self):
        s = nt.connect("127.0.0.1", self.port)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        port = s.getsockname()[1]
        self.d.wait_log(r"^chargen: accepted connection from 127\.0\.0\.1, port=%d$" % port)
        # Past the idle timeout with nothing read, the daemon closes it.
        self.d.wait_log(r"^chargen: idle timeout, closing connection from 127\.0\.0\.1, port=%d$"
                        % port, timeout=self.IDLE + 5)
        self.assertEqual(nt.stats(self.d, "chargen")["active"], 0)
        s.close()


RFC868_EPOCH = 2208988800   # seconds from 1900-01-01 to 1970-01-01


class Time(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = nt.free_port()
        cls.d = nt.Daemon("service time { port = %d address = { %s } }\n"
                          % (cls.port, ", ".join('"%s"' % h for h in nt.HOSTS))).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_four_bytes_then_close(self):
        for host in nt.HOSTS:
            with self.subTest(host=host):
                s = nt.connect(host, self.port)
                data, how = nt.recv_until_close(s)
                s.close()
                self.assertEqual(how, "eof")
                self.assertEqual(len(data), 4)
                t = struct.unpack(">I", data)[0]
                # Seconds since 1900, modulo 2^32 (it wraps in 2036).
                now = (int(time.time()) + RFC868_EPOCH) % (1 << 32)
                self.assertLessEqual(abs(t - now), 2)

    def test_input_ignored(self):
        s = nt.connect("127.0.0.1", self.port)
        s.sendall(b"what time is it?\n")
        data, how = nt.recv_until_close(s)
        s.close()
        self.assertEqual(len(data), 4)
        self.assertIn(how, ("eof", "reset"))


if __name__ == "__main__":
    nt.main()
