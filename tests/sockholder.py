"""sockholder - hold listening sockets as systemd does and start a daemon on them.

The holder creates the sockets and keeps them open for its whole life; each
daemon it spawns gets them as fds 3, 4, ... with LISTEN_FDS, LISTEN_PID (the
child's own pid, set after the fork) and LISTEN_FDNAMES, the protocol of
sd_listen_fds(3).  As a library (Holder) it is used in-process; as a program
it is a tiny service manager with Restart=always, used by the restart test:

    sockholder.py [--log FILE] [--restart-sec S] -l HOST:PORT[=NAME] ... -- COMMAND ARGS...

It prints "listen HOST PORT" per socket (PORT 0 picks a free one; an IPv6
wildcard is dual-stack), then "started PID" whenever it starts COMMAND and
"exited PID STATUS" when that ends; it starts COMMAND again S seconds
(default 0.1, systemd's RestartSec=) after each exit until it gets SIGTERM
or SIGINT, which it forwards to the running COMMAND before it exits.
"""
import fcntl
import os
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SD_LISTEN_FDS_START = 3


def parse_endpoint(text):
    """'127.0.0.1:80', '[::]:80' or '[::1]:80', optionally '=NAME' -> (host, port, name)."""
    name = None
    if "=" in text:
        text, name = text.split("=", 1)
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port), name


def listening_socket(host, port, v6only=None, kind=socket.SOCK_STREAM, backlog=128):
    """A bound (and, for TCP, listening) socket.  For an IPv6 host, v6only=False
    makes it dual-stack as systemd's ListenStream=PORT does; None keeps the
    kernel's default."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind((host, port))
    if kind == socket.SOCK_STREAM:
        s.listen(backlog)
    return s


def systemd_build(netlabd):
    """True when netlabd was built with libsystemd (socket activation, sd_notify).

    Decided from the build, never from the daemon's behaviour, so that a broken
    activation fails the tests instead of skipping them: the build's config.h
    when it is there, else the binary itself (the libsystemd symbols it calls).
    """
    build = os.environ.get("NETLAB_BUILDDIR", os.path.join(HERE, ".."))
    config_h = os.path.join(build, "config.h")
    if os.path.exists(config_h):
        with open(config_h) as f:
            return any(line.split()[:2] == ["#define", "HAVE_SYSTEMD"] for line in f)
    with open(netlabd, "rb") as f:
        return b"sd_listen_fds_with_names" in f.read()


class Holder:
    """Owns passed sockets (or any fds) and spawns daemons that inherit them."""

    def __init__(self):
        self.fds = []      # (fd, name); the holder keeps these open
        self.objs = []     # socket objects, kept alive

    def listen(self, host, port, name=None, v6only=None, kind=socket.SOCK_STREAM,
               backlog=128):
        s = listening_socket(host, port, v6only, kind, backlog)
        self.objs.append(s)
        self.fds.append((s.fileno(), name))
        return s

    def add_fd(self, fd, name=None):
        """Pass any fd (a pipe, a UDP socket...) the way systemd would pass a socket."""
        self.fds.append((fd, name))

    def close(self):
        for s in self.objs:
            s.close()
        self.objs = []
        self.fds = []

    def environ(self, pid, env):
        env = dict(env)
        env["LISTEN_FDS"] = str(len(self.fds))
        env["LISTEN_PID"] = str(pid)
        names = [n for _, n in self.fds]
        if any(n is not None for n in names):
            env["LISTEN_FDNAMES"] = ":".join(n or "unknown" for n in names)
        else:
            env.pop("LISTEN_FDNAMES", None)
        return env

    def spawn(self, argv, env=None, log_path=None):
        """fork + exec argv with the held fds at 3, 4, ...; returns the child's pid.

        stdout and stderr go (appended) to log_path, stdin is /dev/null.
        Call it from a process without threads (fork then exec only).
        """
        env = dict(os.environ if env is None else env)
        logfd = os.open(log_path or os.devnull, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        nullfd = os.open(os.devnull, os.O_RDONLY)
        pid = os.fork()
        if pid == 0:
            try:
                self._child(argv, env, logfd, nullfd)
            finally:
                os._exit(127)
        os.close(logfd)
        os.close(nullfd)
        return pid

    def _child(self, argv, env, logfd, nullfd):
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD,
                    signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        n = len(self.fds)
        # Copy everything above every descriptor in play first, so that no
        # dup2 below overwrites a descriptor that is still to be moved.
        base = max([fd for fd, _ in self.fds] + [logfd, nullfd, SD_LISTEN_FDS_START + n]) + 1
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, base) for fd, _ in self.fds]
        logfd = fcntl.fcntl(logfd, fcntl.F_DUPFD_CLOEXEC, base)
        nullfd = fcntl.fcntl(nullfd, fcntl.F_DUPFD_CLOEXEC, base)
        os.dup2(nullfd, 0)
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
        for i, fd in enumerate(moved):
            os.dup2(fd, SD_LISTEN_FDS_START + i, inheritable=True)
        os.closerange(SD_LISTEN_FDS_START + n, os.sysconf("SC_OPEN_MAX"))
        os.execve(argv[0], argv, self.environ(os.getpid(), env))


def main(args):
    """The program: hold sockets, run the command, start it again when it exits."""
    holder = Holder()
    log_path = None
    restart_sec = 0.1
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--log":
            log_path = args.pop(0)
        elif opt == "--restart-sec":
            restart_sec = float(args.pop(0))
        elif opt == "-l":
            host, port, name = parse_endpoint(args.pop(0))
            s = holder.listen(host, port, name, v6only=False if ":" in host else None,
                              backlog=4096)
            print("listen %s %d" % (host, s.getsockname()[1]), flush=True)
        else:
            sys.exit("sockholder: unknown option %s" % opt)
    argv = args[1:]
    if not argv:
        sys.exit(__doc__)

    sigs = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    # SIGCHLD must not be ignored, or the children are reaped behind our back.
    signal.signal(signal.SIGCHLD, lambda *_: None)
    pid = holder.spawn(argv, log_path=log_path)
    print("started %d" % pid, flush=True)
    stopping = False
    while True:
        info = signal.sigwaitinfo(sigs)
        if info.si_signo in (signal.SIGTERM, signal.SIGINT):
            stopping = True
            if pid:
                os.kill(pid, signal.SIGTERM)
            else:
                break
            continue
        while pid:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0:
                break
            print("exited %d %d" % (pid, os.waitstatus_to_exitcode(status)), flush=True)
            pid = 0
        if pid:
            continue
        if stopping:
            break
        time.sleep(restart_sec)
        pid = holder.spawn(argv, log_path=log_path)
        print("started %d" % pid, flush=True)
    holder.close()


if __name__ == "__main__":
    main(sys.argv[1:])
