#!/usr/bin/env python3
"""Writes share/man/man1/*.1: every command's page, each with the common
options and the exit-status table (the CLI's ExitStatus.swift in roff).
Edit the text here and run `python3 scripts/manpages.py`."""
import datetime, os, re
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
# The version the binary reports, and the day the pages were made (SOURCE_DATE_EPOCH for a
# reproducible build), not a date written here once and left behind as the text changed.
VERSION = re.search(r'emuVersion = "([^"]+)"', open(os.path.join(ROOT, "Sources/EmuRecords/Records/Snapshot.swift")).read()).group(1)
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", datetime.datetime.now(datetime.timezone.utc).timestamp()))
DATE = datetime.datetime.fromtimestamp(EPOCH, datetime.timezone.utc).strftime("%Y-%m-%d")
os.chdir(os.path.join(ROOT, "share", "man", "man1"))
from manpage_sections import change, common, exit_status, json, json_section, refs
from manpages_everyday import add_everyday_pages
from manpages_history import add_history_pages

P = {}
P["emu-init"] = ("make or repair a source's settings", r"\fBemu init\fR [\fB\-\-template\-dir\fR \fIDIR\fR] [\fB\-f\fR] [\fB\-n\fR]",
r"""Makes \fBSOURCE/.emu/\fR (the working directory, or \fB\-S\fR \fIDIR\fR) from the templates: \fBconfig\fR, \fBexcludes\fR,
\fBsinks/\fR and \fBhooks/\fR (with sample hooks that do nothing until renamed). It is idempotent: missing files are copied, present
ones kept, so running it again repairs a damaged \fB.emu/\fR. Registered sinks are never touched.
.PP
The first \fBinit\fR also gives the source its identity, 32 hex digits in \fB.emu/identity\fR, which \fB\-f\fR keeps: every
snapshot records it, and a sink belongs to the identity that first pushed to it (see \fBemu\-sink\fR(1)), wherever the source moves.
A source made by an older emu gets one at its next command that needs it.""",
r""".TP
.BR \-\-template\-dir " \fIDIR\fR"
Copy templates from DIR (default: \fB$EMU_TEMPLATE_DIR\fR, else an installed \fIPREFIX\fB/share/emu/templates\fR, else the
defaults built into emu, so that a binary copied anywhere works).
.TP
.BR \-f ", " \-\-force
Also replace \fBconfig\fR or \fBexcludes\fR when it does not parse, saying why; a file that parses is kept (the default sink, remote
settings and the user's rules stay). What a repair changes is named.
.TP
.BR \-n ", " \-\-dry\-run
Print the files that would be written.
""", "emu init\nemu init -S ~/work", False, False)
P["emu-sink"] = ("list, add, remove sinks and choose the default", r"""\fBemu sink\fR [\fB\-\-json\fR]
.br
\fBemu sink add\fR \fINAME\fR \fIPATH\fR|\fIADDRESS\fR [\fB\-f\fR] [\fB\-\-adopt\fR] [\fB\-\-ssh\-command\fR \fICMD\fR] [\fB\-\-remote\-emu\fR \fIPATH\fR] [\fB\-n\fR]
.br
\fBemu sink rm\fR \fINAME\fR [\fB\-n\fR]
.br
\fBemu sink default\fR \fINAME\fR [\fB\-n\fR]""",
r"""\fBemu sink\fR lists the sinks: name (the default marked \fB*\fR), path, online or offline, number of snapshots, the newest
one's date, free space, and whether it holds the newest snapshot of this source or how far behind it is (an offline sink by the
last push this source made to it: two disks swapped weekly show which one is a week old). A sink that is not mounted is \fIoffline\fR and is skipped by \fBpush\fR, not an error.
.PP
\fBemu sink add\fR creates a sink at \fIPATH\fR (made if missing) and registers it as \fINAME\fR (letters, digits, \fB.\fR, \fB_\fR, \fB\-\fR).
An existing emu sink at \fIPATH\fR, also one made by emu 0.2.5, is attached, not wiped. A filesystem that cannot hardlink (FAT, exFAT,
some network mounts) is refused with the reason, and so is a path that holds the source. It says which missing directories it
creates; a directory that is not empty and is not a sink (a mistyped mount point) is refused unless \fB\-f\fR. The first sink added
becomes the default.
.PP
A sink belongs to one source: \fBSINK/.emu/owner\fR names the identity (see \fBemu\-init\fR(1)) of the source whose first push
claimed it, and only that source pushes to it (two sources in one sink would expire, follow and restore each other's snapshots).
\fBsink add\fR of a sink that belongs to another source is refused with status 2, and changes nothing: give each machine a sink of
its own, such as \fB/media/usb/\fIHOSTNAME\fR. \fB\-\-adopt\fR takes such a sink over on purpose (this machine before a reinstall,
whose \fB.emu/\fR was lost): its snapshots become this source's history and the earlier identity may no longer push to it.
.PP
An \fIADDRESS\fR \fBssh://\fR[\fIuser\fB@\fR]\fIhost\fR[\fB:\fIport\fR]\fB/\fIpath\fR or [\fIuser\fB@\fR]\fIhost\fB:\fIpath\fR
names a sink on another machine: emu runs \fBssh\fR (\fB\-\-ssh\-command\fR, kept as \fBsink.\fINAME\fB.ssh\-command\fR; default
\fBssh \-o BatchMode=yes\fR, so keys, ports and \fB~/.ssh/config\fR work as for ssh) and \fBemu serve\fR there (\fB\-\-remote\-emu\fR,
kept as \fBsink.\fINAME\fB.remote\-emu\fR, when emu is not on the server's PATH); the server makes the sink or attaches the one
there, and each directory it made is named, as a local \fBsink add\fR names them; with \fB\-n\fR the server is asked what it would
make, and nothing is made or registered. One emu process opens one ssh connection a host and ssh command, before its first
session there, and its sessions use it (OpenSSH's \fBControlMaster\fR, ended with the process or after 5 minutes without a
session), unless the ssh command mentions
\fBControlMaster\fR or \fBControlPath\fR (\fB\-o ControlMaster=no\fR turns it off) or \fB~/.ssh/config\fR turns \fBControlMaster\fR on or sets a \fBControlPath\fR. A sink that cannot be reached is not registered; other URL schemes are refused (write \fB./a:b\fR for a local name with a
colon). Over ssh, \fBpush\fR (the bytes of new and changed files whose content the server does not hold already; renamed, copied
and restored files are found in its content index by hash; the server builds and publishes the snapshot as a local push does),
\fBcheckout\fR, \fBsink\fR, \fBlog\fR, \fBshow\fR, \fBstatus\fR, \fBdiff\fR, \fBprune\fR and \fBsquash\fR work, and \fBverify\fR and
\fBclean\fR run on the server, sending only their findings. \fBpush \-\-dry\-run\fR changes nothing on the server;
\fBpush \-\-checksum\fR hashes every file and lets the server link those it holds.
.PP
\fBemu sink rm\fR forgets a sink; its snapshots stay on disk. \fBemu sink default\fR sets the sink commands use when none is named.""",
"", "emu sink add usb /media/usb/backup\nemu sink\nemu sink default nas", True, False)
P["emu-push"] = ("make a new snapshot", r"\fBemu push\fR [\fISINK\fR...] [\fB\-m\fR \fIMSG\fR] [\fB\-\-exclude\fR \fIPATTERN\fR] [\fB\-\-exclude\-from\fR \fIFILE\fR] [\fB\-\-files\-from\fR \fIFILE\fR] [\fB\-\-exclude\-caches\fR] [\fB\-x\fR] [\fB\-\-checksum\fR] [\fB\-\-skip\-if\-unchanged\fR] [\fB\-\-date\fR \fIDATE\fR [\fB\-f\fR]] [\fB\-n\fR]",
r"""Makes a new snapshot of the source in each named sink, or in every online sink. A regular file whose size, mtime, ctime and inode
match the newest snapshot's record is a hardlink to that snapshot's copy and is not read; any other file is copied (holes kept) and
its SHA-256 recorded in the same read. When the sink already holds a file with that content and the same inode metadata (mode, owner,
group, mtime, xattrs, ACLs) \- at any path, in any snapshot \- the new snapshot links to it and the copy is dropped: renamed and moved
files and folders, \fBcp \-a\fR copies and restored files cost no space. The sink's content index,
\fBSINK/.emu/index/\fIXX\fB/\fIsha256\fB\-\fIdigest\fR, holds one hardlink per distinct file for this. Files hardlinked in the
source are hardlinked in the snapshot. On a sink that shares extents (xfs with reflink, btrfs), a changed file of 1 MiB or more
starts as a reflink of the previous snapshot's copy and only the blocks that differ are written: a byte changed in a large file
costs a block; and a new file of 64 KiB or more whose bytes the sink holds under other metadata (another mtime or mode, or
another machine's, under \fBemu serve \-\-root\fR) is a reflink of the held copy: no data block is written. Elsewhere it is copied whole.
.PP
The snapshot is built in \fBSINK/.emu/staging/\fR, synced to disk, and published by renames; it appears whole or not at all. A push
killed at any moment leaves earlier snapshots intact, and the next push reuses what it had copied. Ctrl-C (SIGINT), SIGTERM or SIGHUP
stops a push at once in the same way, but first says so (\fBthe push to '\fIsink\fB' was interrupted by ...: nothing of it was published;
the next push ... resumes from what this one copied\fR; status 128 + the signal's number), and a push whose ssh connection is cut says
that the server keeps what arrived whole; \fBemu status\fR then shows \fBthe last push was interrupted\fR until a push succeeds. A
signal that was ignored when emu started (\fBnohup\fR) stays ignored. The progress line (on a terminal, or with \fB\-\-progress\fR)
shows files, bytes and the rate after the first second, and a percentage and an ETA estimated from the newest snapshot's files and
bytes after two; a first push says it has no estimate. An unreadable file is skipped and
named on stderr; the snapshot is recorded as incomplete and the exit status is 3. A file that changes while it is read is read again,
twice at most, then kept as read and reported. The sink is excluded when it lies inside the source; a source inside its sink is refused.
.PP
After a successful push the sink's retention policy is applied (see \fBemu\-prune\fR(1)); it never removes the new snapshot. A full
sink fails the push with status 1 and gives back all it wrote, unless the policy's min-free rule can free room by removing the
oldest snapshots first: only when the bytes they alone hold can make the room the push needs, never the only snapshot, and never below
\fBretention.min\-keep\fR (3 unless set); otherwise a warning says the disk is full of other data or too small, and nothing is removed.
A push leaves out files named \fB.emu\-checkout.*\fR (what a killed checkout leaves) and says so.
.PP
Hooks: executables in \fBSOURCE/.emu/hooks/push/\fR named \fB*.pre\fR run before the push to each sink (a non-zero exit cancels it),
\fB*.post\fR after success and \fB*.error\fR after a failure, in name order, in the source directory, with \fBEMU_SINK\fR,
\fBEMU_SINK_PATH\fR, \fBEMU_SOURCE\fR, \fBEMU_SNAPSHOT\fR and \fBEMU_STATUS\fR (complete, incomplete, unchanged, failed, offline) set;
\fB*.error\fR also runs when the push fails before it begins (an unknown or offline sink), with \fBEMU_ERROR\fR saying why. A failed
push is remembered in \fBSOURCE/.emu/failed/\fISINK\fR until one succeeds, for \fBemu status \-\-check\fR, and the last 100 in
\fBSOURCE/.emu/failures/\fISINK\fR, for \fBemu timeline\fR; the newest snapshot pushed to each sink is noted in
\fBSOURCE/.emu/pushed/\fISINK\fR, for \fBemu status\fR and \fBemu sink\fR while the sink is offline.
.PP
The result line of each sink goes to stdout (\fB\-q\fR silences it); messages and progress to stderr. A dry run lists what it would
copy.""",
r""".TP
.BR \-m ", " \-\-message " \fIMSG\fR"
A message recorded with the snapshot.
.TP
.BR \-\-exclude " \fIPATTERN\fR"
Also exclude PATTERN for this push (the syntax of \fB.emu/excludes\fR; repeatable). Patterns are bytes, as names are.
.TP
.BR \-\-exclude\-from " \fIFILE\fR"
Read more exclude rules from FILE (the syntax of \fB.emu/excludes\fR; \fB\-\fR is stdin; repeatable).
.TP
.BR \-\-files\-from " \fIFILE\fR"
Snapshot only the paths FILE lists, one a line (relative to the working directory inside the source, or to the source), with
what is below them and the directories above them. The snapshot holds only those: a checkout of it into the source removes the rest.
.TP
.B \-\-exclude\-caches
Leave out every directory that holds a \fBCACHEDIR.TAG\fR beginning with the signature of the Cache Directory Tagging
Specification.
.TP
.BR \-x ", " \-\-one\-file\-system
Do not descend into other filesystems (their mount points are kept, empty).
.TP
.B \-\-checksum
Read every file and link it only when its content and metadata match the last snapshot.
.TP
.B \-\-skip\-if\-unchanged
Make no snapshot when the source is exactly as the newest snapshot holds it (every entry, with its metadata, ctime and inode:
its records byte for byte; decided where the snapshot is written, by the server over ssh), and say so:
\fIsink\fB: nothing changed since snapshot \fINAME\fR \fB(\fIID\fB) ... no snapshot made\fR, exit 0, JSON \fBunchanged_since\fR. The
newest snapshot then counts as fresh for \fBemu status\fR until that push (the time is kept in \fBSOURCE/.emu/pushed/\fISINK\fR); \fB*.post\fR
hooks run with \fBEMU_STATUS=unchanged\fR and \fBEMU_SNAPSHOT\fR the newest. As restic's flag of that name.
.TP
.BR \-\-date " \fIDATE\fR"
Record DATE instead of now: \fIYYYY\-MM\-DD HH:MM[:SS]\fR, \fIYYYY\-MM\-DD\fR, \fI@SECONDS\fR, \fIyesterday\fR or
\fI"N days ago"\fR, local time. A date more than 5 minutes after the clock of the machine that keeps the sink is refused (a typo
such as 2062 would otherwise stay HEAD for decades); over ssh the server's clock decides, and an append-only key may only add a
snapshot newer than the sink's newest complete one.
.TP
.BR \-f ", " \-\-force
With \fB\-\-date\fR, on a local sink: record a date after this machine's clock.
.TP
.B \-\-progress
Show the progress line even when stderr is not a terminal.
""", "emu push -m 'before the upgrade'\nemu push usb --exclude '*.iso'\nemu push -n -v", True, True)
P["emu-log"] = ("list snapshots", r"\fBemu log\fR [\fIREF\fR|\fISINK\fR...] [\fB\-\fIN\fR|\fB\-n\fR \fIN\fR] [\fB\-\-short\fR|\fB\-\-oneline\fR] [\fB\-\-since\fR \fIDATE\fR] [\fB\-\-until\fR \fIDATE\fR] [\fB\-\-grep\fR \fIPATTERN\fR] [\fB\-\-all\-sinks\fR] [\fB\-\-no\-pager\fR] [\fB\-\-json\fR] [[\fB\-\-all\fR] \fB\-\-\fR \fIPATH\fR...]",
r"""Lists snapshots newest first, each with its ID, date, name, counts of files and bytes, what its push copied and linked, the bytes
only it holds (what pruning it would free), its status (complete, or incomplete with the number of skipped files) and the result of its
last \fBverify\fR. Without arguments: the default sink.
.PP
With \fB\-\-\fR \fIPATH\fR, a file's history: the snapshots in which something at or below PATH changed against the snapshot
before it in the same sink, each with what happened there: \fBadded\fR, \fBmodified\fR, \fBtype changed\fR, \fBmetadata only\fR
(mode, owner, mtime, xattrs, ACLs), \fBrenamed\fR \fIOLD\fR \fB\(->\fR \fINEW\fR (content that moved into, out of or within PATH), or
\fBdeleted\fR, naming the snapshot that holds the last version and the \fBemu checkout\fR that restores it. Each version shows its
size and mtime. A directory PATH lists the changes of its files (at most 10,000 a snapshot; \fBemu diff\fR lists them all).
\fB\-n\fR counts the snapshots listed. \fB\-\-short\fR gives one line a snapshot. Pick a version, then
\fBemu checkout\fR \fIREF\fR \fB\-\-\fR \fIPATH\fR (or \fB\-\-to\fR \fIDIR\fR) restores it, \fBemu show\fR \fIREF\fB:\fIPATH\fR prints it.
.PP
"Unique" is the bytes of file content (sizes, as every other column) that only this snapshot holds: what pruning it frees. Short
lines over several sinks begin with the sink (\fIsink\fB:\fIid\fR). A log of a sink without snapshots says so and exits 1, as
\fBgit log\fR of a branch without commits does (\fB\-\-json\fR prints the empty list; \fB\-\-all\-sinks\fR passes such a sink over). On a terminal the
listing goes through a pager: \fB$PAGER\fR, else \fBless\fR (with \fBLESS=FRX\fR unless \fBLESS\fR is set); \fBcat\fR or an empty
\fBPAGER\fR, \fBTERM=dumb\fR and \fB\-\-no\-pager\fR print directly.""",
r""".TP
.BR \-\fIN\fR ", " \-n ", " \-\-max\-count " \fIN\fR"
Show at most N snapshots (\fB\-1\fR, \fB\-n1\fR as in git).
.TP
.BR \-\-short ", " \-\-oneline
One line per snapshot.
.TP
.BR \-\-since " \fIDATE\fR", " \-\-until " \fIDATE\fR"
Only snapshots at or after, at or before DATE (\fI2026\-11\-01\fR, \fI"2026\-11\-01 12:00"\fR, \fIyesterday\fR, \fI"2 days ago"\fR).
.TP
.BR \-\-grep " \fIPATTERN\fR"
Only snapshots whose message matches the regular expression PATTERN.
.TP
.B \-\-all
With \fB\-\-\fR \fIPATH\fR: every snapshot, also those that left PATH as it was (with the version each holds, or that it holds none).
.TP
.B \-\-all\-sinks
Merge the histories of every online sink, newest first (an offline one is named on stderr); short lines begin with the sink.
.TP
.B \-\-no\-pager
Do not page the output.
""", "emu log\nemu log usb -n 5 --short\nemu log -- docs/report.odt\nemu log --all --short -- docs/report.odt", False, True)
P["emu-show"] = ("show a snapshot, a directory listing, or a file", r"\fBemu show\fR [\fISINK\fB:\fR]\fISNAPSHOT\fR[\fB:\fR\fIPATH\fR] [\fB\-\-json\fR]",
r"""\fIREF\fR alone prints the snapshot's record (its INI node). \fIREF\fB:\fIPATH\fR prints the listing of a directory, the target
of a symlink, or the bytes of a regular file on stdout. \fIREF\fB:\fR alone lists the snapshot's root. PATH is bytes: a name that
is not UTF-8 is found by name. With \fB\-\-json\fR, REF prints the snapshot object, REF:PATH the entry (and a directory's entries).""",
"", "emu show HEAD\nemu show usb:HEAD~3:etc/fstab > fstab.old\nemu show @2026-11-01:docs", False, True)
P["emu-diff"] = ("show what changed", r"\fBemu diff\fR [\fIREF\fR [\fIREF\fR]] [\fB\-\-stat\fR] [\fB\-\-name\-status\fR] [\fB\-\-exit\-code\fR] [\fB\-q\fR] [\fB\-\-json\fR] [\fB\-\-\fR \fIPATH\fR...]",
r"""Without a reference: the source against the default sink's HEAD. With one: the source against it. With two: the first to the
second. One line a path, sorted by path: \fBA\fR added, \fBD\fR deleted, \fBM\fR content changed, \fBT\fR type changed, \fBP\fR
metadata only (mode, owner, group, mtime, xattrs, ACLs; not a directory's mtime), \fBR\fR \fIold new\fR the same content at another
path. Each added file is paired with the first deleted file of the same content, in path order, not taken yet; empty files are
never paired (they all have the same content), as in \fBgit\fR(1). Unprintable paths are quoted and escaped as \fBgit\fR(1) does. Between two snapshots only their manifests are read, as streams;
their trees are not. Against the source, a file is read only when its size is unchanged but its mtime or ctime moved.
Memory does not grow with the number of files or of changes: when there are many added and deleted files, their hashes and paths
wait in a scratch file with no name in \fB$TMPDIR\fR (else \fB/tmp\fR).""",
r""".TP
.B \-\-stat
Counts of each kind of change, the bytes added (new content the sink had to store: not renames, nor copies of content the old side
held with the same metadata) and the bytes removed.
.TP
.B \-\-name\-status
One line a path (the default).
.TP
.B \-\-exit\-code
Exit with status 1 when there are differences, 0 when there are none, as \fBgit diff \-\-exit\-code\fR.
.TP
.BR \-q ", " \-\-quiet
Print nothing; exit with status 1 when there are differences (\fBgit diff \-\-quiet\fR).
""", "emu diff\nemu diff HEAD~1 HEAD --stat\nemu diff usb:@2026-11-01 -- docs", False, True)
P["emu-status"] = ("sinks, newest snapshots, and what changed since", r"\fBemu status\fR [\fB\-\-check\fR] [\fB\-\-json\fR]",
r"""For each sink: online or offline, its newest snapshot and its age, whether it holds the newest snapshot of this source or how
far behind the sink that does it is (for an offline sink, from the last push this source made to it, kept in
\fBSOURCE/.emu/pushed/\fISINK\fR), and how many paths of the source were added, deleted, changed or renamed since (a summary of
\fBemu diff\fR). It takes no lock: it works while a push runs and on a read-only sink.
.PP
A sink has a problem when it is offline, holds no snapshot, its newest complete snapshot is older than \fBstatus.max\-age\fR
(\fBemu config status.max\-age 3d\fR; 2 days by default), the last \fBemu verify\fR found damage in one of its snapshots, or its last
push failed or was interrupted (a signal, a cut connection: the next push resumes it); no sink online is a problem too. Problems are warnings; with \fB\-\-check\fR each is one line on stderr and the exit
status is 1, for monitoring (0 when there is none).""",
r""".TP
.B \-\-check
Exit with status 1, one line a problem on stderr, when any sink has a problem.
""", "emu status\nemu status --check || notify-send 'backup needs attention'", False, True)
P["emu-verify"] = ("re-read snapshots and report every mismatch", r"""\fBemu verify\fR [\fIREF\fR|\fISINK\fR...] [\fB\-\-sample\fR \fIPCT\fR] [\fB\-\-json\fR]
.br
\fBemu verify \-\-redundancy\fR \fIN\fR [\fB\-\-json\fR]""",
r"""Reads every file of the named snapshots (every snapshot of every online sink by default) and compares its SHA-256 with the
manifest; checks every entry's type, size, mode, owner (when root made the snapshot), mtime, xattrs and ACLs, symlink target and
hardlinks; names missing and extra files. A file shared by many snapshots is read once per run. When whole sinks are verified, their
content index is checked too: every entry holds the content its name says. Entries no snapshot holds are counted, not damage: an
interrupted command leaves them, and the next push or \fBemu clean\fR removes them. A snapshot whose tree is gone is damaged. Verify
works on a sink mounted read-only (it then records no result). A \fBHEAD\fR that does not name the newest snapshot is damage too. The result is recorded in each
snapshot's record (\fB[Tree] Status\fR, \fBLast\-Verified\fR, as emu 0.2.5 kept them) and shown by \fBemu log\fR; a user who may
only read the sink (or a read-only mount) verifies it all the same, and is told the results are not kept. Exit status 4 when
anything is damaged. A snapshot without a manifest (made by emu 0.2.5) is skipped with a note; \fBemu clean \-\-repair\fR builds one.
.PP
With \fB\-\-redundancy\fR \fIN\fR nothing is re-read: each file of the newest snapshot on any online sink is counted on every sink
whose newest snapshot holds the same content at its path, and the files fewer than N sinks hold are listed, one a line:
\fICOPIES\fR, \fIPATH\fR, the sinks that hold it; the exit status is then 1. Offline sinks count for nothing and are named.""",
r""".TP
.BR \-\-sample " \fIPCT\fR"
Read only about PCT percent of the files, chosen at random; metadata is checked for all.
.TP
.B \-\-progress
Show the progress line even when stderr is not a terminal.
.TP
.BR \-\-redundancy " \fIN\fR"
List the files of the newest state that fewer than N sinks hold, instead of re-reading.
""", "emu verify\nemu verify usb:HEAD --sample 10\nemu verify --redundancy 2", False, True)
P["emu-checkout"] = ("restore the source, some paths, or a directory from a snapshot", r"\fBemu checkout\fR \fIREF\fR [\fB\-\-\fR \fIPATH\fR...] [\fB\-\-to\fR \fIDIR\fR [\fB\-\-delete\fR]] [\fB\-n\fR] [\fB\-f\fR] [\fB\-\-json\fR]",
r"""Makes the source (or only the named \fIPATH\fRs) equal to the snapshot: its files are written, files it does not
hold are removed; the source's \fB.emu/\fR, its excluded paths and a sink inside it are left alone. Into \fB\-\-to\fR \fIDIR\fR, files
of DIR that the snapshot does not hold stay unless \fB\-\-delete\fR asks to mirror. An entry whose content is right but whose mode,
owner, mtime, xattrs or ACLs differ is mended in place (attributes the snapshot lacks are removed), without rewriting its bytes.
The result line goes to stdout. Each file is written under a
temporary name and put in place whole, so an interrupted checkout leaves whole files only. Into an empty (or missing) \fIDIR\fR the
whole tree is built in a staging directory there, \fB.emu\-checkout.\fIPID\fR, renamed \fB.emu\-checkout.whole.\fIID\fR when
complete, and moved into place: a checkout interrupted before that leaves only the staging directory, which the next checkout into
\fIDIR\fR removes (a \fIDIR\fR holding nothing else counts as empty); one interrupted while moving is finished by the next checkout
of the same snapshot (another snapshot is refused, saying how to finish it, unless \fB\-\-force\fR). A checkout over files is synced
to disk (\fBsyncfs\fR) before it returns; a restore into an empty \fIDIR\fR is not, as \fBcp \-a\fR is not: it replaced nothing and
its snapshot stays on the sink (run \fBsync\fR before removing that disk).
.PP
Checkout never destroys data that no snapshot holds: when a file it would overwrite or remove differs from the sink's newest snapshot,
it refuses, names the files (up to 20, then a count), changes nothing and exits 1 (\fB\-n\fR exits as the real run would). A
file whose content another snapshot holds, at any path, is not lost: it is named with the snapshot and path that hold it, and when
every such file is held the checkout goes on and says so. Nothing read from a sink can make it write outside
its target: paths with \fB..\fR, absolute paths and symlinked parents are refused. Hooks in \fBSOURCE/.emu/hooks/checkout/\fR run as
for push.""",
r""".TP
.BR \-\-to " \fIDIR\fR"
Restore into DIR, which must be missing or empty unless \fB\-\-force\fR; the refusal names what \fB\-\-force\fR would overwrite and
what \fB\-\-delete\fR would remove.
.TP
.B \-\-delete
With \fB\-\-to\fR: also remove the files of DIR that the snapshot does not hold.
.TP
.BR \-f ", " \-\-force
Overwrite or remove files that no snapshot holds; allow a non-empty \fB\-\-to\fR DIR.
.TP
.B \-\-progress
Show the progress line even when stderr is not a terminal.
""", "emu checkout HEAD~1\nemu checkout usb:@2026-11-01 -- docs/report.odt\nemu checkout HEAD --to /tmp/restore", True, True)
P["emu-prune"] = ("delete snapshots, or apply a retention policy", r"""\fBemu prune\fR \fIREF\fR... [\fB\-n\fR]
.br
\fBemu prune\fR \fISINK\fR [\fB\-\-keep\-last\fR \fIN\fR] [\fB\-\-keep\-hourly\fR \fIN\fR] [\fB\-\-keep\-daily\fR \fIN\fR] [\fB\-\-keep\-weekly\fR \fIN\fR] [\fB\-\-keep\-monthly\fR \fIN\fR] [\fB\-\-keep\-yearly\fR \fIN\fR] [\fB\-\-keep\-within\fR \fIDUR\fR] [\fB\-\-min\-free\fR \fIPCT\fR] [\fB\-n\fR] [\fB\-v\fR]""",
r"""With references, deletes those snapshots. With a sink name alone, applies a retention policy once: the flags given, else the
sink's configured one (\fB[Retention]\fR in \fBSINK/.emu/config\fR, set with \fBemu config \-\-sink\fR). The same policy is applied
after every push.
.PP
A policy keeps the newest \fIN\fR (\fBkeep\-last\fR); the newest snapshot of each of the \fIN\fR most recent hours, days, ISO weeks,
months and years that have one (calendar buckets in local time, the year included; \fBall\fR for every bucket); everything within
\fIDUR\fR of the newest snapshot (\fB36h\fR, \fB7d\fR, \fB2w\fR, \fB6mo\fR, \fB1y\fR); and then removes the oldest while the sink's
filesystem has less than \fIPCT\fR percent free, but only when removing can reach that (not when other data fills the disk: a
warning says so), and never below \fBretention.min\-keep\fR snapshots (3 unless set). The newest snapshot is always kept. The rules
measure from the newest snapshot that is not dated in the future (after this machine's clock plus 5 minutes), never from now, so
backups that stopped for a month keep their history; a snapshot dated in the future is kept and counts for no rule, so a forged or
mistyped date expires nothing. emu 0.2.5's \fB[Snapshots] max\-number\fR still
works: alone it keeps the newest N, with other rules it caps them. A sink that sets nothing gets emu 0.3's rotation: everything within
24 hours, the newest of each of 31 days, the newest of every week before that, min-free 5%; \fBretention.keep\-all = yes\fR turns
rotation off. With \fB\-n \-v\fR, each snapshot is listed with the rules that keep it, or none.
.PP
Each snapshot disappears at once: its record is renamed away first, then its tree is deleted; a deletion cut short is finished by the
next command that locks the sink. Files shared with other snapshots stay with them. Deleting HEAD moves HEAD to the newest snapshot
that remains.""",
"", "emu prune TAIL\nemu prune usb --keep-daily 7 --keep-weekly 8 -n -v\nemu config --sink usb retention.keep-monthly 12", True, True)
P["emu-squash"] = ("keep only the named snapshots", r"\fBemu squash\fR \fIREF\fR... [\fB\-n\fR]",
r"""Keeps exactly the named snapshots of each sink they name and deletes every other, as emu 0.2.5 did.""",
"", "emu squash HEAD TAIL", True, True)
P["emu-clean"] = ("remove leftovers; rebuild metadata", r"\fBemu clean\fR [\fISINK\fR...] [\fB\-\-repair\fR] [\fB\-n\fR]",
r"""Removes what interrupted commands left in a sink (staging and resume areas, half-deleted snapshots, emu 0.2.5 \fBLOCK\fR files),
records whose tree is gone, trees and manifests without a record, content index entries no snapshot holds, manifest chunks no
manifest lists, and stale date links; sets
HEAD and Latest right. With \fB\-\-repair\fR it also rebuilds, from the trees, manifests that are missing or damaged (every file hashed
again), the records of trees that have none or whose record is damaged (dated by the tree's date link, counts from the manifest;
a tree is never dropped by repair), and the content index; each rebuilt file is named. Without arguments: every online sink.""",
r""".TP
.B \-\-repair
Rebuild missing or damaged manifests and records from the trees.
""", "emu clean -n\nemu clean usb --repair", True, True)
P["emu-config"] = ("read or set a setting", r"\fBemu config\fR [\fB\-\-sink\fR \fINAME\fR] [\fB\-l\fR|\fB\-\-list\fR] [\fB\-\-unset\fR] [\fIKEY\fR [\fIVALUE\fR]] [\fB\-n\fR] [\fB\-\-json\fR]",
r"""As \fBgit config\fR: without KEY (or with \fB\-l\fR) lists every effective setting as \fIsection.key\fB=\fIvalue\fR with where
it comes from (\fBsource\fR, \fBsink\fR \fINAME\fR, or \fBdefault\fR); with KEY prints its value (status 1 when
unset); with KEY VALUE sets it; \fB\-\-unset\fR removes it. An unknown key, a key of the other scope, and a value of the wrong type
are refused with status 2 and the valid keys; \fBemu.default\-sink\fR must name a registered sink (a default that names none is an
error for every command, never a reason to use another sink). Setting any retention key replaces the whole default rotation: emu
prints the policy that results and warns how many existing snapshots it would expire that the policy before kept. Without \fB\-\-sink\fR the source's \fB.emu/config\fR: \fBemu.default\-sink\fR,
\fBstatus.max\-age\fR, and for each remote sink how it is reached, \fBsink.\fINAME\fB.ssh\-command\fR (split into words as a shell does, so \fB\-o 'ProxyCommand=nc %h %p'\fR is one option; default
\fBssh \-o BatchMode=yes\fR), \fBsink.\fINAME\fB.remote\-emu\fR (default \fBemu\fR), \fBsink.\fINAME\fB.connect\-timeout\fR
(seconds to wait for the server's hello, default 30) and \fBsink.\fINAME\fB.read\-only\fR (learned from the server on contact; a
plain \fBemu push\fR skips such a sink). With \fB\-\-sink\fR \fINAME\fR that sink's \fB.emu/config\fR: \fBretention.keep\-last\fR,
\fBretention.keep\-hourly\fR, \fBretention.keep\-daily\fR, \fBretention.keep\-weekly\fR, \fBretention.keep\-monthly\fR,
\fBretention.keep\-yearly\fR, \fBretention.keep\-within\fR, \fBretention.min\-free\fR, \fBretention.min\-keep\fR, \fBretention.keep\-all\fR,
\fBsnapshots.max\-number\fR. A remote sink's settings are read and set on its server, which checks each key; setting them needs a
key without \fB\-\-append\-only\fR (retention decides what is deleted).""",
r""".TP
.BR \-\-sink " \fINAME\fR"
Read or set the settings of sink NAME.
.TP
.B \-\-unset
Remove KEY.
.TP
.BR \-l ", " \-\-list
List every effective setting and where it comes from.
""", "emu config --sink usb retention.keep-daily 14\nemu config emu.default-sink\nemu config --sink usb --list", True, True)
P["emu-serve"] = ("serve a sink to emu on another machine, over ssh", r"""\fBemu serve\fR \fB\-\-sink\fR \fIPATH\fR|\fB\-\-root\fR \fIDIR\fR [\fB\-\-client\fR \fINAME\fR] [\fB\-\-append\-only\fR|\fB\-\-read\-only\fR] [\fB\-\-idle\-timeout\fR \fISECONDS\fR]
.br
\fBemu serve\fR \fB\-\-root\fR \fIDIR\fR \fB\-\-report\fR""",
r"""Not run by hand: emu on a client starts it through ssh for a sink added as an ssh address, and speaks emu's framed protocol with it
on the channel's stdin and stdout. Both sides check the protocol's version first; a server whose emu speaks another version answers
with an error naming both, and garbage, truncated or oversized frames are refused without reading them whole.
\fB\-\-sink\fR \fIPATH\fR serves that sink only; \fB\-\-root\fR \fIDIR\fR serves the sinks below DIR, and with \fB\-\-client\fR
\fINAME\fR only those at \fIDIR\fB/\fINAME\fR and below. The sinks \fB\-\-root\fR serves on DIR's filesystem share one content
index, \fIDIR\fB/.emu\-shared/index\fR (each names it in its \fB.emu/shared\-index\fR): a file that many machines hold is stored
once, and freed when no snapshot of any of them holds it.
.PP
A push names the records it compared the source with by their digest; when they are not the server's (a client's cached copy of a
manifest that \fBemu clean \-\-repair\fR has rebuilt since) the server says so and the client reads them anew. Unchanged files
cross as runs of their places in those records; the server links them on a second thread while it reads what follows.
.SS "Security model"
Every byte a client sends is checked before it is used: paths, dates, hashes, counts and lengths. What a key may do is set by the
forced command in the server's \fBauthorized_keys\fR, one line a machine:
.PP
.nf
command="emu serve \-\-root /srv/emu \-\-client laptop \-\-append\-only",no\-pty,no\-port\-forwarding ssh\-ed25519 AAAA... laptop
command="emu serve \-\-root /srv/emu \-\-client desktop \-\-append\-only",no\-pty,no\-port\-forwarding ssh\-ed25519 AAAA... desktop
command="emu serve \-\-root /srv/emu",no\-pty ssh\-ed25519 AAAA... admin
.fi
.TP
.B What a key reaches
\fB\-\-sink\fR \fIPATH\fR: that sink. \fB\-\-root\fR \fIDIR\fR \fB\-\-client\fR \fINAME\fR: the sinks at \fIDIR\fB/\fINAME\fR and
below, no other client's. \fB\-\-root\fR without \fB\-\-client\fR: every sink below DIR (an administrator's key). Never a path
outside that area, through symlinks or \fB..\fR; never a sink that is not a plain path of its own (a name starting with \fB.\fR: a
\fB.emu\fR directory, a snapshot tree, the shared index; a path inside another sink, such as a fake sink a client pushed as data),
refused before anything is opened or made. An error names paths as the client gave them, never where the server's symlinks lead.
.TP
.B A full key
(no mode flag) reads, pushes, and deletes: prune, squash, clean and the retention a push applies.
.TP
.B An append-only key
(\fB\-\-append\-only\fR) reads and adds snapshots, and deletes nothing: no prune, squash or clean, no retention (run \fBemu
prune /srv/emu/laptop\fR on the server, from its cron or timer: where there is no source, \fBlog\fR, \fBshow\fR, \fBverify\fR,
\fBprune\fR, \fBsquash\fR and \fBclean\fR take a sink's path, or \fIPATH\fB:\fIREF\fR), and what a command cut short left to delete waits for a key that may.
Its snapshot is dated by the server's clock (a date after it is refused), never older than the sink's newest complete snapshot, so
the server's own retention, which counts from the newest snapshot not in the future, keeps the history it cannot erase. A linked
file's record (its hash) is the sink's own, never the client's, so no key can plant content under another file's hash in the
shared index.
.TP
.B A read-only key
(\fB\-\-read\-only\fR) reads, and writes nothing at all: no lock file, no cached size, no verify result in a record, no directory.
A client learns it on contact, and a plain \fBemu push\fR skips such a sink and says so.
.TP
.B What sharing a root reveals
A client that knows a file's SHA-256 and metadata can link it into its own snapshot, so it can learn whether another client holds
that file. Share a root only between machines that may learn that; a \fB\-\-sink\fR \fIPATH\fR key (an index of its own) reveals
nothing. A sink's \fB.emu/shared\-index\fR may name no index but its root's.
.TP
.B One source a sink
A sink belongs to the source that first pushed to it (\fB.emu/owner\fR names its identity); another source's push is refused, and
\fBemu sink add \-\-adopt\fR takes a sink over on purpose (see \fBemu\-sink\fR(1)).
.TP
.B Sessions
Each request that changes a sink needs the exclusive lock the client takes first, so two clients' changes never mix. A malformed
or out-of-range request or push entry (a date that is no date, entries out of path order, a run of unchanged files past the
records' end) is answered with an error and the session ends when the client hangs up. A session keeps at most
256 MiB of records of files with several names, and one whose client sends nothing for \fB\-\-idle\-timeout\fR seconds (600)
ends and releases its lock. The hello tells the client the timeout, and a push says what it holds at least four times in it,
however long a walk of unchanged files runs.
.TP
.B Modes and mounts
A sink emu makes, every directory it makes on the way and its \fB.emu\fR are mode 0700, as the shared index is: a client may push
device nodes, setuid files and capabilities, which no local user of the server may reach through a sink. Make the root mode 0700
yourself (\fBchmod 700 /srv/emu\fR, and the same for sinks made by an older emu), and mount the filesystem that holds it
\fBnosuid,nodev\fR.
""",
r""".TP
.BR \-\-sink " \fIPATH\fR"
Serve the sink at PATH only.
.TP
.BR \-\-root " \fIDIR\fR"
Serve any sink below DIR.
.TP
.BR \-\-client " \fINAME\fR"
With \fB\-\-root\fR: reach only the sinks at \fIDIR\fB/\fINAME\fR and below; the content index stays shared across DIR. NAME is one plain
name (no \fB/\fR, not starting with \fB.\fR).
.TP
.B \-\-append\-only
Refuse what deletes snapshots.
.TP
.B \-\-read\-only
Refuse what writes.
.TP
.BR \-\-idle\-timeout " \fISECONDS\fR"
End a session whose client sends nothing for SECONDS (default 600; 0: never), releasing its lock.
The server's hello says SECONDS; an emu client then sends a keep-alive whenever it has been quiet for a quarter of
them, so a client that works for long between requests (a huge directory read and sorted) keeps its session, and a
client that hangs or vanishes loses it.
.TP
.B \-\-report
With \fB\-\-root\fR: print a line for each client's sink under DIR (its name, how many snapshots, the newest one's date and
age, and the bytes only its snapshots hold: what removing that client would free), then exit. It reads every tree of every
sink and sorts their links with \fBsort\fR(1), so its memory stays flat.
.TP
.B \-\-json
With \fB\-\-report\fR: one JSON document (see \fBemu\fR(1), JSON OUTPUT).
""", "emu sink add nas ssh://backup@nas.local/srv/emu/laptop\nemu sink add nas backup@nas.local:/srv/emu/laptop --remote-emu /opt/emu/bin/emu\nemu serve --root /srv/emu --report", False, False)
add_everyday_pages(P)
add_history_pages(P)
names = sorted(P)
see = ", ".join(r"\fB%s\fR(1)" % n for n in ["emu"] + names)
# emu serve reads no source and says nothing on a terminal: it takes none of the common options.
takes_no_common = {"emu-serve"}
for name, (summary, synopsis, description, options, examples, changes, reports) in P.items():
    opts = options + (change if changes else "") + (json if reports else "") + ("" if name in takes_no_common else common)
    text = f""".TH {name.upper()} 1 "{DATE}" "emu {VERSION}" "emu manual"
.SH NAME
{name} \\- {summary}
.SH SYNOPSIS
{synopsis}
.SH DESCRIPTION
{description}
"""
    if name in ("emu-log","emu-show","emu-checkout","emu-prune","emu-diff","emu-verify","emu-squash"):
        text += ".PP\n" + refs + "\n"
    text += ".SH OPTIONS\n" + opts + exit_status + ".SH EXAMPLES\n.nf\n" + examples + "\n.fi\n.SH SEE ALSO\n" + see + "\n"
    open(name + ".1", "w").write(text)
