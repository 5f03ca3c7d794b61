#!/usr/bin/env python3
"""Which read-only data a run reads, and what placing it would save: the figures behind
"Nor would placing read-only data move the ratio" in docs/performance.md.

    python3 bench/rodata.py     (about 5 minutes: two musl builds in their own target folder)

Each program's musl release binary is linked with a linker map (in its own target folder, so
the shipped builds stay as they are) and run under valgrind's lackey through bench/layout.py's
training runs; every address the runs load or store is mapped through the linker map to the
input section of `.rodata` that holds it. Printed per program: the bytes read by kind of
section, and the kB of `.rodata` in the 64 KB windows that hold a read section (the kernel
maps up to 64 KB of a file around each page touched) for three orders: the linker's, the
sections with names that a run reads first, and also those it does not read last (anonymous
constants, `.rodata..Lanon.<hash>.<n>`, have no name that outlives a change of code, so they
stay where they are). A read section counts as read through.
"""

import argparse
import bisect
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import layout  # noqa: E402


def input_sections(map_path):
    """[(address, size, name)] of the input sections of `.rodata`, from a GNU ld map."""
    lines = open(map_path).read().splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(".rodata "))
    out = []
    for i in range(i + 1, len(lines)):
        if re.match(r"^\.\S", lines[i]):  # the next output section
            break
        m = re.match(r"^ (\.\S+)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s)?", lines[i])
        if not m:
            continue
        if m.group(2) is None:  # a long name: the address and size are on the next line
            m2 = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s", lines[i + 1])
            if not m2:
                continue
            at, size = int(m2.group(1), 16), int(m2.group(2), 16)
        else:
            at, size = int(m.group(2), 16), int(m.group(3), 16)
        if at and size:
            out.append((at, size, m.group(1)))
    return sorted(out)


def kind(name):
    if ".Lanon." in name:
        return "anonymous constants"
    if re.match(r"\.rodata\.(str|cst)", name):
        return "merged strings and constants"
    return "named (statics, jump tables, C data)"


def addresses(tool, binary, server):
    """Data addresses the training runs touch, relative to the binary's load address."""
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", subprocess.run(
        ["readelf", "-h", binary], capture_output=True, text=True, check=True).stdout).group(1), 16)
    seen = set()
    for argv, env in layout.training_runs(tool, binary, server, github=tool == "ours"):
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            log = os.path.join(d, "lackey")
            subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={log}", *argv],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = None
            with open(log) as f:
                for line in f:
                    if base is None and line.startswith("I "):  # the first instruction is the entry point
                        base = int(line[2:].split(",")[0], 16) - entry
                    elif base is not None and line[:2] in (" L", " S", " M"):
                        seen.add(int(line[3:].split(",")[0], 16) - base)
    return seen


def resident(secs, order, read):
    """(windows, kB) of `.rodata` in the 64 KB windows holding a read section, laid out in `order`."""
    start = at = secs[0][0]
    end = start + sum(size for _, size, _ in secs)
    windows = set()
    for k in order:
        size = secs[k][1]
        if k in read:
            windows.update(range(at >> 16, ((at + size - 1) >> 16) + 1))
        at += size
    return len(windows), sum(min((w + 1) << 16, end) - max(w << 16, start) for w in windows) // 1024


def report(tool, binary, map_path, server):
    secs = input_sections(map_path)
    starts = [at for at, _, _ in secs]
    read = set()
    for a in addresses(tool, binary, server):
        k = bisect.bisect_right(starts, a) - 1
        if k >= 0 and a < secs[k][0] + secs[k][1]:
            read.add(k)
    by = collections.defaultdict(lambda: [0, 0])
    for k in read:
        by[kind(secs[k][2])][0] += 1
        by[kind(secs[k][2])][1] += secs[k][1]
    total = sum(size for _, size, _ in secs)
    print(f"\n{CRATE_NAMES[tool]}: .rodata {total // 1024} KB in {len(secs)} input sections; a run reads "
          f"{sum(v[1] for v in by.values()) // 1024} KB in {len(read)}:")
    for name, (n, size) in sorted(by.items()):
        print(f"  {name}: {n} sections, {size / 1024:.1f} KB")
    everything = list(range(len(secs)))
    named = {k for k in everything if kind(secs[k][2]) != "anonymous constants"}
    first = [k for k in everything if k in read and k in named]
    last = [k for k in everything if k not in read and k in named]
    rest = [k for k in everything if k not in first]
    middle = [k for k in rest if k not in last]
    for label, order in (("the linker's order", everything), ("named sections read first", first + rest),
                         ("and those not read last", first + middle + last)):
        windows, kb = resident(secs, order, read)
        print(f"  {label}: {windows} windows, {kb} kB")


CRATE_NAMES = {tool: name for tool, (_, name) in layout.CRATES.items()}


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    for tool in ("valgrind", "readelf"):
        if not shutil.which(tool):
            sys.exit(f"bench/rodata.py needs {tool}")
    os.makedirs(h.OUT, exist_ok=True)
    target = os.path.join(layout.LAYOUT_DIR, "rodata")
    server = h.Server()
    for tool in layout.CRATES:
        map_path = os.path.join(target, f"{tool}.map")
        binary = layout.musl_build(tool, target, [f"-Clink-arg=-Wl,-Map={map_path}"], CARGO_PROFILE_RELEASE_STRIP="false")
        report(tool, binary, map_path, server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
