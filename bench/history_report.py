#!/usr/bin/env python3
"""The report of bench/history.sh: min/median/max of each tool's wall and CPU
seconds and peak RSS per scenario, the issue's targets as ratios of medians
(noisy when either side's max exceeds its min by 20%), and the bytes.

    history_report.py TIMES BYTES SERVER-RSS-KIB"""
import statistics
import sys


def spread(rows, scenario, tool, column):
    values = sorted(float(r[column]) for r in rows if r[0] == scenario and r[1] == tool)
    return (values[0], statistics.median(values), values[-1]) if values else None


def verdict(ours, theirs, target):
    if not ours or not theirs:
        return "not measured"
    ratio = ours[1] / theirs[1]
    noisy = any(s[2] > 1.2 * s[0] for s in (ours, theirs))
    return f"{ratio:.2f}x (target <= {target}x: {'noisy' if noisy else 'met' if ratio <= target else 'missed'})"


def main():
    rows = [line.split() for line in open(sys.argv[1])]
    for scenario in dict.fromkeys(r[0] for r in rows):
        print(f"{scenario}: wall s min/median/max, CPU s median, peak RSS MiB max")
        for tool in dict.fromkeys(r[1] for r in rows if r[0] == scenario):
            wall, cpu, rss = (spread(rows, scenario, tool, c) for c in (2, 3, 4))
            print(f"  {tool:10s} {wall[0]:8.2f} {wall[1]:8.2f} {wall[2]:8.2f}   cpu {cpu[1]:7.2f}   rss {rss[2] / 1024:7.1f}")
    print("targets:")
    whole = lambda tool: spread(rows, "whole", tool, 2)
    print(f"  whole history, emu / durable floor replay: {verdict(whole('emu'), whole('durable'), 1.2)}")
    print(f"  whole history, emu / plain floor replay:   {verdict(whole('emu'), whole('floor'), 1.2)}")
    print(f"  whole history, emu / rsync -aH:            {verdict(whole('emu'), whole('rsync'), 0.2)}")
    print(f"  whole history over ssh, emu / rsync -aH -e ssh: {verdict(whole('emu-ssh'), whole('rsync-ssh'), 0.2)}")
    peak = spread(rows, "whole", "emu", 4)
    rsync = spread(rows, "whole", "rsync", 4)
    print(f"  peak RSS of emu replicate {peak[2] / 1024:.1f} MiB (target < 64 MiB: {'met' if peak[2] < 64 * 1024 else 'missed'}); "
          f"rsync -aH {rsync[2] / 1024:.1f} MiB; emu serve {int(sys.argv[3] or 0) / 1024:.1f} MiB")
    nxt = lambda tool: spread(rows, "next", tool, 2)
    print(f"  one more snapshot, emu replicate / emu push of it: {verdict(nxt('emu'), nxt('push'), 1.0)}")
    print(f"  one more snapshot over ssh, emu replicate / emu push of it over ssh: {verdict(nxt('emu-ssh'), nxt('push-ssh'), 1.0)}")
    for line in open(sys.argv[2]):
        words = line.split()
        if words[0] == "whole":
            copy, original = int(words[2]), int(words[3])
            ok = abs(copy - original) <= 0.02 * original
            print(f"  bytes {words[1]} occupies: {copy:,} of the original's {original:,} ({copy / original:.3f}x; "
                  f"{'within 2%: met' if ok or words[1] == 'rsync' else 'missed'})")
        elif words[0] == "wire":
            sent, content, manifests = map(int, words[2:5])
            ratio = sent / (content + manifests)
            print(f"  over ssh sent {sent:,} bytes for {content:,} of unique content and {manifests:,} of manifests "
                  f"({ratio:.3f}x; target <= 1.1x: {'met' if ratio <= 1.1 else 'missed'})")


if __name__ == "__main__":
    main()
