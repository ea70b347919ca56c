import EmuPOSIX
import Glibc
import SystemPackage

/// Copies a source tree into a staging tree, entry by entry in path order,
/// writing the manifest as it goes. A regular file whose metadata matches
/// an earlier snapshot's record is linked to that snapshot's inode without
/// being read; any other is created here and copied and hashed in one read
/// by the `PushFinisher`, on the second core, which also writes the records.
/// (A dry run is `countedPush`: it walks as the push over ssh does and counts.)
final class Archiver {
    /// An earlier tree and its manifest, read in step with the walk.
    struct Base {
        let tree: DirectoryHandle
        var records: ManifestCursor
        /// A killed push's leftovers, which no snapshot holds.
        let isResume: Bool
        /// As the records' origin says, or the quick check for an import.
        var changeTest: ChangeTest

        init(tree: DirectoryHandle, reader: RecordReader, isResume: Bool = false) {
            self.tree = tree
            records = ManifestCursor(reader)
            self.isResume = isResume
            changeTest = reader.origin.changeTest
        }

        func isUnchanged(_ record: ManifestRecord, comparedTo status: FileStatus) -> Bool {
            changeTest.isUnchanged(record, comparedTo: status)
        }
    }

    struct Settings {
        var filter = SourceFilter()
        var oneFileSystem = false
        var checksum = false
        /// An import: a new file is the backup's own inode, linked into the
        /// staging tree and read once for its hash, not copied (see `adopt`).
        var adoptsFiles = false
        /// `emu watch`'s knowledge of where nothing changed (see `QuietDirectories`).
        var quiet: QuietDirectories? = nil
    }

    let settings: Settings
    let staging: DirectoryHandle
    var bases: [Base]
    /// Each base's directory at the walk's current path.
    var earlier: [EarlierDirectory] = []
    /// For --checksum's reads.
    let copier = DataCopier()
    /// Fills files, finishes directories and writes records on the second core.
    let finisher: PushFinisher
    var leaders: [FileIdentity: ManifestRecord] = [:]
    /// The walk's counts (directories, symlinks, specials, links); the
    /// finisher's are added when the walk ends.
    var counts = Snapshot.Counts()
    /// Allocated bytes of the inodes no snapshot held before: copied files,
    /// and files taken over from a killed push's leftovers.
    var bytesOwned: Int64 = 0
    /// Whether a file was linked to an inode found through the index (which
    /// may belong to any snapshot, whose unique bytes then change).
    var reusedFromIndex = false
    var rootDevice: UInt64 = 0
    /// Whether the sink shares extents (see `reflinkedCopy`); nil until tried.
    var sharesExtents: Bool? = nil
    /// Whether entries made in the staging tree take this process's owner
    /// and group (not a setgid staging root's group): then a chown is
    /// needed only for entries owned by others.
    let createsAsSelf: Bool

    init(settings: Settings, observer: PushObserver, staging: DirectoryHandle, writer: ManifestWriter, bases: [Base], index: ContentIndex) {
        self.settings = settings
        self.staging = staging
        self.bases = bases
        if settings.adoptsFiles { for i in self.bases.indices { self.bases[i].changeTest = .quickCheck } }
        // Directories are made without setgid or ACLs (those come last), so only the root's matter.
        createsAsSelf = EntryMetadata.Created.handsDownNothing(staging)
        finisher = PushFinisher(PushFinisher.State(writer: writer, index: index, observer: observer, createsAsSelf: createsAsSelf))
    }

    func archive(_ root: DirectoryHandle) throws {
        let status = try root.status()
        rootDevice = status.device
        let (record, attributes) = try directoryRecord(root, path: .root, status: status)
        try finisher.submit(.record(record, isFile: false))
        earlier = bases.map { EarlierDirectory(root: $0.tree) }
        try archiveChildren(of: root, into: staging, path: .root, status: status)
        try finisher.submit(.directory(.root, FinishedDirectory(target: staging, source: LocalTreeDirectory(root),
                                                                metadata: EntryMetadata(record, attributes: attributes))))
        try finisher.finish()
        let finished = finisher.state
        counts += finished.counts
        bytesOwned += finished.bytesOwned
        reusedFromIndex = finished.reusedFromIndex
    }

    // MARK: Walking

    func archiveChildren(of source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        if try archiveQuietChildren(of: source, into: target, path: path, status: status) { return }
        let entries: [DirectoryEntry]
        do { entries = try source.entries().sorted { $0.name < $1.name } } catch let error where isSourceError(error) {
            try skip(path, error)
            return
        }
        for entry in entries {
            let childPath = path.appending(entry.name)
            if entry.name.bytes.starts(with: CheckoutWalk.temporaryPrefix) {
                // Only a checkout makes these names, and a killed one leaves them: never the user's data.
                try finisher.submit(.noted(childPath, "left out: a killed checkout's temporary file (the next checkout removes it)"))
                continue
            }
            let status: FileStatus
            do { status = try source.status(entry.name) } catch let error as FileSystemError where error.isMissing {
                continue  // removed since the directory was read
            } catch let error where isSourceError(error) {
                try skip(childPath, error)
                continue
            }
            try archiveEntry(entry.name, in: source, into: target, path: childPath, status: status)
        }
    }

