#!/usr/bin/env python3
"""Code layout: the linker scripts that place the functions a run executes first (the tool's
layout/executed.ld and the floor's bench/floor/layout/executed.ld, both passed by build.rs on
Linux), and what they do to peak RSS.

    python3 bench/layout.py --write     regenerate both scripts (about 3 minutes)
    python3 bench/layout.py --check     fail if the executed code has drifted out of them (CI)
    python3 bench/layout.py [--runs N]  the experiment: peak RSS with and without (~10 minutes)

Most of a static binary's RSS is its code: the kernel maps up to 64 KB of a file around each
page a run touches, so RSS follows how widely the running code is spread. Each program's musl
release binary is run under callgrind (a one-poll run and a five-poll run against the scripted
API of bench/run.py; for the tool also a GitHub Actions step), the functions that executed are
listed, and each becomes a section pattern without the hash its symbol name carries (so the
script stays valid across versions, targets and flags) in a linker script that INSERTs an
output section `.text.executed`, holding those functions, BEFORE `.text`. The floor gets its
script the same way as the tool, so no comparison credits the tool with a layout the floor
lacks.

--check builds each binary with symbols (only the crate root relinks), runs the training, and
fails when the executed code outside `.text.executed` falls in more than --windows 64 KB
windows of the binary (each can cost up to 64 KB of RSS), naming the functions outside. It
rebuilds the stripped binaries afterwards. The experiment compares both programs with their
scripts (as shipped) and without (PEW_LINK_LAYOUT=off): peak RSS, the code executed, and the
memory resident while waiting between polls.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import run as bench  # noqa: E402

LAYOUT_DIR = os.path.join(h.TARGET_DIR, "layout")
SECTION = ".text.executed"
CRATES = {"ours": (h.ROOT, "posteverywhere-wait"), "floor": (os.path.join(h.ROOT, "bench", "floor"), "pew-floor")}


def script_path(tool):
    return os.path.join(CRATES[tool][0], "layout", "executed.ld")


def musl_build(tool, target_dir, rustflags=(), **env):
    """Builds `tool`'s musl release binary with extra rustflags and environment (also
    bench/pgo.py's builds); returns its path."""
    crate, name = CRATES[tool]
    env = dict(os.environ, CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS=" ".join(rustflags), **env)
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--target", h.MUSL,
                    "--manifest-path", os.path.join(crate, "Cargo.toml"), "--target-dir", target_dir],
                   env=env, check=True)
    return os.path.join(target_dir, h.MUSL, "release", name)


def training_runs(tool, binary, server, github=False):
    """(argv, env) of the runs a layout or profile is learnt from: a one-poll and a five-poll
    run, and with `github` (the tool's layout) a two-poll run as a GitHub Actions step
    (outputs, summary). Each sets the server's script before it is yielded (also
    bench/pgo.py's training, which gives both programs the same two runs)."""
    for polls, as_step in [(1, False), (5, False)] + ([(2, True)] if github else []):
        server.play(bench.last_pending_until(lambda post, k, at: k >= polls - 1))
        env = h.environment(tool, server, ["p1"], 0.002, 600, 60000)
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            if as_step:
                env.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=os.path.join(d, "output"),
                           GITHUB_STEP_SUMMARY=os.path.join(d, "summary"))
            yield h.command(tool, {tool: binary}, server, ["p1"], 0.002, ("polls", polls)), env


def executed(tool, binary, server):
    """Mangled names of the functions the training runs execute (the binary has symbols)."""
    names = set()
    for argv, env in training_runs(tool, binary, server, github=tool == "ours"):
        with tempfile.TemporaryDirectory(dir=h.OUT) as d:
            out = os.path.join(d, "cg")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={out}", *argv],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                for line in f:
                    m = re.match(r"c?fn=\(\d+\) (\S+)", line)
                    if m and not m.group(1).startswith(("0x", "(")):
                        names.add(re.sub(r"'\d+$", "", m.group(1)))
    if not names:
        sys.exit(f"{binary}: callgrind named no function (no symbols?)")
    return sorted(names)


