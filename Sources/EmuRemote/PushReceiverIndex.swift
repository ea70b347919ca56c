import EmuPOSIX
import EmuCore
import EmuRecords

/// The content index, asked before bytes cross the wire: the client hashes
/// the new and changed files of a batch and asks (`query`, one record line
/// each); the server answers one byte each (`ContentIndex.Holding`): `L` the
/// sink holds an inode with this content and metadata, `C` the content
/// under other metadata, `S` nothing. The client then sends `indexed`,
/// `copy` or `file` entries for them, in path order with the rest.
extension PushReceiver {
    package func answerQuery(_ records: [ManifestRecord]) throws {
        var answers: [UInt8] = []
        for record in records { answers.append(try staged.index.holding(record).rawValue) }
        try writer.send(Frame(.data, answers))
        try writer.flush()
    }

    /// A file whose content the sink holds: linked to the index's inode
    /// (`indexed`) or, when that cannot be shared, made on the server from
    /// an inode with the same bytes (`copy`): a reflink where the sink shares
    /// extents (xfs, btrfs), so none of its bytes are stored again, else a
    /// copy. It is then given its metadata and offered to the index.
    package func takeHeld(_ name: FileName, _ record: ManifestRecord, _ metadata: EntryMetadata, in parent: DirectoryHandle, linking: Bool) throws {
        if linking, try staged.index.linkHeld(record, as: name, in: parent) {
            staging.counts.filesLinked += 1
            staging.reusedFromIndex = true
            return
        }
        guard let (bucket, entry) = try staged.index.entry(withContentOf: record) else {
            throw EmuError.failed("the sink no longer holds the content of \(record.path) it said it held", fix: "push again")
        }
        let input = try bucket.openForReading(entry)
        defer { input.close() }
        let output = try parent.createFile(name, permissions: 0o600)
        defer { output.close() }
        let written = try staging.copier.cloneOrCopy(input, to: output)
        try metadata.apply(to: .open(output), aclSource: nil, created: .made(with: 0o600, handsDownNothing: staging.createsAsSelf))
        try offerToIndex(name, record, in: parent, written: written)
    }
}
