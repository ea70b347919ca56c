"""Faults a kill does not show: power cuts, the order of syncs and renames,
full disks, a sink that goes away mid-push. These need root (loop devices,
mounts); without it each is skipped (lib.Skipped), and counted so."""
import os
import re
import subprocess
import time

from .lib import (Failure, Skipped, Workspace, check_sink, fingerprint, killed_after, listed, make_tree, mutate, newest_tree, seeded,
                  sink_fingerprints)


def sh(command):
    return subprocess.run(command, shell=True, capture_output=True, text=True)


def can_mount():
    return os.geteuid() == 0


class Image:
    """An ext4 image mounted on a loop device below `parent`."""

    def __init__(self, parent, name, megabytes, options=""):
        self.path = os.path.join(parent, name + ".img")
        self.mount = os.path.join(parent, name)
        os.makedirs(self.mount, exist_ok=True)
        made = sh(f"truncate -s {megabytes}M '{self.path}' && mkfs.ext4 -q -m 0 '{self.path}' && "
                  f"mount -o loop{',' + options if options else ''} '{self.path}' '{self.mount}'")
        if made.returncode != 0:
            raise Failure(f"cannot mount an ext4 image: {made.stderr}")

    def unmount(self):
        sh(f"umount '{self.mount}' || umount -l '{self.mount}'")


def power_cuts(emu, trials, seed, scratch, log):
    """A push killed at a random moment, then the image copied as the disk
    held it (no sync), fsck'ed and mounted: every listed snapshot verifies
    and the next push equals the source."""
    if not can_mount():
        raise Skipped("needs root to mount images")
    clean = 0
    for i in range(trials):
        rng = seeded(seed, "power", i)
        image = Image(scratch, f"power{i}", 128, "commit=1")
        ws = Workspace(emu, parent=scratch, sink=os.path.join(image.mount, "sink")).initialize()
        copy = os.path.join(scratch, f"copy{i}")
        try:
            make_tree(ws.source, rng, files=150)
            ws.ok(["push"])
            before = sink_fingerprints(ws.sink)
            mutate(ws.source, rng, count=60)
            killed_after(emu, ["push"], ws.source, rng.uniform(0, 0.6))
            time.sleep(1.2)  # a journal commit: what the disk would hold a moment later
            os.makedirs(copy)
            if sh(f"cp --sparse=always '{image.path}' '{copy}.img' && (e2fsck -fy '{copy}.img' >/dev/null 2>&1; true) && "
                  f"mount -o loop '{copy}.img' '{copy}'").returncode != 0:
                raise Failure("cannot mount the power-cut copy")
            ws.ok(["sink", "add", "copy", os.path.join(copy, "sink")])
            # The first push was synced before the cut: its snapshot survives it, whole.
            check_sink(emu, ws.source, os.path.join(copy, "sink"), before, "copy")
            ws.ok(["push", "copy"])
            got = fingerprint(newest_tree(os.path.join(copy, "sink")))
            if got != fingerprint(ws.source):
                raise Failure(f"power cut {i}: the next push does not equal the source")
            check_sink(emu, ws.source, os.path.join(copy, "sink"), before, "copy", max_new=2)
            clean += 1
        finally:
            sh(f"umount '{copy}' 2>/dev/null")
            image.unmount()
            ws.remove()
            sh(f"rm -f '{image.path}' '{copy}.img'")
    log(f"power cuts: {trials} pushes killed and their disks copied unsynced; {clean} verified clean, next push equal to the source")


