"""Concurrency, a source that changes under the walk, clocks and names."""
import os
import random
import subprocess
import sys
import threading
import time

from .lib import (Failure, Workspace, check_sink, differences, fingerprint, listed, make_tree, mutate, newest_tree, seeded,
                  sink_fingerprints)


def concurrency(emu, scratch, log):
    """Two pushes, push during prune, verify and log during a push, a second
    source refused by the first one's sink and pushing beside it, a lock a
    killed emu held: one waits or exits 5, nothing mixes, log never blocks."""
    ws = Workspace(emu, parent=scratch).initialize()
    try:
        make_tree(ws.source, seeded(1, "conc"), files=400, max_size=256 * 1024)
        ws.ok(["push"])
        mutate(ws.source, seeded(2, "conc"), count=100)
        outcomes = {}
        first = emu.spawn(["push"], ws.source)
        time.sleep(0.05)
        outcomes["second push"] = ws.run(["push"]).returncode
        outcomes["log during push"] = ws.run(["log", "--short"]).returncode
        outcomes["status during push"] = ws.run(["status"]).returncode
        outcomes["verify during push"] = ws.run(["verify"]).returncode
        outcomes["prune during push"] = ws.run(["prune", "TAIL"]).returncode
        first.wait()
        outcomes["first push"] = first.returncode
        if outcomes["log during push"] != 0 or outcomes["status during push"] != 0 or outcomes["first push"] != 0:
            raise Failure(f"log and status must not block on a writer, the first push must succeed: {outcomes}")
        for what in ("second push", "verify during push", "prune during push"):
            if outcomes[what] not in (0, 5):
                raise Failure(f"{what} exited {outcomes[what]}: it must succeed or exit 5")
        waiter = emu.spawn(["push", "--lock-wait", "60"], ws.source)
        other = emu.spawn(["push", "--lock-wait", "60"], ws.source)
        if waiter.wait() != 0 or other.wait() != 0:
            raise Failure("two pushes with --lock-wait did not both succeed")
        # A second source may not add the first one's sink: it gets a sink of its own beside it, pushed at the same time.
        second = Workspace(emu, parent=scratch)
        make_tree(second.source, seeded(3, "conc"), files=100)
        second.ok(["init"])
        before = listed(emu, ws.source)
        refused = second.run(["sink", "add", "shared", ws.sink])
        if refused.returncode != 2 or b"another source" not in refused.stderr:
            raise Failure(f"sink add of another source's sink must exit 2 naming it (got {refused.returncode}: "
                          f"{refused.stderr.decode(errors='replace')[-300:]})")
        if listed(emu, ws.source) != before:
            raise Failure("the refused source changed the first source's sink")
        second.ok(["sink", "add", "own", os.path.join(ws.root, "second-sink")])
        a, b = emu.spawn(["push", "--lock-wait", "60"], ws.source), emu.spawn(["push", "--lock-wait", "60"], second.source)
        if a.wait() != 0 or b.wait() != 0:
            raise Failure("two sources pushing into sinks side by side did not both succeed")
        if fingerprint(newest_tree(os.path.join(ws.root, "second-sink"))) != fingerprint(second.source):
            raise Failure("the second source's snapshot holds something else")
        # A lock held by an emu that was killed holds nothing.
        held = os.path.join(ws.root, "held")
        holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a'); "
                                   "fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], 'w').close(); time.sleep(3600)",
                                   os.path.join(ws.sink, ".emu", "lock"), held])
        while not os.path.exists(held):  # held once the holder says so, however slow the machine
            if holder.poll() is not None:
                raise Failure("the lock holder ended before it took the lock")
            time.sleep(0.02)
        locked = ws.run(["push"]).returncode
        holder.kill()
        holder.wait()
        after = ws.run(["push"])
        if locked != 5 or after.returncode != 0:
            raise Failure(f"a held lock must give exit 5 (got {locked}), a dead holder's lock nothing (got {after.returncode}: "
                          f"{after.stderr.decode(errors='replace')[-400:]})")
        check_sink(emu, ws.source, ws.sink, None)
        second.remove()
        log("concurrency: " + ", ".join(f"{k} exit {v}" for k, v in outcomes.items())
            + "; two waiting pushes, a second source refused and beside it, a killed holder's lock: right")
    finally:
        ws.remove()


