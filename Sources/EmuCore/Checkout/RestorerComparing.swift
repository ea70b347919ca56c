import EmuPOSIX

/// How a checkout compares what the target holds with the snapshot: what it
/// may overwrite without losing unsaved data, what is already restored, and
/// what needs only its metadata mended.
extension Restorer {
    /// A target entry about to be overwritten must match the guard's record
    /// (so a snapshot holds it); a directory's entries are checked one by one.
    func checkReplaced(_ status: FileStatus, in directory: DirectoryHandle, name: FileName, path: RelativePath) throws {
        guard mode == .check, guardRecords != nil else { return }
        if name.bytes.starts(with: Self.temporaryPrefix) { return }
        if status.kind == .directory {
            let child = try directory.openDirectory(name)
            for entry in try child.entries().sorted(by: { $0.name < $1.name }) {
                guard let childStatus = try? child.status(entry.name) else { continue }
                try checkReplaced(childStatus, in: child, name: entry.name, path: path.appending(entry.name))
            }
            return
        }
        // A damaged newest manifest vouches for nothing past its damage: checkout refuses rather than overwrite.
        if let saved = (try? guardRecords!.record(at: path)) ?? nil, try matches(saved, status, in: directory, name: name) { return }
        conflictCount += 1
        if conflicts.count < 20 { conflicts.append(path) }
    }

    /// Whether a target entry holds what the newest snapshot recorded: by
    /// metadata when it is untouched since, else by content (a file an
    /// earlier checkout rewrote has a new inode but the same bytes).
    func matches(_ saved: ManifestRecord, _ status: FileStatus, in directory: DirectoryHandle, name: FileName) throws -> Bool {
        if saved.isUnchanged(comparedTo: status) { return true }
        guard saved.kind == status.kind else { return false }
        switch status.kind {
        case .regular:
            guard saved.size == status.size else { return false }
            // A snapshot without a manifest (emu 0.2.5) has no hashes: rsync's quick check.
            guard let content = saved.content else { return saved.modified == status.modified }
            return try hashFile(name, in: directory, copier: copier).0 == content
        case .symlink:
            return try directory.readSymlink(name) == saved.symlinkTarget
        default:
            return true  // FIFOs and devices hold no data
        }
    }

    enum RestoredState { case exactly, metadataDiffers, differs }

    /// Whether a target entry already is what the snapshot holds (so that
    /// checking out the same snapshot twice writes nothing the second time),
    /// holds its content with other metadata (mended in place), or differs.
    func restoredState(_ record: ManifestRecord, _ status: FileStatus, in directory: DirectoryHandle, name: FileName) throws -> RestoredState {
        if record.isUnchanged(comparedTo: status) { return .exactly }
        if let leader = record.hardlinkLeader {
            // Another name of an inode restored (and mended) at its first name.
            guard scope(of: leader) == .inside, let leaderStatus = try? targetRoot?.status(path: leader) else { return .differs }
            return leaderStatus.inode == status.inode && leaderStatus.device == status.device ? .exactly : .differs
        }
        guard try matches(record, status, in: directory, name: name) else { return .differs }
        let ownerHolds = !EntryMetadata.isPrivileged || (record.owner == status.owner && record.group == status.group)
        guard record.permissions == status.permissions && record.modified == status.modified && ownerHolds else { return .metadataDiffers }
        return try attributesHold(record, in: directory, name: name) ? .exactly : .metadataDiffers
    }

    /// Whether the entry's xattrs and ACLs are the ones the record's digest
    /// names (a scanned emu 0.2.5 tree has no digests: taken as holding).
    func attributesHold(_ record: ManifestRecord, in directory: DirectoryHandle, name: FileName) throws -> Bool {
        guard recordsKnowAttributes else { return true }
        let current = try ExtendedAttributes.read(.entry(directory, name))
        return attributesDigest(current) == record.attributes
    }

    // MARK: Mending metadata

    /// Gives an entry whose content is right the snapshot's mode, owner,
    /// xattrs, ACLs and mtime, in place: its bytes are not written again.
    func mendMetadata(_ name: FileName, record: ManifestRecord, in target: DirectoryHandle, tree: DirectoryHandle?, path: RelativePath) throws {
        plan(path, .mend)
        mended += 1
        guard mode == .apply, let tree else { return }
        let attributes = try ExtendedAttributes.read(.entry(tree, name))
        let metadata = EntryMetadata(record, attributes: attributes)
        guard record.kind == .regular else {
            return try metadata.apply(to: .entry(target, name, record.kind), aclSource: nil, mendsExisting: true)
        }
        let output = try target.openForReading(name)
        defer { output.close() }
        let input = try tree.openForReading(name)
        defer { input.close() }
        try metadata.apply(to: .open(output), aclSource: .open(input), mendsExisting: true)
    }
}
