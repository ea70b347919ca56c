import EmuPOSIX
import EmuRecords

/// Lookups for a push over ssh, which asks the index before it sends a
/// file's bytes (see `PushReceiver.answerQuery`): a renamed or restored
/// file's inode is found by content and metadata and linked; a copied one
/// (same bytes, another mtime or mode) by content alone, and copied on
/// the server; only content the sink lacks crosses the wire.
extension ContentIndex {
    package enum Holding: UInt8 {
        /// An inode with this content and metadata, which the file may share.
        case inode = 0x4C  // "L"
        /// This content under other metadata: the server copies it.
        case content = 0x43  // "C"
        /// Nothing: the bytes must be sent.
        case nothing = 0x53  // "S"
    }

    /// What the index (or this push's pending entries) holds for a record with a hash.
    package func holding(_ record: ManifestRecord) throws -> Holding {
        guard let (bucketName, entry) = Self.location(of: record) else { return .nothing }
        for (bucket, _) in try buckets(bucketName) {
            if let status = try? bucket.status(entry), Self.matches(status, record), status.linkCount < Self.sharingLimit { return .inode }
        }
        // Content under other metadata is found by listing a bucket (1/256 of the index, every sink's under a
        // shared root): worth it for a file whose bytes cost more to send than the listing costs to read.
        guard record.size >= Self.smallestCopied else { return .nothing }
        return try self.entry(withContentOf: record) == nil ? .nothing : .content
    }

    package static let smallestCopied: Int64 = 64 * 1024

    /// Links the inode the index holds for `record` as `name` in `directory`; false when it cannot be shared.
    package func linkHeld(_ record: ManifestRecord, as name: FileName, in directory: DirectoryHandle) throws -> Bool {
        guard let (bucketName, entry) = Self.location(of: record) else { return false }
        for (bucket, root) in try buckets(bucketName) {
            if try Self.takeOver(entry, in: bucket, root: root, for: name, in: directory, record: record) { return true }
        }
        return false
    }

    /// Some entry whose bytes are `record`'s content, whatever its metadata:
    /// its bucket and name. Lists the bucket (1/256 of the index).
    package func entry(withContentOf record: ManifestRecord) throws -> (DirectoryHandle, FileName)? {
        guard let (bucketName, entry) = Self.location(of: record) else { return nil }
        let prefix = Array(entry.bytes.prefix { $0 != ManifestFormat.dash }) + [ManifestFormat.dash]
        for (bucket, _) in try buckets(bucketName) {
            for candidate in try bucket.entries() where candidate.name.bytes.starts(with: prefix) {
                guard let status = try? bucket.status(candidate.name), status.kind == .regular, status.size == record.size else { continue }
                return (bucket, candidate.name)
            }
        }
        return nil
    }

    /// The index's bucket of this name, then this push's pending one (those
    /// that exist), each with the directory its scratch links are made in.
    package func buckets(_ name: String) throws -> [(bucket: DirectoryHandle, root: DirectoryHandle)] {
        var found: [(DirectoryHandle, DirectoryHandle)] = []
        if let bucket = try bucket(name, create: false) { found.append((bucket, root)) }
        if let pending, let bucket = try Self.bucket(name, in: pending, cache: &pendingBuckets, create: false) { found.append((bucket, pending)) }
        return found
    }

    /// Below the link limit of every filesystem emu writes to (ext4's is 65,000).
    package static let sharingLimit: UInt64 = 60_000
}
