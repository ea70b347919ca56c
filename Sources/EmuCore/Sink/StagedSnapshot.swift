import EmuPOSIX
import EmuRecords

/// A snapshot being made in a sink, from the empty `.emu/staging/` to its
/// publication or its removal: the one owner of the staging directory.
///
/// 1. `Sink.beginSnapshot()` makes a fresh staging with an empty tree, the
///    manifest being written, and the content index's pending entries;
/// 2. the push fills the tree;
/// 3. `makeDurable()`: syncfs, then the pending index entries join the index
///    (only now do they name bytes on disk);
/// 4. `publish` renames tree, manifest, then the record, which makes the
///    snapshot exist, then points the date link, HEAD and Latest at it.
/// `abandon()` before step 4 leaves the sink as it was; a kill leaves staging
/// for `recover()` to turn into the next push's resume area.
package final class StagedSnapshot {
    package let sink: Sink
    package let directory: DirectoryHandle
    package let tree: DirectoryHandle
    package let manifest: ManifestWriter
    package let index: ContentIndex
    /// Where the manifest's new chunks go, until `makeDurable()`.
    package let chunks: ChunkStore

    package static let treeName = FileName("tree")
    package static let manifestName = FileName("manifest")
    /// The records after the manifest's last chunk, as of its last flush (see `ManifestWriter`).
    package static let manifestTailName = FileName("manifest.tail")
    package static let recordName = FileName("node")

    fileprivate init(in sink: Sink) throws {
        self.sink = sink
        try? sink.metadata.removeTree(SinkLayout.staging)
        try sink.metadata.makeDirectory(SinkLayout.staging, permissions: 0o700)
        directory = try sink.metadata.openDirectory(SinkLayout.staging)
        try directory.makeDirectory(Self.treeName, permissions: 0o700)
        tree = try directory.openDirectory(Self.treeName)
        chunks = try sink.chunkStore(pending: directory)
        manifest = try ManifestWriter(file: try directory.createFile(Self.manifestName, permissions: 0o644), chunks: chunks,
                                      tail: try directory.createFile(Self.manifestTailName, permissions: 0o600))
        index = try ContentIndex.open(in: sink, staging: directory)
    }

    /// Every byte of the staged snapshot on disk, and its index entries and
    /// manifest chunks with it (the chunks' renames synced too: the
    /// manifest that lists them is published next).
    package func makeDurable() throws {
        CrashPoint.reach("push.before-sync")
        try sink.root.file.syncFileSystem()
        try index.commitPending()
        if try chunks.commitPending() {
            CrashPoint.reach("push.after-chunks")
            try sink.root.file.syncFileSystem()
        }
        CrashPoint.reach("push.after-index")
    }

    /// Renames the staged snapshot into place, the record last, then points
    /// the date link, HEAD and Latest at it, and drops what a killed push left.
    package func publish(_ snapshot: Snapshot, after earlier: [Snapshot]) throws {
        try MetadataFile.write(in: directory, Self.recordName.description, snapshot.node.text)
        try sink.checkStillAtPath()
        let id = FileName(snapshot.id)
        let trees = try sink.metadata.openDirectory(SinkLayout.trees)
        let manifests = try sink.metadata.openDirectory(SinkLayout.manifests)
        let nodes = try sink.metadata.openDirectory(SinkLayout.nodes)
        try directory.rename(Self.treeName, to: trees, as: id)
        CrashPoint.reach("push.after-tree")
        try directory.rename(Self.manifestName, to: manifests, as: id)
        CrashPoint.reach("push.after-manifest")
        try trees.sync()
        try manifests.sync()
        try directory.rename(Self.recordName, to: nodes, as: id)
        try nodes.sync()
        CrashPoint.reach("push.after-record")
        try sink.metadata.removeTree(SinkLayout.staging)
        try? sink.metadata.removeTree(SinkLayout.resume)
        try sink.refreshLinks((earlier + [snapshot]).sorted { ($0.date, $0.id) < ($1.date, $1.id) })
        if let parent = earlier.first(where: { $0.id == snapshot.parent }) { try sink.forgetUniqueBytes(of: [parent]) }
    }

    /// What a push made, as its writer counted it.
    package struct Outcome {
        package var counts = Snapshot.Counts()
        /// Allocated bytes of inodes no snapshot held before.
        package var bytesOwned: Int64 = 0
        /// A file was linked to an inode of the content index (any snapshot's, whose unique bytes change).
        package var reusedFromIndex = false
        /// A killed push's leftovers were taken over.
        package var resumed = false
    }

    /// Where a snapshot comes from, as its record says.
    package struct Origin {
        package var date: Timestamp
        package var message: String
        package var sourcePath: String
        package var sourceID: String
        /// `emu replicate`: the snapshot this one copies, whose ID, parent,
        /// counts, status and pusher it keeps (its date, message and source are the fields above).
        package var kept: Snapshot? = nil
        /// `push --skip-if-unchanged`: publish nothing when the records are the newest snapshot's.
        package var skipsIfUnchanged = false

        package init(date: Timestamp, message: String, sourcePath: String, sourceID: String) {
            (self.date, self.message, self.sourcePath, self.sourceID) = (date, message, sourcePath, sourceID)
        }

        /// A copy of `snapshot`, as it says it was made.
        package init(copying snapshot: Snapshot) {
            self.init(date: snapshot.date, message: snapshot.message, sourcePath: snapshot.source, sourceID: snapshot.sourceID)
            kept = snapshot
        }
    }

    /// The one way a push ends, wherever its entries came from (this
    /// machine's walk or a client's frames): the manifest finished, every
    /// byte durable, the record written and published after `earlier`
    /// (whose newest is its parent), and the sink settled.
    package func finish(_ outcome: Outcome, from origin: Origin, after earlier: [Snapshot]) throws -> Snapshot {
        let digest = try manifest.finish()
        if origin.skipsIfUnchanged, let newest = earlier.last, try holdsTheSame(as: newest, digest: digest, outcome: outcome) {
            throw UnchangedSinceNewest(newest: newest)
        }
        try makeDurable()
        let parent = origin.kept.map(\.parent) ?? earlier.last?.id
        var snapshot = Snapshot(id: origin.kept?.id ?? Snapshot.makeID(date: origin.date, manifest: digest, parent: parent), parent: parent,
                                date: origin.date)
        snapshot.counts = origin.kept?.counts ?? outcome.counts
        // Nothing links to the new inodes yet: they are the new snapshot's alone.
        snapshot.uniqueBytes = outcome.bytesOwned
        snapshot.status = outcome.counts.skipped > 0 || origin.kept?.status == .incomplete ? .incomplete : .complete
        if let kept = origin.kept { snapshot.pushedBy = kept.pushedBy }
        snapshot.message = origin.message
        snapshot.source = origin.sourcePath
        snapshot.sourceID = origin.sourceID
        snapshot.sinkName = sink.name
        snapshot.sinkPath = sink.path
        try publish(snapshot, after: earlier)
        try sink.settleAfterPush(reusedFromIndex: outcome.reusedFromIndex, resumed: outcome.resumed, earlier: earlier)
        return snapshot
    }

    /// Whether the staged records are `newest`'s, byte for byte (the same
    /// entries with the same metadata, ctimes and inodes), and would be as
    /// complete: a snapshot of it would add nothing but a date.
    func holdsTheSame(as newest: Snapshot, digest: ContentHash, outcome: Outcome) throws -> Bool {
        let counts = (outcome.counts.files, outcome.counts.directories, outcome.counts.bytes)
        guard counts == (newest.counts.files, newest.counts.directories, newest.counts.bytes), outcome.counts.skipped == 0,
              newest.status == .complete, sink.hasManifest(newest) else { return false }
        return try sink.recordsDigest(of: newest) == digest
    }

    /// Removes the staging: a failed push leaves no trace.
    package func abandon() {
        try? sink.metadata.removeTree(SinkLayout.staging)
    }
}

