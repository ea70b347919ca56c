"""The pages of the commands that move and show history between sinks
(issues 27, 28): replicate, mount, umount; used by manpages.py."""


def add_history_pages(P):
    P["emu-replicate"] = ("copy the snapshots one sink holds and another lacks", r"\fBemu replicate\fR \fIFROM\fR \fITO\fR [\fIREF\fR...] [\fB\-\-prune\fR] [\fB\-\-progress\fR] [\fB\-n\fR] [\fB\-\-json\fR]",
r"""Copies every snapshot \fIFROM\fR holds and \fITO\fR lacks (or the \fIREF\fRs named, resolved in \fIFROM\fR), oldest first, with
the same ID, date, message and status, and the manifest byte for byte. \fIFROM\fR and \fITO\fR are sink names of this source, sink
paths, or ssh addresses (\fBssh://\fR[\fIuser\fB@\fR]\fIhost\fR[\fB:\fIport\fR]\fB/\fIpath\fR, [\fIuser\fB@\fR]\fIhost\fB:\fIpath\fR);
both may be remote, and the data then passes through this machine. An address no source registered is reached with
\fBssh \-o BatchMode=yes\fR and \fBemu\fR on the server's PATH; register it (\fBemu sink add\fR) to choose others.
.PP
A snapshot is copied as a push of its records: a file unchanged since the newest snapshot \fITO\fR holds is linked to it there, one
whose content \fITO\fR's content index holds (a renamed folder, a copied file, content another machine under the same \fBemu serve
\-\-root\fR stored) is linked or copied on \fITO\fR's side, and only other files' bytes are read from \fIFROM\fR and sent; so
\fITO\fR grows as if it had received the pushes itself, and a run after one new push reads and sends that push's changes only. A
snapshot \fITO\fR holds already is skipped (an ID names its content); one of a second \fITO\fR holds another snapshot of (one push to
both sinks) is left out and named. Memory does not grow with the number of files or snapshots: the records of one snapshot and of
the one before it are read in step.
.PP
A copy is a push in every safety rule: it appears whole, synced, or not at all; a copy killed or cut off at any moment leaves \fITO\fR
as a killed push does, and the next run keeps what arrived whole and sends the rest; a full \fITO\fR fails the copy with status 1,
its space given back, the snapshots copied before it kept. Nothing is ever deleted from \fIFROM\fR, which is read under a shared
lock (a read-only key is enough). \fITO\fR is written under its exclusive lock, through the same receiver that checks every push
(on this machine, \fBemu serve\fR runs in the same process); an append-only key can be replicated into. \fITO\fR must belong to
\fIFROM\fR's source, or to none (it is then claimed); a \fITO\fR path that is no sink yet is made when it is missing or empty.
.PP
\fITO\fR keeps its own retention. With \fB\-\-prune\fR only the snapshots \fITO\fR's policy keeps (among its own and \fIFROM\fR's)
are copied, and the policy is applied afterwards, so a long archive (\fBretention.keep\-monthly 120\fR) takes one snapshot a
month from a sink that keeps dailies, and a rerun copies nothing the policy expired. Without it, nothing is deleted from \fITO\fR
either; its next push applies the policy.
.PP
\fBemu sink\fR and \fBemu status\fR say, for each pair of online sinks, how many snapshots one lacks of the other.
.SS Moving to a new disk
.nf
emu sink add usb2 /media/usb2
emu replicate usb1 usb2
emu verify usb2
emu sink default usb2; emu sink rm usb1
.fi
.SS A nightly offsite copy of a server's sink
On the offsite machine, a sink of its own and a key that may read the server's (\fBemu serve \-\-read\-only\fR in its
\fBauthorized_keys\fR entry), run by a systemd timer:
.PP
.nf
# /etc/systemd/system/emu-offsite.service
[Service]
Type=oneshot
ExecStart=/usr/local/bin/emu replicate ssh://backup@nas/srv/emu/laptop /srv/offsite/laptop --prune -q --lock-wait 600
Nice=10
IOSchedulingClass=idle

# /etc/systemd/system/emu-offsite.timer
[Timer]
OnCalendar=daily
Persistent=true
RandomizedDelaySec=1h
[Install]
WantedBy=timers.target
.fi
.PP
\fBsystemctl enable \-\-now emu\-offsite.timer\fR; the unit's failures show in \fBsystemctl \-\-failed\fR and
\fBjournalctl \-u emu\-offsite\fR.""",
r""".TP
.B \-\-prune
Copy only what \fITO\fR's retention policy keeps, then apply it to \fITO\fR (refused through an append-only key).
.TP
.B \-\-progress
The progress line (snapshot \fIN\fR of \fIM\fR, files, bytes, rate, ETA) even when stderr is not a terminal.
""", "emu replicate usb1 usb2\nemu replicate nas /media/usb/laptop --prune\nemu replicate usb1 ssh://me@offsite/srv/emu/laptop HEAD\nemu replicate usb1 usb2 -n --json", True, True)
    P["emu-mount"] = ("mount a sink read-only, to browse every snapshot as folders", r"\fBemu mount\fR \fISINK\fR \fIDIR\fR",
r"""Mounts \fISINK\fR read-only on \fIDIR\fR: each snapshot is a folder named by its date (and \fBLatest\fR the newest), so a file
manager browses them all and a file is restored by copying it out. \fISINK\fR is a sink name of this source, a sink's path, or an ssh
address; it is checked to be a sink first. \fIDIR\fR is made when missing (its parent must exist) and must be empty and have nothing
mounted on it.
.PP
emu mounts with the engines that exist, not a filesystem of its own. A local sink is bind-mounted read-only (\fBmount \-\-bind\fR, then
remounted \fBro\fR), which needs root; without root its folders can be browsed where they are. A sink over ssh is mounted with
\fBsshfs\fR (\fB\-o ro,reconnect\fR), through the sink's \fBsink.\fINAME\fB.ssh\-command\fR and the address's port; sshfs needs the
server's sftp subsystem, so a key whose \fBauthorized_keys\fR entry forces \fBemu serve\fR (a per-client or read-only key, which
is what keeps clients of one server apart) cannot mount: \fBemu show\fR and \fBemu checkout \-\-to\fR read through such a key.
sshfs keeps running in the background until \fBemu umount\fR.""",
"", "emu mount usb /mnt/backup\nemu mount nas ~/nas-snapshots\nls ~/nas-snapshots\nemu umount ~/nas-snapshots", False, False)
    P["emu-umount"] = ("unmount a sink emu mount mounted", r"\fBemu umount\fR \fIDIR\fR",
r"""Unmounts the sink mounted on \fIDIR\fR: an sshfs mount with \fBfusermount \-u\fR (which needs no root), a bind mount of a sink with
\fBumount\fR(2). A directory with nothing mounted on it, or with another mount than a read-only sink, is refused (status 2) and left
as it is; a mount still in use fails (status 1) and names \fBfuser \-vm\fR to find what uses it.""",
"", "emu umount /mnt/backup", False, False)
