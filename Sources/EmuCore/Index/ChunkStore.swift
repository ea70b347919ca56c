import CEmuShims
import CZstd
import EmuPOSIX
import Glibc
import EmuRecords

/// Where a sink keeps the chunks of its manifests, each once, named by the
/// SHA-256 of its text and compressed with zstd (a frame with its checksum):
///
///     SINK/.emu/chunks/XX/<sha256>
///
/// A push's new chunks wait in its staging area (`.emu/staging/chunks/`)
/// until its data is synced, as its index entries do: a chunk in the store
/// always holds its bytes on disk, so a power cut cannot leave a name that
/// later pushes count on while its bytes never arrived. Nothing holds a
/// count of a chunk's users: `sweep` keeps what some manifest lists (mark
/// and sweep, after deletions), so a kill at any point leaves at worst
/// garbage for the next sweep.
package final class ChunkStore: ManifestChunks {
    /// `.emu/chunks`; nil while the sink has none (nothing chunked yet).
    package private(set) var root: DirectoryHandle?
    /// Where the sink's `.emu` is, to make `chunks/` on the first write.
    package let metadata: DirectoryHandle
    /// Where a push puts the chunks it adds, until `commitPending()`; a
    /// killed push's, kept in its resume area, are read from there.
    package let pending: DirectoryHandle?
    private var buckets: [String: DirectoryHandle] = [:]
    private var pendingBuckets: [String: DirectoryHandle] = [:]
    private var compressor: OpaquePointer? = nil

    package init(metadata: DirectoryHandle, pending: DirectoryHandle? = nil) {
        self.metadata = metadata
        self.pending = pending
        root = try? metadata.openDirectory(SinkLayout.chunks)
    }

    deinit { if let compressor { ZSTD_freeCCtx(compressor) } }

    package static func bucketName(_ hash: ContentHash) -> String { String(decoding: hash.hex.prefix(2), as: UTF8.self) }

    /// Whether the store (or this push) holds the chunk already.
    package func contains(_ hash: ContentHash) throws -> Bool {
        let name = FileName(hash.hex), bucket = Self.bucketName(hash)
        if let pending, let directory = try ContentIndex.bucket(bucket, in: pending, cache: &pendingBuckets, create: false),
           (try? directory.status(name)) != nil { return true }
        guard let root, let directory = try ContentIndex.bucket(bucket, in: root, cache: &buckets, create: false) else { return false }
        return (try? directory.status(name))?.kind == .regular
    }

    /// Opens a chunk for reading: this push's (or a killed one's) first, then the store's.
    package func open(_ hash: ContentHash) throws -> OpenFile {
        let name = FileName(hash.hex), bucket = Self.bucketName(hash)
        if let pending, let directory = try ContentIndex.bucket(bucket, in: pending, cache: &pendingBuckets, create: false),
           let file = try? directory.openForReading(name) { return file }
        guard let root, let directory = try ContentIndex.bucket(bucket, in: root, cache: &buckets, create: false) else {
            throw FileSystemError("open", metadata.childPath(FileName("chunks/\(bucket)/\(hash)")), .noSuchFileOrDirectory)
        }
        return try directory.openForReading(name)
    }

    /// Stores a chunk. With a pending area (a push) it waits there for
    /// `commitPending`, unless the store or the push holds it already;
    /// without one (a repair) it is written whole, synced, and renamed into
    /// place, over a copy that may be the damage being repaired.
    package func add(_ text: [UInt8], hash: ContentHash) throws {
        if pending != nil, try contains(hash) { return }
        let compressed = try compress(text)
        let name = FileName(hash.hex), bucket = Self.bucketName(hash)
        if let pending {
            let directory = try ContentIndex.bucket(bucket, in: pending, cache: &pendingBuckets, create: true)!
            let file = try directory.createFile(name, permissions: 0o644)
            defer { file.close() }
            return try file.writeAll(compressed)
        }
        let directory = try ContentIndex.bucket(bucket, in: try rootCreated(), cache: &buckets, create: true)!
        let temporary = FileName(".\(hash).\(getpid())")
        let file = try directory.createFile(temporary, permissions: 0o644)
        defer { file.close() }
        try file.writeAll(compressed)
        try file.sync()
        try directory.rename(temporary, to: directory, as: name)
        try directory.sync()
    }

    package func rootCreated() throws -> DirectoryHandle {
        if let root { return root }
        do { try metadata.makeDirectory(SinkLayout.chunks, permissions: 0o755) } catch let error as FileSystemError where error.alreadyExists {}
        let made = try metadata.openDirectory(SinkLayout.chunks)
        root = made
        return made
    }

    /// Moves a push's pending chunks into the store, once its data is
    /// synced; true when any moved (their renames then need a sync of their
    /// own before a manifest that lists them is published).
    package func commitPending() throws -> Bool {
        guard let pending else { return false }
        var moved = false
        for bucketEntry in try pending.entries() {
            guard let bucketName = ContentIndex.bucketName(bucketEntry.name) else { continue }
            let source = try pending.openDirectory(bucketEntry.name)
            let target = try ContentIndex.bucket(bucketName, in: try rootCreated(), cache: &buckets, create: true)!
            for entry in try source.entries() {
                try source.rename(entry.name, to: target, as: entry.name)
                moved = true
            }
        }
        return moved
    }

    /// Removes every chunk (and a killed repair's temporary file) that no
    /// manifest in `referenced` lists, or counts them, for a dry run.
    @discardableResult
    package func sweep(keeping referenced: Set<ContentHash>, dryRun: Bool = false) throws -> Int {
        guard let root else { return 0 }
        var dropped = 0
        for bucketEntry in try root.entries() {
            guard let bucketName = ContentIndex.bucketName(bucketEntry.name),
                  let bucket = try ContentIndex.bucket(bucketName, in: root, cache: &buckets, create: false) else { continue }
            for entry in try bucket.entries() {
                if let hash = ContentHash(hex: entry.name.bytes[...]), referenced.contains(hash) { continue }
                if !dryRun { try bucket.remove(entry.name) }
                dropped += 1
            }
        }
        return dropped
    }

    /// The bytes the store takes on disk.
    package func storedBytes() throws -> Int64 {
        guard let root else { return 0 }
        var total: Int64 = 0
        for bucketEntry in try root.entries() {
            guard let bucket = try? root.openDirectory(bucketEntry.name) else { continue }
            for entry in try bucket.entries() { total += ((try? bucket.status(entry.name))?.blocks ?? 0) * 512 }
        }
        return total
    }

    // MARK: Compression

    /// One zstd frame, with its checksum: a damaged chunk fails to read
    /// rather than reading as other records.
    package func compress(_ text: [UInt8]) throws -> [UInt8] {
        if compressor == nil {
            compressor = ZSTD_createCCtx()
            ZSTD_CCtx_setParameter(compressor, ZSTD_c_compressionLevel, 3)
            ZSTD_CCtx_setParameter(compressor, ZSTD_c_checksumFlag, 1)
        }
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(text.count))
        let size = output.withUnsafeMutableBytes { out in
            text.withUnsafeBytes { ZSTD_compress2(compressor, out.baseAddress, out.count, $0.baseAddress, $0.count) }
        }
        guard ZSTD_isError(size) == 0 else {
            throw EmuError.failed("zstd could not compress a manifest chunk: \(String(cString: ZSTD_getErrorName(size)))",
                                  fix: "report this as a bug")
        }
        output.removeSubrange(size...)
        return output
    }
}
