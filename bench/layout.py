#!/usr/bin/env python3
"""Code layout: the linker scripts that place the functions a run executes first (the tool's
layout/executed.ld and the floor's bench/floor/layout/executed.ld, both passed by build.rs on
Linux), and what they do to peak RSS.

    python3 bench/layout.py --write     regenerate both scripts (about 3 minutes)
    python3 bench/layout.py --check     fail if the executed code has drifted out of them (CI; ~3 minutes)
    python3 bench/layout.py --made-with the rustc version the tool's script was made with
    python3 bench/layout.py [--runs N]  the experiment: peak RSS with and without (~10 minutes)

Most of a static binary's RSS is its code: the kernel maps up to 64 KB of a file around each
page a run touches, so RSS follows how widely the running code is spread. Each program's musl
release binary, built as shipped with the linker's map beside it (build.rs adds one when
PEW_LINK_MAP is set), is run under valgrind's lackey (a one-poll run and a five-poll run
against the scripted API of bench/run.py; for the tool also a GitHub Actions step); the map
says which input section each executed instruction belongs to (with a section per function,
which function; for musl's assembly objects and the start file, which file). The linker script
INSERTs an output section `.text.executed`, holding those sections, BEFORE `.text`, naming
each twice: first exactly (its symbol's hash included), which places just the functions that
ran, then without the hash, which also holds where hashes differ (another rustc, target,
dependency or version) but takes every instance of a generic function (every `<&T as
Debug>::fmt`: 47 KB, for one 183-byte instance that runs). The floor gets its script the same
way as the tool, so no comparison credits the tool with a layout the floor lacks.

--check makes the same build and training runs and fails, naming the functions, when the
executed code outside `.text.executed` falls in more than --windows 64 KB windows of the
binary (each can cost up to 64 KB of RSS), or when the exact names no longer match (the
executed code reaches more than 10 % past its own size into the section). Both restore the
shipped binaries afterwards. The experiment compares both programs with their scripts (as
shipped) and without (PEW_LINK_LAYOUT=off): peak RSS, the code executed, and the memory
resident while waiting between polls.
"""

import argparse
import collections
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import linkmap  # noqa: E402
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
    h.same_profile()
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


def key(sec):
    """What names a code section in every link of one build: its name, and for a C object
    compiled without a section per function (`.text` of musl's `memcpy.lo`) its file, as a
    linker script names it (`libc.a:memcpy.lo`, `rcrt1.o`)."""
    if sec.name != ".text":
        return sec.name, ""
    m = re.match(r"(.*)\((.*)\)$", sec.file)
    return sec.name, f"{os.path.basename(m.group(1))}:{m.group(2)}" if m else os.path.basename(sec.file)


def symbol(k):
    name, file = k
    return file or re.sub(r"^\.text(\.(unlikely|hot|startup|exit|split))?\.", "", name)


def map_build(tool):
    """`tool`'s musl release binary built as shipped, with the linker's map beside it (build.rs
    asks for one when PEW_LINK_MAP is set; a build with symbols would need another profile,
    and the profile is part of what the symbols' hashes are made from); (binary, map)."""
    os.makedirs(LAYOUT_DIR, exist_ok=True)
    path = os.path.join(LAYOUT_DIR, f"{tool}.map")
    return musl_build(tool, h.TARGET_DIR, PEW_LINK_MAP=path), path


def trace(tool, server):
    """The shipped build's code sections, and the keys of those the training runs execute
    (lackey lists every instruction's address; the map says whose it is)."""
    binary, map_path = map_build(tool)
    secs = linkmap.input_sections(map_path, (SECTION, ".text"))
    runs = training_runs(tool, binary, server, github=tool == "ours")
    hit = linkmap.holding(secs, (at for op, at in linkmap.accesses(binary, runs) if op == "I"))
    if not hit:
        sys.exit(f"{binary}: no executed instruction fell in a code section of {map_path}")
    return binary, secs, {key(secs[k]) for k in hit}


def pattern(name):
    """A section pattern for a function, without what changes between builds: the hash of a
    legacy symbol (`17h<16 hex>E`, and a `.123` or `.llvm.123` suffix), the crate
    disambiguators (`Cs…_`) and back-references (`B…_`, offsets that move with them) of a v0
    symbol. The v0 rule also widens the odd identifier holding `B…_` (`9BufWriterNtNtB6_`):
    a pattern too wide pulls a few more functions forward, one too narrow lets a function
    drift out, so wide it is. `$` (legacy escapes) becomes `?`: the linkers read it as a
    character of their own. C functions keep their names. `.text*.` also matches
    `.text.unlikely.`, where LLVM puts functions marked cold (a vector's growth, a table's
    rehash)."""
    if name.startswith("_ZN"):
        name = re.sub(r"17h[0-9a-f]{16}E(\.llvm)?(\.\d+)*$", "17h*", name)
    elif name.startswith("_R"):
        name = re.sub(r"(Cs|B)[0-9A-Za-z]*_", r"\1*_", name)
        name = re.sub(r"(\.llvm)?(\.\d+)+$", "*", name)
    return ".text*." + name.replace("$", "?")


