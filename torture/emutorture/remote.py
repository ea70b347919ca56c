"""The kills of kills.py against a sink reached over ssh, on a real sshd on
127.0.0.1 started here with keys made here: at a seeded moment either the
client (emu, whose ssh then closes the channel) or the server (`emu serve`)
is SIGKILLed. The invariants are the local ones: every snapshot listed is
whole, none that existed changed, verify passes, the source is as it was
(or, for a checkout, every file old or new), and the rerun finishes."""
import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from . import kills
from .lib import Failure, killed_after


class SSHD:
    def __init__(self, scratch):
        self.directory = os.path.join(scratch, "sshd")
        os.makedirs(self.directory)
        os.makedirs("/run/sshd", exist_ok=True)
        for key in ("host_key", "user_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.directory, key)], check=True)
        keys = os.path.join(self.directory, "authorized_keys")
        shutil.copy(os.path.join(self.directory, "user_key.pub"), keys)
        os.chmod(keys, 0o600)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = os.path.join(self.directory, "sshd_config")
        with open(config, "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.directory}/host_key\nAuthorizedKeysFile {keys}\n"
                    "PasswordAuthentication no\nUsePAM no\nStrictModes no\nLogLevel ERROR\nMaxStartups 100\n")
        self.process = subprocess.Popen(["/usr/sbin/sshd", "-D", "-f", config])
        # Bounds here guard against a hang, not a slow machine: minutes, where a run takes well under a second.
        for _ in range(1200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise Failure(f"sshd did not listen on port {self.port} within a minute")
        self.ssh_command = ("ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                            f"-o LogLevel=ERROR -i {self.directory}/user_key")

    def stop(self):
        self.process.kill()
        self.process.wait()


class OverSSH:
    """Reaches a trial's sink through the server; cuts alternate between the client and the server."""

    def __init__(self, sshd, emu):
        self.sshd, self.emu = sshd, emu

    def location(self, sink):
        return f"ssh://{getpass.getuser()}@127.0.0.1:{self.sshd.port}{sink}"

    def register(self, ws):
        """The template's sink, reached over ssh from now on (its registration is rewritten per trial)."""
        ws.ok(["config", "sink.origin.ssh-command", self.sshd.ssh_command])
        ws.ok(["config", "sink.origin.remote-emu", self.emu.binary])

    def servers(self, sink):
        # The remote shell has taken the quotes off: `emu serve --sink PATH`.
        found = subprocess.run(["pgrep", "-f", f"[s]erve --sink {re.escape(sink)}$"], capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def cut(self, emu, args, cwd, delay, sink, index):
        if index % 2 == 0:
            landed = killed_after(emu, args, cwd, delay)
        else:
            process = emu.spawn(args, cwd)
            try:
                process.wait(timeout=delay)
                landed = False
            except subprocess.TimeoutExpired:
                landed = bool(self.servers(sink))
                for pid in self.servers(sink):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass  # it ended between pgrep and now: the command finished first
                process.wait(timeout=600)
        # What the other side does once the channel is cut ends before anything is checked.
        for _ in range(6000):
            if not self.servers(sink):
                return landed
            time.sleep(0.05)
        raise Failure(f"emu serve for {sink} still runs 5 minutes after the channel was cut")


def run(emu, trials, seed, scratch, log):
    sshd = SSHD(scratch)
    try:
        link = OverSSH(sshd, emu)
        return kills.run(emu, trials, seed, scratch, log, link=link, prepared=link.register, label="remote kills")
    finally:
        sshd.stop()
