import EmuPOSIX
import EmuRecords

/// `push --dry-run`, here or over ssh: the walk compares the source with
/// the newest snapshot's records as a push does and counts what it would
/// copy, without the content index's savings; nothing is written, and a
/// server changes nothing (a shared lock, no recovery).
package func countedPush(_ root: DirectoryHandle, filter: SourceFilter, oneFileSystem: Bool, checksum: Bool, importing: Bool,
                 newest: RecordReader?, observer: PushObserver) throws -> PushResult {
    let started = monotonicSeconds()
    let count = PushCount(observer: observer, checksum: checksum)
    let planner = PushPlanner(writer: count, earlier: newest.map(ManifestCursor.init), resume: nil)
    planner.checksum = checksum
    if importing { planner.changeTest = .quickCheck }
    try planner.plan(TreeScanner(root: root, filter: filter, oneFileSystem: oneFileSystem))
    return PushResult(snapshot: nil, counts: count.counts, walkSeconds: monotonicSeconds() - started, publishSeconds: 0)
}

/// A dry run's writer: counts each entry as the server would.
package final class PushCount: PushWriter {
    package unowned let observer: PushObserver
    /// --checksum: a changed file whose bytes and xattrs match the newest snapshot's counts as linked.
    package let checksum: Bool
    package let copier = DataCopier()
    package var counts = Snapshot.Counts()

    package init(observer: PushObserver, checksum: Bool) {
        self.observer = observer
        self.checksum = checksum
    }

    package var readsNewFiles: Bool { false }

    package func add(_ entry: PushEntry, from source: SourceEntry) throws {
        guard case .entry(let kind, let record, _, _) = entry else { return }  // runs, questions and skips are the wire's
        switch kind {
        case .directory: counts.directories += 1
        case .symlink: counts.symlinks += 1
        case .special: counts.specials += 1
        case .link, .resume, .hardlink: counted(record, linked: kind != .hardlink)
        // New content reaches a count through `add(_:previous:)`.
        case .file, .indexed, .copy: break
        }
    }

    package func addUnchanged(ordinal: Int, record: ManifestRecord, from source: SourceEntry) throws {
        counted(record, linked: true)
    }

    package func add(_ file: PlannedFile, previous: ManifestRecord?) throws {
        let record = file.record
        if checksum, let previous, try file.holdsSame(as: previous, copier: copier) != nil { return counted(record, linked: true) }
        counted(record, linked: false)
        counts.filesCopied += 1
        counts.bytesCopied += record.size
        observer.copied(record.path, reason: previous == nil ? .new : .content, bytes: record.size)
    }

    package func skip(_ path: RelativePath, because error: Error) throws {
        counts.skipped += 1
        observer.skipped(path, because: error)
    }

    package func note(_ path: RelativePath, _ message: String) throws { observer.noted(path, message) }

    package func finish() throws {}

    package func counted(_ record: ManifestRecord, linked: Bool) {
        counts.files += 1
        counts.bytes += record.size
        if linked { counts.filesLinked += 1 }
        observer.progressed(files: counts.files, bytes: counts.bytes)
    }
}

extension PlannedFile {
    /// --checksum: the file as read now (its hash and the digest of its
    /// xattrs) when its bytes, xattrs and inode metadata are `previous`'s; nil otherwise.
    package func holdsSame(as previous: ManifestRecord, copier: DataCopier) throws -> ManifestRecord? {
        guard previous.kind == .regular, previous.content != nil, previous.permissions == record.permissions,
              previous.owner == record.owner, previous.group == record.group, previous.modified == record.modified,
              previous.size == record.size else { return nil }
        let input = try directory.openForReading(name)
        defer { input.close() }
        var hasher = ContentHasher()
        var read = record
        read.size = try copier.copy(from: input, to: nil) { hasher.update($0) }
        read.content = hasher.finalize()
        read.attributes = attributesDigest(try ExtendedAttributes.read(.file(input)))
        return read.hasSameContentAndMetadata(as: previous) ? read : nil
    }
}