def pattern(name):
    """A section pattern for a function, without what changes between builds: the hash of a
    legacy symbol (`17h<16 hex>E`, and a `.123` or `.llvm.123` suffix), the crate
    disambiguators (`Cs…_`) and back-references (`B…_`, offsets that move with them) of a v0
    symbol. The v0 rule also widens the odd identifier holding `B…_` (`9BufWriterNtNtB6_`):
    a pattern too wide pulls a few more functions forward, one too narrow lets a function
    drift out, so wide it is. `$` (legacy escapes) becomes `?`: the linkers read it as a
    character of their own. C functions keep their names. `.text*.` also matches `.text.unlikely.`, where LLVM puts functions marked cold (a
    vector's growth, a table's rehash)."""
    if name.startswith("_ZN"):
        name = re.sub(r"17h[0-9a-f]{16}E(\.llvm)?(\.\d+)*$", "17h*", name)
    elif name.startswith("_R"):
        name = re.sub(r"(Cs|B)[0-9A-Za-z]*_", r"\1*_", name)
        name = re.sub(r"(\.llvm)?(\.\d+)+$", "*", name)
    return ".text*." + name.replace("$", "?")


def script(names):
    """The linker script for a list of executed functions."""
    seen, lines = set(), []
    for n in names:
        p = pattern(n)
        if p not in seen:
            seen.add(p)
            lines.append(f"    *({p})")
    head = ("/* Generated by bench/layout.py --write: the functions a polling run executes, placed ahead\n"
            "   of the rest of .text so the code a run touches sits together (see build.rs). */\n")
    return head + "SECTIONS\n{\n  " + SECTION + " :\n  {\n" + "\n".join(lines) + "\n  }\n}\nINSERT BEFORE .text;\n"


