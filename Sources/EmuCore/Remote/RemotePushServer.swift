import EmuPOSIX

extension SinkServer {
    /// `push-begin NOW|SECONDS.NANOS MESSAGE-HEX SOURCE-HEX HEAD|- DIGEST|- IDENTITY`:
    /// receives a push (see `PushReceiver`) under the client's exclusive lock
    /// and answers `push-end` with the new snapshot's record. HEAD is the
    /// snapshot the client compared its source with, which must be the
    /// newest here, and DIGEST that of the records it read, which name the
    /// unchanged files it links: when they are not this sink's, the answer is
    /// `Wire.recordsDiffer` and no push begins. IDENTITY is the source's,
    /// which must be the sink's owner (or claims a sink without one).
    func answerPush(_ words: [String]) throws {
        guard let sink, sink.lock?.mode == .exclusive else {
            throw EmuError.failed("a push needs the sink's exclusive lock", fix: "install the same version of emu on both machines")
        }
        guard words.count == 7 else {
            throw EmuError.usage("push-begin takes a date, a message, a source, a snapshot, a digest and an identity", fix: "run emu on both sides")
        }
        try sink.claim(for: words[6])
        let snapshots = try sink.snapshots()
        guard words[4] == (snapshots.last?.id ?? "-") else {
            throw EmuError.failed("the client compared its source with snapshot \(words[4].prefix(8)), which is not this sink's newest",
                                  fix: "push again")
        }
        var requested: Timestamp? = nil
        if words[1] != "now" {
            guard let parsed = Self.timestamp(words[1]) else {
                throw EmuError.usage("the client's date \(words[1].prefix(40)) is not SECONDS.NANOSECONDS", fix: "install the same version of emu on both machines")
            }
            requested = parsed
        }
        // The server's clock decides; an append-only key adds only what is newer than the history it cannot erase.
        let newestComplete = snapshots.last { $0.status == .complete }?.date
        let date = try uniqueDate(requested, among: snapshots, notBefore: mode == .appendOnly ? newestComplete : nil)
        // The client names unchanged files by their place in the records it read: they must be these.
        if let head = snapshots.last, ContentHash(hex: Array(words[5].utf8)) != (try sink.recordsDigest(of: head)) {
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
            guard Wire.words(of: end) == ["push-end"] else { throw EmuError.failed("the push ended without push-end", fix: "push again") }
            let snapshot = try receiver.publish(date: date, message: String(decoding: RemoteSink.bytes(hex: words[2]), as: UTF8.self),
                                                source: (String(decoding: RemoteSink.bytes(hex: words[3]), as: UTF8.self), words[6]),
                                                head: snapshots.last, earlier: snapshots)
            try writer.send(Frame(.reply, text: "\(snapshot.id)\n\(snapshot.node.text)"))
        } catch {
            receiver.staged.abandon()
            throw error
        }
    }

    static func timestamp(_ text: String) -> Timestamp? {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let seconds = Int64(parts[0]), let nanoseconds = Int32(parts[1]) else { return nil }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }
}
