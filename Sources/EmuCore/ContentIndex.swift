import EmuPOSIX
import Glibc

/// The sink-wide content index: for every distinct (content, metadata) pair
/// the sink stores, one hardlink to an inode that holds it, named
///
///     SINK/.emu/index/XX/<sha256>-<metadata digest>
///
/// where XX is the first two hex digits of the SHA-256, and the metadata
/// digest covers what lives in the inode (mode, owner, group, mtime, xattrs
/// and ACLs): two files that differ in any of it never share an inode. The
/// filesystem is the database: a lookup is one linkat(2), and `ls` shows it.
/// An entry whose inode no snapshot holds any more (link count 1) is garbage.
final class ContentIndex {
    let root: DirectoryHandle
    private var buckets: [String: DirectoryHandle] = [:]

    init(root: DirectoryHandle) { self.root = root }

    /// The sink's index, made if missing.
    static func open(in sink: Sink) throws -> ContentIndex {
        if (try? sink.metadata.status(FileName("index")))?.kind != .directory {
            try sink.metadata.makeDirectory(FileName("index"), permissions: 0o755)
        }
        return ContentIndex(root: try sink.metadata.openDirectory(FileName("index")))
    }

    /// What makes two files one entry: their content and the digest of what
    /// lives in the inode. Two records with equal keys may share an inode.
    struct Key: Hashable {
        var content: ContentHash
        var metadata: ContentHash

        init(content: ContentHash, metadata: ContentHash) {
            self.content = content
            self.metadata = metadata
        }

        /// A regular file's key; nil without a hash.
        init?(_ record: ManifestRecord) {
            guard record.kind == .regular, let content = record.content else { return nil }
            var hasher = ContentHasher()
            var line: [UInt8] = []
            ManifestFormat.appendDecimal(record.permissions, to: &line)
            line.append(0x20)
            ManifestFormat.appendDecimal(record.owner, to: &line)
            line.append(0x20)
            ManifestFormat.appendDecimal(record.group, to: &line)
            line.append(0x20)
            ManifestFormat.appendTime(record.modified, to: &line)
            line.append(0x20)
            line += record.attributes?.hex ?? [ManifestFormat.dash]
            hasher.update(line)
            self.content = content
            metadata = hasher.finalize()
        }
    }

    /// The entry's bucket and name for a regular file's record; nil without a hash.
    static func location(of record: ManifestRecord) -> (bucket: String, name: FileName)? {
        guard let key = Key(record) else { return nil }
        let hex = key.content.hex
        let name = hex + [ManifestFormat.dash] + key.metadata.hex.prefix(32)
        return (String(decoding: hex.prefix(2), as: UTF8.self), FileName(name))
    }

    func bucket(_ name: String, create: Bool) throws -> DirectoryHandle? {
        if let open = buckets[name] { return open }
        do {
            let handle = try root.openDirectory(FileName(name))
            buckets[name] = handle
            return handle
        } catch let error as FileSystemError where error.errno == .noSuchFileOrDirectory {
            guard create else { return nil }
            try root.makeDirectory(FileName(name), permissions: 0o755)
            return try bucket(name, create: false)
        }
    }

    enum Outcome {
        /// The sink held this content already: the file now is that inode.
        case linkedExisting
        /// New to the sink: the file's inode is now the index's.
        case indexed
    }

    /// Takes a file just written into a staging tree: when the sink already
    /// holds its content and metadata, the file is replaced by that inode
    /// (its own copy is dropped); else the file becomes the index's entry.
    /// At the link limit (EMLINK) the new copy becomes the entry instead.
    func adopt(_ name: FileName, in directory: DirectoryHandle, record: ManifestRecord) throws -> Outcome {
        guard let (bucketName, entry) = Self.location(of: record), let bucket = try bucket(bucketName, create: true) else {
            return .indexed
        }
        // The second name is made in the index root, not beside the file: no
        // name in the source can collide with it. A kill leaves it behind;
        // the next adoption replaces it.
        let temporary = FileName(".link")
        do {
            try bucket.link(entry, to: root, as: temporary)
        } catch let error as FileSystemError where error.errno == .fileExists {
            try root.remove(temporary)
            try bucket.link(entry, to: root, as: temporary)
        } catch let error as FileSystemError where error.errno == .noSuchFileOrDirectory {
            try directory.link(name, to: bucket, as: entry)
            return .indexed
        } catch let error as FileSystemError where error.errno == .tooManyLinks {
            let replacement = FileName(".link")
            try? root.remove(replacement)
            try directory.link(name, to: root, as: replacement)
            try root.rename(replacement, to: bucket, as: entry)
            return .indexed
        }
        CrashPoint.reach("push.after-index-link")
        try root.rename(temporary, to: directory, as: name)
        return .linkedExisting
    }

    /// Whether `inode` is the one the index holds for this record.
    func holds(_ record: ManifestRecord, inode: UInt64) -> Bool {
        guard let (bucketName, entry) = Self.location(of: record),
              let bucket = try? bucket(bucketName, create: false),
              let status = try? bucket.status(entry) else { return false }
        return status.inode == inode
    }

    /// Drops the entries of a deleted snapshot's files that nothing else holds.
    func forget(recordsOf reader: RecordReader) throws -> Int {
        var dropped = 0
        while let record = try reader.next() {
            guard record.hardlinkLeader == nil, let (bucketName, entry) = Self.location(of: record),
                  let bucket = try bucket(bucketName, create: false),
                  let status = try? bucket.status(entry), status.linkCount == 1 else { continue }
            try bucket.remove(entry)
            dropped += 1
        }
        return dropped
    }

    /// Removes every entry nothing else holds (or counts them, for a dry
    /// run); for after an interruption, and for `emu clean`.
    @discardableResult
    func sweep(dryRun: Bool = false) throws -> Int {
        var dropped = 0
        try forEachEntry { bucket, entry, status in
            guard status.linkCount == 1 else { return }
            if !dryRun { try bucket.remove(entry) }
            dropped += 1
        }
        return dropped
    }

    /// Calls `body` with every entry, its bucket and its status.
    func forEachEntry(_ body: (DirectoryHandle, FileName, FileStatus) throws -> Void) throws {
        for name in try root.entries().map(\.name).sorted() {
            // Buckets are two hex digits; anything else (the `.link` scratch name) is not one.
            guard name.bytes.count == 2, name.bytes.allSatisfy({ hexValue($0) != nil }),
                  let text = String(validating: name.bytes, as: UTF8.self), let bucket = try bucket(text, create: false) else { continue }
            for entry in try bucket.entries().map(\.name).sorted() {
                guard let status = try? bucket.status(entry), status.kind == .regular else { continue }
                try body(bucket, entry, status)
            }
        }
    }

    /// Makes sure a snapshot's file is findable: an entry for its content
    /// and metadata, linked to it when there is none (for repairs).
    func ensure(_ record: ManifestRecord, name: FileName, in directory: DirectoryHandle) throws -> Bool {
        guard let (bucketName, entry) = Self.location(of: record), let bucket = try bucket(bucketName, create: true) else { return false }
        if (try? bucket.status(entry)) != nil { return false }
        do { try directory.link(name, to: bucket, as: entry) } catch let error as FileSystemError where error.errno == .tooManyLinks { return false }
        return true
    }
}
