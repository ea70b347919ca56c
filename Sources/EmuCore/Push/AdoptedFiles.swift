import EmuPOSIX

extension Archiver {
    /// An import's new file: the backup's own inode takes a name in the
    /// staging tree and is read once for its hash, so a backup moves into
    /// the sink without a copy. False where that cannot be (another
    /// filesystem, the link limit): the file is copied then.
    func adopt(_ name: FileName, from source: DirectoryHandle, into target: DirectoryHandle, path: RelativePath,
               identity: FileIdentity?) throws -> Bool {
        do {
            try source.link(name, to: target, as: name)
        } catch let error as FileSystemError where error.isAtLinkLimit || error.errno == .improperLink {
            return false
        }
        let record = try hashed(name, in: source, path: path)
        try finisher.submit(.adopted(name, target, record))
        if let identity { leaders[identity] = record }
        return true
    }
}

extension PushFinisher {
    /// An adopted file's record; the index takes its inode, or swaps it for
    /// one the sink already holds with the same content and metadata.
    static func adopted(_ name: FileName, in target: DirectoryHandle, record: ManifestRecord, _ state: State) throws {
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
