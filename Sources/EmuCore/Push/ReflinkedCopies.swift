import EmuPOSIX

extension Archiver {
    /// A changed large file on a sink that shares extents (xfs with reflink,
    /// btrfs): its copy starts as a reflink of the newest earlier copy and
    /// only the blocks that differ are written, so a byte changed in a large
    /// file costs a block, not the file. Reads the source once (hashing it)
    /// and the earlier copy once, to compare. nil where this does not apply
    /// (a small or new file, a sink that cannot): the file is then copied.
    func reflinkedCopy(_ job: inout PushFinisher.FillJob, before: FileStatus, previous: [(base: Int, record: ManifestRecord)])
        throws -> (before: FileStatus, length: Int64, content: ContentHash?)? {
        guard sharesExtents != false, before.size >= PushFinisher.largeFile,
              let base = previous.first(where: { $0.record.kind == .regular && !bases[$0.base].isResume })?.base,
              let directory = earlier[base].handle(), let older = try? directory.openForReading(job.name) else { return nil }
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
