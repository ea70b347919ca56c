"""SIGKILL at seeded random moments: every command that changes a sink or a
source, each checked against the invariant, then run again to the end."""
import os
import shutil
import subprocess

from .lib import (Failure, Workspace, check_sink, differences, fingerprint, killed_after, listed, make_tree, mutate,
                  newest_tree, seeded, sink_fingerprints, timed)


class Scenario:
    """One command to kill: `prepare` builds the state (once, copied for
    each trial), `arguments` is what is killed (and run again), `deletes`
    the snapshots it is asked to delete, `after` checks what a kill and a
    rerun left."""
    name = ""
    command = []
    changes_source = False  # the command writes into the source (a checkout without --to)
    target = None  # the directory a checkout --to writes, below the workspace's root
    new_snapshots = 0  # how many snapshots a finished run adds (a killed run may have finished too)

    def prepare(self, ws, rng):
        make_tree(ws.source, rng)
        ws.ok(["push"])

    def arguments(self, ws):
        return self.command

    def deletes(self, history, arguments, added):
        """The snapshots (ids) of `history` (what existed, oldest first) the
        command deletes once its runs have added `added` snapshots: a killed
        run may or may not have deleted them, a finished one must have."""
        return set()

    def rerun(self, ws, arguments):
        """What is run again after the kill, and the exit statuses it may end with."""
        return arguments, (0,)

    def after(self, ws, before, source_before, target_before):
        """After the rerun: the command's own result is right."""
        pass


def ordered(ws, before):
    """The snapshots of `before`, oldest first, by their recorded dates."""
    dates = {ident: record["date"] for ident, record in listed(ws.emu, ws.source).items()}
    return sorted(before, key=lambda ident: dates.get(ident, ""))


class FirstPush(Scenario):
    name = "push (first)"
    command = ["push"]
    new_snapshots = 1

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=250)

    def after(self, ws, before, source_before, target_before):
        expect_equal(source_before, fingerprint(newest_tree(ws.sink)), "the snapshot after the rerun")


class PushAfterChange(Scenario):
    name = "push (after a change)"
    command = ["push"]
    new_snapshots = 1

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=250)
        ws.ok(["push"])
        mutate(ws.source, rng, count=60)

    after = FirstPush.after


class PushWithRotation(Scenario):
    name = "push (rotation expiring snapshots)"
    command = ["push"]
    new_snapshots = 1

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=200)
        for day in range(1, 5):
            ws.ok(["push", "--date", f"2026-0{day}-01T12:00:00"])
            mutate(ws.source, rng, count=30)
        ws.ok(["config", "--sink", "origin", "retention.keep-last", "2"])

    def deletes(self, history, arguments, added):
        # Retention runs after a push published: keep-last 2 keeps the newest two, the new ones first.
        keep = max(0, 2 - added) if added else len(history)
        return set(history[:len(history) - keep])

    after = FirstPush.after


class Prune(Scenario):
    name = "prune"
    command = ["prune", "TAIL", "HEAD~1"]

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=200)
        for _ in range(3):
            ws.ok(["push"])
            mutate(ws.source, rng, count=40)

    def arguments(self, ws):
        # TAIL and HEAD~1 by their ids: a rerun must name the same snapshots, not the ones those names mean by then.
        oldest, middle, _ = ordered(ws, listed(ws.emu, ws.source))
        return ["prune", oldest, middle]

    def deletes(self, history, arguments, added):
        return set(arguments[1:])

    def rerun(self, ws, arguments):
        # A user runs it again on the snapshots still listed; with none left, naming them is bad usage.
        still = [ident for ident in arguments[1:] if ident in listed(ws.emu, ws.source)]
        return (["prune"] + still, (0,)) if still else (arguments, (2,))


class Squash(Scenario):
    name = "squash"
    command = ["squash", "HEAD"]
    prepare = Prune.prepare

    def deletes(self, history, arguments, added):
        return set(history[:-1])


