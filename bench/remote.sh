#!/usr/bin/env bash
# bench/remote.sh [PROFILE] [SCALE] [RUNS] [SEED]: emu push to a local sink, emu push
# over ssh, and rsync -aHAX --link-dest -e ssh, to a real sshd this script starts on
# 127.0.0.1 with keys it makes; tools interleaved in each run. Prints min/median/max
# seconds of a first push, a push with nothing changed (and the same for a second sink
# on the host, over the first one's connection), a push after the seeded
# mutation (bench/mutate.py) and a restore into an empty directory; the bytes the
# client sent for the mutation (counted by scripts/slow-link.py on ssh's socket)
# against the new content; the server's peak RSS; and the same steps over a link
# that holds every chunk 25 ms each way. And where a no-change push over ssh
# spends its time: a bare connection (`ssh HOST true`, timed each run), and the
# CPU seconds of the client and of `emu serve` against the local push's. Needs openssh-server and rsync; run as root
# (sshd), e.g. `bash bench/remote.sh home 0.1 3`.
set -euo pipefail
profile="${1:-home}" scale="${2:-0.1}" runs="${3:-3}" seed="${4:-1}"
emu="$(realpath "$(dirname "$0")/../.build/release/emu")"
work=$(mktemp -d /dev/shm/remote.XXXXXX)
trap 'kill "$(cat "$work/sshd.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
. "$(dirname "$0")/sshd.sh"
start_sshd "$work"
python3 "$(dirname "$0")/make_corpus.py" "$profile" "$work/src" "$seed" "$scale"
link="$(realpath "$(dirname "$0")/../scripts/slow-link.py")"
# ProxyCommand takes no spaces through emu's ssh-command: a wrapper per delay.
for delay in 0 0.025; do
  printf '#!/bin/sh\nexec python3 %s --delay %s --count %s 127.0.0.1 %s\n' "$link" "$delay" "$work/wire.$delay" "$port" > "$work/link.$delay"
  chmod 755 "$work/link.$delay"
