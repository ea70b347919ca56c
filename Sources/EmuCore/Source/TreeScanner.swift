import EmuPOSIX
import Glibc

/// A live tree read as a stream of records in path order (the order of
/// manifests), one directory's listing in memory per level of depth.
/// Records carry the entry's own metadata; content hashes are computed only
/// when asked for.
final class TreeScanner: RecordReader {
    var origin: RecordOrigin { .scannedTree }
    struct Level {
        let handle: DirectoryHandle
        let entries: [DirectoryEntry]
        var index: Int
        let path: RelativePath
    }

    let root: DirectoryHandle
    let filter: SourceFilter?
    let oneFileSystem: Bool
    var stack: [Level] = []
    var startedRoot = false
    var rootDevice: UInt64 = 0
    /// Entries that could not be read, with why.
    var unreadable: [(RelativePath, Error)] = []
    /// The directory holding the entry `next()` returned last (nil for the root).
    private(set) var lastDirectory: DirectoryHandle? = nil
    /// The status of the entry `next()` returned last (its link count, which records do not keep).
    private(set) var lastStatus: FileStatus? = nil
    let copier = DataCopier()

    init(root: DirectoryHandle, filter: SourceFilter?, oneFileSystem: Bool = false) {
        self.root = root
        self.filter = filter
        self.oneFileSystem = oneFileSystem
    }

    func next() throws -> ManifestRecord? {
        if !startedRoot {
            startedRoot = true
            let status = try root.status()
            rootDevice = status.device
            try enter(root, path: .root)
            lastDirectory = nil
            return ManifestRecord(path: .root, status: status)
        }
        while var level = stack.popLast() {
            guard level.index < level.entries.count else { continue }
            let entry = level.entries[level.index]
            level.index += 1
            stack.append(level)
            let path = level.path.appending(entry.name)
            let status: FileStatus
            do { status = try level.handle.status(entry.name) } catch let error as FileSystemError where error.isMissing {
                continue
            } catch {
                unreadable.append((path, error))
                continue
            }
            if let filter, filter.leavesOut(path, status) { continue }
            lastDirectory = level.handle
            lastStatus = status
            var record = ManifestRecord(path: path, status: status)
            switch status.kind {
            case .symlink:
                record.symlinkTarget = try? level.handle.readSymlink(entry.name)
            case .characterDevice, .blockDevice:
                record.device = DeviceNumber(status.deviceNumber)
            case .directory where !(oneFileSystem && status.device != rootDevice):
                do { try enter(try level.handle.openDirectory(entry.name), path: path) } catch { unreadable.append((path, error)) }
            default:
                break
            }
            return record
        }
        return nil
    }

    private func enter(_ handle: DirectoryHandle, path: RelativePath) throws {
        let entries = try handle.entries().sorted { $0.name < $1.name }
        stack.append(Level(handle: handle, entries: entries, index: 0, path: path))
    }

    /// The SHA-256 of a regular file of this tree, read now.
    func contentHash(of path: RelativePath) throws -> ContentHash {
        try contentHash(path.lastName!, in: try root.openDirectory(path: path.parent))
    }

    /// The SHA-256 of `name` in `directory`, read now.
    func contentHash(_ name: FileName, in directory: DirectoryHandle) throws -> ContentHash {
        try hashFile(name, in: directory, copier: copier).0
    }

    /// The digest of an entry's xattrs and ACLs, read now.
    func attributesDigestOf(_ path: RelativePath, kind: FileKind) throws -> ContentHash? {
        if path.isRoot { return try attributesDigest(nil, in: root, kind: .directory) }
        return try attributesDigest(path.lastName!, in: try root.openDirectory(path: path.parent), kind: kind)
    }

    /// The digest of the xattrs and ACLs of `name` in `directory` (of
    /// `directory` itself when `name` is nil).
    func attributesDigest(_ name: FileName?, in directory: DirectoryHandle, kind: FileKind) throws -> ContentHash? {
        guard let name else {
            return EmuCore.attributesDigest(try ExtendedAttributes.read(.file(directory.file)))
        }
        switch kind {
        case .regular:
            let fd = try directory.openForReading(name)
            defer { fd.close() }
            return EmuCore.attributesDigest(try ExtendedAttributes.read(.file(fd)))
        case .directory:
            let child = try directory.openDirectory(name)
            return EmuCore.attributesDigest(try ExtendedAttributes.read(.file(child.file)))
        default:
            return EmuCore.attributesDigest((try? ExtendedAttributes.read(.entry(directory, name))) ?? [])
        }
    }
}
