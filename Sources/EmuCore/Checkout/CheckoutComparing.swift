import EmuPOSIX
import EmuRecords

/// How a checkout compares what the target holds with a record: whether it
/// holds what a snapshot saved, is already restored, or needs only its
/// metadata mended.
extension CheckoutWalk {
    /// Whether a target entry holds what the newest snapshot recorded: by
    /// metadata when it is untouched since, else by content (a file an
    /// earlier checkout rewrote has a new inode but the same bytes).
    package func matches(_ saved: ManifestRecord, _ status: FileStatus, in directory: DirectoryHandle, name: FileName) throws -> Bool {
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

    package enum RestoredState { case exactly, metadataDiffers, differs }

    /// Whether a target entry already is what the snapshot holds (so that
    /// checking out the same snapshot twice writes nothing the second time),
    /// holds its content with other metadata (mended in place), or differs.
    package func restoredState(_ record: ManifestRecord, _ status: FileStatus, in directory: DirectoryHandle, name: FileName) throws -> RestoredState {
        if let leader = record.hardlinkLeader { return try laterNameState(record, status, leader: leader) }
        if record.isUnchanged(comparedTo: status) { return .exactly }
        guard try matches(record, status, in: directory, name: name) else { return .differs }
        let ownerHolds = !EntryMetadata.isPrivileged || (record.owner == status.owner && record.group == status.group)
        guard record.permissions == status.permissions && record.modified == status.modified && ownerHolds else { return .metadataDiffers }
        return try attributesHold(record, in: directory, name: name) ? .exactly : .metadataDiffers
    }

    /// Another name of an inode restored (and mended) at its first name: it
    /// is right when it is the inode the first name has and that inode is
    /// itself right. When the first name is to be rewritten, this name must
    /// follow it, even if it is the inode the first name has now (the first
    /// name may be rewritten after this is decided: from a server, the
    /// filler thread writes files behind the walk).
    package func laterNameState(_ record: ManifestRecord, _ status: FileStatus, leader: RelativePath) throws -> RestoredState {
        guard scope(of: leader) == .inside, let targetRoot, let leaderStatus = try? targetRoot.status(path: leader),
              leaderStatus.inode == status.inode, leaderStatus.device == status.device,
              let (leaderDirectory, leaderName) = try? targetRoot.parentAndName(of: leader) else { return .differs }
        var first = record
        first.path = leader
        first.hardlinkLeader = nil
        return try restoredState(first, leaderStatus, in: leaderDirectory, name: leaderName) == .differs ? .differs : .exactly
    }

    /// Whether the entry's xattrs and ACLs are the ones the record's digest
    /// names (a scanned emu 0.2.5 tree has no digests: taken as holding).
    package func attributesHold(_ record: ManifestRecord, in directory: DirectoryHandle, name: FileName) throws -> Bool {
        guard recordsKnowAttributes else { return true }
        let current = try ExtendedAttributes.read(.entry(directory, name))
        return attributesDigest(current) == record.attributes
    }
}
