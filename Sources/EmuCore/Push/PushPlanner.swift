import EmuPOSIX
import EmuRecords

/// Where the source holds an entry the planner hands over: what a writer
/// that copies from the source itself needs (the wire needs only records).
package struct SourceEntry {
    /// The directory holding the entry; for the root, the root itself.
    package let directory: DirectoryHandle
    /// nil for the root.
    package let name: FileName?
    package let status: FileStatus
    /// A directory's own handle, when the walk entered it.
    package let opened: DirectoryHandle?

    package init(directory: DirectoryHandle, name: FileName?, status: FileStatus, opened: DirectoryHandle?) {
        (self.directory, self.name, self.status, self.opened) = (directory, name, status, opened)
    }
}

/// A new or changed file, as the planner hands it over: the writer decides
/// how its bytes reach the sink.
package struct PlannedFile {
    package var record: ManifestRecord
    /// Reopened when its bytes are needed: a descriptor per waiting file would be too many.
    package var directory: DirectoryHandle
    package var name: FileName
    package var status: FileStatus
    /// Read (with the hash) only for a writer that `readsNewFiles`.
    package var attributes: [ExtendedAttribute]
    /// The first name of an inode with others, whose record the later names share.
    package var leads: Bool
    package var isNew: Bool
    /// Hashed (an empty file never is: there is nothing to find).
    package var isHashed: Bool

    package init(record: ManifestRecord, directory: DirectoryHandle, name: FileName, status: FileStatus, attributes: [ExtendedAttribute],
                 leads: Bool, isNew: Bool, isHashed: Bool) {
        (self.record, self.directory, self.name, self.status, self.attributes) = (record, directory, name, status, attributes)
        (self.leads, self.isNew, self.isHashed) = (leads, isNew, isHashed)
    }
}

/// Where the push's decisions go. `PushPlanner` decides each entry once; a
/// writer carries the entries out, in path order, and needs nothing but
/// them: the local staging tree (`StagingWriter`), the wire
/// (`PushBatches`, whose entries the server's `PushReceiver` makes), or a
/// dry run's count (`PushCount`).
package protocol PushWriter: AnyObject {
    /// Whether a new or changed file is read (hashed, its xattrs) before it
    /// is handed over: the wire asks about its content; a local copy hashes
    /// as it copies, and a count reads nothing it does not need.
    var readsNewFiles: Bool { get }
    /// A directory, symlink or special; an unchanged file (`.link`), a cut
    /// push's copy (`.resume`), or another name of a file handed over before (`.hardlink`).
    func add(_ entry: PushEntry, from source: SourceEntry) throws
    /// An unchanged file with no other names, the `ordinal`th record of the newest snapshot's manifest.
    func addUnchanged(ordinal: Int, record: ManifestRecord, from source: SourceEntry) throws
    /// A new or changed file; `previous` is the newest snapshot's record of its path.
    func add(_ file: PlannedFile, previous: ManifestRecord?) throws
    /// An entry that could not be read: the snapshot will be incomplete.
    func skip(_ path: RelativePath, because error: Error) throws
    /// An entry left out, and why (a socket, a killed checkout's file).
    func note(_ path: RelativePath, _ message: String) throws
    /// Everything handed over is carried out.
    func finish() throws
}

