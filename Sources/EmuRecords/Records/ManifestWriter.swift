import EmuPOSIX
import Glibc
import SystemPackage

/// Writes a manifest as a stream: records must come in path order, and
/// memory stays a few batches however many there are.
///
/// Encoding, hashing and writing run on a thread of their own (a
/// `StepThread`), so that a push's walk spends its core on system calls:
/// records cross in batches. A write error stops the writer and surfaces at
/// the next append or at `finish`.
public final class ManifestWriter {
    public private(set) var count = 0
    package var previous: RelativePath? = nil
    package let output: Output
    package let steps: StepThread<Step>
    package static let batchSize = 256

    package enum Step {
        case record(ManifestRecord)
        /// Writes out what is buffered at once rather than when the buffer fills.
        case flush
    }

    /// The writing side, used by the worker thread alone until `finish` joins it.
    package final class Output: @unchecked Sendable {
        /// The manifest's text, or with `chunks`, its chunk list.
        package let file: OpenFile
        /// Where the chunks go, for a sink's manifest (see `ChunkedManifest`).
        package let chunks: ManifestChunks?
        /// With `chunks`, where a flush writes the chunk being cut (a push's
        /// `manifest.tail`): the records a killed push made reach the disk
        /// without a cut that the same records would not make again.
        package let tail: OpenFile?
        /// How much of `buffer` the tail holds.
        package var tailLength = 0
        /// Text not yet written: with `chunks`, the chunk being cut.
        package var buffer: [UInt8] = []
        /// The records in `buffer`.
        package var records = 0
        package var hasher = ContentHasher()
        package static let flushSize = 256 * 1024

        package init(file: OpenFile, chunks: ManifestChunks?, tail: OpenFile?) throws {
            self.file = file
            self.chunks = chunks
            self.tail = tail
            buffer.reserveCapacity(Self.flushSize + 4096)
            if chunks != nil { try file.writeAll(ChunkedManifest.header) }
            buffer += ManifestFormat.header
        }

        deinit {
            file.close()
            tail?.close()
        }

        package func take(_ step: Step) throws {
            switch step {
            case .record(let record):
                ManifestFormat.encode(record, into: &buffer)
                records += 1
                let full = chunks == nil ? buffer.count >= Self.flushSize : ChunkedManifest.endsChunk(after: record.path, bytes: buffer.count)
                if full { try write() }
            case .flush:
                if chunks == nil { try write() } else { try writeTail() }
            }
        }

        package func writeTail() throws {
            guard let tail, buffer.count > tailLength else { return }
            try buffer.withUnsafeBytes { try tail.writeAll(UnsafeRawBufferPointer(rebasing: $0[tailLength...]), at: Int64(tailLength)) }
            tailLength = buffer.count
        }

        /// Writes the buffered text, or with `chunks`, stores it as a chunk and lists it.
        package func write() throws {
            guard !buffer.isEmpty else { return }
            hasher.update(buffer)
            if let chunks {
                var chunkHasher = ContentHasher()
                chunkHasher.update(buffer)
                let hash = chunkHasher.finalize()
                try chunks.add(buffer, hash: hash)
                // Emptied first: a kill before the list names the chunk loses its records, never repeats them.
                if tailLength > 0 {
                    try tail?.truncate(to: 0)
                    tailLength = 0
                }
                try file.writeAll(ChunkedManifest.line(hash, length: buffer.count, records: records))
            } else {
                try file.writeAll(buffer)
            }
            buffer.removeAll(keepingCapacity: true)
            records = 0
        }
    }

    /// Takes ownership of `file` (and `tail`), which it closes: the
    /// manifest's text, or with `chunks`, its chunk list.
    package init(file: OpenFile, chunks: ManifestChunks?, tail: OpenFile? = nil) throws {
        let output = try Output(file: file, chunks: chunks, tail: tail)
        self.output = output
        steps = StepThread(threaded: true, stepsPerBatch: Self.batchSize, take: output.take, release: { _ in })
    }

    public func append(_ record: ManifestRecord) throws {
        if let previous { precondition(previous < record.path, "manifest records out of path order") }
        previous = record.path
        count += 1
        try steps.submit(.record(record))
    }

    /// Has what was appended written soon, without waiting for it: a killed
    /// push loses at most the records of the last moments.
    package func flush() throws { try steps.submit(.flush, startsNow: true) }

    /// Waits until every record appended so far is written.
    package func waitUntilWritten() throws {
        try steps.submit(.flush, startsNow: true)
        try steps.drain()
    }

    /// A manifest written whole, as a client's records cache keeps it.
    public convenience init(file: OpenFile) throws { try self.init(file: file, chunks: nil) }

    /// Writes the end line and everything buffered, syncs the file (unless
    /// it is a cache's, or a push's, whose sync of the filesystem covers
    /// it), and returns the digest of the whole manifest (its text).
    public func finish(sync: Bool = true) throws -> ContentHash {
        try steps.finish()
        output.buffer += ManifestFormat.endTag + [ManifestFormat.tab]
        ManifestFormat.appendDecimal(count, to: &output.buffer)
        output.buffer.append(ManifestFormat.newline)
        try output.write()
        if sync { try output.file.sync() }
        return output.hasher.finalize()
    }
}
