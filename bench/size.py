#!/usr/bin/env python3
"""Where the musl binary's bytes go, the tool next to the floor, by crate.

    python3 bench/size.py      (about a minute when the release builds are current)

Builds both musl release binaries with their symbols (same profile, not stripped; only the
crate roots relink), sums the sizes of the functions and data `nm` lists by the crate that
defines them (a generic function counts for the crate that defines it, not the one that
instantiates it; a symbol `nm` cannot attribute is "other"), and adds two figures the
size trade-offs in docs/performance.md rest on: the tool's simulator (`simulate`, `--demo`)
and the DER bytes of the bundled roots (webpki-roots' source, which holds them as byte
strings; that data has no symbol of its own). It leaves the stripped binaries in place.
"""

import argparse
import ast
import collections
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import layout  # noqa: E402


def by_crate(binary):
    """{crate: bytes} of a binary's symbols, and the bytes of the tool's simulator."""
    out = subprocess.run(["nm", "-S", "-C", binary], capture_output=True, text=True, check=True).stdout
    sizes, sim = collections.Counter(), 0
    for line in out.splitlines():
        p = line.split(None, 3)
        if len(p) < 4 or p[2] not in "tTrRdDwW":
            continue
        size, name = int(p[1], 16), p[3]
        m = re.match(r"^<?(?:&(?:mut )?)?(?:dyn )?([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name)
        sizes[m.group(1) if m else "other"] += size
        if re.match(r"^<?posteverywhere_wait::(sim|demo)::", name):
            sim += size
    return sizes, sim


def root_der_bytes():
    """Bytes of DER in the webpki-roots the tool is built with."""
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--locked"], cwd=h.ROOT,
                                     capture_output=True, text=True, check=True).stdout)
    pkg = next(p for p in meta["packages"] if p["name"] == "webpki-roots")
    with open(os.path.join(os.path.dirname(pkg["manifest_path"]), "src", "lib.rs")) as f:
        src = f.read()
    return sum(len(ast.literal_eval('b"' + m.group(1) + '"')) for m in re.finditer(r'b"((?:[^"\\]|\\.)*)"', src, re.S))


def main():
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    try:
        ours, floor = layout.with_symbols("ours"), layout.with_symbols("floor")
        a, sim = by_crate(ours)
        b, _ = by_crate(floor)
    finally:
        layout.stripped_again()
    shipped = {t: os.path.getsize(h.binary(layout.CRATES[t][1], h.MUSL)) for t in layout.CRATES}
    print(f"musl release binaries (stripped): posteverywhere-wait {shipped['ours']:,} bytes, "
          f"floor {shipped['floor']:,} bytes ({shipped['ours'] / shipped['floor']:.2f}×)\n")
    print("| crate | posteverywhere-wait | floor | difference |")
    print("|---|---|---|---|")
    for crate in sorted(set(a) | set(b), key=lambda c: -(a[c] - b[c]))[:15]:
        print(f"| {crate} | {a[crate] // 1024} KB | {b[crate] // 1024} KB | {(a[crate] - b[crate]) // 1024:+} KB |")
    print(f"\nof which the simulator (`simulate`, `--demo`): {sim // 1024} KB; "
          f"the bundled roots' DER (no symbol, in the binary's read-only data): {root_der_bytes() // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
