import EmuPOSIX
import SystemPackage
import EmuRecords
import Synchronization

/// The half of a push that runs on the second core. The walk decides, stats,
/// links and creates; every other step comes here in path order: a created
/// file is filled (copied and hashed in one read, its metadata set, looked
/// up in the content index), a finished directory gets its metadata, and
/// each record goes to the manifest writer. The observer hears everything
/// from here, so from one thread.
///
/// Directory entries are made by the walk only (the index's swap of a copy
/// for an inode the sink holds is the exception, and it precedes the
/// directory's own step), so a directory's mtime, set by its step, is final.
///
/// A sink-side error stops the thread (see `StepThread`).
package final class PushFinisher {
    package enum Step {
        /// A record to write as it is; `isFile` counts it as a file.
        case record(ManifestRecord, isFile: Bool)
        case fill(FillJob)
        case link(LinkJob)
        /// An import's file, linked from the backup into the staging tree (see `StagingWriter.adopt`).
        case adopted(FileName, DirectoryHandle, ManifestRecord)
        /// A directory's metadata, once its entries are made.
        case directory(RelativePath, FinishedDirectory)
        case skipped(RelativePath, Error)
        case noted(RelativePath, String)
    }

    /// A file the walk created empty, with the source open beside it.
    package struct FillJob {
        package var name: FileName
        package var path: RelativePath
        package var source: DirectoryHandle
        package var target: DirectoryHandle
        package var input: OpenFile
        package var output: OpenFile
        /// The mode `output` was created with.
        package var initialPermissions: UInt32
        /// The walk's copy in the kernel, when it made one: the source's
        /// status before it, the bytes copied, and, for some large files,
        /// the hash of the source the walk read after it. The finisher hashes
        /// the source when the walk did not, and takes the copy if the
        /// source did not change meanwhile.
        package var copied: (before: FileStatus, length: Int64, content: ContentHash?)?
        /// The earlier snapshot's content of this path, for the report.
        package var previousContent: ContentHash??
        /// For a copy that shares extents with the earlier one (a reflink),
        /// the bytes written: all it adds to the sink.
        package var bytesWritten: Int64? = nil
        /// Left uncopied by the walk on a sink that shares extents: hashed
        /// first, then a reflink of an inode holding its bytes, if the index
        /// has one, else copied (see `StagingWriter.clonesHeldContent`).
        package var clonesHeldContent = false

        /// Whether the finisher is to hash a large file the walk copied.
        package var hashesLargeFile: Bool {
            guard let copied else { return false }
            return copied.length >= PushFinisher.largeFile && copied.content == nil
        }

        /// Opens the source and creates its copy, empty: how every copy
        /// starts, whether the walk chose it or a link that failed falls back to it.
        package static func begin(_ name: FileName, path: RelativePath, source: DirectoryHandle, target: DirectoryHandle, status: FileStatus,
                          previousContent: ContentHash??) throws -> FillJob {
            let input = try source.openForReading(name)
            let initialPermissions = EntryMetadata.Created.initialPermissions(for: status.permissions, isDirectory: false)
            let output: OpenFile
            do { output = try target.createFile(name, permissions: initialPermissions) } catch {
                input.close()
                throw error
            }
            return FillJob(name: name, path: path, source: source, target: target, input: input, output: output,
                           initialPermissions: initialPermissions, previousContent: previousContent)
        }

        package func close() {
            input.close()
            output.close()
        }
    }

    /// An unchanged file: linked from the first earlier tree that still
    /// holds it, else copied from the source like a new file; a server,
    /// which has no source, then fails the push.
    package struct LinkJob {
        package var name: FileName
        package var path: RelativePath
        package var target: DirectoryHandle
        /// The earlier directories holding the file, with their records, in order of preference.
        package var candidates: [(directory: DirectoryHandle, record: ManifestRecord, isResume: Bool)]
        /// The source's directory holding the file, and its status.
        package var source: (directory: DirectoryHandle, status: FileStatus)?
    }

    /// What the finishing side owns; only one thread touches it at a time.
    package final class State: @unchecked Sendable {
        package let writer: ManifestWriter
        package let index: ContentIndex
        package unowned let observer: PushObserver
        package let createsAsSelf: Bool
        package let copier = DataCopier()
        /// Files, bytes, copies, reuses through the index, and skips.
        package var counts = Snapshot.Counts()
        package var bytesOwned: Int64 = 0
        package var reusedFromIndex = false
        package var lastFlush = monotonicSeconds()
        /// Large files handed over for hashing and not hashed yet: the
        /// walk's measure of whether this side is behind.
        package let largeHashesPending = Backlog()

        package init(writer: ManifestWriter, index: ContentIndex, observer: PushObserver, createsAsSelf: Bool) {
            self.writer = writer
            self.index = index
            self.observer = observer
            self.createsAsSelf = createsAsSelf
        }
    }

    package let state: State
    private let steps: StepThread<Step>
    /// The directory of the last step submitted: a queued step keeps its
    /// directories open, so they count when they change.
    private var lastDirectory: DirectoryHandle? = nil
    /// Files from this size on are much work to fill.
    package static let largeFile: Int64 = 1 << 20

    package init(_ state: State) {
        self.state = state
        // Batches hold few enough descriptors to stay far from the limit:
        // two a file being filled, three (source, target, earlier tree) a directory.
        steps = StepThread(threaded: true, stepsPerBatch: 256, weightPerBatch: 64,
                           take: { try Self.take($0, state) },
                           release: { if case .fill(let job) = $0 { job.close() } })
    }

    package func submit(_ step: Step) throws {
        var descriptors = 0
        let directory: DirectoryHandle? = switch step {
        case .fill(let job): job.target
        case .link(let job): job.target
        case .adopted(_, let target, _): target
        case .directory(_, let directory): directory.target
        default: nil
        }
        if let directory, directory !== lastDirectory {
            lastDirectory = directory
            descriptors += 3
        }
        var startsNow = false
        if case .fill(let job) = step {
            descriptors += 2
            // A large file's hash is seconds of work: started at once, while the walk copies the next.
            startsNow = job.copied.map { $0.length >= Self.largeFile } ?? false
            if job.hashesLargeFile { state.largeHashesPending.count.add(1, ordering: .relaxed) }
        }
        try steps.submit(step, weight: descriptors, startsNow: startsNow)
    }

    /// Fills a file now, on the calling thread, once every step before it is
    /// taken, and returns its record: for a file with other names, whose
    /// inode later names must link to.
    package func fillNow(_ job: FillJob) throws -> ManifestRecord? {
        try steps.drain()
        return try Self.fill(job, state)
    }

    /// Returns once every step submitted is taken.
    package func drain() throws { try steps.drain() }

    /// Takes the remaining steps and stops the thread.
    package func finish() throws { try steps.finish() }

    /// Whether two large files wait to be hashed here: then the walk hashes
    /// the one it just copied itself. One file's SHA-256 cannot be split, and
    /// the copies are the walk's; this shares the hashing of large files
    /// between the cores as fast as each goes (with copies that cost nothing,
    /// on a filesystem that shares extents, the walk hashes about half).
    package var isBehindOnHashing: Bool { state.largeHashesPending.count.load(ordering: .relaxed) >= 2 }

    // MARK: Steps

    package static func take(_ step: Step, _ state: State) throws {
        switch step {
        case .record(let record, let isFile):
            try state.writer.append(record)
            if isFile { counted(record, state) }
        case .fill(let job):
            defer { if job.hashesLargeFile { state.largeHashesPending.count.subtract(1, ordering: .relaxed) } }
            _ = try fill(job, state)
        case .link(let job):
            try link(job, state)
        case .adopted(let name, let target, let record):
            try adopted(name, in: target, record: record, state)
        case .directory(let path, let directory):
            do { try directory.apply() } catch let error where isSourceError(error) {
                skip(path, error, state)
            }
        case .skipped(let path, let error):
            skip(path, error, state)
        case .noted(let path, let message):
            state.observer.noted(path, message)
        }
    }

    package static func counted(_ record: ManifestRecord, _ state: State) {
        state.counts.files += 1
        state.counts.bytes += record.size
        state.observer.progressed(files: state.counts.files, bytes: state.counts.bytes)
    }

    package static func skip(_ path: RelativePath, _ error: Error, _ state: State) {
        state.counts.skipped += 1
        state.observer.skipped(path, because: error)
    }

    package static func link(_ job: LinkJob, _ state: State) throws {
        for (directory, record, isResume) in job.candidates {
            if isResume && !resumedCopyIsIntact(job.name, in: directory, record: record, copier: state.copier) { continue }
            do {
                try directory.link(job.name, to: job.target, as: job.name)
            } catch let error as FileSystemError where error.isAtLinkLimit || error.isMissing {
                continue  // gone, or at the link limit: the next candidate, else a copy
            }
            state.counts.filesLinked += 1
            if isResume { state.bytesOwned += record.size }
            var linked = record
            linked.path = job.path
            linked.hardlinkLeader = nil
            try state.writer.append(linked)
            counted(linked, state)
            return
        }
        // No earlier copy could take another name: the file is copied as a new one is.
        guard let source = job.source else { throw StagingWriter.cannotLink(job.path) }
        let fill: FillJob
        do {
            fill = try .begin(job.name, path: job.path, source: source.directory, target: job.target, status: source.status,
                              previousContent: job.candidates.first.map { $0.record.content })
        } catch let error where isSourceError(error) {
            skip(job.path, error, state)
            return
        }
        _ = try Self.fill(fill, state)
    }

    /// Copies and hashes the file, sets its metadata, lets the index swap
    /// it for an inode the sink holds, and writes its record; nil when the
    /// source could not be read (the file is then left out and reported).
    package static func fill(_ job: FillJob, _ state: State) throws -> ManifestRecord? {
        defer { job.close() }
        let record: ManifestRecord
        let added: Int64
        do {
            (record, added) = try copy(job, state)
        } catch let error where isSourceError(error) {
            try? job.target.remove(job.name)
            skip(job.path, error, state)
            return nil
        }
        if try state.index.adopt(job.name, in: job.target, record: record) == .linkedExisting {
            state.reusedFromIndex = true
            state.counts.filesLinked += 1
            state.observer.reused(job.path, bytes: record.size)
        } else {
            let reason: CopyReason = switch job.previousContent {
            case nil: .new
            case record.content: .metadata
            default: .content
            }
            state.observer.copied(job.path, reason: reason, bytes: record.size)
            state.counts.filesCopied += 1
            state.counts.bytesCopied += added
            state.bytesOwned += added
        }
        try state.writer.append(record)
        counted(record, state)
        // A copy is worth keeping if the push is killed: its record must reach
        // the disk for the next push to reuse it. Records go out twice a
        // second, so a kill costs at most that much copying again, and a
        // push of many small files does not wake the writer for each.
        let now = monotonicSeconds()
        if now - state.lastFlush >= 0.5 {
            state.lastFlush = now
            try state.writer.flush()
        }
        CrashPoint.reach("push.after-copy") { try? state.writer.waitUntilWritten() }
        return record
    }

    /// Copies the file, hashing it in the same read. A file that changes
    /// while read is read again, twice at most, then taken as read,
    /// reported, and recorded so that the next push reads it again.
    /// Returns the record and the bytes the copy adds to the sink: what was
    /// written, for the walk's reflinked copy when it is kept; the whole file
    /// otherwise (a read again rewrites it whole).
    package static func copy(_ job: FillJob, _ state: State) throws -> (ManifestRecord, Int64) {
        var attempt = 0
        while true {
            attempt += 1
            var hasher = ContentHasher()
            var content: ContentHash? = nil
            let before: FileStatus
            let length: Int64
            var sameBytes = true
            var written = job.bytesWritten
            if attempt == 1, job.copied == nil, job.clonesHeldContent {
                before = try job.input.status()
                (content, length, written) = try hashThenClone(job, before: before, state)
                sameBytes = written == 0 || written == length
            } else if attempt == 1, let copied = job.copied {
                // Hash what the walk copied: the same bytes if the source did not change since.
                before = copied.before
                length = copied.length
                content = copied.content
                if content == nil {
                    let hashed = try state.copier.copy(from: job.input, to: nil, sourceStatus: before) { hasher.update($0) }
                    sameBytes = hashed == length
                }
            } else {
                before = try job.input.status()
                guard before.kind == .regular else { throw FileSystemError("copy", job.input.path, .invalidArgument, origin: .source) }
                if attempt > 1 { try job.output.truncate(to: 0) }
                length = try state.copier.copy(from: job.input, to: job.output, sourceStatus: before) { hasher.update($0) }
            }
            let after = try job.input.status()
            let stable = sameBytes && after.kind == .regular && after.inode == before.inode && after.size == length
                && after.modified == before.modified && after.changed == before.changed
            if !stable && attempt < 3 { continue }
            var record = ManifestRecord(path: job.path, status: after)
            record.size = length
            record.content = content ?? hasher.finalize()
            if !stable {
                state.observer.noted(job.path, "changed while it was read; kept as read, and read again next push")
                record.changed = FileTime(seconds: 0, nanoseconds: 0)
            }
            let attributes = try ExtendedAttributes.read(.file(job.input))
            record.attributes = attributesDigest(attributes)
            try EntryMetadata(record, attributes: attributes).apply(
                to: .open(job.output),
                aclSource: .open(job.input),
                created: .made(with: job.initialPermissions, handsDownNothing: state.createsAsSelf))
            return (record, attempt == 1 ? written ?? length : length)
        }
    }

    /// A file the walk left uncopied (`clonesHeldContent`): hashed, then a
    /// reflink of an inode the index holds with its bytes under any
    /// metadata, else copied in the kernel. Returns its hash, the length
    /// hashed and the bytes written (0 for a reflink); the caller's check of
    /// the source's status afterwards catches a change between the two reads.
    static func hashThenClone(_ job: FillJob, before: FileStatus, _ state: State) throws -> (ContentHash, Int64, Int64) {
        guard before.kind == .regular else { throw FileSystemError("copy", job.input.path, .invalidArgument, origin: .source) }
        var hasher = ContentHasher()
        let length = try state.copier.copy(from: job.input, to: nil, sourceStatus: before) { hasher.update($0) }
        var sought = ManifestRecord(path: job.path, status: before)
        (sought.size, sought.content) = (length, hasher.finalize())
        if let (bucket, entry) = try state.index.entry(withContentOf: sought) {
            let held = try bucket.openForReading(entry)
            defer { held.close() }
            return (sought.content!, length, try state.copier.cloneOrCopy(held, to: job.output))
        }
        return (sought.content!, length, try state.copier.copyInKernel(from: job.input, to: job.output, sourceStatus: before))
    }
}
