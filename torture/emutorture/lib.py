"""Shared pieces of the torture suite: running emu, making trees, fingerprints, invariants."""
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time


class Failure(Exception):
    """An invariant that did not hold: the suite reports it and fails."""


class Skipped(Exception):
    """A part that cannot run here (no root, no tool): the suite counts it as
    skipped, never as passed, and as failed where every part must run."""


class Emu:
    """The built binary, run as a user would."""

    def __init__(self, binary):
        self.binary = binary

    def run(self, args, cwd, env=None, timeout=600):
        full = dict(os.environ, NO_COLOR="1", **(env or {}))
        return subprocess.run([self.binary] + args, cwd=cwd, env=full, capture_output=True, timeout=timeout)

    def spawn(self, args, cwd, env=None):
        full = dict(os.environ, NO_COLOR="1", **(env or {}))
        return subprocess.Popen([self.binary] + args, cwd=cwd, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ok(self, args, cwd, allowed=(0,), env=None):
        done = self.run(args, cwd, env)
        if done.returncode not in allowed:
            raise Failure(f"emu {' '.join(args)} exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}")
        return done


def killed_after(emu, args, cwd, delay, env=None):
    """Runs emu, SIGKILLs it after `delay` seconds; returns whether the kill landed mid-run."""
    process = emu.spawn(args, cwd, env)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def timed(emu, args, cwd, allowed=(0,)):
    start = time.monotonic()
    emu.ok(args, cwd, allowed)
    return time.monotonic() - start


class Workspace:
    """A source with .emu/ and one sink in a fresh temporary directory."""

    def __init__(self, emu, parent=None, sink=None):
        self.emu = emu
        self.root = tempfile.mkdtemp(prefix="emu-torture.", dir=parent)
        self.source = os.path.join(self.root, "source")
        self.sink = sink or os.path.join(self.root, "sink")
        os.mkdir(self.source)

    def initialize(self, name="origin"):
        self.emu.ok(["init"], self.source)
        self.emu.ok(["sink", "add", name, self.sink], self.source)
        return self

    def run(self, args, **kw):
        return self.emu.run(args, self.source, **kw)

    def ok(self, args, allowed=(0,)):
        return self.emu.ok(args, self.source, allowed)

    def remove(self):
        subprocess.run(["chmod", "-R", "u+rwx", self.root], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def make_tree(path, rng, files=120, max_size=96 * 1024):
    """A seeded tree: nested directories, files of many sizes, symlinks,
    hardlinks, a FIFO, an empty file, a name that is not UTF-8, xattrs."""
    os.makedirs(path, exist_ok=True)
    dirs = [path]
    for i in range(max(3, files // 15)):
        d = os.path.join(rng.choice(dirs), f"dir{i}")
        os.makedirs(d, exist_ok=True)
        dirs.append(d)
    made = []
    for i in range(files):
        f = os.path.join(rng.choice(dirs), f"file{i}.dat")
        with open(f, "wb") as out:
            out.write(rng.randbytes(rng.randint(0, max_size)))
        os.chmod(f, rng.choice([0o644, 0o600, 0o755, 0o640]))
        made.append(f)
    open(os.path.join(path, "empty"), "wb").close()
    with open(os.path.join(path.encode(), b"name-\x83\xff"), "wb") as out:
        out.write(b"not utf-8")
    os.symlink("dir0/../file0.dat", os.path.join(path, "link"))
    os.symlink("/nowhere/at/all", os.path.join(path, "dangling"))
    os.link(made[0], os.path.join(path, "hardlink"))
    os.mkfifo(os.path.join(path, "fifo"))
    try:
        os.setxattr(made[1], "user.torture", b"value")
    except OSError:
        pass
    return made


def mutate(path, rng, count=20):
    """Changes, adds, removes and touches some files of a tree made by make_tree."""
    files = []
    for d, _, names in os.walk(path):
        if "/.emu" in d or d.endswith("/.emu"):
            continue
        files += [os.path.join(d, n) for n in names if n.endswith(".dat")]
    files.sort()
    for f in rng.sample(files, min(count, len(files))):
        action = rng.choice(["change", "append", "remove", "touch"])
        if action == "change":
            with open(f, "wb") as out:
                out.write(rng.randbytes(rng.randint(1, 64 * 1024)))
        elif action == "append":
            with open(f, "ab") as out:
                out.write(rng.randbytes(100))
        elif action == "remove":
            os.unlink(f)
        else:
            os.utime(f, ns=(time.time_ns(), time.time_ns() - rng.randint(1, 10**12)))
    for i in range(count // 4):
        with open(os.path.join(path, f"new{rng.randint(0, 10**9)}.dat"), "wb") as out:
            out.write(rng.randbytes(rng.randint(0, 32 * 1024)))


def fingerprint(path, ignore=(b".emu",), directory_mtimes=False):
    """Everything a snapshot keeps of a tree, path by path (bytes)."""
    result = {}
    groups = {}
    root = os.fsencode(path)
    for d, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(d, root)
        if rel_dir == b".":
            dirnames[:] = [n for n in dirnames if n not in ignore]
            filenames = [n for n in filenames if n not in ignore]
        for name in sorted(dirnames + filenames):
            full = os.path.join(d, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(full)
            kind = stat.S_IFMT(st.st_mode)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    content = hashlib.sha256(f.read()).hexdigest()
                if st.st_nlink > 1:
                    groups.setdefault((st.st_dev, st.st_ino), []).append(rel)
                    content += "|inode %d:%d" % (st.st_dev, st.st_ino)
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(full)
            try:
                attrs = tuple(sorted((a, os.getxattr(full, a, follow_symlinks=False)) for a in os.listxattr(full, follow_symlinks=False)))
            except OSError:
                attrs = ()
            mtime = None if stat.S_ISDIR(st.st_mode) and not directory_mtimes else st.st_mtime_ns
            size = st.st_size if not stat.S_ISDIR(st.st_mode) else None
            result[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, mtime, size, content, attrs)
    # Hardlinks count within the tree only (a sink's inodes have other names outside it).
    for names in groups.values():
        first = min(names)
        for rel in names:
            entry = result[rel]
            label = entry[6].rsplit("|", 1)[0] + ("|" + first.decode(errors="replace") if len(names) > 1 else "")
            result[rel] = entry[:6] + (label,) + entry[7:]
    return result


def differences(want, got, limit=5):
    out = []
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            out.append(f"{key!r}: want {want.get(key)} got {got.get(key)}")
            if len(out) >= limit:
                break
    return out


def listed(emu, cwd, sink_name=None):
    """The snapshots `emu log --json` lists: id -> record."""
    args = ["log", "--json"] + ([sink_name] if sink_name else [])
    done = emu.run(args, cwd)
    if done.returncode != 0:
        raise Failure(f"emu log --json exited {done.returncode}: {done.stderr.decode(errors='replace')}")
    return {entry["id"]: entry for entry in json.loads(done.stdout)["snapshots"]}


def sink_fingerprints(sink):
    """Fingerprints of every snapshot tree in a sink: id -> fingerprint."""
    trees = os.path.join(sink, ".emu", "trees")
    nodes = os.path.join(sink, ".emu", "nodes")
    result = {}
    for ident in sorted(os.listdir(nodes)) if os.path.isdir(nodes) else []:
        tree = os.path.join(trees, ident)
        if not ident.startswith(".") and os.path.isdir(tree):
            result[ident] = fingerprint(tree, ignore=(), directory_mtimes=True)
    return result


def check_sink(emu, cwd, sink, before, sink_name=None, may_go=(), must_go=(), max_new=1):
    """The invariant after anything. Every snapshot emu lists is whole (tree
    and manifest). Every snapshot in `before` (id -> fingerprint) is still
    listed and identical, except those the command was asked to delete:
    `may_go` may still be there (a killed command had not reached them) and
    `must_go` must be gone whole (no record, no tree, no date link). At most
    `max_new` snapshots appeared (not counted where `before` is None:
    nothing was known). verify passes. Returns what log lists."""
    snapshots = listed(emu, cwd, sink_name)
    known = before or {}
    for ident in snapshots:
        tree = os.path.join(sink, ".emu", "trees", ident)
        if not os.path.isdir(tree) or not os.path.isfile(os.path.join(sink, ".emu", "manifests", ident)):
            raise Failure(f"log lists a half snapshot {ident}")
    lost = sorted(set(known) - set(snapshots) - set(may_go) - set(must_go))
    if lost:
        raise Failure(f"snapshot{'s' if len(lost) > 1 else ''} {', '.join(lost)} existed before and {'are' if len(lost) > 1 else 'is'} "
                      f"no longer listed")
    for ident in set(known) & set(snapshots):
        diff = differences(known[ident], fingerprint(os.path.join(sink, ".emu", "trees", ident), ignore=(), directory_mtimes=True))
        if diff:
            raise Failure(f"snapshot {ident} changed: " + "; ".join(diff))
    for ident in must_go:
        if ident in snapshots or any(os.path.lexists(os.path.join(sink, ".emu", part, ident)) for part in ("nodes", "trees", "manifests")):
            raise Failure(f"snapshot {ident} should be gone whole, but is {'listed' if ident in snapshots else 'partly left'}")
        links = [name for name in os.listdir(sink) if os.path.islink(os.path.join(sink, name))
                 and os.readlink(os.path.join(sink, name)).rstrip("/").endswith(ident)]
        if links:
            raise Failure(f"snapshot {ident} is gone, but its date link {links[0]} is left")
    new = sorted(set(snapshots) - set(known))
    if before is not None and len(new) > max_new:
        raise Failure(f"{len(new)} new snapshots appeared ({', '.join(new)}), at most {max_new} expected")
    verify = emu.run(["verify"] + ([sink_name] if sink_name else []), cwd)
    if verify.returncode != 0:
        raise Failure(f"verify exited {verify.returncode}: {(verify.stdout + verify.stderr).decode(errors='replace')[-2000:]}")
    return snapshots


def newest_tree(sink):
    return os.path.join(sink, os.readlink(os.path.join(sink, "Latest")))


def seeded(seed, *parts):
    return random.Random(f"{seed}:" + ":".join(map(str, parts)))
