import EmuPOSIX
import Glibc

/// The server's half of a push over ssh: the client walks its source and
/// sends, in path order, one `data` frame per entry; the receiver makes each
/// in a `StagedSnapshot` as a local push would (links unchanged files from
/// the newest snapshot, fills new ones from the bytes that follow, asks the
/// content index, sets metadata, writes the manifest) and publishes on
/// `push-end`. A channel cut before that leaves the staging as a killed
/// push leaves it: the next command's recovery keeps it to resume from.
///
/// Each entry frame is a `PushEntry`.
final class PushReceiver {
    let sink: Sink
    let staged: StagedSnapshot
    let reader: FrameReader
    /// Where the answers to the client's questions go (see `answerQuery`).
    let writer: FrameWriter
    /// Links, finished directories and records, taken in arrival order on a
    /// second thread, while this one reads and decodes (see `ReceiverLinker`).
    let linker: ReceiverLinker
    let work: StepThread<ReceiverLinker.Step>
    /// The directory of the last step submitted (see `submit`).
    var lastTarget: DirectoryHandle? = nil
    var directories: [(path: RelativePath, handle: DirectoryHandle, metadata: EntryMetadata, created: EntryMetadata.Created?)] = []
    var counts = Snapshot.Counts()
    var bytesOwned: Int64 = 0
    var reusedFromIndex = false
    let createsAsSelf: Bool
    /// The records of inodes with several names, for their later names, and
    /// about the memory they take: a client that calls every file a leader
    /// may not grow the server without bound (see `remember(leader:)`).
    var leaders: [RelativePath: ManifestRecord] = [:]
    var leaderBytes = 0
    /// 256 MiB; EMU_LEADER_BUDGET (bytes) lets the tests reach it with a few thousand entries.
    static let leaderBudget = getenv("EMU_LEADER_BUDGET").flatMap { Int(String(cString: $0)) } ?? 256 << 20
    var resumed = false
    /// The last path an entry named: the manifest lists each once, in order.
    var lastPath: RelativePath? = nil
    /// The snapshot the client compared its source with, and its records
    /// once a run of unchanged files names them (see `linkUnchanged`).
    let head: Snapshot?
    var earlierRecords: ManifestCursor? = nil
    /// What a cut push left: its records (the server wrote them) and its
    /// tree, read on this thread to check a copy the client links.
    var resumeRecords: ManifestCursor?
    let resumeTree: DirectoryCursor?
    lazy var resumeCopier = DataCopier()

    init(sink: Sink, head: Snapshot?, reader: FrameReader, writer: FrameWriter) throws {
        self.sink = sink
        self.reader = reader
        self.writer = writer
        self.head = head
        staged = try sink.beginSnapshot()
        let resume = sink.resumeLeftovers()
        resumeRecords = resume.map { ManifestCursor($0.records) }
        resumeTree = resume.map { DirectoryCursor(root: $0.tree) }
        let linker = ReceiverLinker(tree: staged.tree, manifest: staged.manifest,
                                    earlier: head.flatMap { try? sink.openTree($0) }.map(DirectoryCursor.init),
                                    resume: resume.map { DirectoryCursor(root: $0.tree) })
        self.linker = linker
        // A queued step keeps its directory open: at most 64 of them a batch.
        work = StepThread(threaded: true, stepsPerBatch: 256, weightPerBatch: 64, take: linker.take, release: { _ in })
        createsAsSelf = EntryMetadata.Created.handsDownNothing(staged.tree)
    }

