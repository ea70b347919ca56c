#!/usr/bin/env bash
# bench/history.sh [SCALE] [RUNS] [SEED]: moving a history (issue 27). The
# `history` corpus is `home` (bench/make_corpus.py, SEED, SCALE; 0.2 by default:
# thirty snapshots of it are 600,000 names for rsync -aH to map) pushed after
# each of 29 seeded mutations (bench/mutate.py): 30 snapshots in one sink. It is
# copied whole to an empty sink on the same filesystem and to one over loopback
# ssh, by emu replicate, rsync -aH of the whole sink, cp -a of the whole sink,
# and the floor (bench/floor.c replaying the 30 pushes from the snapshots'
# trees, plain and durable), tools interleaved in each of RUNS runs; then, RUNS
# times, one more mutation is pushed and replicated (here and over ssh), the
# push timed beside it. Prints min/median/max wall and CPU seconds and peak RSS,
# the verdicts of the issue's targets (a ratio of medians; noisy when either
# side's max exceeds its min by 20%), the bytes each copy occupies, and the
# bytes a copy over ssh sent against the unique content plus the manifests.
# Needs root (a loop-mounted ext4 image, sshd), openssh-server and rsync.
set -euo pipefail
scale="${1:-0.2}" runs="${2:-3}" seed="${3:-1}"
here="$(cd "$(dirname "$0")" && pwd)"
emu="$(realpath "$here/../.build/release/emu")"
work=$(mktemp -d /tmp/emu-history.XXXXXX)
image=/dev/shm/emu-history-$$.img
cleanup() {
  kill "$(cat "$work/ssh/sshd.pid" 2>/dev/null)" 2>/dev/null || true
  umount -l "$work" 2>/dev/null || true; rm -f "$image"; rm -rf "$work"
}
trap cleanup EXIT
truncate -s 16G "$image" && mkfs.ext4 -q -F -N 4000000 "$image" && mount -o loop "$image" "$work"
cc -O2 -o "$work/floor" "$here/floor.c"
: > "$work/times"; : > "$work/bytes"

# sshd on 127.0.0.1 with keys made here; the server's emu runs under /usr/bin/time for its peak RSS.
. "$here/sshd.sh"
start_sshd "$work/ssh"
printf '#!/bin/sh\nexec python3 %s --delay 0 --count %s 127.0.0.1 %s\n' "$here/../scripts/slow-link.py" "$work/wire" "$port" > "$work/ssh/link"
chmod 755 "$work/ssh/link"
remote() { echo "ssh://$user@127.0.0.1:$port$1"; }

# measure SCENARIO TOOL COMMAND...: wall, CPU seconds and peak RSS (KiB).
measure() {
  local scenario=$1 tool=$2; shift 2
  sync
  /usr/bin/time -f "%e %U %S %M" -o "$work/one" "$@" >/dev/null 2>"$work/err" || { echo "failed: $*"; cat "$work/err"; exit 1; }
  read -r wall user_s sys rss < "$work/one"
  echo "$scenario $tool $wall $(awk -v u="$user_s" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $rss" >> "$work/times"
}
stored() { du -sb "$1" | cut -f1; }

echo "== history: home, scale $scale, seed $seed, 30 snapshots"
python3 "$here/make_corpus.py" home "$work/src" "$seed" "$scale" >/dev/null
(cd "$work/src" && "$emu" init -q && "$emu" sink add from "$work/from" -q && "$emu" config --sink from retention.keep-all yes >/dev/null \
  && "$emu" push -q)
for i in $(seq 29); do
  python3 "$here/mutate.py" "$work/src" "$i" >/dev/null
  (cd "$work/src" && "$emu" push -q)
done
# A sink over ssh per run, registered (made empty) once the history is made, with the ssh command that reaches this sshd.
for run in $(seq "$runs"); do
  (cd "$work/src" && "$emu" sink add "remote$run" "$(remote "$work/remote$run")" --ssh-command "$ssh" \
     --remote-emu "/usr/bin/time -a -o $work/server-rss -f %M $emu" -q)
