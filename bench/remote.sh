#!/usr/bin/env bash
# bench/remote.sh [PROFILE] [SCALE] [RUNS]: emu push to a local sink, emu push over
# ssh, and rsync -aHAX -e ssh, to a real sshd this script starts on 127.0.0.1 with
# keys it makes; runs interleaved. Prints min/median/max seconds of a first push
# and of a push with nothing changed. Needs openssh-server and rsync; run as root
# (sshd), e.g. `bash bench/remote.sh home 0.1 3`.
set -euo pipefail
profile="${1:-home}" scale="${2:-0.1}" runs="${3:-3}"
emu="$(realpath "$(dirname "$0")/../.build/release/emu")"
work=$(mktemp -d /dev/shm/remote.XXXXXX)
trap 'kill "$(cat "$work/sshd.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$work/user_key"
cp "$work/user_key.pub" "$work/authorized_keys"; chmod 600 "$work/authorized_keys"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $work/host_key" "AuthorizedKeysFile $work/authorized_keys" \
  "PidFile $work/sshd.pid" "PasswordAuthentication no" "UsePAM no" "StrictModes no" "LogLevel ERROR" > "$work/sshd_config"
/usr/sbin/sshd -f "$work/sshd_config"
ssh="ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i $work/user_key -p $port"
user=$(id -un)
python3 "$(dirname "$0")/make_corpus.py" "$profile" "$work/src" 1 "$scale"
seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; awk "BEGIN{print $(date +%s.%N) - $s}"; }
: > "$work/times"
for run in $(seq "$runs"); do
  rm -rf "$work/local" "$work/remote" "$work/rsync" "$work/src/.emu"
  (cd "$work/src" && "$emu" init -q && "$emu" sink add l "$work/local" -q \
     && "$emu" sink add r "ssh://$user@127.0.0.1:$port$work/remote" --ssh-command "$ssh" --remote-emu "$emu" -q) >/dev/null
  for tool in local remote rsync; do
    case $tool in
      local) step() { (cd "$work/src" && "$emu" push l -q); } ;;
      remote) step() { (cd "$work/src" && "$emu" push r -q); } ;;
      rsync) step() { rsync -aHAX --exclude=.emu -e "$ssh" "$work/src/" "$user@127.0.0.1:$work/rsync/"; } ;;
    esac
    echo "$tool first $(seconds step)" >> "$work/times"
    echo "$tool again $(seconds step)" >> "$work/times"
  done
done
python3 - "$work/times" <<'PY'
import sys, statistics
rows = [l.split() for l in open(sys.argv[1])]
for step in ["first", "again"]:
    cells = []
    for tool in ["local", "remote", "rsync"]:
        v = sorted(float(r[2]) for r in rows if r[0] == tool and r[1] == step)
        cells.append(f"{tool} {v[0]:.3f}/{statistics.median(v):.3f}/{v[-1]:.3f}")
    print(f"{step:6s} " + "  ".join(cells))
PY
