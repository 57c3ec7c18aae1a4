"""Signals and lifecycle of SPEC §6: reload, graceful shutdown, statistics."""
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402


def refused(host, port):
    try:
        nt.connect(host, port, timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def echo_roundtrip(s, data=b"ping\n"):
    s.sendall(data)
    return nt.recv_exact(s, len(data))


class Reload(unittest.TestCase):
    def reload(self, d, conf, n=1):
        d.write_conf(conf)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: (reloaded|reload failed)", count=n)

    def test_add_remove_move_change_while_connections_continue(self):
        p = nt.free_ports(4)
        d = nt.Daemon("""
service echo  { port = %d }
service hello { port = %d }
""" % (p[0], p[1])).start()
        try:
            open_conns = [nt.connect(h, p[0]) for h in nt.HOSTS]
            for s in open_conns:
                self.assertEqual(echo_roundtrip(s), b"ping\n")

            # echo moves to a new port with a new max-line, hello is removed, add is added
            self.reload(d, """
service echo { port = %d max-line = 4 }
service add  { port = %d }
""" % (p[2], p[3]))
            for h in nt.HOSTS:
                self.assertTrue(refused(h, p[0]), "old echo port still open on %s" % h)
                self.assertTrue(refused(h, p[1]), "removed hello still served on %s" % h)
                s = nt.connect(h, p[3])
                s.sendall(bytes.fromhex("000003e8000007d0"))
                self.assertEqual(nt.recv_exact(s, 8), bytes.fromhex("0000000000000bb8"))
                s.close()
                s = nt.connect(h, p[2])
                s.sendall(b"abcdefgh")   # new max-line = 4: echoed before a newline
                self.assertEqual(nt.recv_exact(s, 8), b"abcdefgh")
                s.close()
            # connections opened before the reload keep going, under their old settings
            for s in open_conns:
                s.sendall(b"abcdefgh")
                s.settimeout(0.3)
                with self.assertRaises(socket.timeout):
                    s.recv(8)    # old max-line 8192: still waiting for the newline
                s.settimeout(5)
                s.sendall(b"\n")
                self.assertEqual(nt.recv_exact(s, 9), b"abcdefgh\n")
                s.close()
            self.assertRegex(d.log(), r"(?m)^hello: removed$")
            self.assertRegex(d.log(), r"(?m)^add: added")
        finally:
            d.stop()
        self.assertEqual(d.returncode, 0)

    def test_broken_config_keeps_old_one(self):
        p = nt.free_port()
        d = nt.Daemon("service hello { port = %d }\n" % p).start()
        try:
            self.reload(d, "service hello { port = %d }\nservice echo {\n  port = 99999\n}\n" % p)
            self.assertRegex(d.log(), r"(?m)^%s:3: port 99999 out of range" % d.conf_path)
            self.assertRegex(d.log(), r"(?m)^netlabd: reload failed: keeping the old configuration$")
            for h in nt.HOSTS:
                self.assertEqual(nt.recv_all(nt.connect(h, p)), b"HELLO\n")
            # and a later good config still applies
            self.reload(d, 'service hello { port = %d message = "again" }\n' % p, n=2)
            self.assertEqual(nt.recv_all(nt.connect("127.0.0.1", p)), b"again\n")
        finally:
            d.stop()

    def test_rebind_address_list_change(self):
        p = nt.free_port()
        d = nt.Daemon('service hello { port = %d address = { "127.0.0.1" } }\n' % p).start()
        try:
            if "::1" in nt.HOSTS:
                self.assertTrue(refused("::1", p))
            self.reload(d, 'service hello { port = %d address = { "::1" } }\n' % p)
            self.assertTrue(refused("127.0.0.1", p))
            if "::1" in nt.HOSTS:
                self.assertEqual(nt.recv_all(nt.connect("::1", p)), b"HELLO\n")
        finally:
            d.stop()

    def test_disable_and_enable(self):
        p = nt.free_ports(2)
        conf = "service hello { port = %d enabled = %s }\nservice echo { port = %d }\n"
        d = nt.Daemon(conf % (p[0], "true", p[1])).start()
        try:
            self.reload(d, conf % (p[0], "false", p[1]))
            self.assertTrue(refused("127.0.0.1", p[0]))
            self.reload(d, conf % (p[0], "true", p[1]), n=2)
            self.assertEqual(nt.recv_all(nt.connect("127.0.0.1", p[0])), b"HELLO\n")
        finally:
            d.stop()


class Shutdown(unittest.TestCase):
    def test_sigterm_lets_open_connections_finish(self):
        p = nt.free_port()
        d = nt.Daemon("shutdown-timeout = 10\nservice echo { port = %d }\n" % p).start()
        s = nt.connect("127.0.0.1", p)
        self.assertEqual(echo_roundtrip(s), b"ping\n")
        d.signal(signal.SIGTERM)
        d.wait_log(r"^netlabd: \S+: stopping, 1 open connection")
        # no new connections...
        self.assertTrue(refused("127.0.0.1", p))
        # ...but the open one is still served until the client is done
        self.assertEqual(echo_roundtrip(s, b"still here\n"), b"still here\n")
        self.assertIsNone(d.proc.poll())
        s.sendall(b"tail")
        s.shutdown(socket.SHUT_WR)
        self.assertEqual(nt.recv_all(s), b"tail")
        s.close()
        self.assertEqual(d.wait(5), 0)

    def test_shutdown_timeout_closes_lingering_clients(self):
        p = nt.free_port()
        d = nt.Daemon("shutdown-timeout = 1\nservice echo { port = %d }\n" % p).start()
        s = nt.connect("::1" if "::1" in nt.HOSTS else "127.0.0.1", p)
        echo_roundtrip(s)
        t0 = time.monotonic()
        d.signal(signal.SIGINT)
        self.assertEqual(d.wait(10), 0)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 5 * nt.SLOW)
        self.assertTrue(nt.is_closed(s))
        self.assertIn("shutdown timeout: closing 1 open connection", d.log())

    def test_second_signal_exits_at_once(self):
        p = nt.free_port()
        d = nt.Daemon("shutdown-timeout = 60\nservice echo { port = %d }\n" % p).start()
        s = nt.connect("127.0.0.1", p)
        echo_roundtrip(s)
        d.signal(signal.SIGTERM)
        d.wait_log(r"stopping, 1 open connection")
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 3 * nt.SLOW)
        s.close()

    def test_idle_daemon_exits_0_promptly(self):
        d = nt.Daemon("service echo { port = %d }\n" % nt.free_port()).start()
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        self.assertEqual(d.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 2 * nt.SLOW)
        self.assertIn("netlabd: stopped", d.log())