def exact(k):
    """The pattern for one section of this build: its whole name (the `.llvm.123` suffix of a
    promoted local symbol aside, which moves with any change of code), or its file."""
    name, file = k
    if file:
        return f"*{file}({name})"
    return "*(" + re.sub(r"\.llvm\.\d+$", "*", name).replace("$", "?") + ")"


def wide(k):
    return exact(k) if k[1] else f"*({pattern(symbol(k))})"


@functools.cache
def rustc():
    """The compiler's version line (`rustc 1.95.0 (… date)`): the exact names hold for its
    builds only. The script records it, and the release workflow builds the musl binary with
    that version."""
    return subprocess.run(["rustc", "-V"], capture_output=True, text=True, check=True).stdout.strip()


def made_with(path):
    """The version line a script records, or None."""
    with open(path) as f:
        m = re.search(r"^   Made with (rustc [^\n]*?) for ", f.read(), re.M)
    return m and m.group(1)


def script(keys):
    """The linker script for the keys of the executed sections: each by its exact name first,
    then by its name without a hash."""
    seen, lines = set(), []
    for p in [exact(k) for k in sorted(keys)] + [wide(k) for k in sorted(keys)]:
        if p not in seen:
            seen.add(p)
            lines.append(f"    {p}")
    head = ("/* Generated by bench/layout.py --write: the functions a polling run executes, placed ahead\n"
            "   of the rest of .text so the code a run touches sits together (see build.rs). First by\n"
            "   their names in the build this was made from, hashes included, which place exactly those;\n"
            "   then by their names without hashes, which also hold where the hashes differ (another\n"
            "   toolchain, target or version) but take every instance of a generic function.\n"
            f"   Made with {rustc()} for {h.MUSL}. */\n")
    return head + "SECTIONS\n{\n  " + SECTION + " :\n  {\n" + "\n".join(lines) + "\n  }\n}\nINSERT BEFORE .text;\n"


def coverage(secs, keys):
    """(bytes of the executed sections, share of them inside SECTION, how far into SECTION they
    reach, the 64 KB windows of the binary that executed code outside it falls in, [(size,
    symbol) outside it])."""
    if not any(s.output == SECTION for s in secs):
        sys.exit(f"no {SECTION} section (was the binary linked without its layout script?)")
    hit = [s for s in secs if key(s) in keys]
    found = len({key(s) for s in hit})
    if found < 0.9 * len(keys):
        sys.exit(f"only {found} of the {len(keys)} sections executed are in this build")
    inside = [s for s in hit if s.output == SECTION]
    outside = [s for s in hit if s.output != SECTION]
    windows = set()
    for s in outside:
        windows.update(range(s.at >> 16, ((s.at + s.size - 1) >> 16) + 1))
    total = sum(s.size for s in hit)
    reach = max((s.at + s.size for s in inside), default=0) - min(s.at for s in secs if s.output == SECTION)
    return (total, sum(s.size for s in inside) / total, reach, len(windows),
            sorted(((s.size, symbol(key(s))) for s in outside), reverse=True))


def with_symbols(tool):
    """`tool`'s musl release build with its symbols (in the shipping target folder, only the
    crate root relinks); bench/size.py's."""
    return musl_build(tool, h.TARGET_DIR, CARGO_PROFILE_RELEASE_STRIP="false")


def stripped_again():
    """Both programs' shipped builds back in place (no map, stripped), for whatever runs next.
    Also bench/size.py's."""
    for tool in CRATES:
        musl_build(tool, h.TARGET_DIR)


def shipped_digests():
    """Each program's shipped musl binary as it is now (its SHA-256, or None when not built)."""
    out = {}
    for tool, (_, name) in CRATES.items():
        try:
            with open(os.path.join(h.TARGET_DIR, h.MUSL, "release", name), "rb") as f:
                out[tool] = hashlib.sha256(f.read()).hexdigest()
        except FileNotFoundError:
            out[tool] = None
    return out


def demangle(names):
    return subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()


