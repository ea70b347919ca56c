"""`emu replicate` killed at seeded moments: a history of five snapshots in
one sink, two of them copied to a second sink before; the copy of the rest
is killed (the client, or over ssh the server too), then run again. The
invariant: the second sink's snapshots never change, every snapshot it lists
is whole, verify passes, the first sink is untouched; after the rerun the
second holds every snapshot of the first, tree for tree."""
import os
import subprocess

from .lib import (Failure, Workspace, check_sink, differences, killed_after, listed, make_tree, mutate, seeded,
                  sink_fingerprints, timed)
from .remote import SSHD, OverSSH


class Here:
    """The second sink is a directory here; the cut is a SIGKILL of emu (its receiver is a thread of it)."""

    def location(self, sink):
        return sink

    def register(self, ws):
        pass

    def cut(self, emu, args, cwd, delay, sink, index):
        return killed_after(emu, args, cwd, delay)


def prepare(emu, seed, scratch, link):
    ws = Workspace(emu, parent=scratch).initialize()
    rng = seeded(seed, "replicate", "prepare")
    make_tree(ws.source, rng, files=250)
    for day in range(1, 6):
        ws.ok(["push", "--date", f"2026-0{day}-01T12:00:00"])
        mutate(ws.source, rng, count=40)
    ws.ok(["sink", "add", "copy", os.path.join(ws.root, "copy"), "-q"])
    oldest = sorted(listed(emu, ws.source).values(), key=lambda record: record["date"])
    ws.ok(["replicate", "origin", "copy", oldest[0]["id"], oldest[1]["id"], "-q"])
    link.register(ws)
    return ws


def copied(base, root, link):
    """The prepared workspace at `root`, both sinks registered where the copy's are."""
    subprocess.run(["cp", "-a", base.root, root], check=True)
    ws = Workspace.__new__(Workspace)
    ws.emu, ws.root = base.emu, root
    ws.source, ws.sink = os.path.join(root, "source"), os.path.join(root, "sink")
    for name, path, location in (("origin", ws.sink, ws.sink), ("copy", os.path.join(root, "copy"), None)):
        with open(os.path.join(ws.source, ".emu", "sinks", name), "w") as f:
            f.write((location or link.location(path)) + "\n")
    return ws


def trial(emu, base, seed, index, duration, scratch, link):
    ws = copied(base, os.path.join(scratch, f"trial-{index}"), link)
    copy = os.path.join(ws.root, "copy")
    try:
        first, second = sink_fingerprints(ws.sink), sink_fingerprints(copy)
        rng = seeded(seed, "replicate", index)
        landed = link.cut(emu, ["replicate", "origin", "copy", "-q"], ws.source, rng.uniform(0, duration * 1.1), copy, index)
        check_sink(emu, ws.source, copy, second, sink_name="copy", max_new=len(first) - len(second))
        check_sink(emu, ws.source, ws.sink, first, sink_name="origin", max_new=0)
        done = emu.run(["replicate", "origin", "copy", "-q"], ws.source)
        if done.returncode != 0:
            raise Failure(f"the rerun exited {done.returncode}: {done.stderr.decode(errors='replace')[-1500:]}")
        check_sink(emu, ws.source, copy, second, sink_name="copy", max_new=len(first) - len(second))
        copies = sink_fingerprints(copy)
        if set(copies) != set(first):
            raise Failure(f"after the rerun the copy holds {sorted(copies)}, the first sink {sorted(first)}")
        for ident, want in first.items():
            diff = differences(want, copies[ident])
            if diff:
                raise Failure(f"the copy of {ident} differs: " + "; ".join(diff))
        return landed
    finally:
        ws.remove()


def run(emu, trials, seed, scratch, log, over_ssh=False):
    sshd = SSHD(scratch) if over_ssh else None
    link = OverSSHCopy(sshd, emu) if sshd else Here()
    label = "replicate over ssh" if sshd else "replicate"
    try:
        base = prepare(emu, seed, scratch, link)
        durations = []
        for attempt in range(2):
            probe = copied(base, os.path.join(scratch, f"probe-{attempt}"), link)
            durations.append(timed(emu, ["replicate", "origin", "copy", "-q"], probe.source))
            probe.remove()
        duration = min(durations)
        landed = 0
        for i in range(trials):
            try:
                landed += trial(emu, base, seed, i, duration, scratch, link)
            except Failure as failure:
                raise Failure(f"{label}, trial {i} (seed {seed}): {failure}") from None
        log(f"{label}: {trials} trials, {landed} landed mid-run (a run takes {duration:.2f}s)")
    finally:
        if sshd:
            sshd.stop()


class OverSSHCopy(OverSSH):
    """The second sink on the server; cuts alternate between the client and `emu serve`."""

    def register(self, ws):
        ws.ok(["config", "sink.copy.ssh-command", self.sshd.ssh_command])
        ws.ok(["config", "sink.copy.remote-emu", self.emu.binary])
