import EmuPOSIX

extension PushReceiver {
    /// `links FIRST COUNT`: the client found COUNT files unchanged whose
    /// records follow one another in the newest snapshot's manifest from
    /// ordinal FIRST (both sides read that manifest, which names them). The
    /// records come from the server's copy, so an unchanged file costs the
    /// wire a few bytes a run rather than its record.
    func linkUnchanged(first: Int, count: Int) throws {
        guard var records = try openEarlierRecords(), first >= records.taken else {
            throw EmuError.failed("the client linked files the newest snapshot does not list in that order", fix: "push again")
        }
        defer { earlierRecords = records }
        // A run that starts past the records' end is refused when they end: skipping to it never spins.
        while records.taken < first {
            guard try records.take() != nil else {
                throw EmuError.failed("the client linked unchanged files past the end of the newest snapshot's records", fix: "push again")
            }
        }
        for _ in 0..<count {
            guard var record = try records.take(), record.kind == .regular, !record.path.isRoot else {
                throw EmuError.failed("the client linked an entry of the newest snapshot that is not a file", fix: "push again")
            }
            record.hardlinkLeader = nil  // a name of its own here: the source's other names came as `hardlink`
            try admit(record.path)
            try linkEarlier(record, in: try directory(for: record.path), fromResume: false)
        }
    }

    /// The newest snapshot's record of an unchanged file the client links
    /// by path (`link`), in place of the one it sent: a hash a client chose
    /// for an inode would reach the content index, which hands that inode
    /// to every push of the root that holds the hash.
    func earlierRecord(at path: RelativePath) throws -> ManifestRecord {
        guard var records = try openEarlierRecords() else {
            throw EmuError.failed("the client linked \(path) to a snapshot the sink does not hold", fix: "push again")
        }
        defer { earlierRecords = records }
        guard var record = try records.record(at: path), record.kind == .regular else {
            throw EmuError.failed("the client linked \(path), which the newest snapshot holds as no file, or not in path order", fix: "push again")
        }
        record.hardlinkLeader = nil  // a name of its own here: the source's other names come as `hardlink`
        return record
    }

    /// The cut push's record of a copy the client links (`resume`), once
    /// its bytes are checked against it, as those offered to the client were.
    func resumedRecord(at path: RelativePath) throws -> ManifestRecord {
        guard let tree = resumeTree, let record = try resumeRecords?.record(at: path), record.kind == .regular,
              record.hardlinkLeader == nil, let (directory, name) = try? tree.parentAndName(of: path),
              resumedCopyIsIntact(name, in: directory, record: record, copier: resumeCopier) else {
            throw EmuError.failed("the client linked \(path) to a copy the cut push did not leave whole", fix: "push again")
        }
        return record
    }

    /// The newest snapshot's records (those the client read: `push-begin`
    /// checks their digest), opened at the first run.
    func openEarlierRecords() throws -> ManifestCursor? {
        if earlierRecords == nil, let head { earlierRecords = ManifestCursor(try sink.openRecords(head)) }
        return earlierRecords
    }
}

/// What the receiver's second thread owns and does, in the order entries
/// arrived: links to inodes the sink holds, a finished directory's metadata
/// (after every entry made in it, so its mtime is final), and every record,
/// so that the manifest keeps path order.
final class ReceiverLinker: @unchecked Sendable {
    enum Step {
        /// An unchanged file: one more name of the newest snapshot's inode, or of a cut push's copy.
        case earlier(ManifestRecord, into: DirectoryHandle, fromResume: Bool)
        /// Another name of a file this push made: its record names the first.
        case leader(ManifestRecord, into: DirectoryHandle)
        case record(ManifestRecord)
        case directory(DirectoryHandle, EntryMetadata, EntryMetadata.Created?)
    }

    let tree: DirectoryHandle
    let manifest: ManifestWriter
    /// The newest snapshot's tree and what a cut push left, reached through
    /// the last directory opened (one open a directory).
    let earlier: DirectoryCursor?
    let resume: DirectoryCursor?

    init(tree: DirectoryHandle, manifest: ManifestWriter, earlier: DirectoryCursor?, resume: DirectoryCursor?) {
        self.tree = tree
        self.manifest = manifest
        self.earlier = earlier
        self.resume = resume
    }

    func take(_ step: Step) throws {
        switch step {
        case .earlier(let record, let parent, let fromResume):
            try link(record, into: parent, from: fromResume ? resume! : earlier!)
            try manifest.append(record)
        case .leader(let record, let parent):
            try tree.link(path: record.hardlinkLeader!, to: parent, as: record.path.lastName!)
            try manifest.append(record)
        case .record(let record):
            try manifest.append(record)
        case .directory(let handle, let metadata, let created):
            try metadata.apply(to: .open(handle.file), aclSource: nil, created: created)
        }
    }

    func link(_ record: ManifestRecord, into parent: DirectoryHandle, from earlier: DirectoryCursor) throws {
        do {
            let (directory, name) = try earlier.parentAndName(of: record.path)
            try directory.link(name, to: parent, as: name)
        } catch let error as FileSystemError where error.isMissing || error.isAtLinkLimit {
            throw EmuError.failed("the newest snapshot's copy of \(record.path) cannot take another name (\(error)); nothing was published",
                                  fix: "push again: the file is then sent whole")
        }
    }
}
