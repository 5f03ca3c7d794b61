#!/usr/bin/env python3
"""What profile-guided optimisation does to the tool and the floor: size, peak RSS and
instructions of the musl release binaries, as shipped and built with a profile.

    python3 bench/pgo.py [--runs N]      (about 8 minutes on 2 cores; needs llvm-profdata)

Each program is built with `-Cprofile-generate`, trained on a one-poll and a five-poll run
against the scripted API of bench/run.py, and built again with `-Cprofile-use`. LLVM then
puts the functions the training ran in `.text.hot` and the rest in `.text.unlikely`, which the
linker groups, so the code a run touches sits together (what the layout scripts do for every
Linux build of both; see bench/layout.py), and inlines by measured counts. An experiment, not
what ships (see docs/performance.md): `llvm-profdata` must match rustc's LLVM (rustup's
`llvm-tools`).
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import run as bench  # noqa: E402
from layout import musl_build, training_runs  # noqa: E402

PGO_DIR = os.path.join(h.TARGET_DIR, "pgo")


def profdata_tool():
    """llvm-profdata of rustc's own LLVM (rustup component llvm-tools), else None."""
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True, check=True).stdout.strip()
    found = glob.glob(os.path.join(sysroot, "lib", "rustlib", "*", "bin", "llvm-profdata"))
    return found[0] if found else None


def trained(tool, server, llvm_profdata):
    """The tool built with the profile of a one-poll and a five-poll run (stripped, as the
    release profiles of both crates say)."""
    raw = os.path.join(PGO_DIR, f"{tool}.raw")
    shutil.rmtree(raw, ignore_errors=True)
    os.makedirs(raw)
    binary = musl_build(tool, os.path.join(PGO_DIR, "generate"), [f"-Cprofile-generate={raw}"])
    for argv, env in training_runs(tool, binary, server):
        env = dict(env, LLVM_PROFILE_FILE=os.path.join(raw, "%p.profraw"))
        r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert r.returncode == 0, (tool, argv, r.returncode)
    profile = os.path.join(PGO_DIR, f"{tool}.profdata")
    subprocess.run([llvm_profdata, "merge", "-o", profile, *glob.glob(os.path.join(raw, "*.profraw"))], check=True)
    return musl_build(tool, os.path.join(PGO_DIR, "use"), [f"-Cprofile-use={profile}"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="runs per binary for peak RSS (default 30)")
    ap.add_argument("--reps", type=int, default=3, help="callgrind runs per instruction figure (default 3)")
    args = ap.parse_args()
    llvm_profdata = profdata_tool()
    if not llvm_profdata or not shutil.which("valgrind"):
        sys.exit("bench/pgo.py needs valgrind and rustc's llvm-profdata (rustup component add llvm-tools)")
    os.makedirs(PGO_DIR, exist_ok=True)
    _, bins = bench.build(argparse.Namespace(quick=True, no_build=False))
    server = h.Server()
    for tool in ("ours", "floor"):
        bins[tool + "@pgo"] = trained(tool, server, llvm_profdata)
    variants = list(bins)
    res = bench.startup(server, bins, variants, args.runs)
    figures = {}
    for v in variants:
        ins = bench.instructions(server, bins, v, 11, args.reps)
        figures[v] = {"size": os.path.getsize(bins[v]) / 2**20, "rss": res[v]["rss_mb"],
                      "exec": res[v]["exec_ms"], "one": ins["one_poll"] / 1e3, "poll": ins["per_poll"] / 1e3}
    rows = [("binary size", "size", "{:.2f} MiB"), (f"peak RSS, one-poll run (max of {args.runs})", "rss", "{:.2f} MiB"),
            (f"exec → first request (median of {args.runs})", "exec", "{:.2f} ms"),
            ("instructions, one-poll run", "one", "{:.0f} k"), ("instructions per poll", "poll", "{:.1f} k")]
    print("musl release builds; instructions are callgrind medians of", args.reps, "runs\n")
    print("| figure | ours | floor | ours ÷ floor | ours, PGO | floor, PGO | PGO ours ÷ PGO floor | PGO ours ÷ floor |")
    print("|---|---|---|---|---|---|---|---|")
    for label, key, fmt in rows:
        o, f, op, fp = (figures[v][key] for v in ("ours", "floor", "ours@pgo", "floor@pgo"))
        print(f"| {label} | {fmt.format(o)} | {fmt.format(f)} | {o / f:.2f}× | {fmt.format(op)} | "
              f"{fmt.format(fp)} | {op / fp:.2f}× | {op / f:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
