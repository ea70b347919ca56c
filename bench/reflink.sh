#!/usr/bin/env bash
# bench/reflink.sh [MIB] [RUNS]: two clients under one `emu serve --root` on an xfs
# filesystem (reflink on) push the same MIB MiB of files (16 MiB each, random), the
# second with other mtimes, so that no inode can be shared. Prints, for each run, the
# bytes the second push added to the filesystem (statvfs after a sync) and sent
# through ssh, against the content's size; the target is under 2% added. Run as root
# (sshd, a loop mount), e.g. `bash bench/reflink.sh 1024 2`.
set -euo pipefail
mib="${1:-1024}" runs="${2:-2}"
emu="$(realpath "$(dirname "$0")/../.build/release/emu")"
work=$(mktemp -d /dev/shm/reflink.XXXXXX)
trap 'kill "$(cat "$work/sshd.pid" 2>/dev/null)" 2>/dev/null || true; umount "$work/fs" 2>/dev/null || true; rm -rf "$work"' EXIT
. "$(dirname "$0")/sshd.sh"
start_sshd "$work"
sed -i "s|^|command=\"$emu serve --root $work/fs/served\" |" "$work/authorized_keys"
link="$(realpath "$(dirname "$0")/../scripts/slow-link.py")"
printf '#!/bin/sh\nexec python3 %s --delay 0 --count %s 127.0.0.1 %s\n' "$link" "$work/wire" "$port" > "$work/link"
chmod 755 "$work/link"
mkdir -p "$work/one" "$work/two" "$work/fs"
for i in $(seq $((mib / 16))); do head -c $((16 << 20)) /dev/urandom > "$work/one/file$i"; done
cp -a "$work/one/." "$work/two/" && touch -d @1577836800 "$work/two"/file*
free() { sync; df -B1 --output=avail "$work/fs" | tail -1; }
for run in $(seq "$runs"); do
  truncate -s $((mib * 3 + 512))M "$work/xfs.img" && mkfs.xfs -q -f "$work/xfs.img" && mount -o loop "$work/xfs.img" "$work/fs"
  mkdir "$work/fs/served"
  for client in one two; do
    rm -rf "$work/$client/.emu" "$work/wire"
    (cd "$work/$client" && "$emu" init -q && "$emu" sink add nas "ssh://$user@127.0.0.1:$port$work/fs/served/$client" \
       --ssh-command "$ssh -o ProxyCommand=$work/link" -q) >/dev/null
    before=$(free)
    start=$(date +%s.%N)
    (cd "$work/$client" && "$emu" push nas -q)
    seconds=$(awk "BEGIN{print $(date +%s.%N) - $start}")
    while pgrep -f "[s]low-link.py.*$work/wire" >/dev/null; do sleep 0.05; done
    added=$(( before - $(free) )); sent=$(awk '{s += $1} END {print s + 0}' "$work/wire")
    echo "run $run, client $client: ${seconds}s, added $added bytes, sent $sent bytes for $((mib << 20)) bytes of files"
    [ "$client" = two ] && awk -v a="$added" -v m="$mib" 'BEGIN { p = 100 * a / (m * 1048576);
      printf "  the second client added %.2f%% of its files (target < 2%%: %s)\n", p, p < 2 ? "met" : "missed" }'
  done
  umount "$work/fs"; rm -f "$work/xfs.img"
done