done
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; awk "BEGIN{print $(date +%s.%N) - $s}"; }
# The CPU seconds (user and system) of a command and its children, from bash's `times`.
cpu_seconds() { ( "$@" >/dev/null 2>&1; times ) | awk 'NR == 2 { gsub(/m/, " "); gsub(/s/, ""); print $1 * 60 + $2 + $3 * 60 + $4 }'; }
# The CPU seconds of the `emu serve` that ended last (its wrapper appends RSS:user:system).
served_cpu() { tail -1 "$work/rss" | awk -F: '{print $2 + $3}'; }
sent() { while pgrep -f "[s]low-link.py.*wire.$1" >/dev/null; do sleep 0.05; done; awk '{s += $1} END {print s + 0}' "$work/wire.$1" 2>/dev/null || echo 0; }
# The bytes of a sink's newest manifest's text (a chunk list names each chunk's length).
manifest_size() {
  local head m; head=$(cat "$1/.emu/HEAD" 2>/dev/null) && [ -n "$head" ] && m="$1/.emu/manifests/$head" || return 1
  if [ "$(head -1 "$m")" = "emu-chunks 1" ]; then tail -n +2 "$m" | awk '{ s += $2 } END { print s }'; else stat -c %s "$m"; fi
}
: > "$work/times"
cp -a "$work/src" "$work/pristine"
for run in $(seq "$runs"); do
  for delay in 0 0.025; do
    # The slow link once by default (its figures are mostly latency); BENCH_SLOW_RUNS=N gives them a spread.
    [ "$delay" = 0.025 ] && [ "$run" -gt "${BENCH_SLOW_RUNS:-1}" ] && continue
    tag=$([ "$delay" = 0 ] && echo "" || echo "slow-")
    rm -rf "$work/src" "$work/local" "$work/remote" "$work/rsync" "$work/restored"; cp -a "$work/pristine" "$work/src"; mkdir "$work/rsync"
    # On the plain link, only the mutation goes through the counting relay: a relay's hops would slow what is timed.
    counted="$ssh -o ProxyCommand=$work/link.$delay"
    linked=$([ "$delay" = 0 ] && echo "$ssh" || echo "$counted")
    (cd "$work/src" && "$emu" init -q && "$emu" sink add l "$work/local" -q \
       && "$emu" sink add r "ssh://$user@127.0.0.1:$port$work/remote" --ssh-command "$linked" --remote-emu "/usr/bin/time -a -o $work/rss -f %M:%U:%S $emu" -q) >/dev/null
    for tool in local remote rsync; do
      [ -n "$tag" ] && [ "$tool" = local ] && continue
      case $tool in
        local) step() { (cd "$work/src" && "$emu" push l -q); }
               restore() { (cd "$work/src" && "$emu" checkout l:HEAD --to "$work/restored" -q); } ;;
        remote) step() { (cd "$work/src" && "$emu" push r -q); }
                restore() { (cd "$work/src" && "$emu" checkout r:HEAD --to "$work/restored" -q); } ;;
        rsync) step() {
                 local last; last=$(ls "$work/rsync" 2>/dev/null | tail -1)
                 rsync -aHAX --exclude=.emu ${last:+--link-dest=../$last} -e "$linked" "$work/src/" "$user@127.0.0.1:$work/rsync/$(date +%s%N)/"; }
               restore() { rsync -aHAX -e "$linked" "$user@127.0.0.1:$work/rsync/$(ls "$work/rsync" | tail -1)/" "$work/restored/"; } ;;
      esac
      echo "$tool ${tag}first $(seconds step)" >> "$work/times"
      echo "$tool ${tag}again $(seconds step)" >> "$work/times"
      if [ -z "$tag" ] && [ "$tool" != rsync ]; then
        # The same push once more, for its CPU seconds (and the server's): where the time goes.
        client=$(cpu_seconds step)
        echo "$tool $client $([ "$tool" = remote ] && served_cpu || echo 0)" >> "$work/cpu"
      fi
      if [ -z "$tag" ] && [ "$tool" = local ]; then
        echo "ssh bare $(seconds $ssh "$user@127.0.0.1" true)" >> "$work/times"
        echo "ssh $(cpu_seconds $ssh "$user@127.0.0.1" true) 0" >> "$work/cpu"
      fi
      if [ "$tool" = remote ] && [ -z "$tag" ]; then
        # A second sink on the same host rides the first one's connection: its no-change push costs
        # the difference between pushing both and pushing one, measured back to back.
        (cd "$work/src" && "$emu" sink add r2 "ssh://$user@127.0.0.1:$port$work/remote2" --ssh-command "$ssh" --remote-emu "$emu" -q \
           && "$emu" push r2 -q) >/dev/null
        both=$(seconds eval '(cd "$work/src" && "$emu" push r r2 -q)') one=$(seconds step)
        echo "remote shared $(awk "BEGIN{print $both - $one}")" >> "$work/times"
        (cd "$work/src" && "$emu" sink rm r2 -q >/dev/null 2>&1 || true); rm -rf "$work/remote2"
      fi
      python3 "$(dirname "$0")/mutate.py" "$work/src" "$run" | sed -n 's/.*new content \([0-9]*\) bytes/\1/p' > "$work/new-content"
      rm -f "$work/wire.$delay"
      transport() { linked="$1"; [ "$tool" != remote ] || (cd "$work/src" && "$emu" config sink.r.ssh-command "$1" >/dev/null 2>&1); }
      transport "$counted"
      echo "$tool ${tag}mutated $(seconds step)" >> "$work/times"
      [ "$delay" = 0 ] && transport "$ssh"
      # The records a push sends are its snapshot's manifest: the issue's budget is new content plus them.
      records=$(manifest_size "$work/remote" || manifest_size "$work/local")
      echo "$tool ${tag}wire $(sent "$delay") $(cat "$work/new-content") $records" >> "$work/bytes"
      rm -rf "$work/restored"
      echo "$tool ${tag}restore $(seconds restore)" >> "$work/times"
      rsync -aHAX --delete --exclude=/.emu "$work/pristine/" "$work/src/"  # the next tool starts from the same tree
    done
  done
