import EmuPOSIX
import EmuCore
import EmuRecords

extension PushReceiver {
    /// `links FIRST COUNT`: the client found COUNT files unchanged whose
    /// records follow one another in the newest snapshot's manifest from
    /// ordinal FIRST (both sides read that manifest, which names them). The
    /// records come from the server's copy, so an unchanged file costs the
    /// wire a few bytes a run rather than its record.
    package func linkUnchanged(first: Int, count: Int) throws {
        guard var records = try openEarlierRecords(), first >= records.taken else {
            throw EmuError.failed("the client linked files the newest snapshot does not list in that order", fix: "push again")
        }
        defer { earlierRecords = records }
        // A run that starts past the records' end is refused when they end: skipping to it never spins.
        while records.taken < first {
            guard try records.take() != nil else {
                throw EmuError.failed("the client linked unchanged files past the end of the newest snapshot's records", fix: "push again")
            }
        }
        for _ in 0..<count {
            guard var record = try records.take(), record.kind == .regular, !record.path.isRoot else {
                throw EmuError.failed("the client linked an entry of the newest snapshot that is not a file", fix: "push again")
            }
            record.hardlinkLeader = nil  // a name of its own here: the source's other names came as `hardlink`
            try admit(record.path)
            try staging.linkEarlier(record, in: try staging.directory(for: record.path), from: nil, isResume: false, leads: false)
        }
    }

    /// The newest snapshot's record of an unchanged file the client links
    /// by path (`link`), in place of the one it sent: a hash a client chose
    /// for an inode would reach the content index, which hands that inode
    /// to every push of the root that holds the hash.
    package func earlierRecord(at path: RelativePath) throws -> ManifestRecord {
        guard var records = try openEarlierRecords() else {
            throw EmuError.failed("the client linked \(path) to a snapshot the sink does not hold", fix: "push again")
        }
        defer { earlierRecords = records }
        guard var record = try records.record(at: path), record.kind == .regular else {
            throw EmuError.failed("the client linked \(path), which the newest snapshot holds as no file, or not in path order", fix: "push again")
        }
        record.hardlinkLeader = nil  // a name of its own here: the source's other names come as `hardlink`
        return record
    }

    /// The cut push's record of a copy the client links (`resume`); the
    /// staging writer checks the copy's bytes against it before linking, as
    /// those offered to the client were.
    package func resumedRecord(at path: RelativePath) throws -> ManifestRecord {
        guard let record = try resumeRecords?.record(at: path), record.kind == .regular, record.hardlinkLeader == nil else {
            throw EmuError.failed("the client linked \(path) to a copy the cut push did not leave", fix: "push again")
        }
        return record
    }

    /// The newest snapshot's records (those the client read: `push-begin`
    /// checks their digest), opened at the first run.
    package func openEarlierRecords() throws -> ManifestCursor? {
        if earlierRecords == nil, let head { earlierRecords = ManifestCursor(try sink.openRecords(head)) }
        return earlierRecords
    }
}