def sync_order(emu, scratch, log):
    """strace shows each publishing rename after the sync of what it publishes."""
    ws = Workspace(emu, parent=scratch).initialize()
    try:
        make_tree(ws.source, seeded(1, "sync"), files=60)
        trace = os.path.join(ws.root, "trace")
        done = subprocess.run(["strace", "-f", "-y", "-o", trace, "-e",
                               "trace=syncfs,fsync,fdatasync,rename,renameat,renameat2,copy_file_range,write,pwrite64",
                               emu.binary, "push"], cwd=ws.source, capture_output=True)
        if done.returncode != 0:
            raise Failure(f"push under strace exited {done.returncode}")
        lines = open(trace).read().splitlines()

        def first(pattern):
            for n, line in enumerate(lines):
                if re.search(pattern, line):
                    return n
            raise Failure(f"no syscall matches {pattern} in the trace")
        tree = first(r'renameat2?\(\d+</[^>]*/\.emu/staging>, "tree"')
        # The sync that counts is the last before the tree's rename, and it must follow every byte written into staging.
        syncfs = max((n for n in range(tree) if "syncfs(" in lines[n]), default=-1)
        last_data = max((n for n in range(tree) if re.search(r'(copy_file_range|write|pwrite64)\(.*/\.emu/staging/tree/', lines[n])), default=-1)
        if not last_data < syncfs:
            raise Failure(f"data written into staging (line {last_data}) after the last sync ({syncfs}) before the tree's rename")
        manifest = first(r'renameat2?\(\d+</[^>]*/\.emu/staging>, "manifest"')
        record_synced = first(r'fsync\(\d+</[^>]*/\.emu/staging/\.node\.tmp>')
        record = first(r'renameat2?\(\d+</[^>]*/\.emu/staging>, "node"')
        trees_synced = first(r'fsync\(\d+</[^>]*/\.emu/trees>')
        if not (syncfs < tree < manifest < trees_synced < record and record_synced < record):
            raise Failure(f"publishing order: record synced {record_synced}, syncfs {syncfs}, tree {tree}, manifest {manifest}, "
                          f"trees synced {trees_synced}, record {record}")
        log(f"sync order: the last byte into staging (line {last_data}), then syncfs ({syncfs}), then the tree's rename ({tree}), the manifest's ({manifest}), "
            f"trees/ synced ({trees_synced}) before the record's rename ({record}); the record itself synced before it ({record_synced})")
    finally:
        ws.remove()


def full_disk(emu, scratch, log):
    """A push that does not fit fails whole and gives its space back; with
    min-free rotation makes room; a checkout into a full target fails cleanly."""
    if not can_mount():
        raise Skipped("needs root to mount images")
    image = Image(scratch, "full", 48)
    ws = Workspace(emu, parent=scratch, sink=os.path.join(image.mount, "sink")).initialize()
    try:
        rng = seeded(1, "full")
        os.makedirs(os.path.join(ws.source, "big"))
        for n in range(3):
            with open(os.path.join(ws.source, "big", f"old{n}"), "wb") as f:
                f.write(rng.randbytes(9 << 20))
        ws.ok(["push"])
        # A second snapshot without the old files: what the first alone holds, rotation may free.
        os.rename(os.path.join(ws.source, "big"), os.path.join(ws.root, "old-big"))
        os.makedirs(os.path.join(ws.source, "big"))
        ws.ok(["push"])
        before = sink_fingerprints(ws.sink)
        free = os.statvfs(image.mount).f_bavail
        for n in range(4):
            with open(os.path.join(ws.source, "big", f"new{n}"), "wb") as f:
                f.write(rng.randbytes(9 << 20))
        done = ws.run(["push"])
        if done.returncode != 1:
            raise Failure(f"a push that cannot fit exited {done.returncode}")
        os.sync()
        if os.path.exists(os.path.join(ws.sink, ".emu", "staging")) or os.statvfs(image.mount).f_bavail < free - 256:
            raise Failure("the failed push left data behind")
        check_sink(emu, ws.source, ws.sink, before)
        # With a floor of one, rotation may remove the first snapshot, which alone holds the old files, to make room.
        ws.ok(["config", "--sink", "origin", "retention.min-keep", "1"])
        ws.ok(["config", "--sink", "origin", "retention.min-free", "5"])
        dates = {ident: record["date"] for ident, record in listed(emu, ws.source).items()}
        oldest = min(before, key=dates.get)
        ws.ok(["push"])
        check_sink(emu, ws.source, ws.sink, before, must_go={oldest})
        # A checkout into a target with no room fails cleanly: what it wrote goes.
        target = Image(scratch, "target", 16)
        try:
            done = ws.run(["checkout", "HEAD", "--to", os.path.join(target.mount, "out")])
            left = os.listdir(os.path.join(target.mount, "out")) if os.path.isdir(os.path.join(target.mount, "out")) else []
            if done.returncode != 1 or left:
                raise Failure(f"a checkout into a full target exited {done.returncode} and left {left[:5]}")
        finally:
            target.unmount()
        log("full disk: a push larger than the sink exits 1 and gives back its space; min-free rotation makes room; "
            "a checkout into a full target exits 1 and leaves it empty")
    finally:
        ws.remove()
        image.unmount()


