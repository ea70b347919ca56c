import EmuPOSIX
import EmuRecords

extension StagingWriter {
    /// An import's new file: the backup's own inode takes a name in the
    /// staging tree and is read once for its hash, so a backup moves into
    /// the sink without a copy. False where that cannot be (another
    /// filesystem, the link limit): the file is copied then.
    package func adopt(_ file: PlannedFile, into target: DirectoryHandle) throws -> Bool {
        do {
            try file.directory.link(file.name, to: target, as: file.name)
        } catch let error as FileSystemError where error.isAtLinkLimit || error.errno == .improperLink {
            return false
        }
        let (content, length) = try hashFile(file.name, in: file.directory, copier: copier)
        let input = try file.directory.openForReading(file.name)
        defer { input.close() }
        var record = ManifestRecord(path: file.record.path, status: try input.status())
        record.size = length
        record.content = content
        record.attributes = attributesDigest(try ExtendedAttributes.read(.file(input)))
        try finisher.submit(.adopted(file.name, target, record))
        if file.leads { leaders[record.path] = record }
        return true
    }
}

extension PushFinisher {
    /// An adopted file's record; the index takes its inode, or swaps it for
    /// one the sink already holds with the same content and metadata.
    package static func adopted(_ name: FileName, in target: DirectoryHandle, record: ManifestRecord, _ state: State) throws {
        if try state.index.adopt(name, in: target, record: record) == .linkedExisting {
            state.reusedFromIndex = true
            state.observer.reused(record.path, bytes: record.size)
        } else {
            state.bytesOwned += record.size
        }
        state.counts.filesLinked += 1
        try state.writer.append(record)
        counted(record, state)
    }
}
