#!/usr/bin/env bash
# make bench: emu against rsync -aHAX --link-dest (what rsnapshot and emu
# 0.2.5 run) and against bench/floor.c (only the unavoidable syscalls), on
# the same seeded corpora in the same run, each corpus on a fresh ext4 image
# in /dev/shm when we may mount one (steady timings, real ext4 code paths),
# else in a temporary directory. Prints a table of medians and ratios and
# writes it to bench/results/.
#
#   BENCH_CORPORA  which corpora (default: home small big million log)
#   BENCH_RUNS     repeats of each timed scenario (default 3)
#   BENCH_SCALE    multiplies corpus sizes (default 1; 0.01 for a smoke run)
set -euo pipefail
emu="${1:?usage: run.sh PATH-TO-EMU}"
corpora="${BENCH_CORPORA:-home small big million log}"
runs="${BENCH_RUNS:-3}"
scale="${BENCH_SCALE:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
for tool in rsync cc python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool: apt-get install rsync gcc python3 time"; exit 1; }
done

results="$(mktemp -d /tmp/emu-bench-results.XXXXXX)"
floor="$results/floor"
cc -O2 -o "$floor" "$here/floor.c"
: > "$results/times"; : > "$results/bytes"; : > "$results/where"
trap 'cleanup_corpus; rm -rf "$results"' EXIT

# A fresh filesystem per corpus: an ext4 image on a loop device in /dev/shm.
work="" image=""
setup_corpus() {
  local size=$1
  work="$(mktemp -d /tmp/emu-bench.XXXXXX)"
  image=/dev/shm/emu-bench-$$.img
  if [ "$(id -u)" = 0 ] && truncate -s "$size" "$image" 2>/dev/null \
     && mkfs.ext4 -q -F -N 3000000 "$image" && mount -o loop "$image" "$work"; then
    where="an ext4 image in /dev/shm (loop mount)"
  else
    rm -f "$image"; image=""
    where="a temporary directory on $(df --output=fstype "$work" | tail -1)"
  fi
  echo "$corpus: $where" >> "$results/where"
}
cleanup_corpus() {
  [ -n "$work" ] || return 0
  if [ -n "$image" ]; then umount -l "$work"; rm -f "$image"; else rm -rf "$work"; fi
  rmdir "$work" 2>/dev/null || true
  work=""
}

# measure SCENARIO TOOL COMMAND...: wall, CPU (user+sys) seconds and peak RSS
# (KiB), appended to the results as "CORPUS SCENARIO TOOL wall cpu rss".
measure() {
  local name=$1 tool=$2; shift 2
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$results/one" "$@" >/dev/null 2>"$results/err" || { echo "failed: $*"; cat "$results/err"; exit 1; }
  read -r wall user sys rss < "$results/one"
  echo "$corpus $name $tool $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $rss" >> "$results/times"
}
stored() { du -sb "$1" | cut -f1; }
# warm DIR: reads every file once, so that each tool restores from a warm
# cache (otherwise the tree written longest ago, emu's, is the coldest).
warm() { find "$1/" -type f -print0 | xargs -0r cat > /dev/null; }
record_bytes() { echo "$corpus $1 $2 $3" >> "$results/bytes"; }
rsync_opts=(-aHAX --delete --exclude=/.emu)

make_corpus() {
  echo "== $corpus"
  python3 "$here/make_corpus.py" "$corpus" "$work/source" 1 "$scale"
  "$emu" init -S "$work/source" -q
  mkdir -p "$work/rsync" "$work/floor"
}

# emu_sink NAME: a sink keeping every snapshot, so each scenario sees them all.
emu_sink() {
  "$emu" sink add "$1" "$work/$1" -S "$work/source" -q
  "$emu" config --sink "$1" -S "$work/source" retention.keep-all yes
}

# First push, RUNS times into fresh targets; the last of each is kept.
first_pushes() {
  for i in $(seq "$runs"); do
    emu_sink "emu$i"
    measure first emu "$emu" push "emu$i" -q -S "$work/source"
    measure first rsync rsync "${rsync_opts[@]}" "$work/source/" "$work/rsync/first$i/"
    measure first floor "$floor" push "$work/source" - "$work/floor/first$i"
    if [ "$i" -lt "$runs" ]; then
      "$emu" sink rm "emu$i" -S "$work/source" -q; rm -rf "$work/emu$i" "$work/rsync/first$i" "$work/floor/first$i"
    fi
  done
  record_bytes first emu "$(stored "$work/emu$runs")"
  record_bytes first rsync "$(stored "$work/rsync/first$runs")"
  record_bytes first floor "$(stored "$work/floor/first$runs")"
  if [ "$runs" -gt 1 ]; then "$emu" sink default "emu$runs" -S "$work/source" -q; fi
  last_rsync="$work/rsync/first$runs" last_floor="$work/floor/first$runs"
}