class Statistics(unittest.TestCase):
    def test_sigusr1_line_per_service(self):
        p = nt.free_ports(2)
        d = nt.Daemon("""
service echo  { port = %d }
service hello { port = %d allow = { "10.0.0.0/8" } }
""" % (p[0], p[1])).start()
        try:
            for h in nt.HOSTS:
                s = nt.connect(h, p[0])
                s.sendall(b"12345\n")
                s.shutdown(socket.SHUT_WR)
                self.assertEqual(nt.recv_all(s), b"12345\n")
                s.close()
            held = nt.connect("127.0.0.1", p[0])
            echo_roundtrip(held, b"x\n")
            # hello allows only 10/8: loopback clients are refused
            s = nt.connect("127.0.0.1", p[1])
            self.assertTrue(nt.is_closed(s))
            s.close()
            d.wait_log(r"^hello: refused connection from 127\.0\.0\.1, port=\d+: denied by access list$")
            n = len(nt.HOSTS)
            d.signal(signal.SIGUSR1)
            d.wait_log(r"^hello: statistics:")
            self.assertRegex(d.log(), r"(?m)^echo: statistics: accepted=%d active=1 refused=0 "
                             r"bytes_in=%d bytes_out=%d$" % (n + 1, 6 * n + 2, 6 * n + 2))
            self.assertRegex(d.log(), r"(?m)^hello: statistics: accepted=0 active=0 refused=1 "
                             r"bytes_in=0 bytes_out=0$")
            held.close()
        finally:
            d.stop()


if __name__ == "__main__":
    nt.main()