def functions(binary):
    """{mangled name: (address, size)} of a binary's functions."""
    out = {}
    for line in subprocess.run(["nm", "-S", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 4 and p[2] in "tTwW":
            out[p[3]] = (int(p[0], 16), int(p[1], 16))
    return out


def coverage(binary, names):
    """(bytes of the executed functions, share of them inside SECTION, the 64 KB windows of the
    binary that executed code outside it falls in, [(size, name) outside it])."""
    lo = hi = None
    for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.search(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) == SECTION:
            lo = int(m.group(2), 16)
            hi = lo + int(m.group(3), 16)
    if lo is None:
        sys.exit(f"{binary}: no {SECTION} section (was it linked without its layout script?)")
    where = functions(binary)
    found = [n for n in names if n in where]
    if len(found) < 0.9 * len(names):
        sys.exit(f"{binary}: only {len(found)} of the {len(names)} functions executed are in its symbol table")
    inside, outside, windows = 0, [], set()
    for n in found:
        at, size = where[n]
        if lo <= at < hi:
            inside += size
        else:
            outside.append((size, n))
            windows.update(range(at >> 16, ((at + max(size, 1) - 1) >> 16) + 1))
    total = inside + sum(s for s, _ in outside)
    return total, inside / total, len(windows), sorted(outside, reverse=True)


def with_symbols(tool):
    """`tool`'s musl release build with its symbols (in the shipping target folder, only the
    crate root relinks)."""
    return musl_build(tool, h.TARGET_DIR, CARGO_PROFILE_RELEASE_STRIP="false")


def stripped_again():
    """Both programs' shipped (stripped) builds back in place, for whatever runs next (cargo
    keeps both artifacts: no rebuild). Also bench/size.py's."""
    for tool in CRATES:
        musl_build(tool, h.TARGET_DIR)


def demangle(names):
    return subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()


def write(server):
    for tool in CRATES:
        path = script_path(tool)
        if not os.path.exists(path):  # build.rs needs one to link; an empty section is dropped
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(script([]))
        names = executed(tool, with_symbols(tool), server)
        with open(path, "w") as f:
            f.write(script(names))
        total, share, windows, _ = coverage(with_symbols(tool), names)  # build.rs reruns: relinked
        print(f"wrote {os.path.relpath(path, h.ROOT)}: {len(names)} functions executed ({total // 1024} KB), "
              f"{100 * share:.1f} % of their bytes now in {SECTION}, the rest in {windows} 64 KB windows")
    return 0


def check(server, most):
    stale = []
    for tool in CRATES:
        binary = with_symbols(tool)
        names = executed(tool, binary, server)
        total, share, windows, outside = coverage(binary, names)
        print(f"{CRATES[tool][1]}: {len(names)} functions executed ({total // 1024} KB), {100 * share:.1f} % of "
              f"their bytes in {SECTION}, the rest in {windows} 64 KB windows (at most {most} allowed)")
        if windows > most:
            stale.append(os.path.relpath(script_path(tool), h.ROOT))
            for (size, _), d in zip(outside[:20], demangle([n for _, n in outside[:20]])):
                print(f"  outside: {size:6} bytes  {d[:150]}")
    if stale:
        print(f"{', '.join(stale)}: stale; run `python3 bench/layout.py --write` and commit", file=sys.stderr)
        return 1
    return 0


def resident(binary, tool, server):
    """(code, anonymous) kB resident while the program waits between polls."""
    server.play(bench.last_pending_until(lambda post, k, at: k >= 40))
    p = subprocess.Popen(h.command(tool, {tool: binary}, server, ["p1"], 0.05, ("polls", 40)),
                         env=h.environment(tool, server, ["p1"], 0.05, 60, 60000),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        kb, kind = {"code": 0, "anon": 0}, None
        with open(f"/proc/{p.pid}/smaps") as f:
            for line in f:
                parts = line.split()
                if re.match(r"[0-9a-f]+-[0-9a-f]+$", parts[0]):  # a mapping's first line
                    path = parts[5] if len(parts) > 5 else ""
                    kind = ("code" if "x" in parts[1] and path == os.path.realpath(binary)
                            else "anon" if path in ("", "[heap]", "[stack]") else None)
                elif parts[0] == "Rss:" and kind:
                    kb[kind] += int(parts[1])
        return kb["code"], kb["anon"]
    finally:
        p.kill()
        p.wait()


def experiment(server, runs):
    _, bins = bench.build(argparse.Namespace(quick=True, no_build=False))
    os.makedirs(LAYOUT_DIR, exist_ok=True)
    code = {}
    for tool in CRATES:
        binary = with_symbols(tool)
        names = executed(tool, binary, server)
        code[tool] = (len(names), coverage(binary, names)[0])
        if tool == "ours":
            where = functions(binary)
            sized = sorted(((where[n][1], d) for n, d in zip(names, demangle(names)) if n in where), reverse=True)
            own = [(size, d) for size, d in sized if d.startswith("posteverywhere_wait::")]
        bins[tool + "@off"] = musl_build(tool, os.path.join(LAYOUT_DIR, "off"), PEW_LINK_LAYOUT="off")
    stripped_again()
    res = bench.startup(server, bins, list(bins), runs)
    rss = {v: res[v]["rss_mb"] for v in bins}
    print(f"Peak RSS of a one-poll run, musl, max of {runs} runs:\n")
    print("| layout | posteverywhere-wait | floor | ours ÷ floor |")
    print("|---|---|---|---|")
    for label, s in (("compiler's order (PEW_LINK_LAYOUT=off)", "@off"), ("executed functions first (as shipped)", "")):
        print(f"| {label} | {rss['ours' + s]:.2f} MiB | {rss['floor' + s]:.2f} MiB | {rss['ours' + s] / rss['floor' + s]:.2f}× |")
    print("\nCode the training runs execute, and memory resident while waiting between polls (smaps):\n")
    print("| | posteverywhere-wait | floor | ours ÷ floor |")
    print("|---|---|---|---|")
    (n0, b0), (n1, b1) = code["ours"], code["floor"]
    print(f"| functions executed | {n0} ({b0 // 1024} KB) | {n1} ({b1 // 1024} KB) | {b0 / b1:.2f}× (bytes) |")
    print(f"| of which the tool's own | {len(own)} ({sum(s for s, _ in own) // 1024} KB; largest "
          f"`{re.sub(r'::h[0-9a-f]{16}$', '', own[0][1])}`, {own[0][0] // 1024} KB) | | |")
    for label, s in (("compiler's order", "@off"), ("as shipped", "")):
        (c0, a0), (c1, a1) = resident(bins["ours" + s], "ours", server), resident(bins["floor" + s], "floor", server)
        print(f"| resident code, {label} | {c0} kB | {c1} kB | {c0 / c1:.2f}× |")
    print(f"| resident anonymous memory, as shipped | {a0} kB | {a1} kB | {a0 / a1:.2f}× |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="regenerate both layout scripts")
    mode.add_argument("--check", action="store_true", help="fail if a layout script is stale")
    ap.add_argument("--windows", type=int, default=4,
                    help="--check: most 64 KB windows that executed code outside the section may touch (default 4)")
    ap.add_argument("--runs", type=int, default=30, help="experiment: runs per binary for peak RSS (default 30)")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("bench/layout.py needs valgrind (Debian: apt-get install valgrind)")
    os.makedirs(h.OUT, exist_ok=True)
    server = h.Server()
    try:
        if args.write:
            return write(server)
        if args.check:
            return check(server, args.windows)
        return experiment(server, args.runs)
    finally:
        if args.write or args.check:
            stripped_again()


if __name__ == "__main__":
    sys.exit(main())
