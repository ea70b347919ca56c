import EmuPOSIX

/// Where records come from, which decides what they can vouch for. This is
/// the one place that says how a source entry is judged unchanged against
/// an earlier record and whether a record's missing attributes digest means
/// "no xattrs"; the push (local or over ssh) and the checkout ask it.
public enum RecordOrigin: Sendable, Equatable {
    /// A manifest a push wrote from the source: its ctimes and inodes are
    /// the source's, and a record without an attributes digest had no xattrs.
    case manifest
    /// Scanned from a snapshot's tree (emu 0.2.5 wrote no manifests): ctimes
    /// and inodes are the tree's, and there are no digests.
    case scannedTree

    /// Whether a record without an attributes digest says the entry had no xattrs.
    public var knowsAttributes: Bool { self == .manifest }

    /// How entries compared with these records are judged unchanged.
    public var changeTest: ChangeTest { self == .manifest ? .exact : .quickCheck }
}

/// How a source entry is judged unchanged against an earlier record.
public enum ChangeTest: Sendable, Equatable {
    /// Type, size, mtime, ctime, inode, mode and owner: a ctime that did not
    /// move says xattrs and ACLs did not either.
    case exact
    /// rsync's quick check (type, size, mtime, mode; owner when this process
    /// can set owners), for records whose ctimes and inodes are not the
    /// source's: a scanned tree's, or those an import compares a backup
    /// folder with (linking a backup's file into the sink moves its ctime,
    /// and the tools that made the backups judge so too).
    case quickCheck

    public func isUnchanged(_ record: ManifestRecord, comparedTo status: FileStatus) -> Bool {
        switch self {
        case .exact:
            return record.isUnchanged(comparedTo: status)
        case .quickCheck:
            return record.kind == status.kind && record.size == status.size && record.modified == status.modified
                && record.permissions == status.permissions
                && (!EntryMetadata.isPrivileged || (record.owner == status.owner && record.group == status.group))
        }
    }
}
