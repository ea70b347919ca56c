import EmuPOSIX
import Glibc
import EmuCore
import EmuRecords

/// The server's half of a push over ssh: the client walks its source and
/// sends, in path order, one `data` frame per entry (a `PushEntry`); the
/// receiver checks each and hands it to the `StagingWriter` a local push
/// writes with (which links unchanged files from the newest snapshot, sets
/// metadata, asks the content index, writes the manifest), filling new
/// files from the bytes that follow, and publishes on `push-end`. A channel
/// cut before that leaves the staging as a killed push leaves it: the next
/// command's recovery keeps it to resume from.
///
/// What the client sends is checked here, not trusted: paths in order,
/// each once; an unchanged file's record is the sink's own, never the
/// client's; a cut push's copy must be one that push recorded; and the
/// records of first names are bounded.
package final class PushReceiver {
    package let sink: Sink
    package let staged: StagedSnapshot
    package let reader: FrameReader
    /// Where the answers to the client's questions go (see `answerQuery`).
    package let writer: FrameWriter
    /// Makes the entries, as in a local push; links and records are taken on its second thread.
    package let staging: StagingWriter
    /// A server reports to no one: the client hears the counts at the end.
    package let observer: PushObserver
    /// About the memory the records of first names take: a client that
    /// calls every file a leader may not grow the server without bound.
    package var leaderBytes = 0
    /// 256 MiB; EMU_LEADER_BUDGET (bytes) lets the tests reach it with a few thousand entries.
    package static let leaderBudget = getenv("EMU_LEADER_BUDGET").flatMap { Int(String(cString: $0)) } ?? 256 << 20
    /// The last path an entry named: the manifest lists each once, in order.
    package var lastPath: RelativePath? = nil
    /// The snapshot the client compared its source with, and its records
    /// once a run of unchanged files names them (see `linkUnchanged`).
    package let head: Snapshot?
    package var earlierRecords: ManifestCursor? = nil
    /// What a cut push left: its records, which name the copies a client may link.
    package var resumeRecords: ManifestCursor?

    package init(sink: Sink, head: Snapshot?, reader: FrameReader, writer: FrameWriter) throws {
        self.sink = sink
        self.reader = reader
        self.writer = writer
        self.head = head
        staged = try sink.beginSnapshot()
        let resume = sink.resumeLeftovers()
        resumeRecords = resume.map { ManifestCursor($0.records) }
        let observer = SilentPushObserver()
        self.observer = observer
        staging = StagingWriter(settings: .init(), observer: observer, staged: staged, earlierTree: head.flatMap { try? sink.openTree($0) },
                                resumeTree: resume?.tree)
    }

    /// Takes entries until the client's `push-end` request, which it
    /// returns; nil when the channel closed first. A failure is kept and the
    /// rest of the client's frames read and dropped, so that the client,
    /// which does not read while it sends, hears of it at the end.
    package func receive() throws -> Result<Frame, Error>? {
        var failure: Error? = nil
        while let frame = try reader.next() {
            if frame.kind == .request { return failure.map { .failure($0) } ?? .success(frame) }
            guard failure == nil else {
                // The client waits for the answer to a question: it hears of the failure now.
                if PushEntry.isQuery(frame.payload) { try writer.send(Wire.frame(for: failure!)); try writer.flush() }
                continue
            }
            do { try take(frame) } catch let error as EmuError where error.brokeTheChannel {
                return nil
            } catch {
                failure = error
            }
        }
        return nil
    }

    package func take(_ frame: Frame) throws {
        guard frame.kind == .data else { throw PushEntry.unknown("") }
        switch try PushEntry(decoding: frame.payload) {
        case .skipped(let path): try staging.skip(path, because: Unread())
        case .query(let records): try answerQuery(records)
        case .unchanged(let first, let count): try linkUnchanged(first: first, count: count)
        case .entry(let kind, let record, let attributes, let leads): try make(kind, record, attributes: attributes, leads: leads)
        }
    }

    /// A path the client could not read: the snapshot is incomplete.
    package struct Unread: Error {}

    /// Checks an entry and makes it in the staging tree as a local push would.
    package func make(_ kind: PushEntry.Kind, _ sent: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool) throws {
        var record = sent
        try admit(record.path)
        if leads { try budget(record) }
        switch kind {
        case .file, .indexed, .copy:
            // A file made here keeps the digest of the xattrs it came with.
            record.attributes = attributesDigest(attributes)
            let parent = try staging.directory(for: record.path).target
            let metadata = EntryMetadata(record, attributes: attributes)
            if kind == .file { try fill(record.path.lastName!, &record, metadata, in: parent) } else {
                try takeHeld(record.path.lastName!, record, metadata, in: parent, linking: kind == .indexed)
            }
            try staging.recorded(record, leads: leads)
        // A linked file's record is the sink's own: a client never names the content of an inode it did not send.
        case .link: try staging.make(.entry(.link, try earlierRecord(at: record.path), attributes: [], leads: leads), from: nil)
        case .resume: try staging.make(.entry(.resume, try resumedRecord(at: record.path), attributes: [], leads: leads), from: nil)
        case .directory, .symlink, .special, .hardlink: try staging.make(.entry(kind, record, attributes: attributes, leads: leads), from: nil)
        }
    }

    /// After a cut: every entry taken so far linked and recorded, so that
    /// the next push links what arrived whole instead of receiving it again.
    package func keepForResume() {
        try? staging.finisher.drain()
        try? staged.manifest.waitUntilWritten()
    }

    /// Takes the next entry's path, which must follow the last in the
    /// manifest's order (a walk's order: each path once, a parent first).
    package func admit(_ path: RelativePath) throws {
        if let lastPath, !(lastPath < path) {
            throw EmuError.failed("the client sent \(path) out of path order, or twice", fix: "push again")
        }
        lastPath = path
    }

    /// A first name whose inode has others: its record is kept for theirs.
    /// About a million of them fit the budget, more than a source holds
    /// unless it is itself a tree of hardlinked snapshots.
    package func budget(_ record: ManifestRecord) throws {
        leaderBytes += 256 + record.path.bytes.count + (record.symlinkTarget?.count ?? 0)
        guard leaderBytes <= Self.leaderBudget else {
            throw EmuError.failed("the client sent more files with several names than one push keeps in memory (\(Self.leaderBudget >> 20) MiB of records)",
                                  fix: "exclude the trees of hardlinked copies (older backups, for instance) from the source, or push them from a sink of their own")
        }
    }
}
