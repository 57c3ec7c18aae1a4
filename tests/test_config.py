"""The command line of SPEC §2 and every config error class of §3, as FILE:LINE: messages."""
import os
import re
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

SRCDIR = os.environ.get("NETLAB_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))

# (name, config text, line of the error, part of the message)
ERRORS = [
    ("unknown option", "# c\nservice echo {\n  colour = 1\n}\n", 3, "no such option 'colour'"),
    ("unknown top-level option", "verbose = 1\nservice echo {}\n", 1, "no such option 'verbose'"),
    ("bad value", "\n\nservice echo { port = \"seven\" }\n", 3,
     "invalid integer value for option 'port'"),
    ("bad bool", "service echo {\n enabled = maybe }\n", 2, "enabled"),
    ("port too high", "service echo {\n port = 65536\n}\n", 2, "port 65536 out of range (1 to 65535)"),
    ("port zero", "service echo {\n port = 0\n}\n", 2, "port 0 out of range"),
    ("negative port", "service echo {\n port = -13\n}\n", 2, "out of range"),
    ("unknown protocol", "service x {\n  protocol = \"gopher\"\n}\n", 2, "unknown protocol 'gopher'"),
    ("no protocol", "\nservice thing {\n port = 9\n}\n", 2, "service 'thing': no protocol"),
    ("bad address", "service echo {\n address = { \"0.0.0.0\", \"localhost\" }\n}\n", 2,
     "bad address 'localhost'"),
    ("bad v6 address", "service echo {\n address = { \"::1::2\" }\n}\n", 2, "bad address '::1::2'"),
    ("bad prefix", "service echo {\n allow = { \"10.0.0.0/40\" }\n}\n", 2,
     "bad prefix '10.0.0.0/40' in allow"),
    ("prefix host bits", "service echo {\n deny = { \"2001:db8::1/32\" }\n}\n", 2,
     "bad prefix '2001:db8::1/32' in deny"),
    ("duplicate name", "service echo {}\n\nservice echo { port = 7 }\n", 3,
     "duplicate title 'echo'"),
    ("same port same address", "service a { protocol = echo port = 7000 }\n"
     "service b { protocol = add\n  port = 7000 }\n", 3, "service 'b': 0.0.0.0:7000 overlaps"),
    ("wildcard and specific", "service a { protocol = echo port = 7000 address = { \"::1\" } }\n"
     "service b {\n protocol = add\n port = 7000\n address = { \"::\" } }\n", 4,
     "overlaps [::1]:7000 of service 'a'"),
    ("wildcard and specific in one service", "service echo {\n port = 7000\n"
     " address = { \"0.0.0.0\", \"127.0.0.1\" }\n}\n", 3, "address '127.0.0.1' overlaps '0.0.0.0'"),
    ("address listed twice", "service echo {\n address = { \"::1\", \"::1\" }\n}\n", 2,
     "address '::1' overlaps '::1'"),
    ("ipv4-mapped listen address", "service echo {\n address = { \"::ffff:127.0.0.1\" }\n}\n", 2,
     "write an IPv4-mapped address as IPv4"),
    ("daytime format with a newline", "service daytime {\n format = \"%H%n%M\"\n}\n", 2,
     "format must be"),
    ("daytime format too long", "service daytime {\n format = \"%s%%B\"\n}\n" % ("x" * 248), 2,
     "format must be"),
    ("no service enabled", "service echo {\n enabled = false\n}\n", 3, "no service enabled"),
    ("empty file", "", 1, "no service enabled"),
    ("option of another protocol", "service echo {\n  message = \"hi\"\n}\n", 2,
     "option 'message' does not apply to protocol 'echo'"),
    ("unknown user", "user = \"no-such-user-xyz\"\nservice echo {}\n", 1, "unknown user 'no-such-user-xyz'"),
    ("unknown group", "\ngroup = \"no-such-group-xyz\"\nservice echo {}\n", 2,
     "unknown group 'no-such-group-xyz'"),
    ("bad log level", "log-level = \"chatty\"\nservice echo {}\n", 1, "unknown log-level 'chatty'"),
    ("newline in a value stays on one log line", "log-level = \"de\nbug\"\nservice echo {}\n", 2,
     "unknown log-level 'de?bug'"),
    ("max-connections zero", "max-connections = 0\nservice echo {}\n", 1, "max-connections 0 out of range"),
    ("negative idle-timeout", "service echo {\n idle-timeout = -5 }\n", 2, "idle-timeout -5 out of range"),
    ("max-line too big", "service echo {\n max-line = 99999999 }\n", 2, "max-line 99999999 out of range (1 to 1048576)"),
    ("unclosed section", "service echo {\n port = 7\n", 1, "'{' is never closed"),
    ("syntax error", "service echo {\n port = = 7\n}\n", 2, ""),
    ("empty option name", "\n\"\" = 5\nservice echo { port = 7 }\n", 2, "syntax error"),
    ("empty option name in a section", "service echo {\n port = 7\n \"\" = 5 }\n", 3,
     "syntax error"),
    ("comments before error", "#\n#\n// c++ comment\n/* block\n comment */\n"
     "service echo { # trailing\n  port = 99999 // here\n}\n", 7, "out of range"),
]


class ConfigErrors(unittest.TestCase):
    def test_each_error_class(self):
        for name, text, line, msg in ERRORS:
            with self.subTest(name):
                rc, out, err, path = nt.run_check(text)
                self.assertEqual(rc, 1, err)
                first = err.splitlines()[0] if err else ""
                self.assertTrue(first.startswith("%s:%d: " % (path, line)),
                                "want %s:%d: ..., got %r" % (path, line, err))
                self.assertIn(msg, first)

    def test_startup_with_bad_config_exits_1_and_binds_nothing(self):
        port = nt.free_port()
        rc, out, err, path = nt.run_check(
            "service hello { port = %d }\nservice echo {\n bogus = 1 }\n" % port, args=())
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"^%s:3: no such option 'bogus'" % re.escape(path))

    def test_valid_config_test_mode(self):
        rc, out, err, path = nt.run_check("service echo { port = 7 }\n")
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")

    def test_listen_units(self):
        # The socket lines systemd needs, from the config's own endpoints.
        conf = ('service echo { port = 7 address = { "127.0.0.1", "::" } }\n'
                'service off { protocol = hello port = 8 enabled = false }\n'
                'service add { }\n')
        rc, out, err, path = nt.run_check(conf, args=("-t", "--listen-units"))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            "ListenStream=127.0.0.1:7", "ListenStream=[::]:7",
            "ListenStream=0.0.0.0:54321", "ListenStream=[::]:54321"])
        rc, out, err, path = nt.run_check("service echo { port = 0 }\n",
                                          args=("-t", "--listen-units"))
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("%s:1: " % path, err)
        rc, out, err, path = nt.run_check(conf, args=("--listen-units",))
        self.assertEqual(rc, 1)
        self.assertIn("--listen-units needs -t", err)
        # A generator runs it at boot, maybe before a directory service answers:
        # users and groups are not looked up (plain -t still checks them).
        named = 'user = "no-such-user-xyz"\ngroup = "no-such-group-xyz"\n' + conf
        rc, out, err, path = nt.run_check(named, args=("-t", "--listen-units"))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(len(out.splitlines()), 4)
        rc, out, err, path = nt.run_check(named)
        self.assertEqual(rc, 1)
        # UDP services give ListenDatagram= lines.
        rc, out, err, path = nt.run_check(
            'service u { protocol = echo transport = udp port = 9 address = { "::1" } }\n',
            args=("-t", "--listen-units"))
        self.assertEqual((rc, out), (0, "ListenDatagram=[::1]:9\n"))

    def test_shipped_config_is_valid(self):
        with open(os.path.join(SRCDIR, "etc", "netlabd.conf")) as f:
            rc, out, err, path = nt.run_check(f.read())
        self.assertEqual(rc, 0, err)

    def test_missing_config_file_named(self):
        p = subprocess.run([nt.NETLABD, "-t", "-c", "/nonexistent/netlabd.conf"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"/nonexistent/netlabd.conf", p.stderr)
        self.assertIn(b"No such file or directory", p.stderr)


class CommandLine(unittest.TestCase):
    def run_nd(self, *args):
        return subprocess.run([nt.NETLABD] + list(args), capture_output=True, timeout=10,
                              stdin=subprocess.DEVNULL)

    def test_version(self):
        for flag in ("-V", "--version"):
            p = self.run_nd(flag)
            self.assertEqual(p.returncode, 0)
            self.assertRegex(p.stdout.decode(), r"^netlabd \d+\.\d+\.\d+\n$")

    def test_help(self):
        for flag in ("-h", "--help"):
            p = self.run_nd(flag)
            self.assertEqual(p.returncode, 0)
            for opt in ("-c", "--config", "-t", "--test", "-d", "--debug", "-V", "-h"):
                self.assertIn(opt, p.stdout.decode())

    def test_bad_option(self):
        p = self.run_nd("--frobnicate")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"usage", p.stderr)

    def test_long_config_and_test_options(self):
        rc, out, err, path = nt.run_check("service echo { port = 7 }\n", args=("--test",))
        self.assertEqual(rc, 0)
        p = self.run_nd("--config", path, "--test")
        self.assertEqual(p.returncode, 0)

    def test_port_in_use_is_a_startup_error(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out, err, path = nt.run_check(
            'service echo { port = %d address = { "127.0.0.1" } }\n' % port, args=())
        s.close()
        self.assertEqual(rc, 1)
        self.assertIn("echo: cannot listen on 127.0.0.1:%d: bind: Address already in use" % port, err)

    def test_debug_flag_logs_debug_lines(self):
        port = nt.free_port()
        conf = 'log-level = "err"\nservice echo { port = %d address = { "127.0.0.1" } }\n' % port
        d = nt.Daemon(conf, args=["-d"])
        with d:
            self.assertIn("echo: listening on 127.0.0.1:%d" % port, d.log())

    def test_log_level_filters(self):
        port = nt.free_port()
        d = nt.Daemon('log-level = "notice"\nservice hello { port = %d address = { "127.0.0.1" } }\n'
                      % port)
        d.start(wait=False)
        try:
            for _ in range(100):
                try:
                    s = nt.connect("127.0.0.1", port)
                    break
                except ConnectionRefusedError:
                    import time
                    time.sleep(0.05)
            self.assertEqual(nt.recv_all(s), b"HELLO\n")
            s.close()
        finally:
            d.stop()
        self.assertNotIn("accepted connection", d.log())
        self.assertEqual(d.returncode, 0)


if __name__ == "__main__":
    nt.main()