class CleanRepair(Scenario):
    name = "clean --repair"
    command = ["clean", "--repair"]

    def prepare(self, ws, rng):
        Prune.prepare(self, ws, rng)
        manifests = os.path.join(ws.sink, ".emu", "manifests")
        os.unlink(os.path.join(manifests, sorted(os.listdir(manifests))[0]))
        shutil.rmtree(os.path.join(ws.sink, ".emu", "index"))

    def after(self, ws, before, source_before, target_before):
        # The snapshot whose manifest was deleted is rebuilt, not dropped (check_sink: listed, whole, identical).
        if not os.path.isdir(os.path.join(ws.sink, ".emu", "index")):
            raise Failure("clean --repair did not rebuild the content index")


class CheckoutSource(Scenario):
    name = "checkout (into the source)"
    command = ["checkout", "HEAD~1"]
    changes_source = True

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=200)
        ws.ok(["push"])
        mutate(ws.source, rng, count=80)
        ws.ok(["push"])

    def after(self, ws, before, source_before, target_before):
        expect_equal(target_before, fingerprint(ws.source), "the source after the rerun")


class CheckoutTo(Scenario):
    name = "checkout --to"
    command = ["checkout", "HEAD", "--to", "../restored"]
    target = "restored"

    def prepare(self, ws, rng):
        make_tree(ws.source, rng, files=250)
        ws.ok(["push"])

    def rerun(self, ws, arguments):
        # Killed after its last move, DIR is whole, and a second checkout rightly refuses a DIR that is not empty.
        restored = os.path.join(ws.root, self.target)
        finished = os.path.isdir(restored) and os.listdir(restored) and not any(n.startswith(".emu-checkout.") for n in os.listdir(restored))
        return arguments, ((0, 1) if finished else (0,))

    def after(self, ws, before, source_before, target_before):
        expect_equal(target_before, fingerprint(os.path.join(ws.root, self.target)), "the restored tree after the rerun")


SCENARIOS = [FirstPush(), PushAfterChange(), PushWithRotation(), Prune(), Squash(), CheckoutSource(), CheckoutTo(), CleanRepair()]


def expect_equal(want, got, what):
    diff = differences(want, got)
    if diff:
        raise Failure(f"{what} differs: " + "; ".join(diff))


def bytes_of(entry):
    """A fingerprint's content without its hardlink group: a killed checkout
    may have moved one name of a group to its new inode and not yet the
    others, but every file it left is whole."""
    return entry[6].split("|", 1)[0] if entry and entry[6] else None


def files_are_old_or_new(path, old, new, what):
    """After a killed checkout every file is the old or the new version."""
    for rel, entry in fingerprint(path).items():
        if any(part.startswith(b".emu-checkout.") for part in rel.split(b"/")):
            continue
        if entry[0] == 0o100000 and entry != old.get(rel) and entry != new.get(rel):
            if bytes_of(entry) not in (bytes_of(old.get(rel)), bytes_of(new.get(rel))):
                raise Failure(f"{what}: {rel!r} is neither the old nor the new version "
                              f"(now {entry}; before {old.get(rel)}; in the snapshot {new.get(rel)})")


def template(emu, scenario, seed, scratch):
    ws = Workspace(emu, parent=scratch).initialize()
    scenario.prepare(ws, seeded(seed, scenario.name, "prepare"))
    return ws


class Local:
    """How a trial reaches its sink and cuts its command: a directory here, and SIGKILL."""

    def location(self, sink):
        return sink

    def cut(self, emu, args, cwd, delay, sink, index):
        return killed_after(emu, args, cwd, delay)


def copied(base, root, link):
    """A copy of the prepared workspace at `root`, its sink registered where the copy's is."""
    subprocess.run(["cp", "-a", base.root, root], check=True)
    ws = Workspace.__new__(Workspace)
    ws.emu, ws.root = base.emu, root
    ws.source, ws.sink = os.path.join(root, "source"), os.path.join(root, "sink")
    with open(os.path.join(ws.source, ".emu", "sinks", "origin"), "w") as f:
        f.write(link.location(ws.sink) + "\n")
    return ws