    /// One entry of a directory, by its kind; the filter may leave it out.
    func archiveEntry(_ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        if settings.filter.leavesOut(path, status) { return }
        do {
            switch status.kind {
            case .regular: try archiveFile(name, in: source, into: target, path: path, status: status)
            case .directory: try archiveDirectory(name, in: source, into: target, path: path, status: status)
            case .symlink: try archiveSymlink(name, in: source, into: target, path: path, status: status)
            case .fifo, .characterDevice, .blockDevice:
                try archiveSpecial(name, in: source, into: target, path: path, status: status)
            case .socket: try finisher.submit(.noted(path, "socket skipped (a socket cannot be restored)"))
            case .unknown: try finisher.submit(.noted(path, "skipped: unknown file type"))
            }
        } catch let error where isSourceError(error) {
            // A half-copied file goes; a directory stays, with what its records say it holds.
            if status.kind != .directory { try? target.remove(name) }
            try skip(path, error)
        }
    }

    func skip(_ path: RelativePath, _ error: Error) throws {
        try finisher.submit(.skipped(path, error))
    }

    /// The first earlier record of `path`, advancing every base.
    func previousRecords(at path: RelativePath) -> [(base: Int, record: ManifestRecord)] {
        var found: [(Int, ManifestRecord)] = []
        for i in bases.indices {
            // A damaged earlier manifest is used up to its damage; what follows it is copied, never linked on a guess.
            if let record = (try? bases[i].records.record(at: path)) ?? nil { found.append((i, record)) }
        }
        return found
    }

    // MARK: Directories

    /// A directory's record and its attributes, read only when its ctime
    /// moved or the last record says it had some.
    func directoryRecord(_ directory: DirectoryHandle, path: RelativePath, status: FileStatus) throws -> (ManifestRecord, [ExtendedAttribute]) {
        var record = ManifestRecord(path: path, status: status)
        let previous = previousRecords(at: path).first?.record
        let attributes: [ExtendedAttribute]
        if let previous, previous.kind == .directory, previous.isUnchanged(comparedTo: status), previous.attributes == nil {
            attributes = []
        } else {
            attributes = try ExtendedAttributes.read(.file(directory.file))
        }
        record.attributes = attributesDigest(attributes)
        counts.directories += 1
        return (record, attributes)
    }

    func archiveDirectory(_ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        let child = try source.openDirectory(name)
        let (record, attributes) = try directoryRecord(child, path: path, status: status)
        try finisher.submit(.record(record, isFile: false))
        let initialPermissions = EntryMetadata.Created.initialPermissions(for: status.permissions, isDirectory: true)
        try target.makeDirectory(name, permissions: initialPermissions)
        let childTarget = try target.openDirectory(name)
        if !(settings.oneFileSystem && status.device != rootDevice) {
            let parents = earlier
            earlier = parents.map { EarlierDirectory(parent: $0, name: name) }
            defer { earlier = parents }
            try archiveChildren(of: child, into: childTarget, path: path, status: status)
        }
        try finisher.submit(.directory(path, FinishedDirectory(target: childTarget, source: LocalTreeDirectory(child),
                                                               metadata: EntryMetadata(record, attributes: attributes),
                                                               created: .made(with: initialPermissions, handsDownNothing: createsAsSelf))))
    }

    // MARK: Regular files

    func archiveFile(_ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        // Only a file with other names can be met again: only those are remembered.
        let identity = status.linkCount > 1 ? FileIdentity(status) : nil
        if let identity, try linkToEarlierName(name, into: target, path: path, identity: identity) { return }
        let previous = previousRecords(at: path)
        if try reuse(previous, name, in: source, into: target, path: path, status: status, identity: identity) { return }
        if settings.adoptsFiles, try adopt(name, from: source, into: target, path: path, identity: identity) { return }
        try copy(name, from: source, into: target, path: path, status: status, identity: identity, previous: previous)
    }

    /// Another name of a file already archived in this push: one more link.
    /// False at the sink's link limit: this name then gets its own inode.
    func linkToEarlierName(_ name: FileName, into target: DirectoryHandle, path: RelativePath, identity: FileIdentity) throws -> Bool {
        guard let leader = leaders[identity] else { return false }
        do {
            try staging.link(path: leader.path, to: target, as: name)
        } catch let error as FileSystemError where error.isAtLinkLimit {
            return false
        }
        var record = leader
        record.path = path
        record.hardlinkLeader = leader.path
        try finishFile(record, identity: nil)
        return true
    }

