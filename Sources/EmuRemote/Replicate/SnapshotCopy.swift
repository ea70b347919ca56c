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

/// One snapshot of one sink copied into another (`emu replicate`): a push
/// whose walk is the snapshot's records (`SnapshotWalk`), decided by the
/// one planner against the newest snapshot the receiving sink holds and a
/// cut copy's leftovers, and sent as a push over ssh is (`PushBatches`) to
/// the receiver that checks and makes every push (`PushReceiver`). A file
/// unchanged since that snapshot is linked; one whose content the receiving
/// sink's index holds is linked or copied there; only the other files'
/// bytes are read and sent. The receiver publishes the copy under the
/// snapshot's own ID, date, message and status, its manifest the original's.
package final class SnapshotCopy {
    package let snapshot: Snapshot
    package let target: RemoteSink
    package let tree: ReplicaTree
    /// The snapshot's records, as often as asked.
    package let records: () throws -> RecordReader
    package let observer: PushObserver
    package var counts = ReplicaCounts()

    package init(_ snapshot: Snapshot, tree: ReplicaTree, records: @escaping () throws -> RecordReader, into target: RemoteSink,
                 observer: PushObserver) {
        (self.snapshot, self.tree, self.records, self.target, self.observer) = (snapshot, tree, records, target, observer)
    }

    /// The records of the receiving sink's newest snapshot as the copying
    /// side holds them: a snapshot of the sink copied from, whose manifest
    /// the receiving sink holds byte for byte (its copy), with their digest.
    package typealias KnownRecords = (digest: ContentHash, reader: () throws -> RecordReader)

    /// Copies the snapshot after `newest` (the receiving sink's newest, the
    /// exclusive lock held), compared with `known` records of it when the
    /// copying side holds them (else they are read from the receiving sink);
    /// returns the copy as the receiver published it.
    package func run(after newest: Snapshot?, known: KnownRecords? = nil, identity: String) throws -> Snapshot {
        let walk = try SnapshotWalk(records: records, tree: tree)
        let resumed = try target.spoolRecords(.resumeRecords).bytes
        let request = Request.PushBegin(date: snapshot.date, message: Array(snapshot.message.utf8), sourcePath: snapshot.source.fileSystemBytes,
                                        identity: identity, kept: snapshot)
        let earlier = try begin(request, after: newest, known: known)
        let tally = Tally(observer) { [unowned self] bytes in (counts.filesSent, counts.bytesSent) = (counts.filesSent + 1, counts.bytesSent + bytes) }
        let wire = PushBatches(target, observer: tally)
        (wire.opensBytes, wire.sentContent) = (tree.opensBytes, [])
        let planner = PushPlanner(writer: wire, earlier: earlier,
                                  resume: resumed.isEmpty ? nil : ManifestCursor(try ManifestReader(file: resumed)))
        try withExtendedLifetime(tally) { try planner.plan(walk) }
        (counts.files, counts.linked) = (wire.files, wire.unchanged)
        let copy = try target.published(try target.ask(.pushEnd).text)
        guard copy.id == snapshot.id else {
            throw EmuError.failed("\(target.location) published the copy of \(Snapshot.shortForm(snapshot.id)) as \(Snapshot.shortForm(copy.id))",
                                  fix: "install the same version of emu on both machines")
        }
        return copy
    }

    /// Starts the push on the receiving sink, compared with `known` records
    /// of its newest snapshot; when it finds them not its own, with its own.
    package func begin(_ request: Request.PushBegin, after newest: Snapshot?, known: KnownRecords?) throws -> ManifestCursor? {
        if let newest, let known {
            var request = request
            (request.head, request.digest) = (newest.id, known.digest.description)
            if try target.ask(.pushBegin(request)).text != Wire.recordsDiffer { return ManifestCursor(try known.reader()) }
        }
        return try target.begin(request, head: newest, cache: nil).map { ManifestCursor(try $0.reader()) }
    }

    /// What the copy of `snapshot` would send, at most (a dry run: the
    /// receiving sink's index may hold some), after the records `previous`.
    package static func count(_ snapshot: Snapshot, tree: ReplicaTree, records: () throws -> RecordReader,
                              after previous: RecordReader?) throws -> Snapshot.Counts {
        let silent = SilentPushObserver()  // the count holds it unowned
        let count = PushCount(observer: silent, checksum: false)
        try withExtendedLifetime(silent) {
            try PushPlanner(writer: count, earlier: previous.map(ManifestCursor.init), resume: nil).plan(try SnapshotWalk(records: records, tree: tree))
        }
        return count.counts
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
