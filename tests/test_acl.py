#!/usr/bin/env python3
"""Access control (SPEC §3): allow / deny CIDR lists for IPv4 and IPv6, deny
wins, an empty allow list allows all, IPv4-mapped prefixes and peers match as
IPv4; a denied client is closed before any byte is written, logged, and
counted as refused.
"""
import os
import re
import signal
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

V6 = "::1" in nt.HOSTS
DENIED = "denied by access list"

# service name -> (allow, deny, IPv4 sources allowed, IPv4 sources denied,
#                  ::1 allowed?)
CASES = {
    "allow_one": ('"127.0.0.2/32", "::1/128"', "",
                  ["127.0.0.2"], ["127.0.0.1", "127.0.0.3"], True),
    "deny_wins": ('"127.0.0.0/8", "::/0"', '"127.0.0.3", "::1"',
                  ["127.0.0.1", "127.0.0.2"], ["127.0.0.3"], False),
    "deny_only": ("", '"127.0.0.5/32"',
                  ["127.0.0.1", "127.0.0.4", "127.0.0.6"], ["127.0.0.5"], True),
    "open": ("", "", ["127.0.0.1", "127.0.0.9"], [], True),
    "v4_only": ('"127.0.0.0/8"', "", ["127.0.0.1", "127.255.0.1"], [], False),
    "v6_only": ('"::1/128"', "", [], ["127.0.0.1", "127.0.0.2"], True),
    "bits30": ('"127.0.0.0/30", "::/127"', "",
               ["127.0.0.1", "127.0.0.2", "127.0.0.3"], ["127.0.0.4", "127.0.0.7"], True),
    "bits_v6_miss": ('"::2/127", "2001:db8::/32"', "", [], ["127.0.0.1"], False),
    "deny_v6_64": ("", '"::/64"', ["127.0.0.1"], [], False),
    "deny_v4_net": ("", '"127.0.0.0/29"', ["127.0.0.8", "127.1.0.1"],
                    ["127.0.0.1", "127.0.0.7"], True),
    "mapped_allow": ('"::ffff:127.0.0.0/104"', "",
                     ["127.0.0.1", "127.0.0.3"], [], False),
    "mapped_deny": ("", '"::ffff:127.0.0.3/128"', ["127.0.0.2"], ["127.0.0.3"], True),
    "mapped_narrow": ('"::ffff:127.0.0.0/126"', "", ["127.0.0.1", "127.0.0.3"],
                      ["127.0.0.4"], False),
}


stats = nt.stats


def refused_rx(name, peer, port):
    return r"^%s: refused connection from %s, port=%d: %s$" % (
        re.escape(name), re.escape(peer), port, DENIED)


def accepted_rx(name, peer, port):
    return r"^%s: accepted connection from %s, port=%d$" % (re.escape(name), re.escape(peer), port)


