import EmuPOSIX
import EmuCore
import EmuRecords

/// What the copy of one snapshot did, as it counted it.
public struct ReplicaCounts: Sendable, Equatable {
    /// Regular files of the snapshot.
    public var files = 0
    /// Linked to the newest snapshot's copy, or to a cut copy's.
    public var linked = 0
    /// Files whose bytes were read from the first sink and sent to the second, and those bytes.
    public var filesSent = 0
    public var bytesSent: Int64 = 0
}

/// One snapshot of one sink copied into another (`emu replicate`), as a
/// push whose walk is the snapshot's records: each entry is decided once
/// against the newest snapshot the receiving sink holds and a cut copy's
/// leftovers, and crosses as a push's entries do (see `PushBatches`), to the
/// receiver that checks and makes every push (`PushReceiver`). A file whose
/// record is the newest snapshot's is linked; one the receiving sink's
/// content index holds is linked or copied there; only other files' bytes
/// are read and sent. The receiver publishes the copy under the snapshot's
/// own ID, date, message and status, and its manifest is the original's.
package final class SnapshotCopy {
    package let snapshot: Snapshot
    package let target: RemoteSink
    package let tree: ReplicaTree
    /// The snapshot's records, read twice: first for the names of files with other names, then to copy.
    package let records: () throws -> RecordReader
    package let observer: PushObserver
    package var counts = ReplicaCounts()
    /// Whether the records say which entries have xattrs and hold content
    /// hashes: a manifest's do; those scanned from an emu 0.2.5 tree do not.
    package var recordsAreWhole = true

    package init(_ snapshot: Snapshot, tree: ReplicaTree, records: @escaping () throws -> RecordReader, into target: RemoteSink,
                 observer: PushObserver) {
        (self.snapshot, self.tree, self.records, self.target, self.observer) = (snapshot, tree, records, target, observer)
    }

    /// Copies the snapshot after `newest` (the receiving sink's newest, the
    /// exclusive lock held); returns the copy as the receiver published it.
    package func run(after newest: Snapshot?, identity: String) throws -> Snapshot {
        let leaders = try firstNames()
        let resumed = try target.spoolRecords(.resumeRecords).bytes
        var resume = resumed.isEmpty ? nil : ManifestCursor(try ManifestReader(file: resumed))
        let request = Request.PushBegin(date: snapshot.date, message: Array(snapshot.message.utf8), sourcePath: snapshot.source.fileSystemBytes,
                                        identity: identity, kept: snapshot)
        let compared = try target.begin(request, head: newest, cache: nil)
        var earlier = try compared.map { ManifestCursor(try $0.reader()) }
        let tally = Tally(observer) { [unowned self] bytes in counts.filesSent += 1; counts.bytesSent += bytes }
        let wire = PushBatches(target, observer: tally)
        wire.opensBytes = tree.opensBytes
        wire.sentContent = []
        try withExtendedLifetime(tally) {
            let reader = try records()
            recordsAreWhole = reader.origin.knowsAttributes
            while let record = try reader.next() {
                try send(record, leads: leaders.contains(record.path), earlier: &earlier, resume: &resume, through: wire)
            }
            try wire.finish()
        }
        let copy = try target.published(try target.ask(.pushEnd).text)
        guard copy.id == snapshot.id else {
            throw EmuError.failed("\(target.location) published the copy of \(snapshot.id.prefix(8)) as \(copy.id.prefix(8))",
                                  fix: "install the same version of emu on both machines")
        }
        return copy
    }

    /// The first names of the files with several: the receiver keeps their
    /// inodes for the later names (a set as large as the hardlinked files, as a push's).
    package func firstNames() throws -> Set<RelativePath> {
        let reader = try records()
        var leaders = Set<RelativePath>()
        while let record = try reader.next() {
            if let leader = record.hardlinkLeader { leaders.insert(leader) }
        }
        return leaders
    }

    /// One record, decided: unchanged since the newest snapshot (linked by
    /// its place in that manifest), a cut copy's whole file, another name
    /// of a file sent before, or an entry that crosses with its xattrs.
    package func send(_ record: ManifestRecord, leads: Bool, earlier: inout ManifestCursor?, resume: inout ManifestCursor?,
                      through wire: PushBatches) throws {
        let kind: PushEntry.Kind
        switch record.kind {
        case .regular: return try sendFile(record, leads: leads, earlier: &earlier, resume: &resume, through: wire)
        case .directory: kind = .directory
        case .symlink: kind = .symlink
        case .fifo, .characterDevice, .blockDevice: kind = .special
        case .socket, .unknown:
            throw EmuError(.damaged, "snapshot \(snapshot.id.prefix(8)) records \(record.path), which is no kind of entry a snapshot holds",
                                   fix: "run `emu verify` on the sink copied from")
        }
        try wire.send(.entry(kind, record, attributes: try attributes(of: record), leads: false))
    }

    package func sendFile(_ record: ManifestRecord, leads: Bool, earlier: inout ManifestCursor?, resume: inout ManifestCursor?,
                          through wire: PushBatches) throws {
        counts.files += 1
        if record.hardlinkLeader != nil { return try wire.send(.entry(.hardlink, record, attributes: [], leads: false)) }
        let previous = try earlier?.record(at: record.path)
        if let previous, isUnchanged(record, since: previous) {
            counts.linked += 1
            // Named by its place in the manifest both sides hold: the receiver writes its own record, this one.
            if !leads, let ordinal = earlier?.taken { return try wire.sendUnchanged(ordinal: ordinal, record: record) }
            return try wire.send(.entry(.link, record, attributes: [], leads: leads))
        }
        if try resume?.record(at: record.path) == record {
            counts.linked += 1
            return try wire.send(.entry(.resume, record, attributes: [], leads: leads))
        }
        let file = try tree.plannedFile(record, attributes: try attributes(of: record), leads: leads, isNew: previous == nil)
        try wire.add(file, previous: previous)
    }

    /// Whether the receiving sink's record of a path is this one: the same
    /// record; for a record scanned from a 0.2.5 tree, which has no hashes,
    /// the same but for the hashes the receiver added (the tree's inode,
    /// recorded with its ctime, says the content is the same).
    package func isUnchanged(_ record: ManifestRecord, since previous: ManifestRecord) -> Bool {
        guard !recordsAreWhole, record.content == nil else { return previous == record }
        var stripped = previous
        (stripped.content, stripped.attributes) = (nil, nil)
        return stripped == record
    }

    /// An entry's xattrs: none when the records say so, else read where the snapshot is.
    package func attributes(of record: ManifestRecord) throws -> [ExtendedAttribute] {
        guard record.attributes != nil || !recordsAreWhole else { return [] }
        return try tree.attributes(of: record)
    }
}

extension SnapshotCopy {
    /// Passes what the wire reports on, and counts the bytes that crossed.
    package final class Tally: PushObserver {
        package let observer: PushObserver
        package let sent: (Int64) -> Void

        package init(_ observer: PushObserver, sent: @escaping (Int64) -> Void) { (self.observer, self.sent) = (observer, sent) }

        package func skipped(_ path: RelativePath, because error: Error) { observer.skipped(path, because: error) }
        package func noted(_ path: RelativePath, _ message: String) { observer.noted(path, message) }
        package func copied(_ path: RelativePath, reason: CopyReason, bytes: Int64) {
            sent(bytes)
            observer.copied(path, reason: reason, bytes: bytes)
        }
        package func progressed(files: Int, bytes: Int64) { observer.progressed(files: files, bytes: bytes) }
        package func reused(_ path: RelativePath, bytes: Int64) { observer.reused(path, bytes: bytes) }
        package func expired(_ snapshot: Snapshot, _ reasons: [String]) { observer.expired(snapshot, reasons) }
        package func warned(_ message: String) { observer.warned(message) }
    }
}
