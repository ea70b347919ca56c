#!/usr/bin/env bash
# bench/growth.sh EMU PROFILE SCALE PUSHES: a sink after one push and PUSHES
# pushes that changed nothing (every snapshot kept), on an ext4 image in
# /dev/shm: the sink's total (du -sb, hardlinked files counted once), what its
# manifests take (lists and chunks), and the bytes one rsync --link-dest
# push of the same tree adds, for comparison. Prints bytes.
set -euo pipefail
emu="$(realpath "$1")" profile="$2" scale="$3" pushes="$4"
work=$(mktemp -d /tmp/emu-growth.XXXXXX) image=/dev/shm/emu-growth-$$.img
truncate -s 24G "$image" && mkfs.ext4 -q -F -N 8000000 "$image" && mount -o loop "$image" "$work"
trap 'umount -l "$work"; rm -f "$image"; rmdir "$work"' EXIT
python3 "$(dirname "$0")/make_corpus.py" "$profile" "$work/src" 1 "$scale" >/dev/null
cd "$work/src"
"$emu" init -q >/dev/null && "$emu" sink add s "$work/sink" -q >/dev/null
"$emu" config --sink s retention.keep-all yes >/dev/null
"$emu" push -q
total() { du -sb "$@" | tail -1 | cut -f1; }
first=$(total "$work/sink")
for i in $(seq "$pushes"); do "$emu" push -q -m "push $i" >/dev/null; done
after=$(total "$work/sink")
manifests=$(du -sbc "$work/sink/.emu/manifests" "$work/sink/.emu/chunks" | tail -1 | cut -f1)
rsync -aHAX "$work/src/" "$work/r1/"
rsync -aHAX --link-dest="$work/r1" "$work/src/" "$work/r2/"
r=$(( $(du -sb "$work/r1" "$work/r2" | awk '{s+=$1} END {print s}') - $(total "$work/r1") ))
entries=$(find "$work/src" | wc -l)
echo "$profile x$scale: $entries entries; emu: after the first push $first B, after $pushes more $after B" \
     "($(( (after - first) / pushes )) B a push; manifests and chunks $manifests B);" \
     "rsync --link-dest adds $r B a push"
