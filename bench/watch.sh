#!/usr/bin/env bash
# bench/watch.sh EMU PROFILE SCALE RUNS [SEED]: what `emu watch` costs and how soon a
# change is safe, on an ext4 image in /dev/shm. Each run, interleaved: one
# file changed, and one after another: the push of one `emu watch --settle 1s`
# running throughout (and the seconds from the file's close to a snapshot
# holding it), `emu push -v` of the same change to another sink (a full walk),
# and the plain floor. Push times are emu's own
# (-v: walk and copy + sync and publish), so both leave out process start.
# The plain floor (bench/floor.c: a walk, two stats
# and a link a file) makes the same snapshot; the issue's target is a
# no-change push at 0.8x the plain floor, which only a push that need not walk
# can reach: watch's. Prints min/median/max of each, and the ratios of medians.
# And where the time goes: the CPU seconds (user and system, every thread) of
# each, and the least time two cores allow for them (half of them): emu spends
# them on two threads and more; the floor on one.
set -euo pipefail
emu="$(realpath "$1")" profile="$2" scale="$3" runs="$4" seed="${5:-1}"
work=$(mktemp -d /tmp/emu-watch.XXXXXX) image=/dev/shm/emu-watch-$$.img
truncate -s 8G "$image" && mkfs.ext4 -q -F -N 4000000 "$image" && mount -o loop "$image" "$work"
cc -O2 -o "$work/floor" "$(dirname "$0")/floor.c"
watcher=""
trap '[ -n "$watcher" ] && kill "$watcher" 2>/dev/null; umount -l "$work"; rm -f "$image"; rmdir "$work"' EXIT
python3 "$(dirname "$0")/make_corpus.py" "$profile" "$work/src" "$seed" "$scale" >/dev/null
cd "$work/src"
# Two sinks: s for the watch, f for the full pushes, so that each run times
# all three on the same change, one after another.
"$emu" init -q >/dev/null && "$emu" sink add s "$work/sink" -q >/dev/null && "$emu" sink add f "$work/full" -q >/dev/null
"$emu" config --sink s retention.keep-all yes >/dev/null && "$emu" config --sink f retention.keep-all yes >/dev/null
"$emu" push s f -q
"$work/floor" push "$work/src" - "$work/floor-first"
mapfile -t files < <(find . -path ./.emu -prune -o -type f -size +0 -print | shuf -n $((runs + 1)) --random-source=<(yes))
# The seconds a push of emu -v reports spending (walk and copy, then sync and publish).
spent() { grep -o 'walk and copy [0-9.]*s, sync and publish [0-9.]*s' "$1" | tail -1 | awk '{gsub("s,","",$4); gsub("s","",$8); print $4 + $8}'; }
now() { date +%s.%N; }
full=() watched=() latency=() floor=() full_cpu=() watched_cpu=() floor_cpu=()
# CPU seconds a command spent (user and system, its threads and children).
cpu_of() { /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null; awk '{print $1 + $2}' "$work/cpu"; }
# CPU seconds a running process has spent so far, every thread.
cpu_so_far() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# One watch throughout, as it runs for real: its first push reads the newest
# snapshot's records for their hardlinked names (another process made it);
# each push after that knows them from the push before (a warm-up push
# first, not counted).
"$emu" watch s --settle 1s -v 2> "$work/watch.err" & watcher=$!
until grep -q watching "$work/watch.err"; do sleep 0.05; done
sleep 1  # the watch's check at start (is each sink up to date?) runs a walk
pushes() { grep -c 'walk and copy' "$work/watch.err" || true; }
# Each run changes one file; then, one after another: the watch's push, a
# full push of the same change to f, and the floor's snapshot of it.
for i in $(seq 0 "$runs"); do
  target="${files[$i]}" marker="watched $i $RANDOM" before=$(pushes)
  sync; cpu_before=$(cpu_so_far "$watcher"); echo "$marker" >> "$target"; start=$(now)
  until tail -c 100 "$work/sink/.emu/trees/$(cat "$work/sink/.emu/HEAD")/$target" 2>/dev/null | grep -q "$marker"; do
    if grep -q "emu: error" "$work/watch.err"; then grep "emu: error" "$work/watch.err" >&2; exit 1; fi
    sleep 0.01
  done
  [ "$i" = 0 ] || latency+=("$(echo "$(now) - $start" | bc)")
  until [ "$(pushes)" -gt "$before" ]; do sleep 0.01; done
  [ "$i" = 0 ] && { "$emu" push f -q; continue; }
  watched+=("$(spent "$work/watch.err")") watched_cpu+=("$(echo "$(cpu_so_far "$watcher") - $cpu_before" | bc)")
  sync  # each step starts with nothing of the last one's left to write back
  full_cpu+=("$(cpu_of "$emu" push f -v 2> "$work/full.err")")
  full+=("$(spent "$work/full.err")")
  sync; start=$(now); floor_cpu+=("$(cpu_of "$work/floor" push "$work/src" "$work/floor-first" "$work/floor-run")")
  floor+=("$(echo "$(now) - $start" | bc)"); rm -rf "$work/floor-run"
done
kill -TERM "$watcher"; wait "$watcher"; watcher=""
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.3f/%.3f/%.3f", a[1], a[int((NR+1)/2)], a[NR]}'; }
# The ratio of medians, and a verdict: noisy when either side's max/min is over 1.2.
verdict() {
  local target="$1" ours="$2" theirs="$3"
  awk -v t="$target" -v o="$ours" -v f="$theirs" 'BEGIN {
    split(o, a, "/"); split(f, b, "/"); r = a[2] / b[2]
    v = (a[3] / a[1] > 1.2 || b[3] / b[1] > 1.2) ? "noisy" : (r <= t ? "met" : "missed")
    printf "%.2fx (target <= %sx: %s)", r, t, v }'
}
dirs=$(find "$work/src" -type d | wc -l) entries=$(find "$work/src" | wc -l)
echo "$profile x$scale seed $seed: $entries entries in $dirs directories, $runs interleaved runs, min/median/max seconds"
echo "  full push after one changed file:        $(stats "${full[@]}")"
echo "  emu watch's push after one changed file: $(stats "${watched[@]}")"
echo "  plain floor after one changed file:      $(stats "${floor[@]}")"
echo "  a file's close to a snapshot holding it (--settle 1s): $(stats "${latency[@]}")"
echo "  CPU seconds (min/median/max), and the least wall time two cores allow for the median (half of it):"
half() { echo "$1" | awk -F/ '{printf "%.3f", $2 / 2}'; }
echo "    full push $(stats "${full_cpu[@]}") ($(half "$(stats "${full_cpu[@]}")")); watch's push $(stats "${watched_cpu[@]}") ($(half "$(stats "${watched_cpu[@]}")")); plain floor $(stats "${floor_cpu[@]}") (one thread)"
echo "  watch's push / plain floor: $(verdict 0.8 "$(stats "${watched[@]}")" "$(stats "${floor[@]}")")"
echo "  full push / plain floor:    $(verdict 0.8 "$(stats "${full[@]}")" "$(stats "${floor[@]}")")"
