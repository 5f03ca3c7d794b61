"""The Markdown report of bench/run.py: one side-by-side table of the headline figures
(with ratios taken from this run), then the detail of each benchmark."""

import math

import harness as h

COLS = ["ours", "floor", "bash", "node"]


def instr(n):
    if n is None or math.isnan(n):
        return "—"
    return f"{n / 1e9:.2f} G" if n >= 1e9 else f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.0f} k"


def ms(x):
    return "—" if x is None else f"{x:.0f} ms" if x >= 100 else f"{x:.2f} ms"


def mb(x):
    return "—" if x is None else f"{x:.2f} MiB"


def ratio(a, b, target=None):
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return "—"
    r = a / b
    cell = f"{r:.2f}×" if abs(r) >= 0.1 else f"{r:.2g}×"
    if target is not None:
        cell += f" (≤ {target}× {'✅' if r <= target else '❌'})"
    return cell


def by_polls(ins):
    """{N: [variants measured with N polls]}, variants named as in the table."""
    out = {}
    for v, d in ins.items():
        name = h.NAMES[v.split("@")[0]] + (" (glibc)" if v.endswith("@gnu") else "")
        out.setdefault(d["polls"], []).append(name)
    return out


def row(label, values, fmt, target=None):
    """values: figure per column (None when not measured); ratios are ours over each other."""
    cells = [fmt(values.get(c)) for c in COLS]
    ours = values.get("ours")
    ratios = [ratio(ours, values.get(c), target if c == "floor" else None) for c in COLS[1:]]
    return f"| {label} | " + " | ".join(cells + ratios) + " |"