no_change_pushes() {
  for i in $(seq "$runs"); do
    sleep 1
    measure no-change emu "$emu" push -q -S "$work/source"
    measure no-change rsync rsync "${rsync_opts[@]}" --link-dest="$last_rsync" "$work/source/" "$work/rsync/same$i/"
    measure no-change floor "$floor" push "$work/source" "$last_floor" "$work/floor/same$i"
  done
  last_rsync="$work/rsync/same$runs" last_floor="$work/floor/same$runs"
}

# RUNS seeded mutations, each followed by a push of every tool; bytes are the
# median of what each push added.
mutation_pushes() {
  for i in $(seq "$runs"); do
    python3 "$here/mutate.py" "$work/source" "$((i + 1))" >/dev/null
    sleep 1
    local e0 r0 f0
    e0=$(stored "$work/emu$runs"); r0=$(stored "$work/rsync"); f0=$(stored "$work/floor")
    measure mutation emu "$emu" push -q -S "$work/source"
    measure mutation rsync rsync "${rsync_opts[@]}" --link-dest="$last_rsync" "$work/source/" "$work/rsync/mutated$i/"
    measure mutation floor "$floor" push "$work/source" "$last_floor" "$work/floor/mutated$i"
    record_bytes mutation emu $(( $(stored "$work/emu$runs") - e0 ))
    record_bytes mutation rsync $(( $(stored "$work/rsync") - r0 ))
    record_bytes mutation floor $(( $(stored "$work/floor") - f0 ))
    previous_rsync="$last_rsync" last_rsync="$work/rsync/mutated$i" last_floor="$work/floor/mutated$i"
  done
}

# Restoring the newest snapshot into an empty directory; each copy removed once measured.
restores() {
  for i in $(seq "$runs"); do
    warm "$work/emu$runs/Latest"
    measure restore emu "$emu" checkout HEAD --to "$work/out" -q -S "$work/source"
    rm -rf "$work/out"
    warm "$last_rsync"
    measure restore rsync rsync -aHAX "$last_rsync/" "$work/out/"
    rm -rf "$work/out"
    warm "$last_floor"
    measure restore floor "$floor" restore "$last_floor" "$work/out"
    rm -rf "$work/out"
  done
}

# What changed between the last two snapshots; verifying one; the log; pruning the oldest.
reads_and_prunes() {
  for i in $(seq "$runs"); do
    measure diff emu "$emu" diff HEAD~1 HEAD -S "$work/source"
    measure diff rsync rsync -aHAXn --delete --itemize-changes "$last_rsync/" "$previous_rsync/"
    measure verify emu "$emu" verify HEAD -q -S "$work/source"
    measure log emu "$emu" log -S "$work/source"
  done
  for i in $(seq "$runs"); do
    measure prune emu "$emu" prune TAIL -q -S "$work/source"
  done
  measure prune rsync rm -rf "$work/rsync/first$runs"
}