class Acl(unittest.TestCase):
    def check(self, d, name, host, port, source, allowed, payload=b"HELLO\n", send=b""):
        # Only lines from here on: an earlier client may have had the same port.
        before = len(d.log())
        s = nt.connect(host, port, source=source)
        try:
            cport = s.getsockname()[1]
            if send:
                try:
                    s.sendall(send)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            data, how = nt.recv_until_close(s)
            closed = how != "open"
        finally:
            s.close()
        peer = source or host
        self.assertTrue(closed, "connection left open")
        if allowed:
            self.assertEqual(data, payload)
            d.wait_log(accepted_rx(name, peer, cport))
        else:
            self.assertEqual(data, b"", "a denied client got bytes")
            d.wait_log(refused_rx(name, peer, cport))
            self.assertNotRegex(d.log()[before:], re.compile(accepted_rx(name, peer, cport),
                                                             re.M))

    def test_allow_deny_lists(self):
        ports = dict(zip(CASES, nt.free_ports(len(CASES))))
        conf = "".join('service %s { protocol = "hello" port = %d address = { %s }'
                       ' allow = { %s } deny = { %s } }\n'
                       % (name, ports[name], ", ".join('"%s"' % h for h in nt.HOSTS),
                          allow, deny)
                       for name, (allow, deny, _, _, _) in CASES.items())
        with nt.Daemon(conf) as d:
            want = {}
            for name, (_, _, ok4, bad4, ok6) in CASES.items():
                acc = ref = 0
                with self.subTest(service=name):
                    for src in ok4 + bad4:
                        self.check(d, name, "127.0.0.1", ports[name], src, src in ok4)
                    acc, ref = len(ok4), len(bad4)
                    if V6:
                        self.check(d, name, "::1", ports[name], None, ok6)
                        acc, ref = acc + ok6, ref + (not ok6)
                want[name] = (acc, ref)
            for name, (acc, ref) in want.items():
                with self.subTest(service=name, what="statistics"):
                    st = stats(d, name)
                    # Refused connections count as refused, never as accepted.
                    self.assertEqual((st["accepted"], st["refused"], st["active"]),
                                     (acc, ref, 0))
                    self.assertEqual(st["bytes_out"], 6 * acc)

    def test_denied_clients_get_no_byte_from_any_protocol(self):
        pd, pe, pa = nt.free_ports(3)
        hosts = ", ".join('"%s"' % h for h in nt.HOSTS)
        conf = ("service daytime { port = %d address = { %s } allow = { \"127.0.0.2\" } }\n"
                "service echo { port = %d address = { %s } deny = { \"127.0.0.3\", \"::1\" } }\n"
                "service add { port = %d address = { %s } allow = { \"10.0.0.0/8\" } }\n"
                % (pd, hosts, pe, hosts, pa, hosts))
        with nt.Daemon(conf) as d:
            hosts = nt.HOSTS
            for host in hosts:
                src = "127.0.0.3" if host == "127.0.0.1" else None
                with self.subTest(host=host):
                    self.check(d, "daytime", host, pd, src, False)
                    self.check(d, "echo", host, pe, src, False, send=b"echo me\n")
                    self.check(d, "add", host, pa, src, False,
                               send=b"\0\0\3\xe8\0\0\7\xd0")
            # The allowed ones are served.
            s = nt.connect("127.0.0.1", pd, source="127.0.0.2")
            data, _ = nt.recv_until_close(s)
            s.close()
            self.assertTrue(data.endswith(b"\r\n") and len(data) > 10, data)
            s = nt.connect("127.0.0.1", pe, source="127.0.0.2")
            s.sendall(b"echo me\n")
            self.assertEqual(nt.recv_exact(s, 8), b"echo me\n")
            s.close()
            st = stats(d, "add")
            self.assertEqual((st["accepted"], st["refused"], st["bytes_in"]),
                             (0, len(hosts), 0))
            st = stats(d, "echo")
            self.assertEqual((st["accepted"], st["refused"], st["bytes_out"]),
                             (1, len(hosts), 8))

    def test_deny_checked_before_limits(self):
        # A denied client is refused for the access list even when the
        # service is full, and does not take a slot from anyone.
        # The one slot is on an address of its own: a client of another test
        # run in parallel, aiming at 127.0.0.1 on a port that was free when it
        # chose it, cannot take it.
        port, = nt.free_ports(1)
        host = "127.0.0.61"
        conf = ('service echo { port = %d address = { "%s" } max-connections = 1'
                ' deny = { "127.0.0.3" } }\n' % (port, host))
        with nt.Daemon(conf) as d:
            held = nt.connect(host, port, source="127.0.0.2")
            held.sendall(b"x\n")
            self.assertEqual(nt.recv_exact(held, 2), b"x\n")
            self.check(d, "echo", host, port, "127.0.0.3", False)
            held.close()
            for _ in range(5):
                self.check(d, "echo", host, port, "127.0.0.3", False)
            s = nt.connect(host, port, source="127.0.0.4")
            try:
                s.sendall(b"y\n")
                self.assertEqual(nt.recv_exact(s, 2), b"y\n")
            except OSError as e:
                self.fail("the freed slot was not given to 127.0.0.4 (%r); log:\n%s"
                          % (e, d.log()))
            finally:
                s.close()
            st = stats(d, "echo")
            self.assertEqual((st["accepted"], st["refused"]), (2, 6))

    def test_reload_changes_acl(self):
        port, = nt.free_ports(1)
        hosts = ", ".join('"%s"' % h for h in nt.HOSTS)
        conf = 'service hello { port = %d address = { %s } deny = { %s } }\n'
        with nt.Daemon(conf % (port, hosts, '"127.0.0.3"')) as d:
            self.check(d, "hello", "127.0.0.1", port, "127.0.0.3", False)
            self.check(d, "hello", "127.0.0.1", port, "127.0.0.4", True)
            d.write_conf(conf % (port, hosts, '"127.0.0.4", "::1"'))
            d.signal(signal.SIGHUP)
            d.wait_log(r"^netlabd: reloaded ")
            self.check(d, "hello", "127.0.0.1", port, "127.0.0.3", True)
            self.check(d, "hello", "127.0.0.1", port, "127.0.0.4", False)
            if V6:
                self.check(d, "hello", "::1", port, None, False)

    def test_bad_prefixes_are_config_errors(self):
        for bad in ('"127.0.0.1/33"', '"::1/129"', '"127.0.0.1/24"', '"10.0.0.0/-1"',
                    '"fe80::1%lo"', '"nonsense"', '"127.0.0/8"', '""'):
            for opt in ("allow", "deny"):
                with self.subTest(opt=opt, prefix=bad):
                    rc, out, err, path = nt.run_check(
                        "service hello {\n  port = 12345\n  %s = { %s }\n}\n" % (opt, bad))
                    self.assertEqual(rc, 1, err)
                    self.assertRegex(err, r"^%s:\d+: " % re.escape(path))


