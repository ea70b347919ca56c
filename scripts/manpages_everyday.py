"""The pages of the commands that make emu run by itself and fit in (issue
15): schedule, watch, import, export, find, timeline; used by manpages.py."""


def add_everyday_pages(P):
    P["emu-schedule"] = ("push by itself: systemd timers or cron", r"""\fBemu schedule enable\fR [\fB\-\-every\fR \fIWHEN\fR] [\fB\-\-user\fR|\fB\-\-system\fR] [\fB\-n\fR]
.br
\fBemu schedule disable\fR [\fB\-\-user\fR|\fB\-\-system\fR] [\fB\-n\fR]
.br
\fBemu schedule status\fR [\fB\-\-user\fR|\fB\-\-system\fR]
.br
\fBemu schedule cron\fR""",
r"""\fBmake install\fR installs \fBemu\-push@.service\fR and \fBemu\-push@.timer\fR, a system pair in \fIPREFIX\fB/lib/systemd/system\fR
and a user pair in \fIPREFIX\fB/lib/systemd/user\fR. The instance is the source's path, escaped as \fBsystemd\-escape \-\-path\fR does
(\fB/home/me\fR is \fBemu\-push@home\-me.timer\fR); the service runs \fBemu push \-\-source\-dir\fR \fIPATH\fR \fB\-\-quiet \-\-lock\-wait 600\fR
at low CPU and I/O priority, after the source's mounts. The timer fires hourly (\fBPersistent=true\fR: a run missed while the
machine was off happens at boot).
.PP
\fBenable\fR enables and starts the source's timer; \fB\-\-every\fR \fIWHEN\fR (systemd's calendar syntax, checked with
\fBsystemd\-analyze calendar\fR) writes a drop-in, \fBevery.conf\fR, with that \fBOnCalendar=\fR. \fBdisable\fR stops and disables it
and removes the drop-in. \fBstatus\fR shows the timer's state, next and last runs, and for each sink whether its last push failed
(exit status 1 when one did). As root the system units are used, else the user's. Without systemd (no \fB/run/systemd/system\fR),
enable and disable refuse and name \fBemu schedule cron\fR, which prints the crontab line that does the same hourly push; with
\fB\-n\fR they print what they would run, then exit as the real run would.
.PP
A scheduled push that fails writes its error to the journal (\fBjournalctl \-u 'emu\-push@*'\fR) and exits non-zero; the source
remembers it, and \fBemu status \-\-check\fR reports it until a push succeeds. The same with \fBsystemctl\fR by hand:
.PP
.nf
systemctl enable \-\-now emu\-push@$(systemd\-escape \-\-path /home/me).timer
systemctl \-\-user enable \-\-now emu\-push@$(systemd\-escape \-\-path ~).timer
.fi""",
r""".TP
.B \-\-json
\fBstatus\fR: one JSON document (see \fBemu\fR(1), JSON OUTPUT).
.TP
.BR \-\-every " \fIWHEN\fR"
When to push: \fBhourly\fR, \fBdaily\fR, \fB*:0/15\fR, \fB"Mon..Fri 18:00"\fR (see \fBsystemd.time\fR(7)).
.TP
.BR \-\-user ", " \-\-system
The user's units (\fBsystemctl \-\-user\fR) or the system's; the default is the system's as root, else the user's.
""", "emu schedule enable\nemu schedule enable --every '*:0/30'\nemu schedule status\nemu schedule cron >> mycrontab", True, False)

    P["emu-watch"] = ("push when the source's changes settle", r"\fBemu watch\fR [\fISINK\fR...] [\fB\-\-settle\fR \fIDURATION\fR] [\fB\-\-max\-interval\fR \fIDURATION\fR]",
r"""Keeps inotify watches on every directory of the source (not its \fB.emu/\fR, excluded paths or sinks inside it) and pushes to
each named sink, or every online one, once no change has come for \fB\-\-settle\fR (30s), never more often than that, and at least
every \fB\-\-max\-interval\fR (1h) while changes keep coming. At start, a sink whose newest snapshot differs from the source is pushed.
.PP
A push made by watch reads only the directories that had events since that sink's last push: the others' entries are taken from
the sink's newest snapshot, with no readdir and no stat of their files. Still looked at in them: subdirectories (a mount or a
replaced directory shows no event in its parent) and files hardlinked elsewhere in the source (a write through another name shows
in that name's directory only); a directory is trusted only while its own status is what its record says, and only after a
complete snapshot. A sink that was offline keeps its list of changed directories until it is back. The new snapshot is still a
whole tree of hardlinks, so such a push costs about what a push that walks everything costs (see the README's figures).
.PP
When the kernel's event queue overflows, or a watched directory is moved, the next push walks everything, and watch says so. At the
watch limit (\fBfs.inotify.max_user_watches\fR) it says so and pushes every \fB\-\-max\-interval\fR after a walk shows a change.
SIGTERM or SIGINT stops it after the push under way, never in the middle of one. A change made through a hardlink from outside the
source, or by writing to a mapped file, makes no event: keep the scheduled push (\fBemu schedule\fR) for those.""",
r""".TP
.BR \-\-settle " \fIDURATION\fR"
Push once no change has come for this long, and never more often (\fB30s\fR, \fB5m\fR).
.TP
.BR \-\-max\-interval " \fIDURATION\fR"
While changes keep coming, push at least this often (\fB1h\fR).
""", "emu watch\nemu watch usb --settle 10s --max-interval 15m", False, False)

    P["emu-import"] = ("turn another tool's backups into snapshots", r"\fBemu import\fR \fBrsnapshot\fR|\fBrsync\-time\-backup\fR|\fBdirs\fR \fIDIR\fR... [\fB\-\-sink\fR \fISINK\fR] [\fB\-\-path\fR \fIPATH\fR] [\fB\-n\fR]",
r"""Each backup folder becomes a snapshot of this source in the default sink (or \fB\-\-sink\fR), oldest first, with its manifest
computed and the content index filled, so the next \fBemu push\fR links to what they hold. \fBrsnapshot\fR: \fIDIR\fR is the
snapshot_root; \fBhourly.0\fR, \fBdaily.3\fR, ... are dated by their mtimes (rsnapshot touches each new \fIinterval\fB.0\fR).
rsnapshot keeps a backup point as \fIHOST\fB/\fIfull path\fR inside each (\fBbackup /home/me/ localhost/\fR is
\fBdaily.0/localhost/home/me/\fR); the snapshot holds that folder's tree, so that the next \fBemu diff\fR and \fBemu checkout\fR see the
source's own paths: \fB\-\-path\fR names it, else the source's own path under a host, else the only backup point there is (the
chain of single folders from the host down); emu says which it took, and refuses (naming them) when there are several.
\fBrsync\-time\-backup\fR: \fIDIR\fR holds \fBbackup.marker\fR and \fBYYYY\-MM\-DD\-HHMMSS\fR folders, dated by their names; while
\fBbackup.inprogress\fR exists its newest folder is unfinished and left out. \fBdirs\fR: each \fIDIR\fR is one snapshot, dated by a
\fBYYYY\-MM\-DD\fR[\fB\-HHMMSS\fR] name, else by its mtime.
.PP
Nothing is copied where the sink is on the folders' filesystem: a file new to the sink is the backup's own inode, given a name in
the snapshot (deleting the old folders afterwards frees only what the snapshots do not hold); elsewhere (another filesystem, a sink
over ssh) it is copied, once per content: the sink's content index links every other copy. A file the
previous folder held unchanged (same size, mtime, mode and owner, the test rsync and rsnapshot use) links to it. A folder whose date
a snapshot has already is taken as imported, so an import can be run again; one older than the sink's newest snapshot is refused
(import into a sink of its own). The retention policy is not applied; push hooks do not run.""",
r""".TP
.BR \-\-sink " \fISINK\fR"
Import into SINK instead of the default sink.
.TP
.BR \-\-path " \fIPATH\fR"
rsnapshot: the backup point inside each backup, as rsnapshot keeps it (\fBlocalhost/home/me\fR).
""", "emu import rsnapshot /backup/snapshots\nemu import rsync-time-backup /media/usb/laptop --sink usb\nemu import dirs /old/2024-01-01 /old/2024-02-01", True, True)

    P["emu-export"] = ("write a snapshot as a tar archive", r"\fBemu export\fR \fIREF\fR [\fIPATH\fR] [\fB\-\-tar\fR] [\fB\-\-to\fR \fIFILE\fR|\fB\-\fR] [\fB\-f\fR]",
r"""Writes the snapshot, or \fIPATH\fR in it with its path, as a POSIX pax archive, so that a restore needs nothing but \fBtar\fR:
names of any length and any bytes (a name that is not UTF-8 carries \fBhdrcharset=BINARY\fR, which bsdtar honours and GNU tar
notes and reads as bytes), mtimes to the nanosecond, owners by number, xattrs and POSIX ACLs in the SCHILY keys (extract with
\fBtar \-\-xattrs \-\-xattrs\-include='*' \-\-acls \-xpf\fR or \fBbsdtar \-\-xattrs \-\-acls \-xpf\fR), files hardlinked in the
snapshot as links, holes kept (GNU sparse format 1.0), FIFOs and devices. Paths are relative to the snapshot's root. The archive
goes to stdout, never a terminal, or to \fIFILE\fR, written under a temporary name and renamed when whole (an existing FILE only
with \fB\-f\fR). A sink over ssh writes the archive on its server (\fBemu serve\fR), which sends it as it goes.""",
r""".TP
.B \-\-tar
The archive's format: pax tar, the only one and the default.
.TP
.BR \-\-to " \fIFILE\fR"
Write to FILE (\fB\-\fR: stdout).
.TP
.BR \-f ", " \-\-force
Replace FILE.
""", "emu export HEAD > home.tar\nemu export usb:HEAD~3 Documents --to docs.tar\nemu export HEAD | ssh nas 'cat > home.tar'", False, False)

    P["emu-find"] = ("list the snapshots that hold a path", r"\fBemu find\fR \fIPATTERN\fR... [\fB\-\-sink\fR \fISINK\fR]... [\fB\-\-json\fR]",
r"""Lists, for every snapshot of every online sink (or each \fB\-\-sink\fR), the paths that match a \fIPATTERN\fR: one line a match,
\fISINK\fB:\fISNAPSHOT\fR, its date, the size (or the type), the path. Patterns are globs in the excludes syntax: without \fB/\fR
one matches a name at any depth, with \fB/\fR whole trailing components, a leading \fB/\fR anchors at the source root, a trailing
\fB/\fR matches directories only, \fB**\fR crosses directories. Quote them for the shell. Manifests are read one at a time. Exit
status 1 when nothing matched.""",
r""".TP
.BR \-\-sink " \fISINK\fR"
Search only SINK (repeatable).
""", "emu find '*.odt'\nemu find '/Documents/**/report*' --sink usb\nemu find 'thesis.tex' --json | jq -r .name", False, True)

    P["emu-timeline"] = ("a page that charts a sink's snapshots", r"\fBemu timeline\fR [\fB\-\-sink\fR \fISINK\fR] [\fB\-\-path\fR \fIPATH\fR] > \fItimeline.html\fR",
r"""Writes one self-contained HTML page on stdout (never on a terminal: redirect it): inline SVG and CSS, no script, nothing
fetched, so it shows offline in any browser, as wide as its window. The chart has each snapshot's total bytes (a blue area) and
unique bytes (orange bars on their own scale, its top named on the right: what pruning it frees), the changes from the snapshot
before (added green, deleted red, changed purple), the pushes that failed (labelled magenta marks, from the last 100 this source
remembers in \fBSOURCE/.emu/failures/\fISINK\fR, also listed in a table with why) and incomplete snapshots (olive dots); with
\fB\-\-path\fR, one path's history (a teal dot where it changed); five dates along the time axis. With one snapshot there are no
changes to chart, and the page says so. Every mark names its snapshot when pointed at; a table below lists all of them.
Changes (and the path's history) come from one diff of each pair of consecutive manifests, with the chunks they share not read;
a pair that cannot be read is named on stderr and shown as unreadable (\fBemu verify\fR names the damage).""",
r""".TP
.BR \-\-sink " \fISINK\fR"
Chart SINK instead of the default sink.
.TP
.BR \-\-path " \fIPATH\fR"
Also chart where PATH changed.
""", "emu timeline > timeline.html\nemu timeline --sink usb --path Documents/thesis.tex > thesis.html", False, False)
