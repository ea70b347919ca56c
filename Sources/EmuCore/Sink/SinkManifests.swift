import EmuPOSIX
import EmuRecords

/// Where a sink's manifests are read and written, whole or chunked (see
/// `ChunkedManifest`): the one place that knows where chunks live.
extension Sink {
    /// The sink's chunk store; with `pending` (a push's staging area, or a
    /// killed push's resume area), its own chunks are there.
    package func chunkStore(pending: DirectoryHandle? = nil) throws -> ChunkStore {
        var pendingChunks: DirectoryHandle? = nil
        if let pending {
            do { try pending.makeDirectory(SinkLayout.chunks, permissions: 0o700) } catch let error as FileSystemError where error.alreadyExists {}
            pendingChunks = try pending.openDirectory(SinkLayout.chunks)
        }
        return ChunkStore(metadata: metadata, pending: pendingChunks)
    }

    /// Reads the manifest `name` in `directory`: `manifests/`, `trash/`, or
    /// with `pending`, a push's area (its own chunks, and its tail, are there).
    package func openManifest(in directory: DirectoryHandle, name: FileName, pending: DirectoryHandle? = nil,
                      allowsTruncation: Bool = false) throws -> ManifestReader {
        // Reading makes nothing: a push area without chunks of its own just has none.
        let chunks = ChunkStore(metadata: metadata, pending: pending.flatMap { try? $0.openDirectory(SinkLayout.chunks) })
        let tail = pending.flatMap { try? $0.openForReading(StagedSnapshot.manifestTailName) }
        return try ManifestReader(file: try ChunkedManifest.open(in: directory, name: name, chunks: chunks, tail: tail),
                                  allowsTruncation: allowsTruncation)
    }

    /// A snapshot's records without those of the chunks in `skipping` (see `ChunkedManifestText`).
    package func openRecords(_ snapshot: Snapshot, skipping: Set<ContentHash>) throws -> RecordReader {
        guard !skipping.isEmpty else { return try openRecords(snapshot) }
        let text = try ChunkedManifest.open(in: try metadata.openDirectory(SinkLayout.manifests), name: FileName(snapshot.id),
                                            chunks: ChunkStore(metadata: metadata), skipping: skipping)
        return PrefetchingReader(try ManifestReader(file: text))
    }

    /// The chunks a snapshot's manifest lists; nil for one written whole, or none.
    package func listedChunks(of snapshot: Snapshot) -> Set<ContentHash>? {
        var listed = Set<ContentHash>()
        guard let manifests = try? metadata.openDirectory(SinkLayout.manifests),
              (try? ChunkedManifest.addListedChunks(in: manifests, name: FileName(snapshot.id), to: &listed)) != nil,
              !listed.isEmpty else { return nil }
        return listed
    }

    /// A manifest's text as it was written, byte for byte, whichever way it is stored.
    package func openManifestText(_ snapshot: Snapshot) throws -> any ManifestBytes {
        try ChunkedManifest.open(in: try metadata.openDirectory(SinkLayout.manifests), name: FileName(snapshot.id), chunks: ChunkStore(metadata: metadata))
    }

    /// Writes a manifest into `directory` as `name`, its chunks straight
    /// into the store (for repairs; a push's wait in its staging area).
    package func makeManifest(in directory: DirectoryHandle, name: FileName) throws -> ManifestWriter {
        try ManifestWriter(file: try directory.createFile(name, permissions: 0o644), chunks: try chunkStore())
    }

    /// Removes the chunks no manifest lists: every snapshot's, a killed
    /// push's, and those in trash (a deletion not finished yet) count. For
    /// after deletions, and for `emu clean`; returns how many (a dry run counts them).
    @discardableResult
    package func sweepChunks(dryRun: Bool = false) throws -> Int {
        let store = ChunkStore(metadata: metadata)
        guard store.root != nil else { return 0 }
        var listed = Set<ContentHash>()
        let manifests = try metadata.openDirectory(SinkLayout.manifests)
        for entry in try manifests.entries() { try ChunkedManifest.addListedChunks(in: manifests, name: entry.name, to: &listed) }
        for area in [SinkLayout.staging, SinkLayout.resume] {
            if let directory = try? metadata.openDirectory(area) {
                try ChunkedManifest.addListedChunks(in: directory, name: StagedSnapshot.manifestName, to: &listed)
            }
        }
        if let trash = try? metadata.openDirectory(SinkLayout.trash) {
            for entry in try trash.entries() { try ChunkedManifest.addListedChunks(in: trash, name: entry.name, to: &listed) }
        }
        return try store.sweep(keeping: listed, dryRun: dryRun)
    }
}

extension ChunkedManifest {
    /// Adds the chunks a manifest lists to `listed`; nothing for a manifest
    /// written whole, a directory, or a file that is gone.
    package static func addListedChunks(in directory: DirectoryHandle, name: FileName, to listed: inout Set<ContentHash>) throws {
        guard let file = try? directory.openForReading(name) else { return }
        defer { file.close() }
        guard (try? file.status())?.kind == .regular else { return }
        let text = try file.readToEnd()
        guard text.starts(with: header) else { return }
        for line in text.dropFirst(header.count).split(separator: ManifestFormat.newline) where line.count > 64 {
            if let hash = ContentHash(hex: line.prefix(64)) { listed.insert(hash) }
        }
    }
}

/// How much manifest text a piece holds, read or sent (a frame's data).
package let manifestPieceSize = 256 * 1024

/// Records as a manifest's text, in pieces of about `manifestPieceSize`.
package func encodeRecords(_ reader: RecordReader, piece each: ([UInt8]) throws -> Void) throws {
    var piece = ManifestFormat.header
    var count = 0
    while let record = try reader.next() {
        ManifestFormat.encode(record, into: &piece)
        count += 1
        if piece.count >= manifestPieceSize {
            try each(piece)
            piece.removeAll(keepingCapacity: true)
        }
    }
    piece += ManifestFormat.endTag + [ManifestFormat.tab]
    ManifestFormat.appendDecimal(count, to: &piece)
    piece.append(ManifestFormat.newline)
    try each(piece)
}

extension Sink {
    /// The digest of a snapshot's records as `records` streams them.
    package func recordsDigest(of snapshot: Snapshot) throws -> ContentHash {
        if hasManifest(snapshot) {
            let text = try openManifestText(snapshot)
            defer { text.close() }
            var hasher = ContentHasher()
            var piece = [UInt8](repeating: 0, count: manifestPieceSize)
            while true {
                let count = try piece.withUnsafeMutableBytes { try text.readFully(into: $0) }
                piece.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
                if count < piece.count { return hasher.finalize() }
            }
        }
        var hasher = ContentHasher()
        try encodeRecords(try openRecords(snapshot)) { hasher.update($0) }
        return hasher.finalize()
    }
}