cmds = "".join(f".TP\n.BR {n.replace('-', chr(92)+'-')} (1)\n{P[n][0]}\n" for n in names)
emu = f""".TH EMU 1 "{DATE}" "emu {VERSION}" "emu manual"
.SH NAME
emu \\- rotating, browsable, hardlinked snapshots of a directory
.SH SYNOPSIS
\\fBemu\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]
.br
\\fBemu help\\fR \\fICOMMAND\\fR
.br
\\fBemu \\-\\-version\\fR
.SH DESCRIPTION
emu keeps full snapshots of a directory (the \\fIsource\\fR) in one or more \\fIsinks\\fR. Each snapshot is a plain directory tree
that \\fBls\\fR(1) and a file manager can browse; a file that did not change is a hardlink to the copy the sink already holds.
Options follow the command, as in \\fBemu push \\-S\\fR \\fIDIR\\fR. Sinks made by emu 0.2.5 can be read and pushed to.
.SH COMMANDS
{cmds}.SH FILES
.TP
.B SOURCE/.emu/config
the source's settings (INI): \\fBdefault\\-sink\\fR, \\fBstatus.max\\-age\\fR
.TP
.B SOURCE/.emu/excludes
what never goes into a snapshot: one rule a line; \\fB#\\fR comments; \\fB\\- \\fIPATTERN\\fR excludes, \\fB+ \\fIPATTERN\\fR re-includes,
a bare line excludes; the first match wins. Globs: \\fB*\\fR, \\fB?\\fR, \\fB[...]\\fR, \\fB**\\fR across directories; a leading
\\fB/\\fR anchors to the source root; a trailing \\fB/\\fR matches directories only.
.TP
.B SOURCE/.emu/sinks/NAME
a sink's absolute path
.TP
.B SOURCE/.emu/failed/SINK, SOURCE/.emu/failures/SINK, SOURCE/.emu/pushed/SINK
the last push's failure (until a push succeeds), the last 100 failures, and the newest snapshot pushed to each sink
.TP
.B PREFIX/lib/systemd/system/emu\\-push@.service, emu\\-push@.timer, and the same in PREFIX/lib/systemd/user/
the units \\fBemu schedule\\fR enables, hourly pushes of the source their instance names
.TP
.B SOURCE/.emu/hooks/push/, SOURCE/.emu/hooks/checkout/
executables named \\fB*.pre\\fR, \\fB*.post\\fR, \\fB*.error\\fR
.TP
.B SINK/.emu/
\\fBconfig\\fR (retention), \\fBHEAD\\fR, \\fBnodes/\\fIID\\fR (records), \\fBtrees/\\fIID\\fR (snapshots), \\fBmanifests/\\fIID\\fR
(one line per entry: type, mode, owner, size, times, SHA-256, attributes digest, path; kept as a list of
\\fBchunks/\\fIXX\\fB/\\fIsha256\\fR, zstd\\-compressed pieces of that text each stored once, so a snapshot that changed nothing adds a
few bytes of manifest)
.TP
.B SINK/YYYY\\-MM\\-DD HH.MM.SSZ, SINK/Latest
symlinks to each snapshot's tree and to the newest one; named in UTC, so that they sort in history order in any zone and across
daylight saving time (\\fBemu log\\fR shows local time); names without the Z, in local time, are older emu's and keep working
.TP
.B ~/.cache/emu/
for each sink reached over ssh, a copy of its newest snapshot's records, so that a push compares the source without the server
sending them; used only while its digest still makes the snapshot's ID and the server finds it equal to its own. Safe to delete.
.SH ENVIRONMENT
.TP
.B EMU_TEMPLATE_DIR
where \\fBemu init\\fR finds its templates
.TP
.B NO_COLOR
no colour with \\fB\\-\\-color auto\\fR when set and not empty
.TP
.B TERM
\\fBdumb\\fR: no colour, no pager, no progress line
.TP
.B PAGER, LESS
the pager of \\fBemu log\\fR on a terminal (default \\fBless\\fR with \\fBLESS=FRX\\fR)
.TP
.B XDG_CACHE_HOME
where the records cache lives instead of \\fB~/.cache\\fR
.TP
.B TMPDIR
where \\fBemu diff\\fR and \\fBemu status\\fR keep scratch data when a diff has many added and deleted files (default \\fB/tmp\\fR)
.SH NAMES ARE BYTES
Names in a snapshot are bytes, not necessarily UTF-8, and so are paths, references and patterns given as arguments: a file named
\\fBcaf\\e351\\fR (Latin-1) is restored, shown, diffed and logged by that name. Names that are not printable UTF-8 are quoted and
escaped in messages as \\fBgit\\fR(1) does (\\fB"caf\\e\\e351"\\fR).
{json_section}{exit_status}.SH SEE ALSO
{see}, \\fBrsync\\fR(1), \\fBrsnapshot\\fR(1)
"""
open("emu.1","w").write(emu)
