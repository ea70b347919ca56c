"""The suite's own net: the invariant must fail when a sink loses or changes
what it held. Each sabotage is done behind emu's back between two steps, as
a bug would do it; an invariant that lets one pass proves nothing."""
import os
import shutil
import stat

from .lib import Failure, Workspace, check_sink, listed, make_tree, mutate, seeded, sink_fingerprints


def files(tree):
    """(path, lstat) of every regular file below `tree`."""
    for directory, _, names in os.walk(tree):
        for name in names:
            st = os.lstat(os.path.join(directory, name))
            if stat.S_ISREG(st.st_mode):
                yield os.path.join(directory, name), st


def inodes(tree):
    return (st for _, st in files(tree))


def sabotages(ws, oldest, middle, newest):
    """(what was done, a function doing it, the words the failure must contain, check_sink's keyword arguments)."""
    emu_dir = os.path.join(ws.sink, ".emu")

    def delete_oldest():
        for part in ("nodes", "manifests"):
            os.unlink(os.path.join(emu_dir, part, oldest))
        shutil.rmtree(os.path.join(emu_dir, "trees", oldest))
        for name in os.listdir(ws.sink):
            link = os.path.join(ws.sink, name)
            if os.path.islink(link) and os.readlink(link).endswith(oldest):
                os.unlink(link)

    def change_a_file():
        # A file only this snapshot holds: an unchanged one is the same inode in the others too.
        others = {st.st_ino for ident in (oldest, middle) for st in inodes(os.path.join(emu_dir, "trees", ident))}
        victim = min(path for path, st in files(os.path.join(emu_dir, "trees", newest)) if st.st_ino not in others)
        os.chmod(victim, 0o644)
        with open(victim, "ab") as out:
            out.write(b"!")

    def delete_a_tree():
        shutil.rmtree(os.path.join(emu_dir, "trees", newest))

    def nothing():
        pass

    return [
        ("the oldest snapshot deleted", delete_oldest, oldest, {}),
        ("a file of the newest snapshot changed", change_a_file, newest, {}),
        ("a snapshot's tree deleted, its record kept", delete_a_tree, newest, {}),
        ("a snapshot the command had to delete still there", nothing, oldest, {"must_go": {oldest}}),
    ]


def invariant(emu, scratch, log):
    """Three pushes; each sabotage on a fresh copy; check_sink must fail naming the snapshot."""
    caught = []
    for index in range(4):
        ws = Workspace(emu, parent=scratch).initialize()
        try:
            rng = seeded(1, "selftest")
            make_tree(ws.source, rng, files=40)
            for day in (1, 2, 3):
                ws.ok(["push", "--date", f"2026-0{day}-01T12:00:00"])
                mutate(ws.source, rng, count=10)
            before = sink_fingerprints(ws.sink)
            check_sink(emu, ws.source, ws.sink, before)  # untouched, it holds
            dates = {ident: record["date"] for ident, record in listed(emu, ws.source).items()}
            oldest, middle, newest = sorted(before, key=dates.get)
            what, sabotage, named, expected = sabotages(ws, oldest, middle, newest)[index]
            sabotage()
            try:
                check_sink(emu, ws.source, ws.sink, before, **expected)
            except Failure as failure:
                if named not in str(failure):
                    raise Failure(f"the invariant caught {what}, but its message does not name {named}: {failure}")
                caught.append(what)
                continue
            raise Failure(f"the invariant let a sabotaged sink pass: {what} ({named})")
        finally:
            ws.remove()
    log("invariant: caught " + "; ".join(caught))