def render(res, machine, args):
    TARGETS, SCALE = res["goals"], res["scale"]
    quick, st, ins = res["quick"], res["startup"], res["instructions"]
    lines = []
    say = lines.append
    say(f"Machine: {machine}.")
    say(f"Command: `python3 bench/run.py{' --quick' if quick else ''}`"
        f"{' (quick: musl builds only, few repetitions; rough figures)' if quick else ''}.\n")
    say("Tools: **ours** is the release musl binary; **floor** is `bench/floor`, the least a program can "
        "do to poll with the same HTTP stack (reqwest + rustls + tokio current-thread: GET, read the body, "
        "nothing else); **bash** and **node** are the loops written from PostEverywhere's polling guide "
        "(`bench/baseline/`). Ratios are ours ÷ the other, from this run; lower is better; targets "
        "(issue #15) are for ours ÷ floor.\n")

    say("### Side by side\n")
    say("| figure | ours | floor | bash + curl + jq | node | ours ÷ floor | ours ÷ bash | ours ÷ node |")
    say("|---|---|---|---|---|---|---|---|")
    runs = res["runs"]
    pick = lambda d, key, suffix="": {c: d[c + suffix][key] for c in COLS if c + suffix in d}  # noqa: E731
    say(row(f"exec → first request (median of {runs})", pick(st, "exec_ms"), ms, TARGETS["exec_ms"]))
    say(row(f"wall time, one-poll run (median of {runs})", pick(st, "wall_ms"), ms))
    say(row(f"peak RSS, musl (max of {runs})", pick(st, "rss_mb"), mb, TARGETS["rss_mb"]))
    if "ours@gnu" in st:
        say(row(f"peak RSS, glibc (max of {runs})", pick(st, "rss_mb", "@gnu"), mb, TARGETS["rss_mb"]))
    sizes = res["sizes"]
    say(row("binary size, musl", {c: sizes.get(c) for c in ("ours", "floor")}, mb, TARGETS["size_mb"]))
    if "ours@gnu" in sizes:
        say(row("binary size, glibc", {c: sizes.get(c + "@gnu") for c in ("ours", "floor")}, mb,
                TARGETS["size_mb"]))
    for suffix, libc in [("@gnu", "glibc"), ("", "musl")]:
        if "ours" + suffix not in ins:
            continue
        one = {c: ins[v]["one_poll"] for c in COLS for v in [c + suffix if c in ("ours", "floor") else c] if v in ins}
        per = {c: ins[v]["per_poll"] for c in COLS for v in [c + suffix if c in ("ours", "floor") else c] if v in ins}
        if suffix and all(ins.get(c + suffix, {}).get("to_first") for c in ("ours", "floor")):
            first = {c: ins[c + suffix]["to_first"] for c in ("ours", "floor")}
            say(row(f"instructions, exec → first request ({libc})", first, instr, TARGETS["exec_ms"]))
        say(row(f"instructions, one-poll run ({libc})", one, instr, TARGETS["one_poll"]))
        say(row(f"instructions per poll ({libc})", per, instr, TARGETS["per_poll"]))
    lat = res["latency"]
    iv = 1.0
    say(row(f"reaction latency at {iv:g} s, median of the grid", {c: lat[iv][c]["median"] for c in COLS}, ms))
    say(row(f"reaction latency at {iv:g} s, max of the grid", {c: lat[iv][c]["max"] for c in COLS}, ms))
    n = res["sizes_many"][0]
    m = {c: res["many"][(n, c)] for c in COLS}
    say(row(f"{n} posts: CPU time", {c: m[c]["cpu_s"] * 1000 for c in COLS}, ms))
    say(row(f"{n} posts: peak RSS", {c: m[c]["rss_mb"] for c in COLS}, mb))
    if not ins:
        say("\nvalgrind is not installed: no instruction counts.")
    elif quick:
        say("\n--quick: the baselines' instructions are not counted (Node takes a while under callgrind).")
    say("\nexec → first request runs from the `execvp` in `bench/measure.c` to the kernel's arrival time "
        "of the first request bytes on the server's socket. Peak RSS is the largest single process "
        "(for bash: bash, curl or jq, whichever peaked highest). Instructions come from callgrind "
        "(`Ir`, every process the command starts; median of the runs); \"exec → first request\" counts up "
        "to the first `writev` (hyper's write of the request; glibc builds, where callgrind sees the "
        "symbol); per poll = (I(N polls) − I(1 poll)) "
        "/ (N − 1) with " + ", ".join(f"N = {n} for {', '.join(ks)}" for n, ks in by_polls(ins).items()) + ".\n")

    say("### Reaction latency\n")
    say("The last of three destinations turns final at a fixed grid of moments after the tool's first "
        "request, the same grid for every tool (phase = interval × (0.2 + 2.3 (k + ½) / points)); at each "
        "point all four run at once, each on its own post. Latency is that moment to process exit. "
        "Ours runs with `rate-limit: 600` so the step budget never spaces polls beyond the interval; "
        "the floor stops when the body no longer says `publishing`.\n")
    say("| | interval | points | min | median | mean | max | requests (all points) | median ÷ floor |")
    say("|---|---|---|---|---|---|---|---|---|")
    for iv, by in lat.items():
        for c in COLS:
            d = by[c]
            pts = res["grid"][iv]
            say(f"| {h.NAMES[c]} | {iv:g} s | {pts} | {ms(d['min'])} | {ms(d['median'])} | {ms(d['mean'])} | "
                f"{ms(d['max'])} | {d['requests']} | {ratio(d['median'], by['floor']['median'])} |")

    say(f"\n### Many posts (7 destinations each, final on the second poll)\n")
    say(f"Time is scaled {SCALE}×: ours gets `rate-limit: {res['budget'] * SCALE}` a minute, so a 1 s window "
        f"here is a 60 s window at the default budget of {res['budget']} a minute. \"Most in any 60 s window\" "
        "is measured from the requests' arrival times at the server. The floor polls every post twice "
        "without pacing; bash and node run their loop once per post, one after another (the guide's 10 s "
        "interval, scaled).\n")
    say("| posts | tool | requests | most in any 60 s window | peak RSS | CPU time | wall time |")
    say("|---|---|---|---|---|---|---|")
    for n in res["sizes_many"]:
        for c in COLS:
            if (n, c) not in res["many"]:
                continue
            d = res["many"][(n, c)]
            verdict = ""
            if c == "ours":
                verdict = f" {'✅ ≤' if d['most'] <= res['budget'] else '❌ >'} {res['budget']}"
            say(f"| {n} | {h.NAMES[c]} | {d['requests']} | {d['most']}{verdict} | {mb(d['rss_mb'])} | "
                f"{d['cpu_s']:.2f} s | {d['wall_s']:.1f} s |")
    if len(res["sizes_many"]) > 1:
        say(f"\nThe baselines run at {res['sizes_many'][0]} posts only: one process per post, one after "
            "another, takes minutes at the larger sizes and adds nothing new.")

    say("\n### Faults (the post publishes after the fault; does the tool report all three links?)\n")
    say("The floor is not in this table: it decides nothing, so it cannot get a result right or wrong.\n")
    tools = list(res["faults"])
    say("| fault | " + " | ".join(h.NAMES[t] for t in tools) + " |")
    say("|---|" + "---|" * len(tools))
    for name in next(iter(res["faults"].values())):
        say(f"| {name} | " + " | ".join(res["faults"][t][name] for t in tools) + " |")
    return "\n".join(lines) + "\n"