done
python3 - "$work/times" "$work/bytes" "$work/cpu" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
steps = []
for r in rows:
    if r[1] not in steps: steps.append(r[1])
for step in steps:
    cells = []
    for tool in ["local", "remote", "rsync", "ssh"]:
        v = sorted(float(r[2]) for r in rows if r[0] == tool and r[1] == step)
        if v: cells.append(f"{tool} {v[0]:.3f}/{statistics.median(v):.3f}/{v[-1]:.3f}")
    print(f"{step:14s} " + "  ".join(cells))
def spread(tool, step):
    if " " in tool: tool, step = tool.split()  # a baseline from another step: "local again"
    v = sorted(float(r[2]) for r in rows if r[0] == tool and r[1] == step)
    return (v[0], statistics.median(v), v[-1]) if v else None
# The targets: ratios of medians, marked noisy when either side's spread (max/min)
# exceeds 20%, so noise cannot pass for a result. The slow link runs once: one figure
# each, no spread to judge, so its verdicts say so.
targets = [("first", "rsync", 1.0), ("again", "local", 1.3), ("again", "rsync", 0.3), ("shared", "local again", 1.3), ("mutated", "rsync", 1.0),
           ("restore", "rsync", 0.8)] + [("slow-" + step, "rsync", 1.0) for step in ["first", "again", "mutated", "restore"]]
for step, base, target in targets:
    ours, theirs = spread("remote", step), spread(base, step)
    if not ours or not theirs: continue
    ratio = ours[1] / theirs[1]
    single = ours[0] == ours[2] and theirs[0] == theirs[2]
    noisy = any(s[2] / s[0] > 1.2 for s in (ours, theirs))
    verdict = "noisy" if noisy else ("met" if ratio <= target else "missed") + (", one run" if single else "")
    print(f"{step} over ssh / {base}: {ratio:.2f}x (target <= {target}x: {verdict})")
# Where a no-change push over ssh spends its time (no target: the figures that bound it).
remote, local, bare = spread("remote", "again"), spread("local", "again"), spread("ssh", "bare")
if remote and local and bare:
    print(f"no-change over ssh, less a bare connection's median ({bare[1]:.3f}), / local: {(remote[1] - bare[1]) / local[1]:.2f}x")
cpu = [l.split() for l in open(sys.argv[3])]
local_cpu = statistics.median(float(r[1]) for r in cpu if r[0] == "local")
client = statistics.median(float(r[1]) for r in cpu if r[0] == "remote")
server = statistics.median(float(r[2]) for r in cpu if r[0] == "remote")
connection = statistics.median(float(r[1]) for r in cpu if r[0] == "ssh")
print(f"CPU seconds of a no-change push (medians): local {local_cpu:.2f}; over ssh, client {client:.2f} (of which a bare connection's ssh "
      f"{connection:.2f}) + server {server:.2f} = {(client + server) / local_cpu:.2f}x the local push's")
for line in open(sys.argv[2]):
    tool, step, value, new, records = line.split()
    if tool != "local":
        budget = int(new) + int(records)
        print(f"{step:14s} {tool} sent {int(value):,} bytes through ssh for {int(new):,} bytes of new content and "
              f"{int(records):,} of records ({int(value) / budget:.2f}x their sum)")
PY
echo "server peak RSS: $(cut -d: -f1 "$work/rss" | sort -n | tail -1) KiB (largest of $(wc -l < "$work/rss") emu serve runs)"
