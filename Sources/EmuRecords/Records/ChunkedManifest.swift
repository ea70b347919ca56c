import CZstd
import EmuPOSIX
import Glibc

/// Where a manifest's chunks are kept, each once, by the SHA-256 of its
/// text: a sink's `ChunkStore`.
package protocol ManifestChunks: AnyObject {
    /// The stored chunk, as `ChunkedManifestText` decompresses it.
    func open(_ hash: ContentHash) throws -> OpenFile
    /// Keeps a chunk's text, unless it is held already.
    func add(_ text: [UInt8], hash: ContentHash) throws
}

/// How a sink stores a manifest: its text cut into chunks after records
/// whose paths the cut rule picks (so the same records make the same chunks
/// in every snapshot, wherever they sit), each chunk kept once in the
/// `ChunkStore`, and the manifest's file a list of them:
///
///     emu-chunks 1
///     <sha256 of the chunk's text> <its length> <the records it holds>
///     ...
///
/// A push that changed nothing adds only its list, a few bytes per hundred
/// records; one that changed a few files adds the chunks that hold them.
/// The manifest's text, which its digest, the snapshot's ID and `records`
/// cover, is its chunks' text in order: above this file nothing else knows.
/// A manifest written whole (as emu wrote them before this format, and as a
/// client's records cache keeps them) reads as before.
package enum ChunkedManifest {
    package static let header = Array("emu-chunks 1\n".utf8)
    /// On average a chunk ends every this many records (about 20 kB of text,
    /// 6 kB compressed): small enough that a change to one file rewrites
    /// little, large enough that a chunk compresses well and a manifest of a
    /// million records is 8,000 chunks.
    package static let averageRecords: UInt64 = 128
    package static let minimumBytes = 4 * 1024
    package static let maximumBytes = 256 * 1024

    /// Whether the chunk being written ends after the record at `path`,
    /// `bytes` long so far: chosen by the path alone (FNV-1a, mixed), so
    /// a record whose metadata changed moves no cut.
    package static func endsChunk(after path: RelativePath, bytes: Int) -> Bool {
        if bytes >= maximumBytes { return true }
        guard bytes >= minimumBytes else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        return (hash >> 32) % averageRecords == 0
    }

    /// A list's line for a chunk.
    package static func line(_ hash: ContentHash, length: Int, records: Int) -> [UInt8] {
        var line = hash.hex
        line.append(0x20)
        ManifestFormat.appendDecimal(length, to: &line)
        line.append(0x20)
        ManifestFormat.appendDecimal(records, to: &line)
        line.append(ManifestFormat.newline)
        return line
    }

    /// One line of a list.
    package struct Entry {
        package var hash: ContentHash
        package var length: Int
        package var records: Int

        package init?(_ line: ArraySlice<UInt8>) {
            let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0].count == 64, let hash = ContentHash(hex: fields[0]),
                  let length = Int(decimal: fields[1]), length <= maximumBytes + 64 * 1024,
                  // A record takes more than a byte: a list cannot claim more (nor overflow a count).
                  let records = Int(decimal: fields[2]), records <= length
            else { return nil }
            (self.hash, self.length, self.records) = (hash, length, records)
        }
    }

    /// The text of the manifest `name` in `directory`, whichever way it is
    /// stored: a chunk list is read through `chunks`, then `tail` (which it takes).
    /// `skipping` names chunks the reader leaves out, but never the first
    /// or the last (see `ChunkedManifestText`).
    package static func open(in directory: DirectoryHandle, name: FileName, chunks: ManifestChunks, tail: OpenFile? = nil,
                     skipping: Set<ContentHash> = []) throws -> any ManifestBytes {
        let file: OpenFile
        do { file = try directory.openForReading(name) } catch {
            tail?.close()
            throw error
        }
        var first = [UInt8](repeating: 0, count: header.count)
        do {
            let count = try first.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }
            if count == header.count && first == header { return ChunkedManifestText(list: file, chunks: chunks, tail: tail, skipping: skipping) }
        } catch {
            file.close()
            tail?.close()
            throw error
        }
        tail?.close()
        return file
    }
}

