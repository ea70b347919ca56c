import EmuPOSIX
import SystemPackage

/// Fills new files on a second core, for a checkout into an empty
/// directory. The walk creates each file under a temporary name and hands
/// over both descriptors; this thread copies the data in the kernel, sets
/// the file's metadata and puts it in place: it links a file made with no
/// name (O_TMPFILE), else renames the temporary name. A finished
/// directory's metadata comes through here too, after its files' renames,
/// so that its mtime is the last change to it.
///
/// The first error stops it; the walk hears of it at its next hand-over or
/// at `finish`.
final class FileFiller {
    enum Step {
        case file(FileJob)
        case directory(DirectoryJob)
        /// Answers once every step before it is taken.
        case barrier(Handoff<Bool>)
    }

    struct FileJob {
        var input: FileDescriptor
        var output: FileDescriptor
        var inputPath: [UInt8]
        var outputPath: [UInt8]
        var metadata: EntryMetadata
        /// Whether the xattrs (and ACLs) must be read from `input` first.
        var readsAttributes: Bool
        var created: EntryMetadata.Created?
        var placement: Placement
        /// Whether the walk copied the data already (the filler then sets metadata and places it).
        var isCopied = false

        /// Removes what a file that will not be placed left behind.
        func discard() {
            close()
            if case .rename(let directory, let temporary, _) = placement { try? directory.remove(temporary) }
        }

        func close() {
            input.closeIgnoringErrors()
            output.closeIgnoringErrors()
        }
    }

    /// Where a filled file goes once whole.
    enum Placement {
        /// Made with no name: linked under `name`.
        case link(DirectoryHandle, name: FileName)
        /// Made under `temporary`: renamed to `name`.
        case rename(DirectoryHandle, temporary: FileName, name: FileName)
    }

    struct DirectoryJob {
        var target: DirectoryHandle
        var tree: DirectoryHandle
        var metadata: EntryMetadata
        var readsAttributes: Bool
        var created: EntryMetadata.Created?
    }

    private let handoff = Handoff<[Transfer<Step>]>(capacity: 4)
    private let worker: WorkerThread
    private let state: State
    private var pending: [Transfer<Step>] = []
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
            // After a failure the queued files are only closed (their temporary names removed).
            while let steps = handoff.receive() {
                for step in steps {
                    guard state.failure == nil else {
                        Self.release(step.value)
                        continue
                    }
                    do { try Self.take(step.value, copier: copier) } catch {
                        state.failure = error
                        handoff.close()
                    }
                }
            }
        }
    }

    deinit {
        handoff.close()
        worker.join()
    }

    static func release(_ step: Step) {
        switch step {
        case .file(let job): job.discard()
        case .barrier(let done): done.close()
        case .directory: break
        }
    }

    static func take(_ step: Step, copier: DataCopier) throws {
        switch step {
        case .file(let job):
            do {
                try fill(job, copier: copier)
                CrashPoint.reach("checkout.before-place")
                switch job.placement {
                case .link(let directory, let name): try directory.linkAnonymous(job.output, as: name)
                case .rename(let directory, let temporary, let name): try directory.rename(temporary, to: directory, as: name)
                }
            } catch {
                job.discard()
                throw error
            }
            job.close()
        case .directory(let job):
            var metadata = job.metadata
            if job.readsAttributes {
                metadata.attributes = try ExtendedAttributes.read(.descriptor(job.tree.descriptor), path: job.tree.path)
            }
            try metadata.apply(to: .open(job.target.descriptor, path: job.target.path),
                               aclSource: .open(job.tree.descriptor, path: job.tree.path), created: job.created)
        case .barrier(let done):
            done.send(true)
        }
    }

    /// Copies the data and sets the metadata of an open file.
    static func fill(_ job: FileJob, copier: DataCopier) throws {
        if !job.isCopied {
            _ = try copier.copyInKernel(from: job.input, to: job.output, sourcePath: job.inputPath, destinationPath: job.outputPath)
        }
        var metadata = job.metadata
        if job.readsAttributes { metadata.attributes = try ExtendedAttributes.read(.descriptor(job.input), path: job.inputPath) }
        try metadata.apply(to: .open(job.output, path: job.outputPath), aclSource: .open(job.input, path: job.inputPath),
                           created: job.created)
    }

    /// Queues a step; a file's descriptors are the filler's from now on.
    func add(_ step: Step) throws {
        pending.append(Transfer(step))
        if pending.count >= Self.batchSize { try send() }
    }

    private func send() throws {
        let steps = pending
        pending.removeAll(keepingCapacity: true)
        guard handoff.send(steps) else {
            for step in steps { Self.release(step.value) }
            throw stopped()
        }
    }

    private func stopped() -> Error {
        worker.join()
        return state.failure ?? EmuError.failed("the checkout's copying thread stopped", fix: "run the checkout again")
    }

    /// Waits until every queued step is taken: for a file with other names,
    /// whose first name must be in place before the next is linked to it.
    func drain() throws {
        let done = Handoff<Bool>(capacity: 1)
        pending.append(Transfer(.barrier(done)))
        try send()
        guard done.receive() != nil else { throw stopped() }
    }

    /// Waits until every queued step is taken, and stops the thread.
    func finish() throws {
        if !pending.isEmpty { try send() }
        handoff.close()
        worker.join()
        if let failure = state.failure { throw failure }
    }
}