def sink_going_away(emu, trials, seed, scratch, log):
    """The sink's filesystem turning read-only, its directory renamed away,
    a lazy unmount, and I/O errors injected, each in the middle of a push."""
    if not can_mount():
        raise Skipped("needs root to mount images")
    kinds = {"read-only": 0, "renamed": 0, "unmounted": 0, "EIO": 0, "ESTALE": 0}
    for i in range(trials):
        for kind in kinds:
            rng = seeded(seed, "away", kind, i)
            image = Image(scratch, f"away{i}", 96, "errors=remount-ro")
            ws = Workspace(emu, parent=scratch, sink=os.path.join(image.mount, "sink")).initialize()
            try:
                make_tree(ws.source, rng, files=150)
                ws.ok(["push"])
                before = sink_fingerprints(ws.sink)
                mutate(ws.source, rng, count=60)
                away(emu, ws, image, kind, rng)
                # Back as it was: remounted read-write after a check, at its path.
                sink = ws.sink
                if kind == "renamed":
                    os.rename(ws.sink + ".away", ws.sink)
                image.unmount()
                sh(f"e2fsck -fy '{image.path}' >/dev/null 2>&1; mount -o loop '{image.path}' '{image.mount}'")
                if kind == "unmounted" and os.listdir(image.mount) == []:
                    raise Failure("the image lost its sink")
                check_sink(emu, ws.source, sink, before)
                ws.ok(["push"], allowed=(0, 3))
                if fingerprint(newest_tree(sink)) != fingerprint(ws.source):
                    raise Failure(f"{kind}: the next push does not equal the source")
                check_sink(emu, ws.source, sink, before, max_new=2)
                kinds[kind] += 1
            except Failure as failure:
                raise Failure(f"sink going away ({kind}, trial {i}): {failure}") from None
            finally:
                image.unmount()
                ws.remove()
                sh(f"rm -f '{image.path}'")
    log("sink going away: " + ", ".join(f"{k} {v}" for k, v in kinds.items()) + " pushes cut, sinks verified after")


def away(emu, ws, image, kind, rng):
    """Takes the sink away from a push in one of the ways."""
    if kind in ("EIO", "ESTALE"):
        call = "write" if kind == "EIO" else "openat"
        when = rng.randint(20, 200)
        while True:
            done = subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", f"inject={call}:error={kind}:when={when}",
                                   emu.binary, "push"], cwd=ws.source, capture_output=True)
            # An early openat is the dynamic loader's: emu never ran. Inject later.
            if done.returncode != 127 or b"shared librar" not in done.stderr:
                break
            when += 50
        # The error may hit a write emu can do without (a message): then the push is whole, which check_sink shows.
        if done.returncode not in (0, 1, 3):
            raise Failure(f"a push with {kind} injected exited {done.returncode}")
        return
    process = emu.spawn(["push"], ws.source)
    time.sleep(rng.uniform(0.02, 0.3))
    if kind == "read-only":
        device = sh(f"findmnt -no SOURCE '{image.mount}'").stdout.strip().split("/")[-1]
        sh(f"echo 1 > /sys/fs/ext4/{device}/trigger_fs_error")
    elif kind == "renamed":
        os.rename(ws.sink, ws.sink + ".away")
    else:
        sh(f"umount -l '{image.mount}'")
    process.wait()
    if kind == "unmounted":
        # Absolute paths now land on the empty mount point: nothing may be written there.
        if os.listdir(image.mount):
            raise Failure(f"the push wrote into the empty mount point: {os.listdir(image.mount)}")
    elif kind == "renamed" and os.path.exists(ws.sink):
        raise Failure("the push recreated the sink at its old path")
