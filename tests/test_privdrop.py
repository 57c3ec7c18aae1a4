#!/usr/bin/env python3
"""Privilege drop (SPEC §3 user/group, issue 5): started as root with `user`
(and `group`) set, netlabd opens every listener — ports below 1024 too — and
then runs as that user: real, effective, saved and filesystem ids, only the
configured group, no capabilities.  An unknown user or group is a config error.
Needs root: skipped (77) otherwise.
"""
import grp
import os
import pwd
import re
import subprocess
import signal
import socket
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netlabtest as nt  # noqa: E402

USER = "nobody"


def low_ports(n):
    """n ports in 1000-1023 that nothing listens on, on IPv4 and IPv6 loopback."""
    found = []
    for port in range(1000, 1024):
        try:
            for fam, host in [(socket.AF_INET, "127.0.0.1")] + \
                    ([(socket.AF_INET6, "::1")] if "::1" in nt.HOSTS else []):
                s = socket.socket(fam, socket.SOCK_STREAM)
                try:
                    s.bind((host, port))
                finally:
                    s.close()
        except OSError:
            continue
        found.append(port)
        if len(found) == n:
            return found
    raise unittest.SkipTest("no free port in 1000-1023")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.split()
    return out


def other_group(not_gid):
    """A group other than not_gid and root's, to show group= wins over the primary one."""
    for name in ("nogroup", "daemon", "users", "staff"):
        try:
            g = grp.getgrnam(name)
        except KeyError:
            continue
        if g.gr_gid not in (0, not_gid):
            return g
    return None


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PrivDrop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            cls.pw = pwd.getpwnam(USER)
        except KeyError:
            raise unittest.SkipTest("no user %s" % USER)

    def start(self, conf):
        d = nt.Daemon(conf)
        # The config and its folder stay readable after the drop, as
        # /etc/netlabd.conf is, so that a reload can read it.
        os.chmod(d.dir, 0o755)
        os.chmod(d.conf_path, 0o644)
        d.start()
        self.addCleanup(d.stop)
        return d

    def assert_ids(self, d, uid, gid):
        st = proc_status(d.pid)
        self.assertEqual(st["Uid"], [str(uid)] * 4, "real, effective, saved, fs uid")
        self.assertEqual(st["Gid"], [str(gid)] * 4, "real, effective, saved, fs gid")
        self.assertEqual(st["Groups"], [str(gid)], "supplementary groups")
        # Nothing left to regain root with.
        self.assertEqual(int(st["CapEff"][0], 16), 0, "effective capabilities")
        self.assertEqual(int(st["CapPrm"][0], 16), 0, "permitted capabilities")

    def hosts_conf(self):
        return ", ".join('"%s"' % h for h in nt.HOSTS)

    def served(self, port):
        for host in nt.HOSTS:
            with socket.create_connection((host, port), timeout=5 * nt.SLOW) as s:
                self.assertEqual(nt.recv_all(s), b"HELLO\n", host)

    def test_drop_to_user_and_group(self):
        g = grp.getgrnam("nogroup") if "nogroup" in [x.gr_name for x in grp.getgrall()] \
            else grp.getgrgid(self.pw.pw_gid)
        low, = low_ports(1)
        high, = nt.free_ports(1)
        d = self.start('user = "%s"\ngroup = "%s"\n'
                       'service hello { port = %d address = { %s } }\n'
                       'service echo { port = %d address = { %s } }\n'
                       % (USER, g.gr_name, low, self.hosts_conf(), high, self.hosts_conf()))
        self.assert_ids(d, self.pw.pw_uid, g.gr_gid)
        self.assertRegex(d.log(), re.compile(
            r"^netlabd: running as user %s \(uid %d, gid %d\)$"
            % (USER, self.pw.pw_uid, g.gr_gid), re.M))
        self.served(low)
        for host in nt.HOSTS:
            s = nt.connect(host, high)
            s.sendall(b"hi\n")
            self.assertEqual(nt.recv_exact(s, 3), b"hi\n")
            s.close()
        # The listeners outlive a reload: the low port is still served,
        # though the daemon could not bind it again.
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reloaded ")
        self.served(low)
        self.assert_ids(d, self.pw.pw_uid, g.gr_gid)
        d.stop()
        self.assertEqual(d.returncode, 0, d.log())

    def test_reload_cannot_bind_a_new_low_port(self):
        # After the drop a reload cannot bind below 1024: it says which
        # listener failed, the reload fails as a whole, and everything it
        # already had keeps serving.
        low, low2 = low_ports(2)
        conf = 'user = "%s"\nservice hello { port = %d address = { "127.0.0.1" } }\n' % (USER, low)
        d = self.start(conf)
        d.write_conf(conf + 'service daytime { port = %d address = { "127.0.0.1" } }\n' % low2)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^daytime: cannot listen on 127\.0\.0\.1:%d: bind: Permission denied$" % low2)
        d.wait_log(r"^netlabd: reload failed: a listener could not be opened: keeping the old"
                   r" configuration$")
        with socket.create_connection(("127.0.0.1", low), timeout=5 * nt.SLOW) as s:
            self.assertEqual(nt.recv_all(s), b"HELLO\n")
        self.assertIsNone(d.proc.poll())

    def test_group_defaults_to_users_primary_group(self):
        low, = low_ports(1)
        d = self.start('user = "%s"\nservice hello { port = %d address = { %s } }\n'
                       % (USER, low, self.hosts_conf()))
        self.assert_ids(d, self.pw.pw_uid, self.pw.pw_gid)
        self.served(low)

    def test_group_other_than_primary(self):
        g = other_group(self.pw.pw_gid)
        if g is None:
            self.skipTest("no second group to use")
        low, = low_ports(1)
        d = self.start('user = "%s"\ngroup = "%s"\nservice hello { port = %d address = { %s } }\n'
                       % (USER, g.gr_name, low, self.hosts_conf()))
        self.assert_ids(d, self.pw.pw_uid, g.gr_gid)
        self.served(low)

    def test_dropped_daemon_cannot_open_root_files(self):
        low, = low_ports(1)
        d = self.start('user = "%s"\nservice hello { port = %d address = { %s } }\n'
                       % (USER, low, self.hosts_conf()))
        # After the drop, a root-only (0600) config cannot be read: a reload
        # from one fails and the old config stays.
        secret = os.path.join(d.dir, "root-only.conf")
        with open(d.conf_path) as f, open(secret, "w") as g:
            g.write(f.read())
        os.chmod(secret, stat.S_IRUSR | stat.S_IWUSR)
        os.rename(d.conf_path, d.conf_path + ".orig")
        os.symlink(secret, d.conf_path)
        d.signal(signal.SIGHUP)
        d.wait_log(r"^netlabd: reload failed: keeping the old configuration$")
        self.served(low)

    def test_root_without_user_says_so(self):
        port, = nt.free_ports(1)
        d = self.start('service hello { port = %d address = { %s } }\n'
                       % (port, self.hosts_conf()))
        self.assertRegex(d.log(), re.compile(
            r"^netlabd: running as root; set user to drop privileges$", re.M))
        self.assertEqual(proc_status(d.pid)["Uid"], ["0"] * 4)
        self.served(port)

    def test_not_started_as_root_stays_and_says_so(self):
        # Started unprivileged with user set to someone else: it cannot switch,
        # says so, and serves as the user it is.
        other = "daemon" if "daemon" in [p.pw_name for p in pwd.getpwall()] else None
        if other is None:
            self.skipTest("no user daemon")
        port, = nt.free_ports(1)
        uid, gid = self.pw.pw_uid, self.pw.pw_gid

        def become_nobody():
            os.setgroups([gid])
            os.setgid(gid)
            os.setuid(uid)
        # A build tree under a private (0700) directory is out of nobody's reach.
        if subprocess.run(["test", "-x", nt.NETLABD], preexec_fn=become_nobody,
                          timeout=10).returncode != 0:
            self.skipTest("%s is not reachable for uid %d" % (nt.NETLABD, uid))
        d = nt.Daemon('user = "%s"\nservice hello { port = %d address = { %s } }\n'
                      % (other, port, self.hosts_conf()), preexec=become_nobody)
        os.chmod(d.dir, 0o755)
        os.chmod(d.conf_path, 0o644)
        d.start()
        self.addCleanup(d.stop)
        self.assertRegex(d.log(), re.compile(
            r"^netlabd: not started as root: cannot switch to user %s, staying uid %d$"
            % (other, uid), re.M))
        self.assertEqual(proc_status(d.pid)["Uid"], [str(uid)] * 4)
        self.served(port)

    def test_unknown_user_is_a_config_error(self):
        for extra, what in (('user = "no-such-user-x1"\n', "user 'no-such-user-x1'"),
                            ('user = "%s"\ngroup = "no-such-group-x1"\n' % USER,
                             "group 'no-such-group-x1'")):
            conf = extra + "service hello { port = 12345 }\n"
            line = extra.count("\n")
            for args in (["-t"], []):
                with self.subTest(what=what, args=args):
                    rc, out, err, path = nt.run_check(conf, args=args)
                    self.assertEqual(rc, 1, out + err)
                    self.assertRegex(err, re.compile(r"^%s:%d: unknown %s$"
                                                     % (re.escape(path), line, re.escape(what)),
                                                     re.M))
                    self.assertNotIn("started", err)


if __name__ == "__main__":
    nt.main()
