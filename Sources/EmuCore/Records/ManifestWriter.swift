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
    var previous: RelativePath? = nil
    let output: Output
    let steps: StepThread<Step>
    static let batchSize = 256

    enum Step {
        case record(ManifestRecord)
        /// Writes out what is buffered at once rather than when the buffer fills.
        case flush
    }

    /// The writing side, used by the worker thread alone until `finish` joins it.
    final class Output: @unchecked Sendable {
        let file: OpenFile
        var buffer: [UInt8] = []
        var hasher = ContentHasher()
        static let flushSize = 256 * 1024

        init(file: OpenFile) {
            self.file = file
            buffer.reserveCapacity(Self.flushSize + 4096)
            buffer += ManifestFormat.header
        }

        deinit { file.close() }

        func take(_ step: Step) throws {
            switch step {
            case .record(let record):
                ManifestFormat.encode(record, into: &buffer)
                if buffer.count >= Self.flushSize { try write() }
            case .flush:
                try write()
            }
        }

        func write() throws {
            guard !buffer.isEmpty else { return }
            hasher.update(buffer)
            try file.writeAll(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Takes ownership of `file`, which it closes.
    public init(file: OpenFile) throws {
        let output = Output(file: file)
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
    func flush() throws { try steps.submit(.flush, startsNow: true) }

    /// Waits until every record appended so far is written.
    func waitUntilWritten() throws {
        try steps.submit(.flush, startsNow: true)
        try steps.drain()
    }

    /// Writes the end line and everything buffered, syncs the file (unless
    /// it is a cache's), and returns the digest of the whole manifest.
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