extension Sink {
    /// Starts a snapshot in a fresh staging directory (the exclusive lock held, the sink recovered).
    package func beginSnapshot() throws -> StagedSnapshot { try StagedSnapshot(in: self) }

    /// What a killed push copied (its resume area), which the next push may
    /// link to once each copy is checked: its tree and its records, which
    /// end where the kill cut them.
    package func resumeLeftovers() -> (tree: DirectoryHandle, records: RecordReader)? {
        guard let resume = try? metadata.openDirectory(SinkLayout.resume),
              let tree = try? resume.openDirectory(StagedSnapshot.treeName),
              let reader = try? openManifest(in: resume, name: StagedSnapshot.manifestName, pending: resume, allowsTruncation: true)
        else { return nil }
        return (tree, reader)
    }

    /// After a push that linked through the index or took over a killed
    /// push's leftovers: what other snapshots hold alone may have changed.
    package func settleAfterPush(reusedFromIndex: Bool, resumed: Bool, earlier: [Snapshot]) throws {
        // Linked through the index: any snapshot may now share what was its alone.
        if reusedFromIndex { try forgetUniqueBytes(of: earlier) }
        // A killed push's leftovers are gone: drop index entries only they held.
        if resumed { try ContentIndex.open(in: self).sweep() }
    }
}

/// `push --skip-if-unchanged` found the source as the newest snapshot holds
/// it: no snapshot was made (the staging is abandoned as a failed push's).
public struct UnchangedSinceNewest: Error {
    public let newest: Snapshot
}
