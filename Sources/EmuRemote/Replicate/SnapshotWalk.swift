import EmuPOSIX
import EmuCore
import EmuRecords

/// A snapshot of another sink as the planner walks it (`emu replicate`):
/// its records, each entry's status made from its record, so that the one
/// change test of every push decides what is unchanged since the newest
/// snapshot the receiving sink holds (a record is what its source's status
/// was: the push that made it decided the same). Files hardlinked in the
/// source share their first name's inode number, and that first name stands
/// for the device records do not keep, so that two groups on two
/// filesystems are not taken for one.
package final class SnapshotWalk: PushWalk {
    package let reader: RecordReader
    package let tree: ReplicaTree
    /// The first names of files with several (a set as large as the hardlinked files, as a push's map).
    package let firstNames: Set<RelativePath>
    /// Whether a record without an xattr digest says its entry has none (a manifest's; not records scanned from a 0.2.5 tree).
    package let knowsAttributes: Bool
    private var current: SourceEntry? = nil
    package var entry: SourceEntry { current! }

    /// `records` is called twice: first for the first names of files with several, then to walk.
    package init(records: () throws -> RecordReader, tree: ReplicaTree) throws {
        var leaders = Set<RelativePath>()
        let names = try records()
        while let record = try names.next() {
            if let leader = record.hardlinkLeader { leaders.insert(leader) }
        }
        (firstNames, reader, self.tree) = (leaders, try records(), tree)
        knowsAttributes = reader.origin.knowsAttributes
    }

    package func next() throws -> ManifestRecord? {
        guard let record = try reader.next() else { return nil }
        guard [.regular, .directory, .symlink, .fifo, .characterDevice, .blockDevice].contains(record.kind) else {
            throw EmuError(.damaged, "a snapshot being replicated records \(record.path), which is no kind of entry a snapshot holds",
                           fix: "run `emu verify` on the sink copied from")
        }
        let (directory, name) = try tree.place(of: record.path)
        current = SourceEntry(directory: directory, name: name, status: status(of: record), opened: nil)
        return record
    }

    package func takeNotes() -> [(RelativePath, String)] { [] }
    package var unreadable: [(RelativePath, Error)] { [] }
    /// A new file is not read to be hashed: the records say its content, where they know it.
    package var recordsHoldHashes: Bool { true }

    package func attributes(of record: ManifestRecord, at entry: SourceEntry) throws -> [ExtendedAttribute] {
        if record.attributes == nil && knowsAttributes { return [] }
        return try tree.attributes(of: record)
    }

    /// The status the source entry had, as its record keeps it.
    package func status(of record: ManifestRecord) -> FileStatus {
        let group = record.hardlinkLeader ?? (firstNames.contains(record.path) ? record.path : nil)
        var hasher = Hasher()
        hasher.combine(group?.bytes)
        return FileStatus(kind: record.kind, permissions: record.permissions, owner: record.owner, group: record.group, size: record.size,
                          modified: record.modified, changed: record.changed, inode: record.inode,
                          device: group == nil ? 0 : UInt64(bitPattern: Int64(hasher.finalize())), linkCount: group == nil ? 1 : 2,
                          deviceNumber: record.device?.raw ?? 0, blocks: (record.size + 511) / 512)
    }
}
