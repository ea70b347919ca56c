import EmuPOSIX
import EmuCore
import EmuRecords

extension PushReceiver {
    /// A new or changed file: its bytes follow; hashed as written, given its
    /// metadata, then offered to the content index.
    package func fill(_ name: FileName, _ record: inout ManifestRecord, _ metadata: EntryMetadata, in parent: DirectoryHandle) throws {
        let output = try parent.createFile(name, permissions: 0o600)
        defer { output.close() }
        var hasher = ContentHasher()
        var writer = SparseWriter(output)
        while true {
            guard let frame = try reader.next() else { throw EmuError.failed("the client closed the connection during the push", fix: "push again") }
            if frame.kind == .end { break }
            guard frame.kind == .data else { throw EmuError.failed("the client sent a \(frame.kind) frame inside a file", fix: "push again") }
            hasher.update(frame.payload)
            try writer.write(frame.payload)
        }
        try writer.finish()
        let length = writer.length
        record.size = length
        record.content = hasher.finalize()
        record.attributes = attributesDigest(metadata.attributes)
        try metadata.apply(to: .open(output), aclSource: nil, created: .made(with: 0o600, handsDownNothing: staging.createsAsSelf))
        try offerToIndex(name, record, in: parent, written: length)
    }

    /// A file made here: the index keeps it, or swaps it for an inode the
    /// sink holds with the same content and metadata. `written` is the
    /// bytes its making wrote (0 for a reflink), all it adds to the sink.
    package func offerToIndex(_ name: FileName, _ record: ManifestRecord, in parent: DirectoryHandle, written: Int64) throws {
        if try staged.index.adopt(name, in: parent, record: record) == .linkedExisting {
            staging.reusedFromIndex = true
            staging.counts.filesLinked += 1
        } else {
            staging.counts.filesCopied += 1
            staging.counts.bytesCopied += written
            staging.bytesOwned += written
        }
    }

    /// Finishes the manifest and every open directory, makes it all durable
    /// and publishes the snapshot the client described.
    package func publish(_ origin: StagedSnapshot.Origin, earlier snapshots: [Snapshot]) throws -> Snapshot {
        try staging.finish()
        return try staged.finish(staging.outcome, from: origin, after: snapshots)
    }
}

/// The files of a cut push's leftovers whose bytes are whole (checked
/// against their records), the only ones a resumed push may link.
package final class IntactCopies: RecordReader {
    package let tree: DirectoryCursor
    package var records: ManifestCursor
    package let copier = DataCopier()

    package init(tree: DirectoryHandle, records: RecordReader) {
        self.tree = DirectoryCursor(root: tree)
        self.records = ManifestCursor(records)
    }

    package func next() throws -> ManifestRecord? {
        while let record = try records.take() {
            if record.path.isRoot { return record }  // a manifest starts with its root
            guard record.kind == .regular, record.hardlinkLeader == nil,
                  let (directory, name) = try? tree.parentAndName(of: record.path),
                  resumedCopyIsIntact(name, in: directory, record: record, copier: copier) else { continue }
            return record
        }
        return nil
    }
}
