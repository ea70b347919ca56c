import EmuPOSIX
import SystemPackage

/// Fills new files on a second core: the walk creates each file (so that
/// every change to a directory's entries happens before the walk sets the
/// directory's mtime) and hands over both descriptors; this thread copies
/// the data in the kernel, sets the file's metadata and closes them.
///
/// The first error stops it; the walk hears of it at its next hand-over or
/// at `finish`.
final class FileFiller {
    struct Job: @unchecked Sendable {
        var input: FileDescriptor
        var output: FileDescriptor
        var inputPath: [UInt8]
        var outputPath: [UInt8]
        var metadata: EntryMetadata
        /// Whether the xattrs (and ACLs) must be read from `input` first.
        var readsAttributes: Bool
        var created: EntryMetadata.Created?
    }

    private let handoff = Handoff<[Job]>(capacity: 4)
    private let worker: WorkerThread
    private let state: State
    private var pending: [Job] = []
    /// Few enough that the descriptors in flight stay far from the limit.
    static let batchSize = 16

    final class State: @unchecked Sendable {
        var failure: Error? = nil
    }

    init() {
        let handoff = handoff
        let state = State()
        self.state = state
        worker = WorkerThread {
            let copier = DataCopier()
            // After a failure the queued files are only closed.
            while let jobs = handoff.receive() {
                for job in jobs {
                    if state.failure == nil {
                        do { try Self.fill(job, copier: copier) } catch {
                            state.failure = error
                            handoff.close()
                        }
                    }
                    job.input.closeIgnoringErrors()
                    job.output.closeIgnoringErrors()
                }
            }
        }
    }

    deinit {
        handoff.close()
        worker.join()
    }

    static func fill(_ job: Job, copier: DataCopier) throws {
        _ = try copier.copyInKernel(from: job.input, to: job.output, sourcePath: job.inputPath, destinationPath: job.outputPath)
        var metadata = job.metadata
        if job.readsAttributes { metadata.attributes = try ExtendedAttributes.read(.descriptor(job.input), path: job.inputPath) }
        try metadata.apply(to: .open(job.output, path: job.outputPath), aclSource: .open(job.input, path: job.inputPath),
                           created: job.created)
    }

    /// Queues a file; its descriptors are the filler's from now on.
    func add(_ job: Job) throws {
        pending.append(job)
        if pending.count >= Self.batchSize { try send() }
    }

    private func send() throws {
        let jobs = pending
        pending.removeAll(keepingCapacity: true)
        guard handoff.send(jobs) else {
            for job in jobs { job.input.closeIgnoringErrors(); job.output.closeIgnoringErrors() }
            throw stopped()
        }
    }

    private func stopped() -> Error {
        worker.join()
        return state.failure ?? EmuError.failed("the checkout's copying thread stopped", fix: "run the checkout again")
    }

    /// Waits until every queued file is filled.
    func finish() throws {
        if !pending.isEmpty { try send() }
        handoff.close()
        worker.join()
        if let failure = state.failure { throw failure }
    }
}
