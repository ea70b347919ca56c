#!/usr/bin/env bash
# make bench: emu against rsync -aHAX --link-dest (what rsnapshot and emu
# 0.2.5 run), cp -a (for restores) and bench/floor.c (only the unavoidable
# syscalls; plain, and durable: followed by syncfs, as emu's snapshots are),
# on the same seeded corpora, the tools interleaved in each repetition, each
# corpus on a fresh ext4 image in /dev/shm when we may mount one (steady
# timings, real ext4 code paths), else in a temporary directory. Prints
# min/median/max of every figure and each target's verdict (a ratio of
# medians; "noisy" when either side's max exceeds its min by 20%), and
# writes the report to bench/results/.
#
#   BENCH_CORPORA  which corpora (default: home home2 system small big million
#                  reflink log; home2 is home from another seed; system is a
#                  copy of this machine's /usr/share, /usr/include, /usr/bin and
#                  /usr/sbin, a real tree: many small files, real symlinks and
#                  duplicates, setcap binaries; reflink is one byte changed in
#                  a 1 GiB file on xfs: the bytes each push adds)
#   BENCH_RUNS     repeats of each timed scenario (default 3)
#   BENCH_SCALE    multiplies corpus sizes (default 1; 0.01 for a smoke run)
#   BENCH_MILLION_SCALE  the million corpus's own scale (default BENCH_SCALE)
set -euo pipefail
emu="${1:?usage: run.sh PATH-TO-EMU}"
corpora="${BENCH_CORPORA:-home home2 system small big million reflink log}"
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
  local size=$1 kind=${2:-ext4}
  work="$(mktemp -d /tmp/emu-bench.XXXXXX)"
  image=/dev/shm/emu-bench-$$.img
  local make="mkfs.ext4 -q -F -N 3000000"
  [ "$kind" = xfs ] && make="mkfs.xfs -q -f"
  if [ "$(id -u)" = 0 ] && truncate -s "$size" "$image" 2>/dev/null \
     && $make "$image" && mount -o loop "$image" "$work"; then
    where="an $kind image in /dev/shm (loop mount)"
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
# What the filesystem under the corpus holds (df): du counts a reflinked file whole.
local_used() { sync; df -B1 --output=used "$work" | tail -1; }
# warm DIR: reads every file once, so that each tool restores from a warm
# cache (otherwise the tree written longest ago, emu's, is the coldest).
warm() { find "$1/" -type f -print0 | xargs -0r cat > /dev/null; }
record_bytes() { echo "$corpus $1 $2 $3" >> "$results/bytes"; }
rsync_opts=(-aHAX --delete --exclude=/.emu)

make_corpus() {
  echo "== $corpus"
  local profile=$corpus seed=1 size=$scale
  [ "$corpus" = home2 ] && profile=home seed=2
  [ "$corpus" = million ] && size="${BENCH_MILLION_SCALE:-$scale}"
  python3 "$here/make_corpus.py" "$profile" "$work/source" "$seed" "$size"
  "$emu" init -S "$work/source" -q
  mkdir -p "$work/rsync" "$work/floor"
}

