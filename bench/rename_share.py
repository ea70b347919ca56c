#!/usr/bin/env python3
"""Renames the directory whose subtree holds closest to SHARE of the tree's
file bytes (default 5%), and prints what it moved."""
import os
import sys


def main():
    root, share = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    sizes = {}
    total = 0
    for directory, subdirs, files in os.walk(root, topdown=False):
        if "/.emu" in directory:
            continue
        own = sum(os.lstat(os.path.join(directory, f)).st_size for f in files)
        sizes[directory] = own + sum(sizes.get(os.path.join(directory, d), 0) for d in subdirs)
        total += own
    target = share * total
    best = min((d for d in sizes if d != root), key=lambda d: abs(sizes[d] - target))
    os.rename(best, best + "-renamed")
    print(f"renamed {os.path.relpath(best, root)}: {sizes[best]} of {total} bytes ({100 * sizes[best] / total:.1f}%)")


if __name__ == "__main__":
    main()
