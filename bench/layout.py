#!/usr/bin/env python3
"""Code layout: the linker script that places the functions a run executes first
(layout/executed.ld, passed by build.rs on Linux), and what it does to peak RSS.

    python3 bench/layout.py --write     regenerate layout/executed.ld (about 2 minutes)
    python3 bench/layout.py --check     fail if the executed code has drifted out of it (CI)
    python3 bench/layout.py [--runs N]  the experiment: peak RSS with and without (~10 minutes)

Most of a static binary's RSS is its code: the kernel maps up to 64 KB of a file around each
page a run touches, so RSS follows how widely the running code is spread. The tool's musl
release binary is run under callgrind (a one-poll run, a five-poll run and a GitHub Actions
run against the scripted API of bench/run.py), the functions that executed are listed, and
each becomes a section pattern without the hash its symbol name carries (so the script stays
valid across versions, targets and flags) in a linker script that INSERTs an output section
`.text.executed`, holding those functions, BEFORE `.text`.

--check builds the same binary with symbols (only the crate root relinks), runs the training
runs, and fails when the executed code outside `.text.executed` falls in more than --windows
64 KB windows of the binary (each can cost up to 64 KB of RSS), naming the functions outside. It rebuilds the stripped binary afterwards. The experiment
compares the tool as shipped, the tool linked without the script (PEW_LINK_LAYOUT=off), the
floor as shipped, and the floor given a script made the same way.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import run as bench  # noqa: E402

LAYOUT_DIR = os.path.join(h.TARGET_DIR, "layout")
SCRIPT = os.path.join(h.ROOT, "layout", "executed.ld")
SECTION = ".text.executed"
CRATES = {"ours": (h.ROOT, "posteverywhere-wait"), "floor": (os.path.join(h.ROOT, "bench", "floor"), "pew-floor")}


def musl_build(tool, target_dir, rustflags=(), **env):
    """Builds `tool`'s musl release binary with extra rustflags and environment (also
    bench/pgo.py's builds); returns its path."""
    crate, name = CRATES[tool]
    env = dict(os.environ, CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=" ".join(rustflags), **env)
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--target", h.MUSL,
                    "--manifest-path", os.path.join(crate, "Cargo.toml"), "--target-dir", target_dir],
                   env=env, check=True)
    return os.path.join(target_dir, h.MUSL, "release", name)


def training_runs(tool, binary, server):
    """(argv, env) of the runs a layout or profile is learnt from: a one-poll and a five-poll
    run, and for the tool a two-poll run as a GitHub Actions step (outputs, summary). Each sets
    the server's script before it is yielded (also bench/pgo.py's training)."""
    runs = [(1, False), (5, False)] + ([(2, True)] if tool == "ours" else [])
    for polls, github in runs:
        server.play(bench.last_pending_until(lambda post, k, at: k >= polls - 1))
        env = h.environment(tool, server, ["p1"], 0.002, 600, 60000)
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            if github:
                env.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=os.path.join(d, "output"),
                           GITHUB_STEP_SUMMARY=os.path.join(d, "summary"))
            yield h.command(tool, {tool: binary}, server, ["p1"], 0.002, ("polls", polls)), env


def executed(tool, binary, server):
    """Mangled names of the functions the training runs execute (the binary has symbols)."""
    names = set()
    for argv, env in training_runs(tool, binary, server):
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            out = os.path.join(d, "cg")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", *argv],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                for line in f:
                    m = re.match(r"c?fn=\(\d+\) (\S+)", line)
                    if m and not m.group(1).startswith(("0x", "(")):
                        names.add(re.sub(r"'\d+$", "", m.group(1)))
    return sorted(names)


def pattern(name):
    """A section pattern for a function, without what changes between builds: the hash of a
    legacy symbol (`17h<16 hex>E`), the crate disambiguators (`Cs…_`) and back-references
    (`B…_`, offsets that move with them) of a v0 symbol. `$` (legacy escapes) becomes `?`: the
    linkers read it as a character of their own. C functions keep their names. `.text*.`
    also matches `.text.unlikely.`, where LLVM puts functions marked cold (a vector's growth,
    a table's rehash)."""
    if name.startswith("_ZN"):
        name = re.sub(r"17h[0-9a-f]{16}E$", "17h*", name)
    elif name.startswith("_R"):
        name = re.sub(r"(Cs|B)[0-9A-Za-z]*_", r"\1*_", name)
    return ".text*." + name.replace("$", "?")


def script(names, made_by):
    """The linker script for a list of executed functions."""
    seen, lines = set(), []
    for n in names:
        p = pattern(n)
        if p not in seen:
            seen.add(p)
            lines.append(f"    *({p})")
    head = (f"/* Generated by {made_by}: the functions a polling run executes, placed ahead of\n"
            "   the rest of .text so the code a run touches sits together (see build.rs). */\n")
    return head + "SECTIONS\n{\n  " + SECTION + " :\n  {\n" + "\n".join(lines) + "\n  }\n}\nINSERT BEFORE .text;\n"


