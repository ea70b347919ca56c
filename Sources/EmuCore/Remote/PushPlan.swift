import EmuPOSIX

/// Where the ssh push's decisions go: the wire (`PushBatches`, which asks
/// the server about new files' content before their bytes cross) or a dry
/// run's count (`PushCount`). `PushSender` decides each entry once; a
/// writer carries the entries out, and needs nothing but them.
protocol PushWriter: AnyObject {
    /// Whether a new or changed file is read (hashed, its xattrs) before it
    /// is handed over: the wire asks about its content; a count reads
    /// nothing it does not need.
    var readsNewFiles: Bool { get }
    func add(_ entry: PushEntry) throws
    /// An unchanged file, the `ordinal`th record of the newest snapshot's manifest.
    func addUnchanged(ordinal: Int, record: ManifestRecord) throws
    /// A new or changed file; `previous` is the newest snapshot's record of its path.
    func add(_ file: PushBatches.PendingFile, previous: ManifestRecord?) throws
    /// Everything handed over is carried out.
    func finish() throws
}

/// `push --dry-run`, here or over ssh: the walk compares the source with
/// the newest snapshot's records as a push does and counts what it would
/// copy, without the content index's savings; nothing is written, and a
/// server changes nothing (a shared lock, no recovery).
func countedPush(_ root: DirectoryHandle, filter: SourceFilter, oneFileSystem: Bool, checksum: Bool, importing: Bool,
                 newest: RecordReader?, observer: PushObserver) throws -> PushResult {
    let started = monotonicSeconds()
    let count = PushCount(observer: observer, checksum: checksum)
    let sender = PushSender(writer: count, earlier: newest.map(ManifestCursor.init), resume: nil, observer: observer)
    sender.checksum = checksum
    if importing { sender.changeTest = .quickCheck }
    try sender.send(TreeScanner(root: root, filter: filter, oneFileSystem: oneFileSystem))
    return PushResult(snapshot: nil, counts: count.counts, walkSeconds: monotonicSeconds() - started, publishSeconds: 0)
}

extension RemoteSink {
    func plan(_ source: Source, filter: SourceFilter, options: PushOptions, observer: PushObserver) throws -> PushResult {
        try lock(.shared, wait: options.lockWait)
        defer { unlock() }
        try SinkOwner.requirePushing(try source.identity(), into: try owner(), at: location)
        return try countedPush(try options.walkedRoot(of: source), filter: filter, oneFileSystem: options.oneFileSystem, checksum: options.checksum,
                               importing: options.importing != nil, newest: try self.snapshots().last.map(openRecords), observer: observer)
    }
}

/// A dry run's writer: counts each entry as the server would.
final class PushCount: PushWriter {
    unowned let observer: PushObserver
    /// --checksum: a changed file whose bytes and xattrs match the newest snapshot's counts as linked.
    let checksum: Bool
    let copier = DataCopier()
    var counts = Snapshot.Counts()

    init(observer: PushObserver, checksum: Bool) {
        self.observer = observer
        self.checksum = checksum
    }

    var readsNewFiles: Bool { false }

    func add(_ entry: PushEntry) throws {
        switch entry {
        case .entry(.directory, _, _, _): counts.directories += 1
        case .entry(.symlink, _, _, _): counts.symlinks += 1
        case .entry(.special, _, _, _): counts.specials += 1
        case .entry(let kind, let record, _, _) where [.link, .resume, .hardlink].contains(kind):
            counts.files += 1
            counts.bytes += record.size
            if kind != .hardlink { counts.filesLinked += 1 }
        case .skipped: counts.skipped += 1
        // New content reaches a count through `add(_:previous:)`; runs and questions are the wire's.
        case .entry, .unchanged, .query: break
        }
    }

    func addUnchanged(ordinal: Int, record: ManifestRecord) throws {
        try add(.entry(.link, record, attributes: [], leads: false))
    }

    func add(_ file: PushBatches.PendingFile, previous: ManifestRecord?) throws {
        let record = file.record
        if checksum, let previous, try holdsSame(file, as: previous) {
            return try add(.entry(.link, record, attributes: [], leads: false))
        }
        counts.files += 1
        counts.bytes += record.size
        counts.filesCopied += 1
        counts.bytesCopied += record.size
        observer.copied(record.path, reason: previous == nil ? .new : .content, bytes: record.size)
    }

    func finish() throws {}

    /// Whether the file's bytes, xattrs and inode metadata are the previous record's.
    func holdsSame(_ file: PushBatches.PendingFile, as previous: ManifestRecord) throws -> Bool {
        let record = file.record
        guard previous.kind == .regular, let content = previous.content, previous.permissions == record.permissions,
              previous.owner == record.owner, previous.group == record.group, previous.modified == record.modified else { return false }
        let input = try file.directory.openForReading(file.name)
        defer { input.close() }
        var hasher = ContentHasher()
        _ = try copier.copy(from: input, to: nil) { hasher.update($0) }
        guard hasher.finalize() == content else { return false }
        return try attributesDigest(ExtendedAttributes.read(.file(input))) == previous.attributes
    }
}

extension PushSender {
    /// An entry the walk could not read: the snapshot will be incomplete.
    func skip(_ path: RelativePath, because error: Error) throws {
        observer.skipped(path, because: error)
        try writer.add(.skipped(path))
    }
}
