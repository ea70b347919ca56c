#!/usr/bin/env python3
"""The benchmark's seeded mutation of a corpus: 1% of files modified, 1%
added, 1% deleted, 1% touched (same bytes, new mtime), and the directory
whose subtree holds closest to 5% of the bytes renamed."""
import os
import random
import sys


def main():
    root, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2
    rng = random.Random(seed)
    files, sizes, total = [], {}, 0
    for directory, subdirs, names in os.walk(root, topdown=False):
        if "/.emu" in directory or directory.endswith("/.emu"):
            continue
        own = 0
        for name in names:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            if os.path.isfile(path) and not os.path.islink(path):
                files.append(path)
                own += st.st_size
        sizes[directory] = own + sum(sizes.get(os.path.join(directory, d), 0) for d in subdirs)
        total += own
    files.sort()
    rng.shuffle(files)
    n = max(1, len(files) // 100)
    new_content = 0
    for path in files[:n]:
        with open(path, "ab") as f:
            f.write(b"modified by the benchmark\n")
        new_content += os.lstat(path).st_size
    for path in files[n:2 * n]:
        os.unlink(path)
    for path in files[2 * n:3 * n]:
        os.utime(path, None)
    for i, path in enumerate(files[3 * n:4 * n]):
        with open(os.path.join(os.path.dirname(path), f"added{i:06d}.dat"), "wb") as f:
            added = rng.randbytes(rng.randint(100, 20000))
            f.write(added)
            new_content += len(added)
    target = 0.05 * total
    best = min((d for d in sizes if d != root), key=lambda d: abs(sizes[d] - target))
    os.rename(best, best + "-renamed")
    print(f"mutated {len(files)} files: {n} modified, {n} deleted, {n} touched, {n} added; "
          f"renamed a directory holding {100 * sizes[best] / total:.1f}% of the bytes; new content {new_content} bytes")


if __name__ == "__main__":
    main()
