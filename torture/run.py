#!/usr/bin/env python3
"""emu's torture suite: kills, power cuts, full disks, a sink that goes away,
concurrency, a source changing under the walk, clocks and names, kills
of the client or the server of a sink reached over ssh, kills of `emu
replicate` (here and over ssh), and a hostile client speaking the protocol
to `emu serve` directly.

    torture/run.py EMU_BINARY [--trials N] [--seed S] [--only PART,...]

`make torture` runs it long (200 kills a command, over ssh too); `make test`
runs it short (20, and 3 over ssh, where each trial costs several ssh sessions). It prints one line a part with its figures and ends with the plain
'N passed, N failed, N skipped' line; the exit status is 1 when anything
failed. A part that cannot run here (no root) is skipped, and with
--no-skips (EMU_NO_SKIPS=1, as CI sets it) it fails instead.
"""
import argparse
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emutorture import kills, faults, edges, hostile, remote, replicas, selftest  # noqa: E402
from emutorture.lib import Emu, Failure, Skipped  # noqa: E402

PARTS = {
    "invariant": lambda emu, a, scratch, log: selftest.invariant(emu, scratch, log),
    "kills": lambda emu, a, scratch, log: kills.run(emu, a.trials, a.seed, scratch, log),
    "power": lambda emu, a, scratch, log: faults.power_cuts(emu, max(3, a.trials // 4), a.seed, scratch, log),
    "sync-order": lambda emu, a, scratch, log: faults.sync_order(emu, scratch, log),
    "full-disk": lambda emu, a, scratch, log: faults.full_disk(emu, scratch, log),
    "sink-away": lambda emu, a, scratch, log: faults.sink_going_away(emu, max(2, a.trials // 10), a.seed, scratch, log),
    "concurrency": lambda emu, a, scratch, log: edges.concurrency(emu, scratch, log),
    "changing-source": lambda emu, a, scratch, log: edges.changing_source(emu, max(2, a.trials // 10), a.seed, scratch, log),
    "clock-and-names": lambda emu, a, scratch, log: edges.clock_and_names(emu, a.trials >= 100, scratch, log),
    "hostile-client": lambda emu, a, scratch, log: hostile.run(emu, a.trials * 2, a.seed, scratch, log),
    "remote-kills": lambda emu, a, scratch, log: remote.run(emu, a.trials if a.trials >= 100 else max(3, a.trials // 7), a.seed,
                                                            scratch, log),
    "replicate-kills": lambda emu, a, scratch, log: replicas.run(emu, a.trials, a.seed, scratch, log),
    "replicate-ssh-kills": lambda emu, a, scratch, log: replicas.run(emu, a.trials if a.trials >= 100 else max(3, a.trials // 7), a.seed,
                                                                     scratch, log, over_ssh=True),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("emu")
    parser.add_argument("--trials", type=int, default=20, help="kills per command (power cuts and others scale from it)")
    parser.add_argument("--seed", default=os.environ.get("EMU_TORTURE_SEED", "1"))
    parser.add_argument("--only", default="", help="comma-separated parts: " + ", ".join(PARTS))
    parser.add_argument("--no-skips", action="store_true", default=os.environ.get("EMU_NO_SKIPS") == "1",
                        help="a part that cannot run here fails (CI, which installed everything; also EMU_NO_SKIPS=1)")
    args = parser.parse_args()
    emu = Emu(os.path.abspath(args.emu))
    chosen = [p for p in args.only.split(",") if p] or list(PARTS)
    passed = failed = skipped = 0
    started = time.monotonic()
    for part in chosen:
        scratch = tempfile.mkdtemp(prefix=f"emu-torture-{part}.", dir=os.environ.get("EMU_TORTURE_DIR"))
        try:
            PARTS[part](emu, args, scratch, lambda line: print(f"torture: {line}", flush=True))
            passed += 1
            print(f"torture: {part}: passed", flush=True)
        except Skipped as reason:
            if args.no_skips:
                failed += 1
                print(f"torture: {part}: FAILED: skipped ({reason}), but this run requires every part", flush=True)
            else:
                skipped += 1
                print(f"torture: {part}: skipped ({reason})", flush=True)
        except Failure as failure:
            failed += 1
            print(f"torture: {part}: FAILED: {failure}", flush=True)
        except Exception:  # a harness error is a failure too, with its trace
            failed += 1
            print(f"torture: {part}: ERROR\n{traceback.format_exc()}", flush=True)
        finally:
            os.system(f"umount -R -l {scratch}/*/* 2>/dev/null; rm -rf '{scratch}'")
    print(f"torture: {time.monotonic() - started:.0f}s, seed {args.seed}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
