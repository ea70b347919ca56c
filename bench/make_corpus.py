#!/usr/bin/env python3
"""Makes a seeded benchmark corpus: FILES files in about FILES/12 directories,
lognormal sizes around a 4 KiB median (capped), a few symlinks, internal
hardlinks and non-UTF-8 names. The same seed makes the same tree."""
import os
import random
import sys


def main():
    root, files, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    directories = [root]
    for i in range(max(1, files // 12)):
        parent = rng.choice(directories[-50:] if rng.random() < 0.7 else directories)
        path = os.path.join(parent, f"d{i:05d}")
        os.mkdir(path)
        directories.append(path)
    block = rng.randbytes(1 << 20)
    made = []
    for i in range(files):
        directory = rng.choice(directories)
        name = f"f{i:06d}.dat" if i % 997 else f"f{i:06d}-\udc83.dat"
        path = os.path.join(directory, name)
        kind = rng.random()
        if kind < 0.01 and made:
            os.symlink(os.path.relpath(rng.choice(made), directory), path)
            continue
        if kind < 0.02 and made:
            os.link(rng.choice(made), path)
            continue
        size = min(int(rng.lognormvariate(8.3, 1.4)), 1 << 20)
        start = rng.randrange(0, len(block) - size) if size < len(block) else 0
        with open(path, "wb") as f:
            f.write(block[start:start + size])
        made.append(path)
    print(f"{files} entries in {len(directories)} directories under {root}")


if __name__ == "__main__":
    main()