for corpus in $corpora; do
  case $corpus in
    home)
      setup_corpus 14G; make_corpus
      first_pushes; no_change_pushes; mutation_pushes; restores; reads_and_prunes ;;
    small)
      setup_corpus 8G; make_corpus
      first_pushes; no_change_pushes; mutation_pushes; restores ;;
    big)
      # Four 1 GiB files: each tool's copy is removed once measured.
      setup_corpus 14G; make_corpus
      for i in $(seq "$runs"); do
        emu_sink "emu$i"
        measure first emu "$emu" push "emu$i" -q -S "$work/source"
        record_bytes first emu "$(stored "$work/emu$i")"
        "$emu" sink rm "emu$i" -S "$work/source" -q; rm -rf "$work/emu$i"
        measure first rsync rsync "${rsync_opts[@]}" "$work/source/" "$work/rsync/first/"
        record_bytes first rsync "$(stored "$work/rsync/first")"; rm -rf "$work/rsync/first"
        measure first floor "$floor" push "$work/source" - "$work/floor/first"
        record_bytes first floor "$(stored "$work/floor/first")"; rm -rf "$work/floor/first"
      done ;;
    million)
      # Memory: every reading and writing command once, emu alone.
      setup_corpus 14G; make_corpus
      emu_sink emu1
      measure first emu "$emu" push -q -S "$work/source"
      sleep 1
      measure no-change emu "$emu" push -q -S "$work/source"
      python3 "$here/mutate.py" "$work/source" 2 >/dev/null
      sleep 1
      measure mutation emu "$emu" push -q -S "$work/source"
      warm "$work/emu1/Latest"
      measure restore emu "$emu" checkout HEAD --to "$work/out" -q -S "$work/source"
      measure diff emu "$emu" diff HEAD~1 HEAD -S "$work/source"
      measure verify emu "$emu" verify HEAD -q -S "$work/source" ;;
    log)
      # A sink with 1,000 snapshots of a small tree (one an hour, back from 2020).
      setup_corpus 2G
      echo "== log"
      python3 "$here/make_corpus.py" home "$work/source" 1 0.001 >/dev/null
      "$emu" init -S "$work/source" -q
      emu_sink emu1
      for i in $(seq 1000); do
        echo "$i" > "$work/source/counter"
        "$emu" push -q -S "$work/source" --date "@$((1577836800 + i * 3600))"
      done
      for i in $(seq "$runs"); do measure log emu "$emu" log -S "$work/source"; done ;;
    *) echo "unknown corpus $corpus (home small big million log)"; exit 2 ;;
  esac
  cleanup_corpus
done

median() { sort -g | awk '{a[NR]=$1} END { if (NR) print a[int((NR+1)/2)]; else print "-" }'; }
column_of() { awk -v c="$1" -v n="$2" -v t="$3" -v k="$4" '$1 == c && $2 == n && $3 == t { print $k }' "$results/times" | median; }
bytes_of() { awk -v c="$1" -v n="$2" -v t="$3" '$1 == c && $2 == n && $3 == t { print $4 }' "$results/bytes" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.0f", k / 1024 }'; }
report=$(
  echo "emu bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, warm cache, medians of $runs where repeated, scale $scale"
  sed 's/^/  /' "$results/where"
  printf '%-8s %-10s %8s %8s %8s %9s %9s | %7s %7s %7s | %8s\n' corpus scenario emu rsync floor emu/rsync emu/floor "emu cpu" "rs cpu" "fl cpu" "emu RSS"
  for c in $corpora; do
    for s in first no-change mutation restore diff verify log prune; do
      e=$(column_of "$c" "$s" emu 4)
      [ "$e" != "-" ] || continue
      r=$(column_of "$c" "$s" rsync 4); f=$(column_of "$c" "$s" floor 4)
      printf '%-8s %-10s %8s %8s %8s %9s %9s | %7s %7s %7s | %5sMiB\n' "$c" "$s" "$e" "$r" "$f" "$(ratio "$e" "$r")" "$(ratio "$e" "$f")" \
        "$(column_of "$c" "$s" emu 5)" "$(column_of "$c" "$s" rsync 5)" "$(column_of "$c" "$s" floor 5)" "$(mib "$(column_of "$c" "$s" emu 6)")"
    done
  done
  echo "bytes added to the sink (du -sb; median):"
  for c in $corpora; do
    for s in first mutation; do
      e=$(bytes_of "$c" "$s" emu); [ "$e" != "-" ] || continue
      r=$(bytes_of "$c" "$s" rsync); f=$(bytes_of "$c" "$s" floor)
      printf '  %-8s %-10s emu %12s  rsync %12s  floor %12s  emu/rsync %s\n' "$c" "$s" "$e" "$r" "$f" "$(ratio "$e" "$r")"
    done
  done
  if grep -q '^million ' "$results/times" && grep -q '^home ' "$results/times"; then
    echo "peak RSS, million against home:"
    for s in first no-change mutation restore diff verify; do
      h=$(column_of home "$s" emu 6); m=$(column_of million "$s" emu 6)
      printf '  %-10s home %5sMiB  million %5sMiB  million/home %s\n' "$s" "$(mib "$h")" "$(mib "$m")" "$(ratio "$m" "$h")"
    done
  fi
)
echo "$report"
mkdir -p "$here/results"
echo "$report" > "$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
