#!/usr/bin/env python3
"""Which read-only data a run reads, and what placing it would save: the figures behind
"Nor would placing read-only data move the ratio" in docs/performance.md.

    python3 bench/rodata.py     (about 3 minutes)

Each program's musl release binary is built as shipped with the linker's map beside it
(bench/layout.py's build; the stripped binaries are put back afterwards) and run under
valgrind's lackey through bench/layout.py's training runs; every address the runs load or
store is mapped through the linker map to the input section of `.rodata` that holds it.
Printed per program: the bytes read by kind of section, and the kB of `.rodata` in the 64 KB
windows that hold a read section (the kernel maps up to 64 KB of a file around each page
touched) for three orders: the linker's, the sections with names that a run reads first, and
also those it does not read last (anonymous constants, `.rodata..Lanon.<hash>.<n>`, have no
name that outlives a change of code, so they stay where they are). A read section counts as
read through. It is a simulation: the sections are packed without the alignment gaps the
linker leaves, and lackey does not see what the kernel reads on the program's behalf (the
bytes of a `write` straight from a constant).
"""

import argparse
import collections
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import layout  # noqa: E402
import linkmap  # noqa: E402


def kind(name):
    if ".Lanon." in name:
        return "anonymous constants"
    if re.match(r"\.rodata\.(str|cst)", name):
        return "merged strings and constants"
    return "named (statics, jump tables, C data)"


def resident(secs, order, read):
    """(windows, kB) of `.rodata` in the 64 KB windows holding a read section, laid out in `order`."""
    start = at = secs[0].at
    end = start + sum(s.size for s in secs)
    windows = set()
    for k in order:
        size = secs[k].size
        if k in read:
            windows.update(range(at >> 16, ((at + size - 1) >> 16) + 1))
        at += size
    return len(windows), sum(min((w + 1) << 16, end) - max(w << 16, start) for w in windows) // 1024


def report(tool, binary, map_path, server):
    secs = linkmap.input_sections(map_path, (".rodata",))
    runs = layout.training_runs(tool, binary, server, github=tool == "ours")
    read = linkmap.holding(secs, (a for op, a in linkmap.accesses(binary, runs) if op != "I"))
    by = collections.defaultdict(lambda: [0, 0])
    for k in read:
        by[kind(secs[k].name)][0] += 1
        by[kind(secs[k].name)][1] += secs[k].size
    total = sum(s.size for s in secs)
    print(f"\n{CRATE_NAMES[tool]}: .rodata {total // 1024} KB in {len(secs)} input sections; a run reads "
          f"{sum(v[1] for v in by.values()) // 1024} KB in {len(read)}:")
    for name, (n, size) in sorted(by.items()):
        print(f"  {name}: {n} sections, {size / 1024:.1f} KB")
    everything = list(range(len(secs)))
    named = {k for k in everything if kind(secs[k].name) != "anonymous constants"}
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
    server = h.Server()
    try:
        for tool in layout.CRATES:
            report(tool, *layout.map_build(tool), server)
    finally:
        layout.stripped_again()
    return 0


if __name__ == "__main__":
    sys.exit(main())