def coverage(binary, names):
    """(share of the executed functions' bytes inside SECTION, the 64 KB windows of the binary
    that executed code outside it falls in, [(size, name) outside it])."""
    lo = hi = None
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.search(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) == SECTION:
            lo = int(m.group(2), 16)
            hi = lo + int(m.group(3), 16)
    if lo is None:
        sys.exit(f"{binary}: no {SECTION} section (was it linked without layout/executed.ld?)")
    where = {}
    for line in subprocess.run(["nm", "-S", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            where[p[3]] = (int(p[0], 16), int(p[1], 16))
    inside, outside, windows = 0, [], set()
    for n in names:
        if n in where:
            at, size = where[n]
            if lo <= at < hi:
                inside += size
            else:
                outside.append((size, n))
                windows.update(range(at >> 16, ((at + max(size, 1) - 1) >> 16) + 1))
    total = inside + sum(s for s, _ in outside)
    return inside / total if total else 0.0, len(windows), sorted(outside, reverse=True)


def with_symbols():
    """The tool's shipped musl build, with its symbols (only the crate root relinks)."""
    return musl_build("ours", h.TARGET_DIR, CARGO_PROFILE_RELEASE_STRIP="false")


def demangle(names):
    return subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()


def write(server):
    if not os.path.exists(SCRIPT):  # build.rs needs one to link; an empty section is dropped
        os.makedirs(os.path.dirname(SCRIPT), exist_ok=True)
        with open(SCRIPT, "w") as f:
            f.write(script([], "bench/layout.py --write"))
    names = executed("ours", with_symbols(), server)
    with open(SCRIPT, "w") as f:
        f.write(script(names, "bench/layout.py --write"))
    share, windows, _ = coverage(with_symbols(), names)  # relinked: build.rs reruns when the script changes
    print(f"wrote {os.path.relpath(SCRIPT, h.ROOT)}: {len(names)} functions executed, "
          f"{100 * share:.1f} % of their bytes now in {SECTION}, the rest in {windows} 64 KB windows")
    musl_build("ours", h.TARGET_DIR)


def check(server, most):
    binary = with_symbols()
    names = executed("ours", binary, server)
    share, windows, outside = coverage(binary, names)
    musl_build("ours", h.TARGET_DIR)  # the stripped binary again, for whatever runs next
    print(f"{len(names)} functions executed by the training runs: {100 * share:.1f} % of their bytes in "
          f"{SECTION}, the rest in {windows} 64 KB windows of the binary (at most {most} allowed)")
    if windows > most:
        for (size, _), d in zip(outside[:20], demangle([n for _, n in outside[:20]])):
            print(f"  outside: {size:6} bytes  {d[:150]}")
        print("layout/executed.ld is stale: run `python3 bench/layout.py --write` and commit it", file=sys.stderr)
        return 1
    return 0


def experiment(server, runs):
    _, bins = bench.build(argparse.Namespace(quick=True, no_build=False))
    os.makedirs(LAYOUT_DIR, exist_ok=True)
    bins["ours@without"] = musl_build("ours", os.path.join(LAYOUT_DIR, "off"), PEW_LINK_LAYOUT="off")
    floor_syms = musl_build("floor", LAYOUT_DIR, CARGO_PROFILE_RELEASE_STRIP="false")
    floor_script = os.path.join(LAYOUT_DIR, "floor.ld")
    with open(floor_script, "w") as f:
        f.write(script(executed("floor", floor_syms, server), "bench/layout.py"))
    bins["floor@ordered"] = musl_build("floor", os.path.join(LAYOUT_DIR, "ordered"),
                                       [f"-Clink-arg=-Wl,-T,{floor_script}"])
    res = bench.startup(server, bins, list(bins), runs)
    rss = {v: res[v]["rss_mb"] for v in bins}
    print(f"Peak RSS of a one-poll run, musl, max of {runs} runs:\n")
    print("| layout | posteverywhere-wait | floor | ours ÷ floor as shipped |")
    print("|---|---|---|---|")
    print(f"| compiler's order (ours: PEW_LINK_LAYOUT=off) | {rss['ours@without']:.2f} MiB | {rss['floor']:.2f} MiB "
          f"| {rss['ours@without'] / rss['floor']:.2f}× |")
    print(f"| as shipped (ours: executed functions first) | {rss['ours']:.2f} MiB | {rss['floor']:.2f} MiB "
          f"| {rss['ours'] / rss['floor']:.2f}× |")
    print(f"| both with executed functions first | {rss['ours']:.2f} MiB | {rss['floor@ordered']:.2f} MiB "
          f"| {rss['ours'] / rss['floor@ordered']:.2f}× (÷ ordered floor) |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate layout/executed.ld")
    mode.add_argument("--check", action="store_true", help="fail if layout/executed.ld is stale")
    ap.add_argument("--windows", type=int, default=4,
                    help="--check: most 64 KB windows that executed code outside the section may touch (default 4)")
    ap.add_argument("--runs", type=int, default=30, help="experiment: runs per binary for peak RSS (default 30)")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("bench/layout.py needs valgrind (Debian: apt-get install valgrind)")
    os.makedirs(h.OUT, exist_ok=True)
    server = h.Server()
    if args.write:
        return write(server) or 0
    if args.check:
        return check(server, args.windows)
    return experiment(server, args.runs)


if __name__ == "__main__":
    sys.exit(main())