    /// Takes entries until the client's `push-end` request, which it
    /// returns; nil when the channel closed first. A failure is kept and the
    /// rest of the client's frames read and dropped, so that the client,
    /// which does not read while it sends, hears of it at the end.
    func receive() throws -> Result<Frame, Error>? {
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

    func take(_ frame: Frame) throws {
        guard frame.kind == .data else { throw PushEntry.unknown("") }
        switch try PushEntry(decoding: frame.payload) {
        case .skipped: counts.skipped += 1
        case .query(let records): try answerQuery(records)
        case .unchanged(let first, let count): try linkUnchanged(first: first, count: count)
        case .entry(let kind, let record, let attributes, let leads): try make(kind, record, attributes: attributes, leads: leads)
        }
    }

    /// Makes an entry in the staging tree as a local push would.
    func make(_ kind: PushEntry.Kind, _ sent: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool) throws {
        var record = sent
        try admit(record.path)
        let metadata = EntryMetadata(record, attributes: attributes)
        // The walk's records name no xattrs; an entry made here keeps the digest of those it came with.
        if kind.recordsWhatWasSent { record.attributes = attributesDigest(attributes) }
        if record.path.isRoot {
            counts.directories += 1
            directories = [(.root, staged.tree, metadata, nil)]
            return try submit(.record(record))
        }
        // A linked file's record is the sink's own: a client never names the content of an inode it did not send.
        if kind == .link { record = try earlierRecord(at: record.path) }
        if kind == .resume { record = try resumedRecord(at: record.path) }
        let parent = try directory(for: record.path)
        let name = record.path.lastName!
        switch kind {
        case .directory: try makeDirectory(name, record, metadata, in: parent)
        case .file: try fill(name, &record, metadata, in: parent)
        case .indexed, .copy: try takeHeld(name, record, metadata, in: parent, linking: kind == .indexed)
        case .link: try linkEarlier(record, in: parent, fromResume: false)
        case .resume:
            // The cut push's copy is no snapshot's yet: it becomes this one's own.
            try linkEarlier(record, in: parent, fromResume: true)
            bytesOwned += record.size
            resumed = true
        case .hardlink: try linkLeader(of: record, in: parent)
        case .symlink:
            try parent.makeSymlink(name, target: record.symlinkTarget ?? [])
            try metadata.apply(to: .entry(parent, name, .symlink), aclSource: nil)
            counts.symlinks += 1
        case .special:
            do {
                try parent.makeNode(name, kind: record.kind, permissions: 0o600, device: record.device?.raw ?? 0)
            } catch let error as FileSystemError where error.isNotPermitted && record.kind != .fifo {
                return  // only root makes device nodes, as in a local push
            }
            try metadata.apply(to: .entry(parent, name, record.kind), aclSource: nil)
            counts.specials += 1
        }
        if leads { try remember(leader: record) }
        if kind.recordsWhatWasSent { try submit(.record(record)) }
    }

    /// After a cut: every entry taken so far linked and recorded, so that
    /// the next push links what arrived whole instead of receiving it again.
    func keepForResume() {
        try? work.drain()
        try? staged.manifest.waitUntilWritten()
    }

    /// Takes the next entry's path, which must follow the last in the
    /// manifest's order (a walk's order: each path once, a parent first).
    func admit(_ path: RelativePath) throws {
        if let lastPath, !(lastPath < path) {
            throw EmuError.failed("the client sent \(path) out of path order, or twice", fix: "push again")
        }
        lastPath = path
    }

    func submit(_ step: ReceiverLinker.Step, into target: DirectoryHandle? = nil) throws {
        var weight = 0
        if let target, target !== lastTarget {
            lastTarget = target
            weight = 1
        }
        try work.submit(step, weight: weight)
    }

    /// A first name whose inode has others: its record, for theirs. About a
    /// million of them fit the budget, more than a source holds unless it
    /// is itself a tree of hardlinked snapshots.
    func remember(leader record: ManifestRecord) throws {
        leaderBytes += Self.approximateSize(of: record)
        guard leaderBytes <= Self.leaderBudget else {
            throw EmuError.failed("the client sent more files with several names than one push keeps in memory (\(Self.leaderBudget >> 20) MiB of records)",
                                  fix: "exclude the trees of hardlinked copies (older backups, for instance) from the source, or push them from a sink of their own")
        }
        leaders[record.path] = record
    }

    static func approximateSize(of record: ManifestRecord) -> Int {
        256 + record.path.bytes.count + (record.symlinkTarget?.count ?? 0)
    }

    /// Another name of an inode whose first name is made: it shares that
    /// name's record, as in a local push.
    func linkLeader(of record: ManifestRecord, in parent: DirectoryHandle) throws {
        guard let leaderPath = record.hardlinkLeader, var shared = leaders[leaderPath] else {
            throw EmuError.failed("the client sent another name of \(record.path) before its first", fix: "push again")
        }
        shared.path = record.path
        shared.hardlinkLeader = leaderPath
        counts.files += 1
        counts.bytes += shared.size
        try submit(.leader(shared, into: parent), into: parent)
    }

    /// The staged directory that holds `path`, finishing the directories the walk has left.
    func directory(for path: RelativePath) throws -> DirectoryHandle {
        while let top = directories.last, top.path != path.parent {
            try finishDirectory()
            if directories.isEmpty { break }
        }
        guard let top = directories.last, top.path == path.parent else {
            throw EmuError.failed("the client sent \(path) out of path order", fix: "push again")
        }
        return top.handle
    }

    /// A directory's metadata, once its entries are made (each moved its mtime).
    func finishDirectory() throws {
        let done = directories.removeLast()
        try submit(.directory(done.handle, done.metadata, done.created), into: done.handle)
    }

    func makeDirectory(_ name: FileName, _ record: ManifestRecord, _ metadata: EntryMetadata, in parent: DirectoryHandle) throws {
        let permissions = EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: true)
        try parent.makeDirectory(name, permissions: permissions)
        directories.append((record.path, try parent.openDirectory(name), metadata, .made(with: permissions, handsDownNothing: createsAsSelf)))
        counts.directories += 1
    }

    /// An unchanged file: one more name of the newest snapshot's inode, or
    /// of the copy a cut push left.
    func linkEarlier(_ record: ManifestRecord, in parent: DirectoryHandle, fromResume: Bool) throws {
        guard (fromResume ? linker.resume : linker.earlier) != nil else {
            throw EmuError.failed("the client linked \(record.path) to a snapshot the sink does not hold", fix: "push again")
        }
        counts.files += 1
        counts.filesLinked += 1
        counts.bytes += record.size
        try submit(.earlier(record, into: parent, fromResume: fromResume), into: parent)
    }
}
