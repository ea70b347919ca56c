"""The parts of emu's man pages that many pages share (common options, the
exit-status table, references) and emu(1)'s JSON OUTPUT section; used by
scripts/manpages.py."""

exit_status = r""".SH EXIT STATUS
.TP
.B 0
success
.TP
.B 1
the operation failed (nothing was changed, or the change was rolled back)
.TP
.B 2
bad usage: unknown command, option, sink or snapshot, malformed reference
.TP
.B 3
done, but some files were skipped (the snapshot is recorded as incomplete)
.TP
.B 4
verify found damage
.TP
.B 5
the sink or source is locked by another running emu
"""
common = r""".TP
.BR \-S ", " \-\-source\-dir " \fIDIR\fR"
The source directory (default: the nearest directory at or above the working directory that holds \fB.emu/\fR).
.TP
.BR \-v ", " \-\-verbose
Say more.
.TP
.BR \-q ", " \-\-quiet
Say only what went wrong.
.TP
.BR \-\-color " \fIauto\fR|\fIalways\fR|\fInever\fR"
Colour the output (auto: when writing to a terminal, \fBNO_COLOR\fR is unset or empty, and \fBTERM\fR is not \fBdumb\fR).
.TP
.BR \-h ", " \-\-help
Show help.
"""
change = r""".TP
.BR \-n ", " \-d ", " \-\-dry\-run
Change nothing; print what would be done.
.TP
.BR \-\-lock\-wait " \fISECONDS\fR"
Wait this long for another emu's lock instead of failing with status 5.
"""
json = r""".TP
.B \-\-json
Print one JSON document on stdout (JSON Lines for \fBemu diff\fR), with the keys \fBemu\fR(1) documents under JSON OUTPUT.
"""
refs = r"""A snapshot reference is [\fISINK\fB:\fR]\fISNAPSHOT\fR, where \fISNAPSHOT\fR is \fBHEAD\fR, \fBHEAD~\fIN\fR, \fBHEAD^\fR, \fBTAIL\fR,
an ID prefix of at least 4 hex digits (IDs are shown by their first 12: the second's 8 and 4 of the digest, so the snapshots of one
push to two sinks show apart), a date name (\fI2026\-11\-21 08.15.00Z\fR), or \fB@\fIDATE\fR (the newest snapshot at or before
DATE; a bare day means its end; \fB@yesterday\fR and \fB@"2 days ago"\fR work as in git). Without \fISINK\fB:\fR the default sink is meant; a sink name alone means its HEAD, or all its
snapshots where a command takes many."""
json_section = r""".SH JSON OUTPUT
With \fB\-\-json\fR every command that reports prints one JSON document on stdout; \fBemu diff\fR prints JSON Lines, one object per
change. Keys are snake_case and sorted; a key whose value is unknown or does not apply is left out. Dates are ISO 8601 with the
offset (\fB2026\-11\-27T14:10:19+01:00\fR), sizes are bytes, ids are the full 40 hex digits. A name is given as itself in
\fBpath\fR (bytes that are not UTF-8 shown as U+FFFD) and, only when it is not UTF-8, its bytes in base64 in \fBpath_bytes\fR
(likewise \fBold_path_bytes\fR, \fBtarget_bytes\fR).
.TP
.B snapshot object
\fBsink\fR, \fBid\fR, \fBshort_id\fR, \fBname\fR (the date name), \fBdate\fR, \fBparent\fR, \fBstatus\fR (complete,
incomplete), \fBmessage\fR (left out when the push gave none), \fBfiles\fR, \fBdirectories\fR, \fBbytes\fR, \fBfiles_copied\fR, \fBfiles_linked\fR,
\fBbytes_copied\fR, \fBskipped\fR, \fBunique_bytes\fR, \fBhead\fR, \fBverified\fR (clean, damaged).
.TP
.B emu log, emu prune, emu squash
\fB{"snapshots": [\fIsnapshot\fB...]}\fR: listed, removed, or (with \fB"dry_run": true\fR) to be removed. With \fB\-\-\fR \fIPATH\fR
each snapshot object of \fBemu log\fR has \fB"changes": [{"change", "path", "old_path", "version", "last_in"}]\fR: \fBchange\fR is added,
deleted, modified, type_changed, metadata or renamed (from \fBold_path\fR), \fBversion\fR the path as that snapshot holds it
\fB{"path", "type", "size", "modified"}\fR, \fBlast_in\fR for a deletion the ID of the snapshot that holds the last version; with
\fB\-\-all\fR a snapshot that changed nothing there has \fB"unchanged"\fR: the version it holds (left out when it holds none).
.TP
.B emu show REF, emu show REF:PATH
the snapshot object; \fB{"snapshot", "entry", "entries"}\fR where an entry has \fBpath\fR, \fBtype\fR, \fBmode\fR (a number),
\fBuid\fR, \fBgid\fR, \fBsize\fR, \fBmtime\fR, \fBtarget\fR.
.TP
.B emu import
\fB{"sink", "dry_run", "backups": [{"path", "snapshot": \fIsnapshot\fB, "already_imported", "files", "files_linked",
"files_copied", "bytes_copied"}]}\fR.
.TP
.B emu schedule status
\fB{"timer", "systemd", "enabled", "active", "next", "last", "sinks": [{"sink", "last_push_failed"}]}\fR.
.TP
.B emu serve \-\-root DIR \-\-report
\fB{"root", "clients": [{"client", "snapshots", "newest": \fIsnapshot\fB, "bytes_only_here"}]}\fR.
.TP
.B emu sink
\fB{"sinks": [{"sink", "path", "online", "default", "snapshots", "newest": \fIsnapshot\fB, "free_bytes", "total_bytes",
"behind_seconds", "lacks"}]}\fR; \fBbehind_seconds\fR: how much older the sink's newest snapshot of this source is than the newest on any sink
(0 for that one; an offline sink's from the last push this source made to it); \fBlacks\fR, for an online sink: each other online
sink that holds snapshots this one lacks, and how many (\fB{"usb1": 12}\fR: \fBemu replicate usb1\fR \fITHIS\fR copies them).
.TP
.B emu status
\fB{"ok", "sinks": [{"sink", "path", "online", "snapshots", "newest": \fIsnapshot\fB, "age_seconds", "changes", "state",
"reason", "damaged", "behind_seconds", "holds_newest", "last_pushed", "lacks"}]}\fR; \fBdamaged\fR: the newest snapshot \fBemu verify\fR found damaged; \fBstate\fR is ok, offline, empty, stale, damaged or failed;
\fBchanges\fR as \fBemu diff \-\-stat\fR; \fBlast_pushed\fR, for an offline sink, the date of the newest snapshot this source
pushed to it; \fBlacks\fR as in \fBemu sink\fR.
.TP
.B emu replicate
\fB{"from", "to", "dry_run", "snapshots": [{"snapshot": \fIsnapshot\fB, "files", "files_unchanged", "files_sent", "bytes_sent"}],
"already_held", "same_second": [\fIsnapshot\fB...], "left_to_policy": [\fIsnapshot\fB...], "expired": [\fIsnapshot\fB...],
"files_to_send", "bytes_to_send"}\fR: the snapshots copied (or, with \fB"dry_run": true\fR, to be copied, with at most
\fBfiles_to_send\fR files and \fBbytes_to_send\fR bytes to read and send), those TO held, those left out.
.TP
.B emu push
\fB{"pushes": [{"sink", "online", "dry_run", "snapshot": \fIsnapshot\fB, "files", "directories", "bytes", "files_copied",
"files_linked", "bytes_copied", "skipped", "expired": [\fIsnapshot\fB...], "unchanged_since": \fIsnapshot\fB, "error"}]}\fR;
\fBunchanged_since\fR: with \fB\-\-skip\-if\-unchanged\fR, the newest snapshot, when the push found nothing changed and made none.
.TP
.B emu diff
one line a change: \fB{"status", "path", "old_path", "size"}\fR; with \fB\-\-stat\fR one document: \fB{"added", "deleted",
"modified", "type_changed", "metadata", "renamed", "bytes_added", "bytes_removed"}\fR.
.TP
.B emu verify
\fB{"clean", "files_read", "bytes_read", "snapshots": [{"snapshot", "damage": [{"kind", "path", "detail"}], "not_verified"}],
"indexes": [{"sink", "problems", "unheld", "damage"}]}\fR, printed when clean too. With \fB\-\-redundancy\fR \fIN\fR, JSON
Lines: one \fB{"path", "size", "copies", "sinks"}\fR a file on fewer than N sinks, then always a last line
\fB{"required", "files_checked", "files_short"}\fR.
.TP
.B emu find
JSON Lines, one object a match: \fB{"sink", "snapshot"\fR (its id)\fB, "name", "date", "path", "type", "size", "modified"}\fR;
\fBtype\fR is file, directory, link, pipe, character\-device or block\-device, as in \fBemu show\fR.
.TP
.B emu checkout
\fB{"snapshot", "target", "dry_run", "files_written", "bytes_written", "metadata_mended", "removed"}\fR.
.TP
.B emu clean
\fB{"sinks": [{"sink", "online", "dry_run", "actions": [...]}]}\fR.
.TP
.B emu config
\fB{"settings": [{"key", "value", "origin", "sink"}]}\fR; one such entry for KEY; \fB{"change", "dry_run", "sink", "policy",
"would_expire"}\fR after a change.
"""