done
mapfile -t trees < <(cd "$work/src" && "$emu" log from --json | python3 -c 'import json,sys; print("\n".join(s["id"] for s in reversed(json.load(sys.stdin)["snapshots"])))')
[ "${#trees[@]}" = 30 ] || { echo "the history holds ${#trees[@]} snapshots, not 30"; exit 1; }
cat > "$work/replay" <<EOF
#!/bin/sh
# The floor's replay of the 30 pushes, from the snapshots' trees: \$1 is --durable or -, \$2 the target.
set -e
mkdir "\$2"
previous=-
for id in ${trees[*]}; do "$work/floor" \$([ "\$1" = --durable ] && echo --durable) push "$work/from/.emu/trees/\$id" "\$previous" "\$2/\$id"; previous="\$2/\$id"; done
EOF
chmod 755 "$work/replay"

for run in $(seq "$runs"); do
  last=$([ "$run" = "$runs" ] && echo yes || echo no)
  measure whole emu bash -c "cd '$work/src' && '$emu' replicate from '$work/to$run' -q"
  measure whole emu-ssh bash -c "cd '$work/src' && '$emu' replicate from remote$run -q"
  measure whole rsync rsync -aH "$work/from/" "$work/rsync$run/"
  measure whole rsync-ssh rsync -aH -e "$ssh" "$work/from/" "$user@127.0.0.1:$work/rsync-remote$run/"
  measure whole cp cp -a "$work/from" "$work/cp$run"
  measure whole floor "$work/replay" - "$work/floor$run"
  measure whole durable "$work/replay" --durable "$work/durable$run"
  echo "whole emu $(stored "$work/to$run") $(stored "$work/from")" >> "$work/bytes"
  echo "whole emu-ssh $(stored "$work/remote$run") $(stored "$work/from")" >> "$work/bytes"
  echo "whole rsync $(stored "$work/rsync$run") $(stored "$work/from")" >> "$work/bytes"
  rm -rf "$work/rsync$run" "$work/rsync-remote$run" "$work/cp$run" "$work/floor$run" "$work/durable$run"
  [ "$last" = yes ] || rm -rf "$work/to$run" "$work/remote$run"
done
# The bytes a whole copy over ssh sends (through the counting relay, not timed),
# against every inode of the history once and the manifests' text.
(cd "$work/src" && "$emu" sink add counted "$(remote "$work/counted")" --ssh-command "$ssh -o ProxyCommand=$work/ssh/link" --remote-emu "$emu" -q \
  && "$emu" replicate from counted -q)
while pgrep -f "[s]low-link.py.*$work/wire" >/dev/null; do sleep 0.05; done
content=$(find "$work/from/.emu/trees" -type f -printf '%i %s\n' | sort -u | awk '{ s += $2 } END { print s }')
manifests=$(for m in "$work/from/.emu/manifests/"*; do
  if [ "$(head -1 "$m")" = "emu-chunks 1" ]; then tail -n +2 "$m" | awk '{ s += $2 } END { print s }'; else stat -c %s "$m"; fi
done | awk '{ s += $1 } END { print s }')
echo "wire emu-ssh $(awk '{ s += $1 } END { print s }' "$work/wire") $content $manifests" >> "$work/bytes"
rm -rf "$work/counted"

# One more push, then its replicate: it must not walk the older snapshots. The
# push is timed to a sink here and to one over ssh that holds the history too.
(cd "$work/src" && "$emu" sink add sshpush "$(remote "$work/sshpush")" --ssh-command "$ssh" --remote-emu "$emu" -q \
  && "$emu" replicate from sshpush -q)
for run in $(seq "$runs"); do
  python3 "$here/mutate.py" "$work/src" "$((100 + run))" >/dev/null
  measure next push bash -c "cd '$work/src' && '$emu' push from -q"
  measure next push-ssh bash -c "cd '$work/src' && '$emu' push sshpush -q"
  measure next emu bash -c "cd '$work/src' && '$emu' replicate from '$work/to$runs' -q"
  measure next emu-ssh bash -c "cd '$work/src' && '$emu' replicate from remote$runs -q"
done

python3 "$here/history_report.py" "$work/times" "$work/bytes" "$(sort -n "$work/server-rss" 2>/dev/null | tail -1)"
