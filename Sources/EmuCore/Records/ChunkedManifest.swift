import CZstd
import EmuPOSIX
import Glibc

/// How a sink stores a manifest: its text cut into chunks after records
/// whose paths the cut rule picks (so the same records make the same chunks
/// in every snapshot, wherever they sit), each chunk kept once in the
/// `ChunkStore`, and the manifest's file a list of them:
///
///     emu-chunks 1
///     <sha256 of the chunk's text> <its length>
///     ...
///
/// A push that changed nothing adds only its list, a few bytes per hundred
/// records; one that changed a few files adds the chunks that hold them.
/// The manifest's text, which its digest, the snapshot's ID and `records`
/// cover, is its chunks' text in order: above this file nothing else knows.
/// A manifest written whole (emu before 0.3, a client's records cache) reads as before.
enum ChunkedManifest {
    static let header = Array("emu-chunks 1\n".utf8)
    /// On average a chunk ends every this many records (about 20 kB of text,
    /// 6 kB compressed): small enough that a change to one file rewrites
    /// little, large enough that a chunk compresses well and a manifest of a
    /// million records is 8,000 chunks.
    static let averageRecords: UInt64 = 128
    static let minimumBytes = 4 * 1024
    static let maximumBytes = 256 * 1024

    /// Whether the chunk being written ends after the record at `path`,
    /// `bytes` long so far: chosen by the path alone (FNV-1a, mixed), so
    /// a record whose metadata changed moves no cut.
    static func endsChunk(after path: RelativePath, bytes: Int) -> Bool {
        if bytes >= maximumBytes { return true }
        guard bytes >= minimumBytes else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        hash ^= hash >> 29
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        return (hash >> 32) % averageRecords == 0
    }

    /// A list's line for a chunk.
    static func line(_ hash: ContentHash, length: Int) -> [UInt8] {
        var line = hash.hex
        line.append(0x20)
        ManifestFormat.appendDecimal(length, to: &line)
        line.append(ManifestFormat.newline)
        return line
    }

    /// The text of the manifest `name` in `directory`, whichever way it is
    /// stored: a chunk list is read through `chunks`, then `tail` (which it takes).
    static func open(in directory: DirectoryHandle, name: FileName, chunks: ChunkStore, tail: OpenFile? = nil) throws -> any ManifestBytes {
        let file: OpenFile
        do { file = try directory.openForReading(name) } catch {
            tail?.close()
            throw error
        }
        var first = [UInt8](repeating: 0, count: header.count)
        do {
            let count = try first.withUnsafeMutableBytes { try file.readFully(into: $0, at: 0) }
            if count == header.count && first == header { return ChunkedManifestText(list: file, chunks: chunks, tail: tail) }
        } catch {
            file.close()
            tail?.close()
            throw error
        }
        tail?.close()
        return file
    }
}

/// A chunked manifest's text, chunk after chunk, a chunk in memory at a time.
final class ChunkedManifestText: ManifestBytes {
    let list: OpenFile
    let chunks: ChunkStore
    /// A push's records after its last chunk, read after the list's chunks.
    var tail: OpenFile?
    var path: [UInt8] { list.path }
    /// The list's lines are 72 bytes or so: this always holds a whole one.
    private var listBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var listStart = 0
    private var listEnd = 0
    private var listOffset = Int64(ChunkedManifest.header.count)
    private var listAtEOF = false
    private var chunk: [UInt8] = []
    private var offset = 0
    private let decompressor = ZSTD_createDCtx()

    init(list: OpenFile, chunks: ChunkStore, tail: OpenFile?) {
        self.list = list
        self.chunks = chunks
        self.tail = tail
    }

    deinit { ZSTD_freeDCtx(decompressor) }

    func close() {
        list.close()
        tail?.close()
    }

    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            if offset == chunk.count {
                guard try loadNextChunk() else { break }
            }
            let count = min(buffer.count - filled, chunk.count - offset)
            chunk.withUnsafeBytes { buffer.baseAddress!.advanced(by: filled).copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            filled += count
        }
        return filled
    }

    /// The next listed chunk's text; false after the last. A last line cut
    /// short (a killed push's list) ends the text there.
    func loadNextChunk() throws -> Bool {
        guard let line = try nextListLine() else {
            guard let tail else { return false }
            chunk = try tail.readToEnd()
            offset = 0
            self.tail = nil
            tail.close()
            return !chunk.isEmpty
        }
        guard line.count > 65, line[line.startIndex + 64] == 0x20,
              let hash = ContentHash(hex: line.prefix(64)), let length = Int(decimal: line.dropFirst(65)),
              length <= ChunkedManifest.maximumBytes + 64 * 1024
        else { throw damaged("a line of its chunk list is not `HASH LENGTH`") }
        let file: OpenFile
        do { file = try chunks.open(hash) } catch let error as FileSystemError where error.isMissing {
            throw damaged("its chunk \(hash) is missing from .emu/chunks")
        }
        defer { file.close() }
        let compressed = try file.readToEnd()
        chunk = [UInt8](repeating: 0, count: length)
        let size = chunk.withUnsafeMutableBytes { out in
            compressed.withUnsafeBytes { ZSTD_decompressDCtx(decompressor, out.baseAddress, out.count, $0.baseAddress, $0.count) }
        }
        guard ZSTD_isError(size) == 0, size == length else { throw damaged("its chunk \(hash) is damaged") }
        offset = 0
        return true
    }

    func damaged(_ why: String) -> EmuError {
        .failed("the manifest \(Printable.path(path)) is damaged: \(why)", fix: "run `emu verify` to see which snapshots are affected")
    }

    func nextListLine() throws -> ArraySlice<UInt8>? {
        while true {
            if let newline = listBuffer[listStart..<listEnd].firstIndex(of: ManifestFormat.newline) {
                let line = listBuffer[listStart..<newline]
                listStart = newline + 1
                return line
            }
            if listAtEOF { return nil }
            guard listEnd - listStart < listBuffer.count / 2 else { throw damaged("its chunk list has a line too long") }
            listBuffer.replaceSubrange(0..<(listEnd - listStart), with: listBuffer[listStart..<listEnd])
            listEnd -= listStart
            listStart = 0
            let n = try listBuffer.withUnsafeMutableBytes {
                try list.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[listEnd...]), at: listOffset)
            }
            if n == 0 { listAtEOF = true }
            listEnd += n
            listOffset += Int64(n)
        }
    }
}
