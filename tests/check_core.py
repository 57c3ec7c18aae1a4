"""check_core - the daemon's module boundaries, read from the object files' symbols.

Fails, naming the symbols, when
  - modules call each other in a circle (the graph of which object uses a
    symbol another defines has a cycle), or anything uses main.o;
  - an object other than proto/table.o refers to a protocol's descriptor:
    the core reaches protocols through the table only;
  - a protocol refers to the core beyond what a protocol may see: its
    buffers come from libevent and its options from libconfuse; of the
    daemon it may use only net/addr (peers), stats (the metrics view) and
    log, besides other files of proto/.
"""
import os
import re
import shutil
import subprocess
import sys

BUILD = os.environ.get("NETLAB_BUILDDIR", ".")
SRC = os.path.join(BUILD, "src")
PROTO_MAY_USE = ("net/addr", "stats", "log")


def modules():
    """{module: path} for every object of the daemon, named by its source path under src/."""
    mods = {}
    for root, _, files in os.walk(SRC):
        for f in files:
            m = re.match(r"^(?:libnetlabd_a|netlabd)-(.+)\.o$", f)
            if m:
                rel = os.path.relpath(os.path.join(root, m.group(1)), SRC)
                mods[rel] = os.path.join(root, f)
    return mods


def symbols(path):
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            used.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, used


def cycles(graph):
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main():
    if shutil.which("nm") is None:
        print("SKIP: nm not found")
        return 77
    mods = modules()
    if "main" not in mods or "session/conn" not in mods:
        print("FAIL: no daemon objects under %s (build first)" % SRC)
        return 1
    defs, uses = {}, {}
    for m, path in mods.items():
        defs[m], uses[m] = symbols(path)
    owner = {}
    for m, names in defs.items():
        for n in names:
            owner.setdefault(n, m)
    graph = {m: set() for m in mods}
    why = {}
    for m in mods:
        for n in uses[m]:
            o = owner.get(n)
            if o is not None and o != m:
                graph[m].add(o)
                why.setdefault((m, o), n)
    failures = []
    for comp in cycles(graph):
        edges = ["%s -> %s (%s)" % (a, b, why[(a, b)]) for a in comp for b in comp
                 if (a, b) in why]
        failures.append("modules call each other in a circle: %s" % "; ".join(edges))
    for m in mods:
        if "main" in graph[m]:
            failures.append("%s calls up into main (%s)" % (m, why[(m, "main")]))
    protos = {m for m in mods if m.startswith("proto/") and m != "proto/table"}
    descriptors = {n for m in protos for n in defs[m] if n.startswith("proto_")}
    for m in mods:
        if m == "proto/table":
            continue
        named = sorted(uses[m] & descriptors)
        if named:
            failures.append("%s refers to protocol descriptor(s) %s: only proto/table may"
                            % (m, ", ".join(named)))
    for m in sorted(protos):
        for o in sorted(graph[m]):
            if not o.startswith("proto/") and o not in PROTO_MAY_USE:
                failures.append("protocol %s uses %s (%s): a protocol sees buffers, its"
                                " options, its state and the peer only" % (m, o, why[(m, o)]))
    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print("ok: %d modules, no circle, protocols reached through proto/table only (%d descriptors)"
          % (len(mods), len(descriptors)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
