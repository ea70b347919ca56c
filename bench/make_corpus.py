#!/usr/bin/env python3
"""Makes a seeded benchmark corpus; the same profile, scale and seed make the
same tree.

    make_corpus.py PROFILE ROOT [SEED] [SCALE]

Profiles (SCALE multiplies the file counts, for smoke runs):
  home     100,000 files in about 8,300 directories, lognormal sizes around a
           4 KiB median (capped at 1 MiB) and eleven files of 10-100 MiB,
           about 1.5 GiB; 1% symlinks, 1% internal hardlinks, and a
           non-UTF-8 name in every 997 files
  small    200,000 files under 2 KiB
  big      four 1 GiB files
  million  1,000,000 files, half empty, half under 64 bytes
"""
import os
import random
import sys

MIB = 1 << 20


def make_directories(rng, root, count):
    """A random recursive tree: each directory's parent is any earlier one,
    so depth grows like log(count), as in a home directory."""
    directories = [root]
    for i in range(count):
        path = os.path.join(rng.choice(directories), f"d{i:05d}")
        os.mkdir(path)
        directories.append(path)
    return directories


def write_tiled(path, block, size, offset):
    """SIZE bytes of BLOCK repeated from OFFSET: distinct content, written fast."""
    with open(path, "wb") as f:
        rotated = block[offset:] + block[:offset]
        while size > 0:
            f.write(rotated[:min(size, len(rotated))])
            size -= len(rotated)


def make_files(rng, directories, count, size_of, links):
    block = rng.randbytes(MIB)
    made = []
    for i in range(count):
        directory = rng.choice(directories)
        name = f"f{i:06d}.dat" if i % 997 else f"f{i:06d}-\udc83.dat"
        path = os.path.join(directory, name)
        kind = rng.random()
        if links and kind < 0.01 and made:
            os.symlink(os.path.relpath(rng.choice(made), directory), path)
            continue
        if links and kind < 0.02 and made:
            os.link(rng.choice(made), path)
            continue
        size = size_of()
        start = rng.randrange(0, len(block) - size) if size < len(block) else 0
        with open(path, "wb") as f:
            f.write(block[start:start + size])
        made.append(path)
    return block


def main():
    profile, root = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    scale = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    rng = random.Random(seed)
    os.makedirs(root, exist_ok=True)
    if profile == "home":
        files = int(100_000 * scale)
        directories = make_directories(rng, root, max(1, files // 12))
        block = make_files(rng, directories, files, lambda: min(int(rng.lognormvariate(8.3, 1.4)), MIB), links=True)
        for i in range(max(1, int(11 * scale))):
            write_tiled(os.path.join(rng.choice(directories), f"large{i}.bin"), block,
                        int(rng.uniform(10, 100) * MIB * min(1.0, scale)), rng.randrange(MIB))
    elif profile == "small":
        files = int(200_000 * scale)
        directories = make_directories(rng, root, max(1, files // 12))
        make_files(rng, directories, files, lambda: rng.randrange(2048), links=False)
    elif profile == "big":
        block = rng.randbytes(MIB)
        for i in range(4):
            write_tiled(os.path.join(root, f"big{i}.bin"), block, int(1024 * MIB * scale), rng.randrange(MIB))
    elif profile == "million":
        files = int(1_000_000 * scale)
        directories = make_directories(rng, root, max(1, files // 50))
        make_files(rng, directories, files, lambda: 0 if rng.random() < 0.5 else rng.randrange(1, 64), links=False)
    else:
        sys.exit(f"make_corpus.py: unknown profile {profile!r} (home, small, big, million)")
    total = entries = 0
    for directory, subdirs, names in os.walk(root):
        entries += len(subdirs) + len(names)
        total += sum(os.lstat(os.path.join(directory, n)).st_size for n in names)
    print(f"{profile}: {entries} entries, {total / MIB:.0f} MiB under {root}")


if __name__ == "__main__":
    main()
