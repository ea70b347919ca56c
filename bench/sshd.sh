# Sourced by the bench scripts: start_sshd DIR starts sshd on 127.0.0.1 with
# keys made in DIR (its pid in DIR/sshd.pid) and sets $port, $user and $ssh,
# the command that reaches it.
start_sshd() {
  local dir=$1
  mkdir -p /run/sshd "$dir"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"; ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key"
  cp "$dir/user_key.pub" "$dir/authorized_keys"; chmod 600 "$dir/authorized_keys"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $dir/host_key" "AuthorizedKeysFile $dir/authorized_keys" \
    "PidFile $dir/sshd.pid" "PasswordAuthentication no" "UsePAM no" "StrictModes no" "LogLevel ERROR" > "$dir/sshd_config"
  /usr/sbin/sshd -f "$dir/sshd_config"
  ssh="ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i $dir/user_key -p $port"
  user=$(id -un)
}
