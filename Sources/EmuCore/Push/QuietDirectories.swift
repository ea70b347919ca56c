import EmuPOSIX
import EmuRecords
import Synchronization

/// What `emu watch` knows from inotify: the directories whose entries may
/// have changed since the newest snapshot. Every other directory's entries
/// are taken from that snapshot's records, not read: no readdir, no stat of
/// its files. Still looked at: its subdirectories (a mount or a replaced
/// directory shows no event in its parent), and files hardlinked elsewhere
/// in the source (a change through another name shows in that name's
/// directory only). A directory is trusted only while its own status is
/// what its record says.
public struct QuietDirectories: Sendable {
    package let changed: Set<RelativePath>
    /// Paths the newest snapshot holds as names of one file (leaders and followers).
    package let hardlinked: Set<RelativePath>

    /// The newest snapshot's hardlinked names: as the push that made it
    /// saw them, when this process made it (`remember`), else read from its
    /// records, a pass over all of them before the walk (on `home`, a
    /// fifth of a watched push).
    package init(changed: Set<RelativePath>, newest: String, in sink: String, records: () throws -> RecordReader) throws {
        self.changed = changed
        if let kept = Self.remembered.withLock({ $0.removeValue(forKey: sink) }), kept.snapshot == newest {
            hardlinked = kept.names
            return
        }
        let records = try records()
        var hardlinked: Set<RelativePath> = []
        while let record = try records.next() {
            if let leader = record.hardlinkLeader { hardlinked.insert(record.path); hardlinked.insert(leader) }
        }
        self.hardlinked = hardlinked
    }

    /// By sink (its path or address): the names of files with several that
    /// its newest push in this process saw (`PushPlanner.namesOfLinkedFiles`)
    /// and the snapshot that push made. The next push takes them, and uses
    /// them only when it starts from that snapshot (another process may have
    /// pushed since): one set a sink, however long `emu watch` runs.
    /// They are a superset of those its records name: every name of such a
    /// file was looked at (its directory walked, or itself looked at as
    /// one of these), and a record names a hardlink only where the walk saw
    /// several links.
    private static let remembered = Mutex<[String: (snapshot: String, names: Set<RelativePath>)]>([:])

    package static func remember(_ names: Set<RelativePath>, of snapshot: String, in sink: String) {
        remembered.withLock { $0[sink] = (snapshot, names) }
    }

    /// The snapshot whose names are kept for `sink`, if any.
    package static func remembered(for sink: String) -> String? {
        remembered.withLock { $0[sink]?.snapshot }
    }

    /// Whether the entries of the directory at `path` may be taken from
    /// `record`'s snapshot: no event touched it and its own status is what
    /// the record says.
    package func trusts(_ path: RelativePath, record: ManifestRecord?, status: FileStatus) -> Bool {
        guard !changed.contains(path), let record else { return false }
        return record.kind == .directory && record.isUnchanged(comparedTo: status)
    }

    /// Whether an entry of a trusted directory is still looked at: a
    /// subdirectory, or a name of a file with others.
    package func looksAt(_ child: ManifestRecord) -> Bool {
        child.kind == .directory || hardlinked.contains(child.path)
    }

    /// What the record says of an entry nothing touched: its link count is
    /// one (hardlinked names are looked at), its blocks unknown (a copy then
    /// looks for holes).
    package static func status(recordedIn record: ManifestRecord, device: UInt64) -> FileStatus {
        FileStatus(kind: record.kind, permissions: record.permissions, owner: record.owner, group: record.group, size: record.size,
                   modified: record.modified, changed: record.changed, inode: record.inode, device: device, linkCount: 1,
                   deviceNumber: record.device?.raw ?? 0, blocks: 0)
    }
}

extension TreeScanner {
    /// `emu watch`'s walk (`changedDirectories`): the entries of directories
    /// no event touched come from `head`'s records, when that snapshot is
    /// complete; any other walk reads everything.
    package func takeQuietDirectories(of options: PushOptions, head: Snapshot, in sink: String, records: () throws -> RecordReader) throws {
        guard let changed = options.changedDirectories, head.status == .complete else { return }
        quiet = (try QuietDirectories(changed: changed, newest: head.id, in: sink, records: records), ManifestCursor(try records()))
    }
}

extension PushPlanner {
    /// `emu watch` (`remembersLinkedNames`): the names of files with several
    /// links are collected as the walk meets them...
    package func keepsLinkedNames(for options: PushOptions) {
        if options.remembersLinkedNames { namesOfLinkedFiles = [] }
    }

    /// ...and kept for the next push of this process, by the snapshot this one made.
    package func rememberLinkedNames(of snapshot: Snapshot, in sink: String) {
        if let names = namesOfLinkedFiles { QuietDirectories.remember(names, of: snapshot.id, in: sink) }
    }
}

extension ManifestCursor {
    /// The next record naming an entry of `path`, left in place; what is
    /// left of earlier entries' subtrees is passed over.
    package mutating func nextChild(of path: RelativePath) throws -> ManifestRecord? {
        while let next = try peek(), next.path.isWithin(path) {
            if next.path != path && next.path.parent == path { return next }
            _ = try take()
        }
        return nil
    }
}
