import EmuPOSIX
import Glibc
import SystemPackage

/// Writes a manifest as a stream: records must come in path order, and
/// memory stays a few batches however many there are.
///
/// Encoding, hashing and writing run on a thread of their own, so that a
/// push's walk spends its core on system calls: records cross in batches.
/// A write error stops the writer and surfaces at the next append or at
/// `finish`.
public final class ManifestWriter {
    public private(set) var count = 0
    var previous: RelativePath? = nil
    var pending: [ManifestRecord] = []
    let handoff = Handoff<Batch>(capacity: 4)
    let output: Output
    let worker: WorkerThread
    static let batchSize = 256

    struct Batch: Sendable {
        var records: [ManifestRecord]
        /// Written out at once rather than when the buffer fills.
        var writesNow = false
        /// Hears once the batch is written.
        var written: Handoff<Bool>? = nil
    }

    /// The writing side, used by the worker thread alone until `finish` joins it.
    final class Output: @unchecked Sendable {
        let descriptor: FileDescriptor
        let path: [UInt8]
        var buffer: [UInt8] = []
        var hasher = ContentHasher()
        var failure: Error? = nil
        static let flushSize = 256 * 1024

        init(descriptor: FileDescriptor, path: [UInt8]) {
            self.descriptor = descriptor
            self.path = path
            buffer.reserveCapacity(Self.flushSize + 4096)
            buffer += ManifestFormat.header
        }

        deinit { descriptor.closeIgnoringErrors() }

        func drain(_ handoff: Handoff<Batch>) {
            while let batch = handoff.receive() {
                for record in batch.records { ManifestFormat.encode(record, into: &buffer) }
                if batch.writesNow || buffer.count >= Self.flushSize {
                    do { try write() } catch {
                        failure = error
                        handoff.close()
                        batch.written?.close()
                        return
                    }
                }
                batch.written?.send(true)
            }
        }

        func write() throws {
            guard !buffer.isEmpty else { return }
            hasher.update(buffer)
            try descriptor.writeAll(buffer, path: path)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Takes ownership of `descriptor`, which it closes.
    public init(descriptor: FileDescriptor, path: [UInt8]) throws {
        let output = Output(descriptor: descriptor, path: path)
        let handoff = handoff
        self.output = output
        worker = WorkerThread { output.drain(handoff) }
        pending.reserveCapacity(Self.batchSize)
    }

    deinit {
        handoff.close()
        worker.join()
    }

    public func append(_ record: ManifestRecord) throws {
        if let previous { precondition(previous < record.path, "manifest records out of path order") }
        previous = record.path
        pending.append(record)
        count += 1
        if pending.count >= Self.batchSize { try send(writesNow: false) }
    }

    /// Has what was appended written soon, without waiting for it: a killed
    /// push loses at most the records of the last moments.
    func flush() throws { try send(writesNow: true) }

    func send(writesNow: Bool, written: Handoff<Bool>? = nil) throws {
        guard handoff.send(Batch(records: pending, writesNow: writesNow, written: written)) else { throw stopped() }
        pending.removeAll(keepingCapacity: true)
    }

    /// The writer's error, once it has stopped.
    func stopped() -> Error {
        worker.join()
        return output.failure ?? FileSystemError("write", output.path, .ioError)
    }

    /// Waits until every record appended so far is written.
    func waitUntilWritten() throws {
        let written = Handoff<Bool>(capacity: 1)
        try send(writesNow: true, written: written)
        guard written.receive() != nil else { throw stopped() }
    }

    /// Writes the end line and everything buffered, syncs the file, and returns
    /// the digest of the whole manifest.
    public func finish() throws -> ContentHash {
        try send(writesNow: false)
        handoff.close()
        worker.join()
        if let failure = output.failure { throw failure }
        output.buffer += ManifestFormat.endTag + [ManifestFormat.tab]
        ManifestFormat.appendDecimal(count, to: &output.buffer)
        output.buffer.append(ManifestFormat.newline)
        try output.write()
        try output.descriptor.sync(path: output.path)
        return output.hasher.finalize()
    }
}
