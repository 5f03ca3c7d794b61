#!/usr/bin/env python3
"""Memory while publishing with a large media file: does it stay flat?

One command:   python3 bench/upload.py [--no-build] [--sizes 1,50,200]

It runs the release binary in publish mode against its own simulator (input `simulate`):
the post is created with one video of each size (a sparse file, so making it is instant;
its bytes are read from disk and sent over HTTP on 127.0.0.1 like any other, and the
simulator's storage route counts them without keeping them). For each size it prints the
peak RSS of the process, which holds both the client and the simulator, and the time the
whole step took. Two things are checked: peak RSS must not grow with the file (it fails if
it grows by over 8 MiB and over 5% of the size difference), as it would if the file were read
whole; and with the largest file it stays under 4 MiB (the README's "about 3 MiB" for a
200 MB video; the simulator's share included).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), TARGET, "release", "posteverywhere-wait")


MEASURE = os.path.join(ROOT, "bench", "out", "measure")


def measure(media):
    """Runs the binary once through `measure` (a C helper: Python's own RSS would be counted
    for a child it forks); returns (exit code, peak RSS in MiB, seconds, last lines)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "POSTEVERYWHERE_SIMULATE": "published",
        "POSTEVERYWHERE_CONTENT": "Upload benchmark",
        "POSTEVERYWHERE_ACCOUNTS": "instagram, x",
        "POSTEVERYWHERE_MEDIA": media,
        "POSTEVERYWHERE_POLL_INTERVAL": "100ms",
        "POSTEVERYWHERE_TIMEOUT": "5m",
    }
    with tempfile.NamedTemporaryFile("r") as result:
        p = subprocess.run([MEASURE, result.name, BIN], env=env, capture_output=True, text=True)
        code, maxrss_kib, _cpu, exec_ns, end_ns = result.read().split()
    lines = (p.stdout + p.stderr).splitlines()
    return int(code), int(maxrss_kib) / 1024, (int(end_ns) - int(exec_ns)) / 1e9, lines[-3:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--sizes", default="1,50,200", help="file sizes in MiB")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--target", TARGET], cwd=ROOT, check=True)
    if not os.path.exists(MEASURE):
        os.makedirs(os.path.dirname(MEASURE), exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", MEASURE, os.path.join(ROOT, "bench", "measure.c")], check=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for mib in sizes:
            media = os.path.join(d, f"launch-{mib}.mp4")
            with open(media, "wb") as f:
                f.truncate(mib * 1024 * 1024)
            code, rss, secs, tail = measure(media)
            if code != 0:
                print(f"{mib} MiB: exit {code}\n" + "\n".join(tail), file=sys.stderr)
                sys.exit(1)
            rows.append((mib, rss, secs))
            os.unlink(media)
    print("#### Publishing with one video: peak RSS by file size (client and simulator in one process)\n")
    print("| file | peak RSS (max of one run) | wall time |")
    print("|---|---|---|")
    for mib, rss, secs in rows:
        print(f"| {mib} MiB | {rss:.1f} MiB | {secs:.2f} s |")
    growth = rows[-1][1] - rows[0][1]
    print(f"\nFrom {rows[0][0]} MiB to {rows[-1][0]} MiB of file, peak RSS grew by {growth:.1f} MiB.")
    # The one target this bench checks: memory does not follow the file size. (Streaming
    # reads in small chunks; reading the file whole would add its size to the peak.)
    grown_with_file = growth > 8 and growth > 0.05 * (rows[-1][0] - rows[0][0])
    if grown_with_file:
        print("FAIL: peak RSS grows with the file: the upload is not streamed", file=sys.stderr)
        sys.exit(1)
    if rows[-1][1] >= 4:
        print(f"FAIL: {rows[-1][1]:.1f} MiB with a {rows[-1][0]} MiB file; the README says about 3 MiB", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
