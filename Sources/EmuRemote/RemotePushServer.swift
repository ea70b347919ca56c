import EmuPOSIX
import EmuCore
import EmuRecords

extension SinkServer {
    /// `push-begin NOW|SECONDS.NANOS MESSAGE-HEX SOURCE-HEX HEAD|- DIGEST|- IDENTITY`:
    /// receives a push (see `PushReceiver`) under the client's exclusive lock
    /// and answers `push-end` with the new snapshot's record (`push-end
    /// unless-unchanged`: `unchanged HEAD-ID` and no snapshot, when the
    /// records received are HEAD's byte for byte). HEAD is the
    /// snapshot the client compared its source with, which must be the
    /// newest here, and DIGEST that of the records it read, which name the
    /// unchanged files it links: when either is not this sink's, the answer
    /// is `Wire.recordsDiffer` and no push begins. IDENTITY is the source's,
    /// which must be the sink's owner (or claims a sink without one).
    /// An 8th word (`emu replicate`) is the record of the snapshot being
    /// copied from another sink: its ID, date, message and status are kept
    /// (see `replicaOrigin`).
    package func answerPush(_ begin: Request.PushBegin) throws {
        guard let sink, sink.lock?.mode == .exclusive else {
            throw EmuError.failed("a push needs the sink's exclusive lock", fix: "install the same version of emu on both machines")
        }
        try sink.claim(for: begin.identity)
        let snapshots = try sink.snapshots()
        // A client begins on the newest snapshot it knows before it has heard the list: not this sink's, its push begins on another.
        guard begin.head == snapshots.last?.id else { return try writer.send(Frame(.reply, text: Wire.recordsDiffer)) }
        // The server's clock decides; an append-only key adds only what is newer than the history it cannot erase.
        let newestComplete = snapshots.last { $0.status == .complete }?.date
        if let kept = begin.kept { try admitReplica(kept, identity: begin.identity, among: snapshots) }
        let date = try uniqueDate(begin.kept?.date ?? begin.date, among: snapshots, notBefore: mode == .appendOnly ? newestComplete : nil)
        // The client names unchanged files by their place in the records it read: they must be these.
        if let head = snapshots.last, ContentHash(hex: Array((begin.digest ?? "").utf8)) != (try sink.recordsDigest(of: head)) {
            return try writer.send(Frame(.reply, text: Wire.recordsDiffer))
        }
        let receiver = try PushReceiver(sink: sink, head: snapshots.last, reader: reader, writer: writer)
        try writer.send(Frame(.reply))
        try writer.flush()
        guard let ended = try receiver.receive() else {
            // Cut: the staging stays, as a killed push's does, its records written for the next push to resume from.
            return receiver.keepForResume()
        }
        do {
            let end = try ended.get()
            let request = try? Request(decoding: end)
            guard request == .pushEnd || request == .pushEndUnlessUnchanged else {
                throw EmuError.failed("the push ended without push-end", fix: "push again")
            }
            var origin = StagedSnapshot.Origin(date: date, message: String(decoding: begin.message, as: UTF8.self),
                                               sourcePath: String(decoding: begin.sourcePath, as: UTF8.self), sourceID: begin.identity)
            if let kept = begin.kept { origin = StagedSnapshot.Origin(copying: kept) }
            origin.skipsIfUnchanged = request == .pushEndUnlessUnchanged
            let snapshot = try receiver.publish(origin, earlier: snapshots)
            try writer.send(Frame(.reply, text: "\(snapshot.id)\n\(snapshot.node.text)"))
        } catch let unchanged as UnchangedSinceNewest {
            receiver.staged.abandon()
            try writer.send(Frame(.reply, text: "\(Wire.unchanged) \(unchanged.newest.id)"))
        } catch {
            receiver.staged.abandon()
            throw error
        }
    }
}

extension SinkServer {
    /// A snapshot copied from another sink of the same source: a new ID
    /// here, of a snapshot of this sink's owner (its dates checked as any
    /// push's: never after this machine's clock, never before what an
    /// append-only key cannot erase). Its ID is taken as the client says:
    /// it names only this client's own history.
    package func admitReplica(_ kept: Snapshot, identity: String, among snapshots: [Snapshot]) throws {
        if snapshots.contains(where: { $0.id == kept.id }) {
            throw EmuError.usage("this sink holds snapshot \(Snapshot.shortForm(kept.id)) already", fix: "replicate the snapshots it lacks")
        }
        // The copy is named by its date, as every snapshot is (whatever name the record says).
        if let same = snapshots.first(where: { $0.name == kept.date.snapshotName }) {
            throw EmuError.usage("this sink holds snapshot \(Snapshot.shortForm(same.id)) at the same second as \(Snapshot.shortForm(kept.id)) (\(same.name)): "
                                 + "one date names one snapshot here", fix: "leave \(Snapshot.shortForm(kept.id)) out, or replicate into another sink")
        }
        guard kept.sourceID.isEmpty || kept.sourceID == identity else {
            throw EmuError.usage("snapshot \(Snapshot.shortForm(kept.id)) is another source's than the one named", fix: "replicate a sink of one source")
        }
    }
}