/// A chunked manifest's text, chunk after chunk, each decompressed
/// straight into the reader's buffer: memory holds one compressed chunk.
///
/// Chunks in `skipping` are left out, unread: a diff of two snapshots
/// skips the chunks both list, which hold the same records. The first
/// chunk (the header and the root) and the last (the end line) are always
/// read, and the records left out are counted for the end line's check.
package final class ChunkedManifestText: ManifestBytes {
    package let list: OpenFile
    package let chunks: ManifestChunks
    package let skipping: Set<ContentHash>
    package private(set) var recordsSkipped = 0
    /// The list's next entry, read ahead to tell the last chunk; whether one was read yet.
    private var upcoming: ChunkedManifest.Entry? = nil
    private var startedList = false
    /// A push's records after its last chunk, read after the list's chunks.
    package var tail: OpenFile?
    package var path: [UInt8] { list.path }
    private var listLines = LineBuffer(capacity: 16 * 1024)
    private var listOffset = Int64(ChunkedManifest.header.count)
    /// The chunk being read: its compressed bytes, how far they are
    /// consumed, its hash and its text's length, and how much came out.
    private var compressed: [UInt8] = []
    private var consumed = 0
    private var current: (hash: ContentHash, length: Int)? = nil
    private var produced = 0
    private var readsTail = false
    private let decompressor = ZSTD_createDCtx()

    package init(list: OpenFile, chunks: ManifestChunks, tail: OpenFile?, skipping: Set<ContentHash> = []) {
        self.list = list
        self.chunks = chunks
        self.tail = tail
        self.skipping = skipping
    }

    deinit { ZSTD_freeDCtx(decompressor) }

    package func close() {
        list.close()
        tail?.close()
    }

    package func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if readsTail {
                let n = try tail!.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                filled += n
                break
            }
            guard try current != nil || loadNextChunk() else { break }
            filled += try decompress(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
        }
        return filled
    }

    /// Decompresses what fits of the current chunk; at its end, checks that
    /// it was one whole frame of the listed length.
    package func decompress(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let (hash, length) = current else { return 0 }
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        let result = compressed.withUnsafeBytes { raw in
            var input = ZSTD_inBuffer(src: raw.baseAddress, size: raw.count, pos: consumed)
            defer { consumed = input.pos }
            return ZSTD_decompressStream(decompressor, &output, &input)
        }
        produced += output.pos
        guard ZSTD_isError(result) == 0, produced <= length else { throw damaged("its chunk \(hash) is damaged") }
        if result == 0 {
            guard produced == length, consumed == compressed.count else { throw damaged("its chunk \(hash) is damaged") }
            current = nil
        } else if output.pos < buffer.count && consumed == compressed.count {
            throw damaged("its chunk \(hash) is cut short")
        }
        return output.pos
    }

    /// Reads the next listed chunk's compressed bytes; false after the last
    /// (then the tail, if any, is read). A last line cut short (a killed
    /// push's list) ends the list there.
    package func loadNextChunk() throws -> Bool {
        let isFirst = !startedList
        if isFirst {
            startedList = true
            upcoming = try nextEntry()
        }
        while let entry = upcoming {
            upcoming = try nextEntry()
            if !isFirst && upcoming != nil && skipping.contains(entry.hash) {
                recordsSkipped += entry.records
                continue
            }
            try load(entry.hash, length: entry.length)
            return true
        }
        readsTail = tail != nil
        return readsTail
    }

    package func nextEntry() throws -> ChunkedManifest.Entry? {
        guard let line = try nextListLine() else { return nil }
        guard let entry = ChunkedManifest.Entry(line) else { throw damaged("a line of its chunk list is not `HASH LENGTH RECORDS`") }
        return entry
    }

    /// Reads a chunk's compressed bytes, to decompress as the reader asks.
    package func load(_ hash: ContentHash, length: Int) throws {
        let file: OpenFile
        do { file = try chunks.open(hash) } catch let error as FileSystemError where error.isMissing {
            throw damaged("its chunk \(hash) is missing from .emu/chunks")
        }
        defer { file.close() }
        let size = Int(try file.status().size)
        guard size <= ZSTD_compressBound(length) else { throw damaged("its chunk \(hash) is damaged") }
        if compressed.count != size { compressed = [UInt8](repeating: 0, count: size) }
        guard try compressed.withUnsafeMutableBytes({ try file.readFully(into: $0, at: 0) }) == size else {
            throw damaged("its chunk \(hash) is cut short")
        }
        ZSTD_DCtx_reset(decompressor, ZSTD_reset_session_only)
        consumed = 0
        produced = 0
        current = (hash, length)
    }

    package func damaged(_ why: String) -> EmuError {
        .failed("the manifest \(Printable.path(path)) is damaged: \(why)", fix: "run `emu verify` to see which snapshots are affected")
    }

    package func nextListLine() throws -> ArraySlice<UInt8>? {
        try listLines.next { buffer in
            let n = try list.readFully(into: buffer, at: listOffset)
            listOffset += Int64(n)
            return n
        }
    }
}