def trial(emu, scenario, base, seed, index, duration, scratch, link=Local()):
    """Copies the prepared workspace, kills the command at a seeded moment,
    checks, runs it again, checks again. Returns whether the kill landed."""
    root = os.path.join(scratch, f"trial-{index}")
    ws = copied(base, root, link)
    try:
        before = sink_fingerprints(ws.sink)
        source_before = fingerprint(ws.source)
        target_before = expected_target(ws, scenario)
        arguments = scenario.arguments(ws)
        history = ordered(ws, before)
        rng = seeded(seed, scenario.name, index)
        landed = link.cut(emu, arguments, ws.source, rng.uniform(0, duration * 1.1), ws.sink, index)
        if scenario.changes_source:
            files_are_old_or_new(ws.source, source_before, target_before, "the source after a killed checkout")
        else:
            expect_equal(source_before, fingerprint(ws.source), "the source after a killed command")
        if scenario.target and os.path.isdir(os.path.join(root, scenario.target)):
            files_are_old_or_new(os.path.join(root, scenario.target), {}, target_before, "a killed checkout --to")
        if scenario.command[:1] != ["clean"]:
            # clean --repair's own work (a missing manifest) is what verify would miss before the rerun.
            added = len(set(listed(emu, ws.source)) - set(before))  # the killed run may have published before the kill
            check_sink(emu, ws.source, ws.sink, before, may_go=scenario.deletes(history, arguments, added),
                       max_new=scenario.new_snapshots)
        again, exits = scenario.rerun(ws, arguments)
        done = emu.run(again, ws.source)
        if done.returncode not in exits:
            raise Failure(f"the rerun (emu {' '.join(again)}) exited {done.returncode}, not {' or '.join(map(str, exits))}: "
                          f"{done.stderr.decode(errors='replace')[-1500:]}")
        added = len(set(listed(emu, ws.source)) - set(before))
        check_sink(emu, ws.source, ws.sink, before, must_go=scenario.deletes(history, arguments, added),
                   max_new=2 * scenario.new_snapshots)
        if not scenario.changes_source:
            expect_equal(source_before, fingerprint(ws.source), "the source after the rerun")
        scenario.after(ws, before, source_before, target_before)
        return landed
    finally:
        ws.remove()


def expected_target(ws, scenario):
    """What a checkout restores: the snapshot's tree as it is in the sink."""
    if scenario.command[:1] != ["checkout"]:
        return None
    reference = scenario.command[1]
    sink = ws.sink
    names = sorted(n for n in os.listdir(sink) if n[:2] == "20")
    tree = os.path.join(sink, names[-2] if reference == "HEAD~1" else names[-1])
    return fingerprint(tree, ignore=())


def run(emu, trials, seed, scratch, log, link=Local(), prepared=None, label="kills"):
    """Every scenario, `trials` kills each; returns (trials, landed) per scenario.
    `prepared(ws)` registers a template's sink as the trials reach it."""
    results = {}
    for scenario in SCENARIOS:
        base = template(emu, scenario, seed, scratch)
        if prepared:
            prepared(base)
        try:
            durations = []
            # A second run, caches warm, is what the trials take: the first overstates it.
            for _ in range(2):
                probe = copied(base, os.path.join(scratch, "probe"), link)
                durations.append(timed(emu, scenario.arguments(probe), probe.source, allowed=(0,)))
                subprocess.run(["rm", "-rf", probe.root])
            duration = min(durations)
            landed = 0
            for i in range(trials):
                try:
                    landed += trial(emu, scenario, base, seed, i, duration, scratch, link)
                except Failure as failure:
                    raise Failure(f"{scenario.name}, trial {i} (seed {seed}): {failure}") from None
            results[scenario.name] = (trials, landed, duration)
            log(f"{label}: {scenario.name}: {trials} trials, {landed} landed mid-run (a run takes {duration:.2f}s)")
        finally:
            base.remove()
    return results
