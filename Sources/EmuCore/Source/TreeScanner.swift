import EmuPOSIX
import Glibc
import EmuRecords

/// A live tree read as a stream of records in path order (the order of
/// manifests), one directory's listing in memory per level of depth.
/// Records carry the entry's own metadata; content hashes are computed only
/// when asked for.
package final class TreeScanner: RecordReader {
    package var origin: RecordOrigin { .scannedTree }
    package struct Level {
        package let handle: DirectoryHandle
        /// Empty for a directory whose entries come from records.
        package let entries: [DirectoryEntry]
        package var index: Int
        package let path: RelativePath
        /// Its entries are the newest snapshot's records, not read (see `quiet`).
        package let isRecorded: Bool
        /// The recorded entry taken last, whose subtree (walked by now) the records pass over next.
        package var lastChild: RelativePath? = nil
    }

    package let root: DirectoryHandle
    package let filter: SourceFilter?
    package let oneFileSystem: Bool
    package var stack: [Level] = []
    package var startedRoot = false
    package var rootDevice: UInt64 = 0
    /// Entries that could not be read, with why.
    package var unreadable: [(RelativePath, Error)] = []
    /// Entries a source walk leaves out without being asked to, with why,
    /// until taken (see `takeNotes`).
    private var notes: [(RelativePath, String)] = []
    /// The directory holding the entry `next()` returned last (nil for the root).
    package private(set) var lastDirectory: DirectoryHandle? = nil
    /// The status of the entry `next()` returned last (its link count, which records do not keep).
    package private(set) var lastStatus: FileStatus? = nil
    /// The name of the entry `next()` returned last (nil for the root).
    package private(set) var lastName: FileName? = nil
    /// The directory `next()` returned last, when the walk entered it (nil
    /// for a directory it could not list or that lies on another filesystem).
    package private(set) var lastEntered: DirectoryHandle? = nil
    package let copier = DataCopier()
    /// `emu watch`'s knowledge of where nothing changed, and the newest
    /// snapshot's records read in step: a trusted directory's entries are
    /// taken from them (see `QuietDirectories`).
    package var quiet: (directories: QuietDirectories, records: ManifestCursor)? = nil

    package init(root: DirectoryHandle, filter: SourceFilter?, oneFileSystem: Bool = false) {
        self.root = root
        self.filter = filter
        self.oneFileSystem = oneFileSystem
    }

    /// The next name of a directory being walked, and its status when the
    /// newest snapshot's records give it (a quiet directory's); nil when the
    /// directory has no more.
    private func nextName(in level: inout Level) throws -> (FileName, FileStatus?)? {
        guard level.isRecorded else {
            guard level.index < level.entries.count else { return nil }
            level.index += 1
            return (level.entries[level.index - 1].name, nil)
        }
        if let last = level.lastChild { try quiet!.records.skip(within: last) }
        guard let child = try quiet!.records.nextChild(of: level.path), let name = child.path.lastName else { return nil }
        level.lastChild = child.path
        return (name, quiet!.directories.looksAt(child) ? nil : QuietDirectories.status(recordedIn: child, device: rootDevice))
    }

    package func next() throws -> ManifestRecord? {
        if !startedRoot {
            startedRoot = true
            let status = try root.status()
            rootDevice = status.device
            try enter(root, path: .root, status: status)
            (lastDirectory, lastStatus, lastEntered, lastName) = (nil, status, root, nil)
            return ManifestRecord(path: .root, status: status)
        }
        while var level = stack.popLast() {
            guard let (name, recorded) = try nextName(in: &level) else { continue }
            stack.append(level)
            let path = level.path.appending(name)
            if filter != nil, name.bytes.starts(with: CheckoutWalk.temporaryPrefix) {
                // Only a checkout makes these names, and a killed one leaves them: never the user's data.
                notes.append((path, "left out: a killed checkout's temporary file (the next checkout removes it)"))
                continue
            }
            let status: FileStatus
            do { status = try recorded ?? level.handle.status(name) } catch let error as FileSystemError where error.isMissing {
                continue
            } catch {
                unreadable.append((path, error))
                continue
            }
            if let filter, filter.leavesOut(path, status) { continue }
            lastDirectory = level.handle
            lastStatus = status
            lastEntered = nil
            lastName = name
            var record = ManifestRecord(path: path, status: status)
            switch status.kind {
            case .symlink:
                record.symlinkTarget = try? level.handle.readSymlink(name)
            case .characterDevice, .blockDevice:
                record.device = DeviceNumber(status.deviceNumber)
            case .directory where !(oneFileSystem && status.device != rootDevice):
                do {
                    let child = try level.handle.openDirectory(name)
                    try enter(child, path: path, status: status)
                    lastEntered = child
                } catch { unreadable.append((path, error)) }
            default:
                break
            }
            return record
        }
        return nil
    }

    private func enter(_ handle: DirectoryHandle, path: RelativePath, status: FileStatus) throws {
        if quiet != nil, quiet!.directories.trusts(path, record: try quiet!.records.record(at: path), status: status) {
            return stack.append(Level(handle: handle, entries: [], index: 0, path: path, isRecorded: true))
        }
        let entries = try handle.entries().sorted { $0.name < $1.name }
        stack.append(Level(handle: handle, entries: entries, index: 0, path: path, isRecorded: false))
    }

    /// What the walk left out since last asked, and why.
    package func takeNotes() -> [(RelativePath, String)] {
        guard !notes.isEmpty else { return [] }
        defer { notes = [] }
        return notes
    }

    /// The SHA-256 of a regular file of this tree, read now.
    package func contentHash(of path: RelativePath) throws -> ContentHash {
        try contentHash(path.lastName!, in: try root.openDirectory(path: path.parent))
    }

    /// The SHA-256 of `name` in `directory`, read now.
    package func contentHash(_ name: FileName, in directory: DirectoryHandle) throws -> ContentHash {
        try hashFile(name, in: directory, copier: copier).0
    }

    /// The digest of an entry's xattrs and ACLs, read now.
    package func attributesDigestOf(_ path: RelativePath, kind: FileKind) throws -> ContentHash? {
        if path.isRoot { return try attributesDigest(nil, in: root, kind: .directory) }
        return try attributesDigest(path.lastName!, in: try root.openDirectory(path: path.parent), kind: kind)
    }

    /// The digest of the xattrs and ACLs of `name` in `directory` (of
    /// `directory` itself when `name` is nil).
    package func attributesDigest(_ name: FileName?, in directory: DirectoryHandle, kind: FileKind) throws -> ContentHash? {
        guard let name else {
            return EmuRecords.attributesDigest(try ExtendedAttributes.read(.file(directory.file)))
        }
        switch kind {
        case .regular:
            let fd = try directory.openForReading(name)
            defer { fd.close() }
            return EmuRecords.attributesDigest(try ExtendedAttributes.read(.file(fd)))
        case .directory:
            let child = try directory.openDirectory(name)
            return EmuRecords.attributesDigest(try ExtendedAttributes.read(.file(child.file)))
        default:
            return EmuRecords.attributesDigest((try? ExtendedAttributes.read(.entry(directory, name))) ?? [])
        }
    }
}
