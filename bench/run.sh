#!/usr/bin/env bash
# make bench: emu against rsync -aHAX --link-dest (what rsnapshot and emu
# 0.2.5 run) and against bench/floor.c (only the unavoidable syscalls), on
# the same seeded corpus in the same run, on an ext4 image in /dev/shm when
# we may mount one (steady timings, real ext4 code paths), else in a
# temporary directory. Prints a table of medians and ratios and writes it to
# bench/results/. BENCH_FILES (100000) and BENCH_RUNS (3) resize it.
set -euo pipefail
emu="${1:?usage: run.sh PATH-TO-EMU}"
files="${BENCH_FILES:-100000}"
runs="${BENCH_RUNS:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
for tool in rsync cc python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool: apt-get install rsync gcc python3 time"; exit 1; }
done

work="$(mktemp -d /tmp/emu-bench.XXXXXX)"
where="a temporary directory on $(df --output=fstype "$work" | tail -1)"
image=/dev/shm/emu-bench-$$.img
if [ "$(id -u)" = 0 ] && truncate -s 12G "$image" 2>/dev/null \
   && mkfs.ext4 -q -F -N 3000000 "$image" && mount -o loop "$image" "$work"; then
  where="an ext4 image in /dev/shm (loop mount)"
  trap 'umount -l "$work"; rm -f "$image"; rmdir "$work"' EXIT
else
  rm -f "$image"
  trap 'rm -rf "$work"' EXIT
fi
floor="$work/floor-bin"
cc -O2 -o "$floor" "$here/floor.c"

echo "corpus: $files files, seed 1, on $where"
python3 "$here/make_corpus.py" "$work/source" "$files" 1
sync

# measure NAME TOOL COMMAND...: wall, CPU (user+sys) seconds and peak RSS (KiB),
# appended to $work/times as "NAME TOOL wall cpu rss".
measure() {
  local name=$1 tool=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/one" "$@" >/dev/null 2>"$work/err" || { echo "failed: $*"; cat "$work/err"; exit 1; }
  read -r wall user sys rss < "$work/one"
  echo "$name $tool $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $rss" >> "$work/times"
}
stored() { du -sb "$1" | cut -f1; }
record_bytes() { echo "$1 $2 $3" >> "$work/bytes"; }
: > "$work/times"; : > "$work/bytes"

# First push.
"$emu" init -S "$work/source" -q
"$emu" sink add bench "$work/emu" -S "$work/source" -q
"$emu" config --sink bench -S "$work/source" retention.keep-all yes
mkdir -p "$work/rsync" "$work/floor"
rsync_opts=(-aHAX --delete --exclude=/.emu)
measure first emu "$emu" push -q -S "$work/source"
measure first rsync rsync "${rsync_opts[@]}" "$work/source/" "$work/rsync/0/"
measure first floor "$floor" push "$work/source" - "$work/floor/0"
record_bytes first emu "$(stored "$work/emu")"; record_bytes first rsync "$(stored "$work/rsync")"; record_bytes first floor "$(stored "$work/floor")"

# Pushes with no change.
for i in $(seq "$runs"); do
  sleep 1
  measure no-change emu "$emu" push -q -S "$work/source"
  measure no-change rsync rsync "${rsync_opts[@]}" --link-dest="$work/rsync/0" "$work/source/" "$work/rsync/same$i/"
  measure no-change floor "$floor" push "$work/source" "$work/floor/0" "$work/floor/same$i"
done

# A push after the seeded mutation.
python3 "$here/mutate.py" "$work/source" 2
sleep 1
e0=$(stored "$work/emu"); r0=$(stored "$work/rsync"); f0=$(stored "$work/floor")
measure mutation emu "$emu" push -q -S "$work/source"
measure mutation rsync rsync "${rsync_opts[@]}" --link-dest="$work/rsync/same$runs" "$work/source/" "$work/rsync/mutated/"
measure mutation floor "$floor" push "$work/source" "$work/floor/same$runs" "$work/floor/mutated"
record_bytes mutation emu $(( $(stored "$work/emu") - e0 ))
record_bytes mutation rsync $(( $(stored "$work/rsync") - r0 ))
record_bytes mutation floor $(( $(stored "$work/floor") - f0 ))

# Restoring the newest snapshot into an empty directory.
for i in $(seq "$runs"); do
  measure restore emu "$emu" checkout HEAD --to "$work/out" -q -S "$work/source"
  rm -rf "$work/out"
  measure restore rsync rsync -aHAX "$work/rsync/mutated/" "$work/out/"
  rm -rf "$work/out"
  measure restore floor "$floor" restore "$work/floor/mutated" "$work/out"
  rm -rf "$work/out"
done

# What changed between the last two snapshots; verifying one; pruning the oldest.
for i in $(seq "$runs"); do
  measure diff emu "$emu" diff HEAD~1 HEAD -S "$work/source"
  measure diff rsync rsync -aHAXn --delete --itemize-changes "$work/rsync/mutated/" "$work/rsync/same$runs/"
done
measure verify emu "$emu" verify HEAD -q -S "$work/source"
measure prune emu "$emu" prune TAIL -q -S "$work/source"
measure prune rsync rm -rf "$work/rsync/0"

median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "-" }'; }
column_of() { awk -v n="$1" -v t="$2" -v c="$3" '$1 == n && $2 == t { print $c }' "$work/times" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
report=$(
  echo "emu bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $files files on $where, $(nproc) cores, warm cache, medians of $runs where repeated"
  printf '%-10s %8s %8s %8s %9s %9s | %7s %7s %7s | %9s\n' scenario emu rsync floor emu/rsync emu/floor "emu cpu" "rs cpu" "fl cpu" "emu RSS"
  for s in first no-change mutation restore diff verify prune; do
    e=$(column_of "$s" emu 3); r=$(column_of "$s" rsync 3); f=$(column_of "$s" floor 3)
    printf '%-10s %8s %8s %8s %9s %9s | %7s %7s %7s | %7sMiB\n' "$s" "$e" "$r" "$f" "$(ratio "$e" "$r")" "$(ratio "$e" "$f")" \
      "$(column_of "$s" emu 4)" "$(column_of "$s" rsync 4)" "$(column_of "$s" floor 4)" "$(( $(column_of "$s" emu 5 | sed 's/-/0/') / 1024 ))"
  done
  echo "bytes stored (du -sb):"
  for s in first mutation; do
    e=$(awk -v n=$s '$1 == n && $2 == "emu" { print $3 }' "$work/bytes"); r=$(awk -v n=$s '$1 == n && $2 == "rsync" { print $3 }' "$work/bytes")
    f=$(awk -v n=$s '$1 == n && $2 == "floor" { print $3 }' "$work/bytes")
    printf '  %-10s emu %12s  rsync %12s  floor %12s  emu/rsync %s\n' "$s" "$e" "$r" "$f" "$(ratio "$e" "$r")"
  done
)
echo "$report"
mkdir -p "$here/results"
echo "$report" > "$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
