#!/usr/bin/env python3
"""How much of peak RSS is code layout: the tool and the floor, as shipped and re-linked with
the functions a run executes placed together.

    python3 bench/layout.py [--runs N]      (about 10 minutes on 2 cores; needs ld.lld)

Most of a static binary's RSS is its code: the kernel maps 64 KB of a file around each page a
run touches, so RSS follows how widely the code that runs is spread. This script builds the
musl release binaries of both programs a second time, linked by lld with a symbol ordering
file: each is run under callgrind (a one-poll run and a five-poll run against the scripted API
of bench/run.py), the functions that executed are listed, and the binary is linked again with
them first. It then prints peak RSS (max of N runs, alternating) for the four binaries. The
ordered builds are an experiment, not what ships (see docs/performance.md): symbol names carry
hashes that change with versions and flags, so the list would have to be made at every build.
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
CRATES = {"ours": (h.ROOT, "posteverywhere-wait"), "floor": (os.path.join(h.ROOT, "bench", "floor"), "pew-floor")}


def musl_build(tool, target_dir, rustflags, **env):
    """Builds `tool`'s musl release binary with extra rustflags in its own target folder (also
    bench/pgo.py's builds)."""
    crate, name = CRATES[tool]
    env = dict(os.environ, CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=" ".join(rustflags), **env)
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--target", h.MUSL,
                    "--manifest-path", os.path.join(crate, "Cargo.toml"), "--target-dir", target_dir],
                   env=env, check=True)
    return os.path.join(target_dir, h.MUSL, "release", name)


def training_runs(tool, binary, server):
    """(argv, env) of the runs a layout or profile is learnt from, a one-poll and a five-poll
    run; each sets the server's script before it is yielded (also bench/pgo.py's training)."""
    for polls in (1, 5):
        server.play(bench.last_pending_until(lambda post, k, at: k >= polls - 1))
        yield (h.command(tool, {tool: binary}, server, ["p1"], 0.002, ("polls", polls)),
               h.environment(tool, server, ["p1"], 0.002, 600, 60000))


def cargo(tool, order_file):
    """Builds `tool` for musl with lld and the ordering file (symbols kept for training)."""
    crate = CRATES[tool][0]
    flags = ["-Clink-arg=-fuse-ld=lld", f"-Clink-arg=-Wl,--symbol-ordering-file={order_file}",
             "-Clink-arg=-Wl,--no-warn-symbol-ordering"]
    # The ordering file is read at link time only: touching the crate root relinks the
    # program without changing a symbol name (the file's path, in the flags, stays the same).
    os.utime(os.path.join(crate, "src", "main.rs"))
    return musl_build(tool, LAYOUT_DIR, flags, CARGO_PROFILE_RELEASE_STRIP="false")


def executed(tool, binary, server):
    """Mangled names of the functions a one-poll and a five-poll run execute."""
    names = set()
    for argv, env in training_runs(tool, binary, server):
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            out = os.path.join(d, "cg")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", *argv],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                for line in f:
                    m = re.match(r"c?fn=\(\d+\) (\S+)", line)
                    if m and not m.group(1).startswith("0x"):
                        names.add(re.sub(r"'\d+$", "", m.group(1)))
    return sorted(names)


def ordered(tool, server):
    """The tool's musl binary linked with the functions its runs execute placed first."""
    order_file = os.path.join(LAYOUT_DIR, f"{tool}.order")
    open(order_file, "w").close()
    binary = cargo(tool, order_file)
    names = executed(tool, binary, server)
    with open(order_file, "w") as f:
        f.write("\n".join(names) + "\n")
    binary = cargo(tool, order_file)
    out = os.path.join(LAYOUT_DIR, f"{tool}.ordered")
    subprocess.run(["strip", "-o", out, binary], check=True)
    return out, len(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="runs per binary for peak RSS (default 30)")
    args = ap.parse_args()
    if not shutil.which("ld.lld") or not shutil.which("valgrind"):
        sys.exit("bench/layout.py needs ld.lld and valgrind (Debian: apt-get install lld valgrind)")
    os.makedirs(LAYOUT_DIR, exist_ok=True)
    _, bins = bench.build(argparse.Namespace(quick=True, no_build=False))
    server = h.Server()
    counts = {}
    for tool in ("ours", "floor"):
        bins[tool + "@ordered"], counts[tool] = ordered(tool, server)
    res = bench.startup(server, bins, list(bins), args.runs)
    rss = {v: res[v]["rss_mb"] for v in bins}
    print(f"Peak RSS of a one-poll run, musl, max of {args.runs} runs (functions executed: "
          f"ours {counts['ours']}, floor {counts['floor']}):\n")
    print("| layout | posteverywhere-wait | floor | ours ÷ floor |")
    print("|---|---|---|---|")
    for label, suffix in (("as shipped (GNU ld, compiler's order)", ""), ("executed functions first (lld)", "@ordered")):
        a, b = rss["ours" + suffix], rss["floor" + suffix]
        print(f"| {label} | {a:.2f} MiB | {b:.2f} MiB | {a / b:.2f}× |")
    print(f"| ordered tool ÷ floor as shipped | | | {rss['ours@ordered'] / rss['floor']:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