def summary(tool, secs, keys):
    """Prints where the executed code is; (windows outside SECTION, [(size, symbol) outside],
    whether the exact names missed: then the code is spread through every instance the
    hash-free names take, which happens when the hashes change: another rustc, a dependency
    or the crate's version)."""
    total, share, reach, windows, outside = coverage(secs, keys)
    print(f"{CRATES[tool][1]}: {len(keys)} functions executed ({total // 1024} KB), {100 * share:.1f} % of their "
          f"bytes in the first {reach // 1024} KB of {SECTION}, the rest in {windows} 64 KB windows")
    return windows, outside, reach > 1.1 * share * total


def write(server):
    for tool in CRATES:
        path = script_path(tool)
        if not os.path.exists(path):  # build.rs needs one to link; an empty section is dropped
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(script([]))
        _, _, keys = trace(tool, server)
        with open(path, "w") as f:
            f.write(script(keys))
        print(f"wrote {os.path.relpath(path, h.ROOT)}")
        summary(tool, linkmap.input_sections(map_build(tool)[1], (SECTION, ".text")), keys)  # relinked with it
    return 0


def check(server, most):
    stale = [os.path.relpath(script_path(t), h.ROOT) for t in CRATES if made_with(script_path(t)) != rustc()]
    if stale:  # its exact names cannot be this rustc's: no need to trace to know
        print(f"{', '.join(stale)}: made with {made_with(script_path('ours'))}, this is {rustc()}; "
              "run `python3 bench/layout.py --write` and commit", file=sys.stderr)
        return 1
    for tool in CRATES:
        _, secs, keys = trace(tool, server)
        windows, outside, missed = summary(tool, secs, keys)
        if windows > most:
            print(f"  more than {most} windows: the executed code has drifted out of the script")
            for (size, _), d in zip(outside[:20], demangle([n for _, n in outside[:20]])):
                print(f"  outside: {size:6} bytes  {d[:150]}")
        if missed:
            print("  the script's exact names are not this build's (another rustc, dependency or version)")
        if windows > most or missed:
            stale.append(os.path.relpath(script_path(tool), h.ROOT))
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
        _, secs, keys = trace(tool, server)
        total, _, reach, _, _ = coverage(secs, keys)
        code[tool] = (len(keys), total, reach)
        if tool == "ours":
            sizes = collections.Counter()
            for s in secs:
                if key(s) in keys:
                    sizes[key(s)] += s.size
            ks = sorted(sizes)
            sized = sorted(zip((sizes[k] for k in ks), demangle([symbol(k) for k in ks])), reverse=True)
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
    (n0, b0, r0), (n1, b1, r1) = code["ours"], code["floor"]
    print(f"| functions executed | {n0} ({b0 // 1024} KB) | {n1} ({b1 // 1024} KB) | {b0 / b1:.2f}× (bytes) |")
    largest = re.sub(r"::h[0-9a-f]{16}(\.llvm\.\d+)?$", "", own[0][1])
    print(f"| of which the tool's own | {len(own)} ({sum(s for s, _ in own) // 1024} KB; largest "
          f"`{largest}`, {own[0][0] // 1024} KB) | | |")
    print(f"| {SECTION} up to the last of them | {r0 // 1024} KB | {r1 // 1024} KB | {r0 / r1:.2f}× |")
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
    ap.add_argument("--windows", type=int, default=2,
                    help="--check: most 64 KB windows that executed code outside the section may touch (default 2)")
    ap.add_argument("--runs", type=int, default=30, help="experiment: runs per binary for peak RSS (default 30)")
    mode.add_argument("--made-with", action="store_true",
                      help="print the rustc version the tool's script was made with (the release workflow's)")
    args = ap.parse_args()
    if args.made_with:
        version = made_with(script_path("ours"))
        if not version:
            sys.exit(f"{os.path.relpath(script_path('ours'), h.ROOT)}: no 'Made with rustc' line; run --write")
        number = version.split()[1]
        if not re.fullmatch(r"\d+\.\d+\.\d+", number):
            sys.exit(f"{os.path.relpath(script_path('ours'), h.ROOT)} was made with {version}, not a stable "
                     "release; run --write with a stable rustc")
        print(number)
        return 0
    if not shutil.which("valgrind"):
        sys.exit("bench/layout.py needs valgrind (Debian: apt-get install valgrind)")
    os.makedirs(h.OUT, exist_ok=True)
    server = h.Server()
    before = shipped_digests()
    try:
        if args.write:
            return write(server)
        if args.check:
            return check(server, args.windows)
        return experiment(server, args.runs)
    finally:
        # A build with the map is the shipped build byte for byte (the map is a side output
        # of the link): after --check, when both binaries are as they were, nothing needs
        # putting back, which spares CI two release builds. --write changed the scripts.
        if args.write or (args.check and shipped_digests() != before):
            stripped_again()


if __name__ == "__main__":
    sys.exit(main())
