import EmuPOSIX

/// `push --dry-run` over ssh: the client walks and compares with the
/// newest snapshot's records as a real push does, and counts what it would
/// send; nothing crosses but the records it reads, and the server changes
/// nothing (a shared lock, no recovery). As a local dry run, it counts what
/// would be copied without the content index's savings.
extension RemoteSink {
    func plan(_ source: Source, filter: SourceFilter, options: PushOptions, observer: PushObserver) throws -> PushResult {
        try lock(.shared, wait: options.lockWait)
        defer { unlock() }
        try SinkOwner.requirePushing(try source.identity(), into: try owner(), at: location)
        let earlier = try self.snapshots().last.map { ManifestCursor(try openRecords($0)) }
        let started = monotonicSeconds()
        let sender = PushSender(batches: PushBatches(self, observer: observer), earlier: earlier, resume: nil, observer: observer)
        sender.checksum = options.checksum
        if options.importing != nil { sender.changeTest = .quickCheck }
        sender.planned = Snapshot.Counts()
        try sender.send(TreeScanner(root: try options.walkedRoot(of: source), filter: filter, oneFileSystem: options.oneFileSystem))
        return PushResult(snapshot: nil, counts: sender.planned!, walkSeconds: monotonicSeconds() - started, publishSeconds: 0)
    }
}

extension PushSender {
    /// An entry a dry run would send, counted as the server would count it.
    func count(_ kind: PushEntry.Kind, _ record: ManifestRecord) {
        switch kind {
        case .directory: planned!.directories += 1
        case .symlink: planned!.symlinks += 1
        case .special: planned!.specials += 1
        case .link, .resume, .hardlink:
            planned!.files += 1
            planned!.bytes += record.size
            if kind != .hardlink { planned!.filesLinked += 1 }
        case .file, .indexed, .copy: break
        }
    }

    /// A new or changed file a dry run would send; with --checksum, one
    /// whose bytes and xattrs match the newest snapshot's is linked instead.
    func plan(_ record: ManifestRecord, previous: ManifestRecord?, _ name: FileName, in directory: DirectoryHandle) throws {
        if checksum, let previous, previous.kind == .regular, let content = previous.content, previous.permissions == record.permissions,
           previous.owner == record.owner, previous.group == record.group, previous.modified == record.modified {
            let input = try directory.openForReading(name)
            defer { input.close() }
            var hasher = ContentHasher()
            _ = try copier.copy(from: input, to: nil) { hasher.update($0) }
            if hasher.finalize() == content, attributesDigest(try ExtendedAttributes.read(.file(input))) == previous.attributes {
                return count(.link, record)
            }
        }
        planned!.files += 1
        planned!.bytes += record.size
        planned!.filesCopied += 1
        planned!.bytesCopied += record.size
        observer.copied(record.path, reason: previous == nil ? .new : .content, bytes: record.size)
    }

    /// An entry the walk could not read: the snapshot will be incomplete.
    func skip(_ path: RelativePath, because error: Error) throws {
        observer.skipped(path, because: error)
        if planned != nil { return planned!.skipped += 1 }
        try batches.add(.entry(.skipped(path)))
    }
}
