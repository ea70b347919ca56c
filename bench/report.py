#!/usr/bin/env python3
"""bench/report.py TIMES BYTES CORPUS...: the report of bench/run.sh.

TIMES holds lines "CORPUS SCENARIO TOOL WALL CPU RSS-KIB", BYTES lines
"CORPUS SCENARIO TOOL BYTES". Every figure is shown as min/median/max over
its runs; a target is a ratio of medians, and its verdict is "met" or
"missed" only when neither side's spread (max over min) exceeds 20%:
otherwise "noisy", since a ratio against a baseline that noise slowed (or
sped up) says nothing.
"""
import statistics
import sys

NOISE = 1.2
TOOLS = ["emu", "rsync", "cp", "floor", "durable"]
SCENARIOS = ["first", "no-change", "mutation", "restore", "diff", "verify", "log", "prune"]
# (scenario, baseline, at most): the issues' targets, emu's median over the baseline's.
TARGETS = [
    ("first", "floor", 1.2), ("first", "durable", 1.0),
    ("no-change", "floor", 1.1), ("mutation", "floor", 1.2),
    ("restore", "cp", 1.0), ("restore", "rsync", 0.5),
]
BYTE_TARGETS = [("no-change", "rsync", 1.1)]
# Absolute budgets: (corpus, scenario, at most bytes): a byte changed in a 1 GiB file on xfs.
BYTE_BUDGETS = [("reflink", "mutation", 1 << 20)]


def load(path, value_columns):
    table = {}
    for line in open(path):
        fields = line.split()
        if len(fields) < 3 + value_columns:
            continue
        key = tuple(fields[:3])
        table.setdefault(key, []).append([float(v) for v in fields[3:3 + value_columns]])
    return table


def spread(values):
    values = sorted(values)
    return values[0], statistics.median(values), values[-1]


def shown(values, digits=2):
    low, middle, high = spread(values)
    return f"{low:.{digits}f}/{middle:.{digits}f}/{high:.{digits}f}"


def verdict(ours, theirs, limit):
    noisy = any(max(v) > NOISE * min(v) for v in (ours, theirs) if min(v) > 0)
    ratio = statistics.median(ours) / statistics.median(theirs) if statistics.median(theirs) else float("inf")
    word = "noisy" if noisy else ("met" if ratio <= limit else "missed")
    return ratio, word


def main():
    times = load(sys.argv[1], 3)
    sizes = load(sys.argv[2], 1)
    corpora = sys.argv[3:]
    print(f"{'corpus':8s} {'scenario':10s} {'tool':8s} {'wall s min/med/max':>22s} {'cpu s med':>10s} {'RSS MiB med':>12s}")
    for corpus in corpora:
        for scenario in SCENARIOS:
            for tool in TOOLS:
                rows = times.get((corpus, scenario, tool))
                if not rows:
                    continue
                wall = [r[0] for r in rows]
                cpu = statistics.median(r[1] for r in rows)
                rss = statistics.median(r[2] for r in rows) / 1024
                print(f"{corpus:8s} {scenario:10s} {tool:8s} {shown(wall):>22s} {cpu:10.2f} {rss:12.0f}")
    print("targets (emu's median over the baseline's; noisy: a spread over 20%):")
    for corpus in corpora:
        # Against the durable floor too, where no target is set: emu syncs, the plain floor does not.
        for scenario in ["no-change", "mutation", "restore"]:
            ours, theirs = times.get((corpus, scenario, "emu")), times.get((corpus, scenario, "durable"))
            if ours and theirs:
                ratio = statistics.median(r[0] for r in ours) / statistics.median(r[0] for r in theirs)
                print(f"  {corpus:8s} {scenario:10s} emu/durable  {ratio:5.2f}  (no target)")
        for scenario, baseline, limit in TARGETS:
            ours, theirs = times.get((corpus, scenario, "emu")), times.get((corpus, scenario, baseline))
            if ours and theirs:
                ratio, word = verdict([r[0] for r in ours], [r[0] for r in theirs], limit)
                print(f"  {corpus:8s} {scenario:10s} emu/{baseline:8s} {ratio:5.2f}  (at most {limit}: {word})")
        for scenario, baseline, limit in BYTE_TARGETS:
            ours, theirs = sizes.get((corpus, scenario, "emu")), sizes.get((corpus, scenario, baseline))
            if ours and theirs:
                ratio, word = verdict([r[0] for r in ours], [r[0] for r in theirs], limit)
                print(f"  {corpus:8s} {scenario:10s} bytes emu/{baseline:8s} {ratio:5.2f}  (at most {limit}: {word})")
    for corpus, scenario, budget in BYTE_BUDGETS:
        ours = sizes.get((corpus, scenario, "emu"))
        if corpus in corpora and ours:
            values = [r[0] for r in ours]
            word = "met" if max(values) <= budget else "missed"
            print(f"  {corpus:8s} {scenario:10s} bytes added {shown(values, 0)}  (at most {budget}: {word})")
    print("bytes added to the sink (du -sb; reflink: df, min/median/max):")
    for corpus in corpora:
        for scenario in ["first", "no-change", "mutation"]:
            cells = [f"{tool} {shown([r[0] for r in sizes[(corpus, scenario, tool)]], 0)}"
                     for tool in TOOLS if (corpus, scenario, tool) in sizes]
            if cells:
                print(f"  {corpus:8s} {scenario:10s} " + "  ".join(cells))
    if any(k[0] == "million" for k in times) and any(k[0] == "home" for k in times):
        print("peak RSS of emu, million against home (MiB):")
        for scenario in ["first", "no-change", "mutation", "restore", "diff", "verify"]:
            home, million = times.get(("home", scenario, "emu")), times.get(("million", scenario, "emu"))
            if home and million:
                h, m = statistics.median(r[2] for r in home) / 1024, statistics.median(r[2] for r in million) / 1024
                print(f"  {scenario:10s} home {h:6.0f}  million {m:6.0f}  million/home {m / h:.2f}")


if __name__ == "__main__":
    main()