# The system corpus: the machine's own tree, copied with its metadata
# (cp -a keeps hardlinks, symlinks, xattrs and so file capabilities); below
# scale 0.5 only /usr/include and /usr/sbin, for a smoke run.
make_system_corpus() {
  echo "== $corpus"
  local parts="/usr/share /usr/include /usr/bin /usr/sbin"
  awk -v s="$scale" 'BEGIN { exit !(s < 0.5) }' && parts="/usr/include /usr/sbin"
  for part in $parts; do
    mkdir -p "$work/source$(dirname "$part")"
    cp -a "$part" "$work/source$part"
  done
  echo "  $(find "$work/source" | wc -l) entries, $(du -sb "$work/source" | cut -f1) bytes"
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
    measure first durable "$floor" --durable push "$work/source" - "$work/floor/durable$i"
    rm -rf "$work/floor/durable$i"
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
    local e0 r0
    e0=$(stored "$work/emu$runs"); r0=$(stored "$work/rsync")
    measure no-change emu "$emu" push -q -S "$work/source"
    measure no-change rsync rsync "${rsync_opts[@]}" --link-dest="$last_rsync" "$work/source/" "$work/rsync/same$i/"
    measure no-change floor "$floor" push "$work/source" "$last_floor" "$work/floor/same$i"
    measure no-change durable "$floor" --durable push "$work/source" "$last_floor" "$work/floor/durable$i"
    rm -rf "$work/floor/durable$i"
    record_bytes no-change emu $(( $(stored "$work/emu$runs") - e0 ))
    record_bytes no-change rsync $(( $(stored "$work/rsync") - r0 ))
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
    measure mutation durable "$floor" --durable push "$work/source" "$last_floor" "$work/floor/durable$i"
    rm -rf "$work/floor/durable$i"
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
    measure restore cp cp -a "$last_rsync" "$work/out"
    rm -rf "$work/out"
    warm "$last_floor"
    measure restore floor "$floor" restore "$last_floor" "$work/out"
    rm -rf "$work/out"
    measure restore durable "$floor" --durable restore "$last_floor" "$work/out"
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
    home|home2)
      setup_corpus 14G; make_corpus
      first_pushes; no_change_pushes; mutation_pushes; restores; reads_and_prunes ;;
    system)
      setup_corpus 8G; make_system_corpus
      first_pushes; no_change_pushes; mutation_pushes; restores ;;
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
      # Scale, compared: every tool once a scenario (BENCH_RUNS=1 by default
      # here), then the reading commands, for memory.
      setup_corpus 14G; make_corpus
      runs_before=$runs; runs=${BENCH_MILLION_RUNS:-1}
      first_pushes; no_change_pushes; mutation_pushes; restores
      measure diff emu "$emu" diff HEAD~1 HEAD -S "$work/source"
      measure verify emu "$emu" verify HEAD -q -S "$work/source"
      runs=$runs_before ;;
    reflink)
      # One byte changed in the middle of a 1 GiB file (scaled), on xfs (reflink on by default):
      # what each tool's push adds to the sink, and its time.
      setup_corpus 12G xfs
      echo "== reflink"
      # The source on another filesystem, as a USB disk's sink is: a copy
      # within one xfs would be a reflink of the source itself.
      outside="$(mktemp -d /dev/shm/emu-bench-source.XXXXXX)"
      ln -s "$outside" "$work/source"
      mkdir -p "$work/rsync" "$work/floor"
      head -c "$(awk -v s="$scale" 'BEGIN { printf "%d", 1073741824 * s }')" /dev/urandom > "$work/source/disk.img"
      "$emu" init -S "$work/source" -q
      emu_sink emu1
      "$emu" push -q -S "$work/source"
      rsync "${rsync_opts[@]}" "$work/source/" "$work/rsync/first/"
      "$floor" push "$work/source" - "$work/floor/first"
      last_rsync="$work/rsync/first" last_floor="$work/floor/first"
      for i in $(seq "$runs"); do
        printf '%s' "$i" | dd of="$work/source/disk.img" bs=1 seek=$(( $(stat -c %s "$work/source/disk.img") / 2 + i )) conv=notrunc status=none
        sleep 1
        u0=$(local_used); measure mutation emu "$emu" push -q -S "$work/source"; record_bytes mutation emu $(( $(local_used) - u0 ))
        u0=$(local_used); measure mutation rsync rsync "${rsync_opts[@]}" --link-dest="$last_rsync" "$work/source/" "$work/rsync/m$i/"
        record_bytes mutation rsync $(( $(local_used) - u0 ))
        u0=$(local_used); measure mutation floor "$floor" push "$work/source" "$last_floor" "$work/floor/m$i"
        record_bytes mutation floor $(( $(local_used) - u0 ))
        last_rsync="$work/rsync/m$i" last_floor="$work/floor/m$i"
      done
      rm -rf "$outside" ;;
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
    *) echo "unknown corpus $corpus (home home2 system small big million reflink log)"; exit 2 ;;
  esac
  cleanup_corpus
done

report=$(
  echo "emu bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, warm cache, $runs interleaved runs (million: ${BENCH_MILLION_RUNS:-1}), scale $scale"
  sed 's/^/  /' "$results/where"
  python3 "$here/report.py" "$results/times" "$results/bytes" $corpora
)
echo "$report"
mkdir -p "$here/results"
echo "$report" > "$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
