import EmuPOSIX
import Glibc
import EmuRecords

extension SinkStore {
    /// A digest of everything a snapshot holds at or below `path` (content,
    /// type, targets, modes, owners, mtimes, attributes; not the source's
    /// ctimes and inodes), or nil when it holds nothing there. Two snapshots
    /// with equal digests hold the same thing at `path`. (An emu 0.2.5
    /// snapshot has no manifest: its tree is scanned, without hashes.)
    public func digest(of path: RelativePath, in snapshot: Snapshot) throws -> ContentHash? {
        let reader = try openRecords(snapshot)
        var hasher = ContentHasher()
        var found = false
        var line: [UInt8] = []
        while var record = try reader.next() {
            if record.path.isWithin(path) {
                found = true
                record.changed = FileTime(seconds: 0, nanoseconds: 0)
                record.inode = 0
                line.removeAll(keepingCapacity: true)
                ManifestFormat.encode(record, into: &line)
                hasher.update(line)
            } else if path < record.path {
                break
            }
        }
        return found ? hasher.finalize() : nil
    }
}

extension Sink {
    /// Writes the bytes of a regular file of `snapshot` to `output`.
    public func copyFile(_ path: RelativePath, of snapshot: Snapshot, to output: OpenFile) throws {
        let (directory, name) = try openTree(snapshot).parentAndName(of: path)
        let input = try directory.openForReading(name)
        defer { input.close() }
        try DataCopier().stream(from: input, to: output)
    }

    /// Bytes of the files only this snapshot holds: what deleting it frees.
    /// Read from the record when known, else counted from the tree's link
    /// counts and remembered in the record.
    public func uniqueBytes(of snapshot: Snapshot) throws -> Int64? {
        if let known = snapshot.uniqueBytes { return known }
        guard hasManifest(snapshot) else { return nil }
        var members: [RelativePath: UInt64] = [:]
        let first = try openManifest(snapshot)
        while let record = try first.next() {
            if let leader = record.hardlinkLeader { members[leader, default: 0] += 1 }
        }
        let tree = DirectoryCursor(root: try openTree(snapshot))
        let reader = try openManifest(snapshot)
        let index = try ContentIndex.open(in: self)
        var unique: Int64 = 0
        while let record = try reader.next() {
            guard record.kind == .regular, record.hardlinkLeader == nil,
                  let status = try? tree.status(record.path) else { continue }
            // Its names here, and the index's link when the index holds this inode.
            let names = 1 + (members[record.path] ?? 0) + (index.holds(record, inode: status.inode) ? 1 : 0)
            if status.linkCount <= names { unique += record.size }
        }
        cacheInRecord(of: snapshot) { $0["Tree", "unique-size"] = String(unique) }
        return unique
    }

    /// Remembers a computed value in a snapshot's record, only under the
    /// sink's exclusive lock: a command that only reads holds none, so it
    /// takes the lock for the moment of the write and skips it (the value is
    /// a cache) when another emu holds the lock or the sink is read-only.
    /// Under the lock a record that prune removed meanwhile stays removed.
    package func cacheInRecord(of snapshot: Snapshot, _ change: (inout INIDocument) -> Void) {
        if lock?.mode == .exclusive {
            try? updateRecord(of: snapshot, change)
            return
        }
        guard lock == nil, let held = try? FileLock.acquire(in: metadata, name: SinkLayout.lock, mode: .exclusive, wait: 0) else { return }
        withExtendedLifetime(held) { try? updateRecord(of: snapshot, change) }
    }

    /// Rewrites a snapshot's record in place (replaced whole, by rename). A
    /// sink opened read-only keeps its records as they are: what is written
    /// here (a cached size, a verify's result) a reader can do without.
    package func updateRecord(of snapshot: Snapshot, _ change: (inout INIDocument) -> Void) throws {
        guard writable else { return }
        let nodes = try metadata.openDirectory(SinkLayout.nodes)
        guard let text = try MetadataFile.read(in: nodes, snapshot.id) else { return }
        var node = try INIDocument(parsing: text)
        change(&node)
        try MetadataFile.write(in: nodes, snapshot.id, node.text)
    }

    /// Forgets what these snapshots alone hold: a push linked to their files,
    /// or a neighbour that shared them was deleted.
    package func forgetUniqueBytes(of snapshots: [Snapshot]) throws {
        for snapshot in snapshots where snapshot.uniqueBytes != nil {
            try updateRecord(of: snapshot) { $0["Tree", "unique-size"] = nil }
        }
    }
}
