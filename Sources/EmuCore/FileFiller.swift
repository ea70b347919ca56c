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
        var placement: Placement
        /// Whether the data is in place already: the walk copied it, or there is none (the filler
        /// then sets metadata and places the file).
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

    private let steps: StepThread<Step>

    init() {
        let copier = DataCopier()
        // Few files a batch, so that the descriptors in flight stay far from the limit.
        steps = StepThread(threaded: true, stepsPerBatch: 16,
                           take: { try Self.take($0, copier: copier) },
                           release: { if case .file(let job) = $0 { job.discard() } })
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

    /// Waits until every queued step is taken: for a file with other names,
    /// whose first name must be in place before the next is linked to it.
    func drain() throws { try steps.drain() }

    /// Waits until every queued step is taken, and stops the thread.
    func finish() throws { try steps.finish() }
}
