import EmuPOSIX
import EmuRecords

/// New and changed files in a local push: created by the walk and copied in
/// the kernel (or, on a sink that shares extents, a reflink of the earlier
/// copy patched where it differs), then hashed by the finisher, which reads
/// the source while the walk copies the next file: the two cores share the bytes.
extension StagingWriter {
    /// Copies the file; one with other names is filled now, and its record
    /// returned (nil if the source could not be read): later names link to its inode.
    @discardableResult
    package func copy(_ file: PlannedFile, into parent: OpenDirectory, previous: ManifestRecord?) throws -> ManifestRecord? {
        let path = file.record.path
        var job = try PushFinisher.FillJob.begin(file.name, path: path, source: file.directory, target: parent.target, status: file.status,
                                                 previousContent: previous.map { $0.content })
        job.clonesHeldContent = try clonesHeldContent(file.status)
        guard file.leads else {
            try copyInWalk(&job, status: file.status, earlier: previous?.kind == .regular ? parent.earlier : nil)
            try finisher.submit(.fill(job))
            return nil
        }
        guard let record = try finisher.fillNow(job) else { return nil }
        leaders[path] = record
        return record
    }

    /// The walk's copy of a file the finisher then hashes. The walk's status
    /// stands for the open file's: the finisher's after the copy must show
    /// the same inode, size and times, or the file is read again (so one
    /// fstat a new file is saved).
    package func copyInWalk(_ job: inout PushFinisher.FillJob, status: FileStatus, earlier: EarlierDirectory?) throws {
        do {
            if let patched = try reflinkedCopy(&job, before: status, earlier: earlier) {
                job.copied = patched
                job.clonesHeldContent = false
            } else if !job.clonesHeldContent {
                let length = try copier.copyInKernel(from: job.input, to: job.output, sourceStatus: status)
                let hashesHere = length >= PushFinisher.largeFile && finisher.isBehindOnHashing
                job.copied = (status, length, hashesHere ? try hash(job.input, length: length, status: status) : nil)
            }
        } catch {
            // What was opened is not the file the walk saw (replaced by a directory, say): the source's error, not the sink's.
            let opened = try? job.input.status()
            job.close()
            if let opened, opened.kind != .regular || opened.inode != status.inode {
                throw FileSystemError("copy", job.input.path, .invalidArgument, origin: .source)
            }
            throw error
        }
    }

    /// The content of a large file the walk just copied, when the finisher is
    /// behind on hashing, read from the source; nil when fewer bytes came
    /// back (it shrank: the finisher reads it again).
    package func hash(_ input: OpenFile, length: Int64, status: FileStatus) throws -> ContentHash? {
        var hasher = ContentHasher()
        let hashed = try copier.copy(from: input, to: nil, sourceStatus: status) { hasher.update($0) }
        return hashed == length ? hasher.finalize() : nil
    }

    /// Whether the finisher is to hash a new file before copying it, so that
    /// content the sink holds under other metadata (the same photo with
    /// another mtime, elsewhere or from another machine under a served
    /// root) becomes a reflink of the held copy and writes no data block:
    /// on a sink that shares extents, for a file worth the index's search.
    package func clonesHeldContent(_ status: FileStatus) throws -> Bool {
        guard status.size >= ContentIndex.smallestCopied else { return false }
        if sharesExtents == nil { sharesExtents = try staging.sharesExtents() }
        return sharesExtents == true
    }

    /// A changed large file on a sink that shares extents (xfs with reflink,
    /// btrfs): its copy starts as a reflink of the newest snapshot's copy and
    /// only the blocks that differ are written, so a byte changed in a large
    /// file costs a block, not the file. Reads the source once (hashing it)
    /// and the earlier copy once, to compare. nil where this does not apply
    /// (a small or new file, a sink that cannot): the file is then copied.
    package func reflinkedCopy(_ job: inout PushFinisher.FillJob, before: FileStatus, earlier: EarlierDirectory?)
        throws -> (before: FileStatus, length: Int64, content: ContentHash?)? {
        guard sharesExtents != false, before.size >= PushFinisher.largeFile,
              let directory = earlier?.handle(), let older = try? directory.openForReading(job.name) else { return nil }
        defer { older.close() }
        do {
            try job.output.clone(from: older)
        } catch let error as FileSystemError where error.refusesReflink {
            sharesExtents = false
            return nil
        }
        sharesExtents = true
        var hasher = ContentHasher()
        let (length, written) = try copier.patch(job.output, cloneOf: older, toMatch: job.input, size: before.size) { hasher.update($0) }
        job.bytesWritten = written
        // A file that shrank meanwhile is hashed again by the finisher, which compares.
        return (before, length, length == before.size ? hasher.finalize() : nil)
    }
}
