"""What a run touches, by input section: the linker's map of a build (which input section sits
at which address) and valgrind's lackey trace of a run (which addresses it executes, loads and
stores). bench/layout.py places the code a run executes with it; bench/rodata.py measures the
read-only data a run reads.
"""

import bisect
import collections
import os
import re
import subprocess
import tempfile

import harness as h

Section = collections.namedtuple("Section", "at size name file output")


def input_sections(map_path, outputs):
    """[Section] of the input sections the linker placed in the named output sections, by
    address, read from its map (GNU ld's format)."""
    lines = open(map_path).read().splitlines()
    out, output = [], None
    for i, line in enumerate(lines):
        m = re.match(r"^(\.\S+)", line)
        if m:  # an output section
            output = m.group(1) if m.group(1) in outputs else None
            continue
        m = re.match(r"^ (\.\S+)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*))?$", line)
        if not (output and m):
            continue
        if m.group(2) is None:  # a long name: address, size and file on the next line
            m = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", lines[i + 1] if i + 1 < len(lines) else "")
            if not m:
                continue
            at, size, file = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
        else:
            at, size, file = int(m.group(2), 16), int(m.group(3), 16), m.group(4)
        if size:
            out.append(Section(at, size, line.split()[0], file, output))
    return sorted(out)


def accesses(binary, runs):
    """(kind, address) of every instruction (`I`) and data access (`L`, `S`, `M`) of `runs`
    ((argv, env) pairs, each set up before it is yielded) under valgrind's lackey, addresses
    relative to where the binary was loaded (its first instruction is its entry point)."""
    readelf = subprocess.run(["readelf", "-h", binary], capture_output=True, text=True, check=True).stdout
    entry = int(re.search(r"Entry point address:\s+0x([0-9a-f]+)", readelf).group(1), 16)
    for argv, env in runs:
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            log = os.path.join(d, "lackey")
            subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes", f"--log-file={log}", *argv],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = None
            with open(log) as f:
                for line in f:
                    kind = line[:2].strip()
                    if kind in ("I", "L", "S", "M"):
                        at = int(line[3:line.index(",")], 16)
                        if base is None:
                            base = at - entry
                        yield kind, at - base


def holding(secs, addresses):
    """Indices into `secs` (by address, as input_sections gives them) of the sections that hold
    any of `addresses`."""
    starts = [s.at for s in secs]
    held = set()
    for at in addresses:
        k = bisect.bisect_right(starts, at) - 1
        if k >= 0 and at < secs[k].at + secs[k].size:
            held.add(k)
    return held
