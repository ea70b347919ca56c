#!/usr/bin/env bash
# bench/ab.sh OLD-EMU NEW-EMU PROFILE SCALE [RUNS]: two emu binaries on one
# seeded corpus (bench/make_corpus.py), runs interleaved with the order
# alternated: first push, unchanged push, checkout --to an empty directory,
# diff of the two snapshots (same records: every line compared), log -- PATH.
# Prints min/median/max seconds of each and the ratio of the medians.
set -euo pipefail
old="$(realpath "$1")" new="$(realpath "$2")" profile="$3" scale="$4" runs="${5:-5}"
work=$(mktemp -d /dev/shm/ab.XXXXXX)
python3 "$(dirname "$0")/make_corpus.py" "$profile" "$work/src" 1 "$scale"
path=$(cd "$work/src" && find . -type f | sort | sed -n '1000p;$p' | head -1 | cut -c3-)
: > "$work/times"
for run in $(seq "$runs"); do
  order="old new"; [ $((run % 2)) = 0 ] && order="new old"
  for which in $order; do
    bin=${!which}
    rm -rf "$work/sink" "$work/out" "$work/src/.emu"
    (cd "$work/src" && "$bin" init -q >/dev/null 2>&1 && "$bin" sink add s "$work/sink" -q >/dev/null 2>&1)
    sync
    t0=$(date +%s.%N); (cd "$work/src" && "$bin" push -q >/dev/null); t1=$(date +%s.%N)
    (cd "$work/src" && "$bin" push -q >/dev/null); t2=$(date +%s.%N)
    (cd "$work/src" && "$bin" checkout HEAD --to "$work/out" -q >/dev/null); t3=$(date +%s.%N)
    (cd "$work/src" && "$bin" diff HEAD~1 HEAD >/dev/null); t4=$(date +%s.%N)
    (cd "$work/src" && "$bin" log -- "$path" >/dev/null); t5=$(date +%s.%N)
    echo "$which first $(awk "BEGIN{print $t1 - $t0}")" >> "$work/times"
    echo "$which again $(awk "BEGIN{print $t2 - $t1}")" >> "$work/times"
    echo "$which checkout $(awk "BEGIN{print $t3 - $t2}")" >> "$work/times"
    echo "$which diff $(awk "BEGIN{print $t4 - $t3}")" >> "$work/times"
    echo "$which log-path $(awk "BEGIN{print $t5 - $t4}")" >> "$work/times"
  done
done
python3 - "$work/times" <<'PY'
import sys, statistics
rows=[l.split() for l in open(sys.argv[1])]
for step in ["first","again","checkout","diff","log-path"]:
    out=[]
    for which in ["old","new"]:
        v=sorted(float(r[2]) for r in rows if r[0]==which and r[1]==step)
        out.append((which, min(v), statistics.median(v), max(v)))
    (a,b)=out
    print(f"{step:9s} old {a[1]:.3f}/{a[2]:.3f}/{a[3]:.3f}  new {b[1]:.3f}/{b[2]:.3f}/{b[3]:.3f}  new/old median {b[2]/a[2]:.3f}")
PY
rm -rf "$work"