/// The push's one decider: walks a source (a live directory, the changed
/// directories of `watch`, a backup being imported, another sink's snapshot
/// being replicated: see `PushWalk`) in path order beside
/// the newest snapshot's records and a cut push's, and decides every entry
/// once: unchanged, a cut push's copy, another name of an inode already
/// planned, new or changed content, directory, symlink, special, left out.
/// The content index's savings are the writer's to find (see `PushWriter`).
package final class PushPlanner {
    package let writer: PushWriter
    package var earlier: ManifestCursor?
    package var resume: ManifestCursor?
    package let copier = DataCopier()
    /// --checksum: every file's bytes are compared, none linked for its metadata alone.
    package var checksum = false
    /// The first name of each inode with several, for the later names.
    package var leaders: [FileIdentity: RelativePath] = [:]
    /// `emu watch`: every name of a file with several, which the next
    /// push's quiet directories look at (see `QuietDirectories.remember`);
    /// nil when not kept.
    package var namesOfLinkedFiles: Set<RelativePath>? = nil
    /// How a file is judged unchanged against the newest snapshot's records
    /// (as their origin says) and against a killed push's leftovers (records
    /// of this source's own statuses); an import judges both by the quick check.
    package var changeTest: ChangeTest
    package var resumeTest = ChangeTest.exact

    package init(writer: PushWriter, earlier: ManifestCursor?, resume: ManifestCursor?) {
        self.writer = writer
        self.earlier = earlier
        changeTest = earlier?.reader.origin.changeTest ?? .exact
        self.resume = resume
    }

    /// The walk being planned.
    package private(set) var walk: PushWalk? = nil

    package func plan(_ walk: PushWalk) throws {
        self.walk = walk
        while let record = try walk.next() {
            for (path, why) in walk.takeNotes() { try writer.note(path, why) }
            do { try plan(record, from: walk.entry) } catch where isSourceError(error) {
                try writer.skip(record.path, because: error)
            }
        }
        for (path, why) in walk.takeNotes() { try writer.note(path, why) }
        for (path, error) in walk.unreadable { try writer.skip(path, because: error) }
        try writer.finish()
    }

    package func plan(_ record: ManifestRecord, from source: SourceEntry) throws {
        let kind: PushEntry.Kind
        switch record.kind {
        case .regular: return try planFile(record, from: source)
        case .directory: kind = .directory
        case .symlink: kind = .symlink
        case .fifo, .characterDevice, .blockDevice: kind = .special
        case .socket: return try writer.note(record.path, "socket skipped (a socket cannot be restored)")
        case .unknown: return try writer.note(record.path, "skipped: unknown file type")
        }
        try writer.add(.entry(kind, record, attributes: try attributes(of: record, from: source), leads: false), from: source)
    }

    /// An entry's xattrs and ACLs, read only when its ctime moved or the
    /// newest snapshot's record says it had some.
    package func attributes(of record: ManifestRecord, from source: SourceEntry) throws -> [ExtendedAttribute] {
        if let previous = try previous(at: record.path), previous.kind == record.kind,
           previous.isUnchanged(comparedTo: source.status), previous.attributes == nil {
            return []
        }
        return try walk!.attributes(of: record, at: source)
    }

    /// The newest snapshot's record of `path`. A damaged earlier manifest
    /// vouches for nothing past its damage: what follows is new.
    package func previous(at path: RelativePath) throws -> ManifestRecord? {
        (try? earlier?.record(at: path)) ?? nil
    }

    package func planFile(_ record: ManifestRecord, from source: SourceEntry) throws {
        let status = source.status
        let identity = status.linkCount > 1 ? FileIdentity(status) : nil
        if identity != nil { namesOfLinkedFiles?.insert(record.path) }
        if let identity, let leader = leaders[identity] {
            var linked = record
            linked.hardlinkLeader = leader
            return try writer.add(.entry(.hardlink, linked, attributes: [], leads: false), from: source)
        }
        if let identity { leaders[identity] = record.path }
        let leads = identity != nil
        let previous = try previous(at: record.path)
        if !checksum, let previous, previous.kind == .regular, changeTest.isUnchanged(previous, comparedTo: status) {
            // Named by its place in the manifest both sides hold: the server has its record.
            if !leads, let ordinal = earlier?.taken { return try writer.addUnchanged(ordinal: ordinal, record: previous, from: source) }
            return try writer.add(.entry(.link, relinked(previous, at: record.path), attributes: [], leads: leads), from: source)
        }
        if !checksum, let left = (try? resume?.record(at: record.path)) ?? nil, left.kind == .regular, resumeTest.isUnchanged(left, comparedTo: status) {
            return try writer.add(.entry(.resume, relinked(left, at: record.path), attributes: [], leads: leads), from: source)
        }
        var file = PlannedFile(record: record, directory: source.directory, name: source.name!, status: status, attributes: [],
                               leads: leads, isNew: previous == nil, isHashed: false)
        if walk!.recordsHoldHashes {
            (file.attributes, file.isHashed) = (try walk!.attributes(of: record, at: source), record.content != nil && record.size > 0)
        } else if writer.readsNewFiles {
            try read(&file)
        }
        try writer.add(file, previous: previous)
    }

    /// Reads a file's xattrs and, unless it is empty, its hash (so that a
    /// server can say it holds the content: a rename, a copy, a restore).
    package func read(_ file: inout PlannedFile) throws {
        let input = try file.directory.openForReading(file.name)
        defer { input.close() }
        file.attributes = try ExtendedAttributes.read(.file(input))
        guard file.record.size > 0 else { return }
        var hasher = ContentHasher()
        file.record.size = try copier.copy(from: input, to: nil) { hasher.update($0) }
        file.record.content = hasher.finalize()
        file.record.attributes = attributesDigest(file.attributes)
        file.isHashed = true
    }

    package func relinked(_ record: ManifestRecord, at path: RelativePath) -> ManifestRecord {
        var record = record
        record.path = path
        record.hardlinkLeader = nil
        return record
    }
}
