"""The classic small services of SPEC section 12 over TCP, IPv4 and IPv6: discard (RFC 863)."""
import os
import socket
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


if __name__ == "__main__":
    nt.main()