    /// Links the file to an earlier snapshot's copy when that copy is
    /// still what the source holds; true when it is handled so.
    func reuse(_ previous: [(base: Int, record: ManifestRecord)], _ name: FileName, in source: DirectoryHandle, into target: DirectoryHandle,
               path: RelativePath, status: FileStatus, identity: FileIdentity?) throws -> Bool {
        if !settings.checksum, identity == nil {
            // The finisher links it (the second core makes the links), or copies it if no earlier tree still holds it.
            let candidates = previous.compactMap { base, record in
                record.kind == .regular && bases[base].isUnchanged(record, comparedTo: status)
                    ? earlier[base].handle().map { ($0, record, bases[base].isResume) } : nil
            }
            guard !candidates.isEmpty else { return false }
            try finisher.submit(.link(.init(name: name, path: path, source: source, target: target, status: status, candidates: candidates)))
            return true
        } else if !settings.checksum {
            // A file with other names (later names must find its inode in place): linked now.
            for (base, record) in previous where record.kind == .regular && bases[base].isUnchanged(record, comparedTo: status) {
                if bases[base].isResume, let directory = earlier[base].handle(),
                   !resumedCopyIsIntact(name, in: directory, record: record, copier: copier) { continue }
                if try link(record, from: base, into: target, as: name) {
                    counts.filesLinked += 1
                    if bases[base].isResume { bytesOwned += record.size }
                    try finishFile(relinked(record, at: path), identity: identity)
                    return true
                }
            }
        } else if let (base, record) = previous.first, record.kind == .regular, record.size == status.size {
            // --checksum: read the bytes and the attributes, link only when both match.
            let candidate = try hashed(name, in: source, path: path)
            if candidate.hasSameContentAndMetadata(as: record), try link(record, from: base, into: target, as: name) {
                counts.filesLinked += 1
                try finishFile(relinked(candidate, at: path), identity: identity)
                return true
            }
        }
        return false
    }

    /// The walk makes the file; the finisher fills it.
    func copy(_ name: FileName, from source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath, status: FileStatus,
              identity: FileIdentity?, previous: [(base: Int, record: ManifestRecord)]) throws {
        var job = try PushFinisher.FillJob.begin(name, path: path, source: source, target: target, status: status,
                                                 previousContent: previous.first.map { $0.record.content })
        guard let identity else {
            // The walk copies in the kernel and the finisher reads for the hash: the two cores share the bytes.
            do {
                // The walk's status stands for the open file's: the finisher's
                // after the copy must show the same inode, size and times, or
                // the file is read again (so one fstat a new file is saved).
                let before = status
                if let patched = try reflinkedCopy(&job, before: before, previous: previous) {
                    job.copied = patched
                } else {
                    let length = try copier.copyInKernel(from: job.input, to: job.output, sourceStatus: before)
                    let hashesHere = length >= PushFinisher.largeFile && finisher.isBehindOnHashing
                    job.copied = (before, length, hashesHere ? try hash(job.input, length: length, status: before) : nil)
                }
            } catch {
                // What was opened is not the file the walk saw (replaced by a directory, say): the source's error, not the sink's.
                let opened = try? job.input.status()
                job.close()
                if let opened, opened.kind != .regular || opened.inode != status.inode {
                    throw FileSystemError("copy", job.input.path, .invalidArgument, origin: .source)
                }
                throw error
            }
            return try finisher.submit(.fill(job))
        }
        // Later names of this file link to the inode it ends up with: fill it now.
        if let record = try finisher.fillNow(job) { leaders[identity] = record }
    }

    /// The content of a large file the walk just copied, when the finisher is
    /// behind on hashing, read from the source; nil when fewer bytes came
    /// back (it shrank: the finisher reads it again).
    func hash(_ input: OpenFile, length: Int64, status: FileStatus) throws -> ContentHash? {
        var hasher = ContentHasher()
        let hashed = try copier.copy(from: input, to: nil, sourceStatus: status) { hasher.update($0) }
        return hashed == length ? hasher.finalize() : nil
    }

    func relinked(_ record: ManifestRecord, at path: RelativePath) -> ManifestRecord {
        var record = record
        record.path = path
        record.hardlinkLeader = nil
        return record
    }

    /// Links an earlier snapshot's file (at the walk's current path) into the staging tree; false when
    /// that file is gone or has reached the link limit (then it is copied).
    func link(_ record: ManifestRecord, from base: Int, into target: DirectoryHandle, as name: FileName) throws -> Bool {
        guard let directory = earlier[base].handle() else { return false }
        do {
            try directory.link(name, to: target, as: name)
            return true
        } catch let error as FileSystemError where error.isAtLinkLimit || error.isMissing {
            return false
        }
    }

    /// Writes a linked file's record; `identity` is given for a file with
    /// other names, which later names link to.
    func finishFile(_ record: ManifestRecord, identity: FileIdentity?) throws {
        try finisher.submit(.record(record, isFile: true))
        if let identity, record.hardlinkLeader == nil { leaders[identity] = record }
    }

    /// Reads a file once for its hash and attributes, for --checksum.
    func hashed(_ name: FileName, in source: DirectoryHandle, path: RelativePath) throws -> ManifestRecord {
        let (content, length) = try hashFile(name, in: source, copier: copier)
        let input = try source.openForReading(name)
        defer { input.close() }
        var record = ManifestRecord(path: path, status: try input.status())
        record.size = length
        record.content = content
        record.attributes = attributesDigest(try ExtendedAttributes.read(.file(input)))
        return record
    }
}
