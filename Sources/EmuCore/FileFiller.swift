import EmuPOSIX
import SystemPackage

/// Fills new files on a second core, for a checkout into an empty
/// directory, whose tree is built in a staging directory (nothing in it
/// shows until the whole tree moves into place). The walk creates each file
/// and hands over both descriptors; this thread copies the data in the
/// kernel and sets the file's metadata. A finished directory's metadata
/// comes through here too, after its files', so that its mtime is the last
/// change to it.
///
/// The first error stops it; the walk hears of it at its next hand-over or
/// at `finish`.
final class FileFiller {
    enum Step {
        case file(FileJob)
        case directory(FinishedDirectory)
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
        /// Whether the data is in place already: the walk copied it, or there
        /// is none (the filler then only sets the metadata).
        var isCopied = false

        func close() {
            input.closeIgnoringErrors()
            output.closeIgnoringErrors()
        }
    }

    private let steps: StepThread<Step>

    init() {
        let copier = DataCopier()
        // Few files a batch, so that the descriptors in flight stay far from the limit.
        steps = StepThread(threaded: true, stepsPerBatch: 16,
                           take: { try Self.take($0, copier: copier) },
                           release: { if case .file(let job) = $0 { job.close() } })
    }

    static func take(_ step: Step, copier: DataCopier) throws {
        switch step {
        case .file(let job):
            defer { job.close() }
            try fill(job, copier: copier)
        case .directory(let directory):
            try directory.apply()
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
    func add(_ step: Step) throws { try steps.submit(step) }

    /// Waits until every queued step is taken, and stops the thread.
    func finish() throws { try steps.finish() }
}