@unittest.skipUnless(V6, "no IPv6")
class MappedPeer(unittest.TestCase):
    """A dual-stack [::] socket (as systemd passes for ListenStream=PORT) sees
    IPv4 clients as ::ffff:a.b.c.d: they must match IPv4 prefixes."""

    WRAP = ("import os, sys\n"
            "fd = int(os.environ.pop('NL_PASS_FD'))\n"
            "if fd != 3:\n"
            "    os.dup2(fd, 3)\n"
            "    os.close(fd)\n"
            "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1',"
            " LISTEN_FDNAMES='mapped')\n"
            "os.execv(sys.argv[1], sys.argv[1:])\n")

    def test_ipv4_mapped_peer_matches_ipv4_prefixes(self):
        with open(nt.NETLABD, "rb") as f:
            if b"sd_listen_fds_with_names" not in f.read():
                self.skipTest("netlabd built without socket activation")
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("::", 0))
        ls.listen(64)
        port = ls.getsockname()[1]
        conf = ('service mapped { protocol = "hello" port = %d'
                ' allow = { "127.0.0.0/30" } deny = { "::ffff:127.0.0.3" } }\n' % port)
        d = nt.Daemon(conf, env={"NL_PASS_FD": str(ls.fileno())},
                      wrapper=[sys.executable, "-c", self.WRAP] + nt.WRAPPER)
        d.start(pass_fds=(ls.fileno(),))
        ls.close()
        try:
            if not re.search(r"adopted 1 socket", d.log()):
                self.skipTest("netlabd built without socket activation")
            t = Acl("check")
            for src, ok in (("127.0.0.1", True), ("127.0.0.2", True),
                            ("127.0.0.3", False), ("127.0.0.4", False)):
                with self.subTest(source=src):
                    # Logged as plain IPv4 either way (SPEC §4).
                    t.check(d, "mapped", "127.0.0.1", port, src, ok)
            with self.subTest(source="::1"):
                t.check(d, "mapped", "::1", port, None, False)
        finally:
            d.stop()


if __name__ == "__main__":
    nt.main()
