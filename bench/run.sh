#!/usr/bin/env bash
# make bench: emu against rsync -aHAX --link-dest on the same seeded corpus,
# in the same run, on an ext4 image in /dev/shm when we may mount one (steady
# timings, real ext4 code paths), else in a temporary directory. Prints a
# table of medians and ratios and writes it to bench/results/.
set -euo pipefail
emu="${1:?usage: run.sh PATH-TO-EMU}"
files="${BENCH_FILES:-100000}"
runs="${BENCH_RUNS:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
command -v rsync >/dev/null || { echo "bench needs rsync: apt-get install rsync"; exit 1; }

work="$(mktemp -d /tmp/emu-bench.XXXXXX)"
where="a temporary directory on $(df --output=fstype "$work" | tail -1)"
if [ "$(id -u)" = 0 ] && truncate -s 6G /dev/shm/emu-bench.img 2>/dev/null \
   && mkfs.ext4 -q -F -N 2000000 /dev/shm/emu-bench.img && mount -o loop /dev/shm/emu-bench.img "$work"; then
  where="an ext4 image in /dev/shm (loop mount)"
  trap 'umount -l "$work"; rm -f /dev/shm/emu-bench.img; rmdir "$work"' EXIT
else
  rm -f /dev/shm/emu-bench.img
  trap 'rm -rf "$work"' EXIT
fi

echo "corpus: $files files, seed 1, on $where"
python3 "$here/make_corpus.py" "$work/source" "$files" 1
sync

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }; awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# emu: first push, then no-change pushes.
"$emu" init -S "$work/source" -q
"$emu" sink add bench "$work/emu-sink" -S "$work/source" -q
emu_first=$(seconds "$emu" push -q -S "$work/source")
emu_times=()
for _ in $(seq "$runs"); do sleep 1; emu_times+=("$(seconds "$emu" push -q -S "$work/source")"); done

# rsync --link-dest: a first full copy, then no-change snapshots linked to it.
rsync_opts=(-aHAX --delete --exclude=/.emu)
mkdir -p "$work/rsync"
rsync_first=$(seconds rsync "${rsync_opts[@]}" "$work/source/" "$work/rsync/0/")
rsync_times=()
for i in $(seq "$runs"); do
  rsync_times+=("$(seconds rsync "${rsync_opts[@]}" --link-dest="$work/rsync/0" "$work/source/" "$work/rsync/$i/")")
done

# A directory holding about 5% of the bytes renamed: emu links it through its
# content index, rsync --link-dest (which matches by path) stores it again.
python3 "$here/rename_share.py" "$work/source" 0.05
sleep 1
emu_before=$(du -sb "$work/emu-sink" | cut -f1)
emu_rename=$(seconds "$emu" push -q -S "$work/source")
emu_added=$(( $(du -sb "$work/emu-sink" | cut -f1) - emu_before ))
rsync_before=$(du -sb "$work/rsync" | cut -f1)
rsync_rename=$(seconds rsync "${rsync_opts[@]}" --link-dest="$work/rsync/$runs" "$work/source/" "$work/rsync/renamed/")
rsync_added=$(( $(du -sb "$work/rsync" | cut -f1) - rsync_before ))

e_first=$emu_first; r_first=$rsync_first
e_same=$(median "${emu_times[@]}"); r_same=$(median "${rsync_times[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
report=$(cat <<TABLE
emu bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $files files on $where, $(nproc) cores
scenario              emu (s)   rsync (s)   emu/rsync
first push            $(printf '%7.3f' "$e_first")   $(printf '%9.3f' "$r_first")   $(ratio "$e_first" "$r_first")
no-change push        $(printf '%7.3f' "$e_same")   $(printf '%9.3f' "$r_same")   $(ratio "$e_same" "$r_same")
push, 5% renamed      $(printf '%7.3f' "$emu_rename")   $(printf '%9.3f' "$rsync_rename")   $(ratio "$emu_rename" "$rsync_rename")
bytes stored by that  $(printf '%7s' "$emu_added")   $(printf '%9s' "$rsync_added")   $(ratio "$emu_added" "$rsync_added")
(no-change: median of $runs; emu runs: ${emu_times[*]}; rsync runs: ${rsync_times[*]})
TABLE
)
echo "$report"
mkdir -p "$here/results"
echo "$report" > "$here/results/$(date -u +%Y%m%dT%H%M%SZ).txt"
