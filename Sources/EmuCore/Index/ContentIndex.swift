import CEmuShims
import EmuPOSIX
import Glibc
import EmuRecords

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
///
/// A push's new entries wait in its staging area (`.emu/staging/index/`)
/// until its data is synced: an entry in the index always names bytes on
/// disk, so a power cut before the sync cannot leave an entry that later
/// pushes link to while its data never arrived, and a failed push's
/// entries go with its staging area.
package final class ContentIndex {
    package let root: DirectoryHandle
    /// Where a push puts the entries it adds, until `commitPending()`.
    package let pending: DirectoryHandle?
    private var buckets: [String: DirectoryHandle] = [:]
    /// Buckets found missing: none appears while a push runs (its own go to `pending`).
    private var missingBuckets: Set<String> = []
    package var pendingBuckets: [String: DirectoryHandle] = [:]

    package init(root: DirectoryHandle, pending: DirectoryHandle? = nil) {
        self.root = root
        self.pending = pending
    }

    /// The sink's index, made if missing; with `staging`, new entries go to
    /// its `index/` until committed.
    package static func open(in sink: Sink, staging: DirectoryHandle? = nil) throws -> ContentIndex {
        var pending: DirectoryHandle? = nil
        if let staging {
            try staging.makeDirectory(SinkLayout.index, permissions: 0o700)
            pending = try staging.openDirectory(SinkLayout.index)
        }
        return ContentIndex(root: try sink.indexDirectory(), pending: pending)
    }

    /// What makes two files one entry: their content and the digest of what
    /// lives in the inode. Two records with equal keys may share an inode.
    package struct Key: Hashable {
        package var content: ContentHash
        package var metadata: ContentHash

        package init(content: ContentHash, metadata: ContentHash) {
            self.content = content
            self.metadata = metadata
        }

        /// A regular file's key; nil without a hash.
        package init?(_ record: ManifestRecord) {
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
    package static func location(of record: ManifestRecord) -> (bucket: String, name: FileName)? {
        guard let key = Key(record) else { return nil }
        let hex = key.content.hex
        let name = hex + [ManifestFormat.dash] + key.metadata.hex.prefix(32)
        return (String(decoding: hex.prefix(2), as: UTF8.self), FileName(name))
    }

    package func bucket(_ name: String, create: Bool) throws -> DirectoryHandle? {
        if !create && missingBuckets.contains(name) { return nil }
        let bucket = try Self.bucket(name, in: root, cache: &buckets, create: create)
        if bucket == nil { missingBuckets.insert(name) } else { missingBuckets.remove(name) }
        return bucket
    }

    package static func bucket(_ name: String, in root: DirectoryHandle, cache: inout [String: DirectoryHandle], create: Bool) throws -> DirectoryHandle? {
        if let open = cache[name] { return open }
        do {
            let handle = try root.openDirectory(FileName(name))
            cache[name] = handle
            return handle
        } catch let error as FileSystemError where error.isMissing {
            guard create else { return nil }
            try root.makeDirectory(FileName(name), permissions: 0o755)
            return try bucket(name, in: root, cache: &cache, create: false)
        }
    }

    package enum Outcome {
        /// The sink held this content already: the file now is that inode.
        case linkedExisting
        /// New to the sink: the file's inode is now the index's.
        case indexed
    }

    /// Takes a file just written into a staging tree: when the sink (or this
    /// push) already holds its content and metadata, the file is replaced by
    /// that inode (its own copy is dropped); else the file becomes a pending
    /// entry. An entry that is not what its name promises (another type,
    /// size or metadata: a damaged or planted entry) is never adopted; the
    /// new copy replaces it when the push commits. At the link limit (EMLINK)
    /// the new copy becomes the entry instead.
    package func adopt(_ name: FileName, in directory: DirectoryHandle, record: ManifestRecord) throws -> Outcome {
        guard let (bucketName, entry) = Self.location(of: record), let pending else { return .indexed }
        if let bucket = try bucket(bucketName, create: false),
           try Self.takeOver(entry, in: bucket, root: root, for: name, in: directory, record: record) {
            return .linkedExisting
        }
        let pendingBucket = try Self.bucket(bucketName, in: pending, cache: &pendingBuckets, create: true)!
        do {
            try directory.link(name, to: pendingBucket, as: entry)
            return .indexed
        } catch let error as FileSystemError where error.alreadyExists {}
        // This push holds the content already: share its inode, unless that is unusable.
        if try Self.takeOver(entry, in: pendingBucket, root: pending, for: name, in: directory, record: record) {
            return .linkedExisting
        }
        // The entry there is unusable (at the link limit): this copy becomes the entry.
        let replacement = Self.scratchName
        try? pending.remove(replacement)
        try directory.link(name, to: pending, as: replacement)
        try pending.rename(replacement, to: pendingBucket, as: entry)
        return .indexed
    }

    /// Replaces `name` in `directory` by the inode `entry` names, when it is
    /// one the record may share; false when there is no such entry, it is at
    /// the link limit, or it does not match. The second name is made in the
    /// index root, not beside the file: no name in the source can collide
    /// with it. A kill leaves it behind; the next adoption replaces it.
    package static func takeOver(_ entry: FileName, in bucket: DirectoryHandle, root: DirectoryHandle,
                         for name: FileName, in directory: DirectoryHandle, record: ManifestRecord) throws -> Bool {
        let temporary = scratchName
        do {
            try bucket.link(entry, to: root, as: temporary)
        } catch let error as FileSystemError where error.alreadyExists {
            try root.remove(temporary)
            return try takeOver(entry, in: bucket, root: root, for: name, in: directory, record: record)
        } catch let error as FileSystemError where error.isMissing || error.isAtLinkLimit {
            return false
        }
        guard let status = try? root.status(temporary), matches(status, record) else {
            try root.remove(temporary)
            return false
        }
        CrashPoint.reach("push.after-index-link")
        try root.rename(temporary, to: directory, as: name)
        return true
    }

    /// Whether an entry's inode is one a file of `record` may be: a regular
    /// file of its size, mode and mtime (and owner, where emu sets owners).
    package static func matches(_ status: FileStatus, _ record: ManifestRecord) -> Bool {
        status.kind == .regular && status.size == record.size && status.permissions == record.permissions
            && status.modified == record.modified
            && (!EntryMetadata.isPrivileged || (status.owner == record.owner && status.group == record.group))
    }

    /// Moves a push's pending entries into the index, once its data is
    /// synced; an entry found unusable there is replaced. A bucket the index
    /// lacks (a first push) moves whole, in one rename.
    package func commitPending() throws {
        guard let pending else { return }
        for bucketEntry in try pending.entries() {
            guard let bucketName = Self.bucketName(bucketEntry.name) else { continue }
            if try bucket(bucketName, create: false) == nil {
                do {
                    try pending.rename(bucketEntry.name, to: root, as: bucketEntry.name, flags: EMU_RENAME_NOREPLACE)
                    continue
                } catch let error as FileSystemError where error.alreadyExists || error.isInvalidArgument {}
            }
            let source = try pending.openDirectory(bucketEntry.name)
            let target = try bucket(bucketName, create: true)!
            for entry in try source.entries() { try source.rename(entry.name, to: target, as: entry.name) }
        }
    }

    /// A bucket's name as text: two hex digits; nil for anything else (the `.link` scratch name).
    package static func bucketName(_ name: FileName) -> String? {
        guard name.bytes.count == 2, name.bytes.allSatisfy({ hexValue($0) != nil }) else { return nil }
        return String(validating: name.bytes, as: UTF8.self)
    }

    /// Whether `inode` is the one the index holds for this record.
    package func holds(_ record: ManifestRecord, inode: UInt64) -> Bool {
        guard let (bucketName, entry) = Self.location(of: record),
              let bucket = try? bucket(bucketName, create: false),
              let status = try? bucket.status(entry) else { return false }
        return status.inode == inode
    }

    /// Drops the entries of a deleted snapshot's files that nothing else holds.
    package func forget(recordsOf reader: RecordReader) throws -> Int {
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

    /// The name a second link is made under for a moment, in the index
    /// root: this process's own, since sinks that share an index push at once.
    package static let scratchName = FileName(".link.\(getpid())")

    /// Removes every entry nothing else holds (or counts them, for a dry
    /// run), and the scratch links of processes that were killed; for after
    /// an interruption, and for `emu clean`.
    @discardableResult
    package func sweep(dryRun: Bool = false) throws -> Int {
        for entry in try root.entries() where entry.name.bytes.starts(with: Array(".link.".utf8)) {
            let owner = Int32(String(decoding: entry.name.bytes.dropFirst(6), as: UTF8.self)) ?? 0
            if !dryRun && owner > 0 && kill(owner, 0) != 0 && errno == ESRCH { try? root.remove(entry.name) }
        }
        var dropped = 0
        try forEachEntry { bucket, entry, status in
            guard status.linkCount == 1 else { return }
            if !dryRun { try bucket.remove(entry) }
            dropped += 1
        }
        return dropped
    }

    /// Calls `body` with every entry, its bucket and its status.
    package func forEachEntry(_ body: (DirectoryHandle, FileName, FileStatus) throws -> Void) throws {
        for name in try root.entries().map(\.name).sorted() {
            guard let text = Self.bucketName(name), let bucket = try bucket(text, create: false) else { continue }
            for entry in try bucket.entries().map(\.name).sorted() {
                guard let status = try? bucket.status(entry), status.kind == .regular else { continue }
                try body(bucket, entry, status)
            }
        }
    }

    /// Makes sure a snapshot's file is findable: an entry for its content
    /// and metadata, linked to it when there is none (for repairs).
    package func ensure(_ record: ManifestRecord, name: FileName, in directory: DirectoryHandle, copier: DataCopier) throws -> Bool {
        guard let (bucketName, entry) = Self.location(of: record), let bucket = try bucket(bucketName, create: true) else { return false }
        if let existing = try? bucket.status(entry), Self.matches(existing, record) { return false }
        guard let status = try? directory.status(name), Self.matches(status, record),
              Self.holdsWhatItSays(name, in: directory, record: record, copier: copier) else { return false }
        try? bucket.remove(entry)
        do { try directory.link(name, to: bucket, as: entry) } catch let error as FileSystemError where error.isAtLinkLimit { return false }
        return true
    }
}

extension ContentIndex {
    /// Whether a file's bytes and xattrs are those its record names: a
    /// manifest may carry what a client claimed, and an index entry hands
    /// its inode to every later push of that content.
    package static func holdsWhatItSays(_ name: FileName, in directory: DirectoryHandle, record: ManifestRecord, copier: DataCopier) -> Bool {
        guard let (hash, length) = try? hashFile(name, in: directory, copier: copier) else { return false }
        let attributes = (try? ExtendedAttributes.read(.entry(directory, name))) ?? []  // none where unsupported
        return hash == record.content && length == record.size && attributesDigest(attributes) == record.attributes
    }

    /// The bytes the index's inodes take on disk: every distinct file the
    /// sink's snapshots hold, so at most what deleting all of them frees.
    package func storedBytes() throws -> Int64 {
        var total: Int64 = 0
        try forEachEntry { _, _, status in total += status.blocks * 512 }
        return total
    }
}