def changing_source(emu, trials, seed, scratch, log):
    """A thread appends, truncates, deletes, renames and swaps a directory
    for a symlink while emu reads: the push completes, every record matches
    the bytes stored, and no symlink in place of a directory is followed."""
    outside = os.path.join(scratch, "outside")
    os.makedirs(outside)
    with open(os.path.join(outside, "secret"), "w") as f:
        f.write("never in a snapshot")
    for i in range(trials):
        ws = Workspace(emu, parent=scratch).initialize()
        rng = seeded(seed, "changing", i)
        try:
            files = make_tree(ws.source, rng, files=300, max_size=128 * 1024)
            stop = threading.Event()
            thread = threading.Thread(target=churn, args=(ws.source, files, outside, random.Random(rng.random()), stop))
            thread.start()
            done = ws.run(["push"])
            stop.set()
            thread.join()
            if done.returncode not in (0, 3):
                raise Failure(f"a push of a changing source exited {done.returncode}: {done.stderr.decode(errors='replace')[-800:]}")
            check_sink(emu, ws.source, ws.sink, None)
            for d, _, names in os.walk(newest_tree(ws.sink)):
                if "secret" in names:
                    raise Failure("a symlink that replaced a directory was followed")
        finally:
            ws.remove()
    log(f"changing source: {trials} pushes while files were appended, truncated, deleted, renamed and a directory swapped for a symlink: verified")


def churn(root, files, outside, rng, stop):
    while not stop.is_set():
        f = rng.choice(files)
        try:
            action = rng.randrange(5)
            if action == 0:
                with open(f, "ab") as out:
                    out.write(os.urandom(4096))
            elif action == 1:
                os.truncate(f, rng.randint(0, 1000))
            elif action == 2:
                os.unlink(f)
            elif action == 3:
                os.rename(f, f + ".moved")
            else:
                d = os.path.dirname(f)
                if d != root and not os.path.islink(d):
                    os.rename(d, d + ".old")
                    os.symlink(outside, d)
        except OSError:
            pass
        time.sleep(0.0005)


def clock_and_names(emu, long, scratch, log):
    """The clock going backwards, two pushes in one second, names with
    newlines, 255-byte names, 4,096-byte paths, many entries in one directory."""
    # The long form's source lives on tmpfs, where one inode may have 70,000 names; the sink on the scratch disk.
    ws = Workspace(emu, parent="/dev/shm" if long else scratch, sink=os.path.join(scratch, "sink")).initialize()
    try:
        src = ws.source
        with open(os.path.join(src, "a\nnewline"), "w") as f:
            f.write("n")
        with open(os.path.join(src, "x" * 255), "w") as f:
            f.write("long")
        deep = src
        while len(deep) - len(src) < 3800:
            deep = os.path.join(deep, "d" * 200)
        os.makedirs(deep)
        with open(os.path.join(deep, "end"), "w") as f:
            f.write("deep")
        many = os.path.join(src, "many")
        os.makedirs(many)
        count = 1_000_000 if long else 20_000
        for n in range(count):
            os.close(os.open(os.path.join(many, f"e{n}"), os.O_CREAT | os.O_WRONLY, 0o644))
        # More names of one inode than ext4 allows (65,000): the sink starts a second inode.
        links = 70_000 if long else 0
        if links:
            os.makedirs(os.path.join(src, "links"))
            with open(os.path.join(src, "links", "one"), "w") as f:
                f.write("one inode")
            for n in range(links):
                os.link(os.path.join(src, "links", "one"), os.path.join(src, "links", f"l{n}"))
        ws.ok(["push", "--date", "2026-06-01T12:00:00"])
        ws.ok(["push", "--date", "2026-01-01T12:00:00"])  # the clock went back
        ws.ok(["push"])
        ws.ok(["push"])  # in the same second: waits for the next
        records = listed(emu, src)
        if len({r["name"] for r in records.values()}) != 4:
            raise Failure("two snapshots share a name")
        restored = os.path.join(ws.root, "restored")
        ws.ok(["checkout", "HEAD", "--to", restored])
        want, got = fingerprint(src), fingerprint(restored)
        if links:
            # Past the sink's link limit (ext4: 65,000) the snapshot holds more inodes, and the restore holds
            # exactly its groups; against the source the names are compared without their group.
            def groups(tree):
                return {rel: entry[6] for rel, entry in tree.items() if rel.startswith(b"links/")}
            if groups(fingerprint(newest_tree(ws.sink), ignore=())) != groups(got):
                raise Failure("the restore's hardlink groups are not the snapshot's")
            for tree in (want, got):
                for rel in [r for r in tree if r.startswith(b"links/")]:
                    tree[rel] = tree[rel][:6] + (tree[rel][6].split("|")[0],) + tree[rel][7:]
        diff = differences(want, got)
        if diff:
            raise Failure("a checkout of odd names and deep paths differs from the source: " + "; ".join(diff))
        check_sink(emu, src, ws.sink, None)
        log(f"clock and names: backwards dates, one second twice, a newline, a 255-byte name, a {len(deep) - len(src)}-byte path, "
            f"{count} entries in one directory, {links} names of one inode: pushed, verified, restored equal")
    finally:
        ws.remove()
