import EmuPOSIX

extension SinkServer {
    /// `push-begin NOW|SECONDS.NANOS MESSAGE-HEX SOURCE-HEX HEAD|-`: receives
    /// a push (see `PushReceiver`) under the client's exclusive lock and
    /// answers `push-end` with the new snapshot's record. HEAD is the snapshot
    /// the client compared its source with, whose manifest names the
    /// unchanged files it links: it must be the newest here.
    func answerPush(_ words: [String]) throws {
        guard let sink, sink.lock?.mode == .exclusive else {
            throw EmuError.failed("a push needs the sink's exclusive lock", fix: "install the same version of emu on both machines")
        }
        guard words.count == 5 else {
            throw EmuError.usage("push-begin takes a date, a message, a source and a snapshot", fix: "run emu on both sides")
        }
        let snapshots = try sink.snapshots()
        guard words[4] == (snapshots.last?.id ?? "-") else {
            throw EmuError.failed("the client compared its source with snapshot \(words[4].prefix(8)), which is not this sink's newest",
                                  fix: "push again")
        }
        let requested = words[1] == "now" ? nil : Self.timestamp(words[1])
        let date = try uniqueDate(requested, among: snapshots)
        let receiver = try PushReceiver(sink: sink, head: snapshots.last, reader: reader, writer: writer)
        try writer.send(Frame(.reply))
        try writer.flush()
        guard let ended = try receiver.receive() else { return }  // cut: the staging stays, as a killed push's does
        do {
            let end = try ended.get()
            guard Wire.words(of: end) == ["push-end"] else { throw EmuError.failed("the push ended without push-end", fix: "push again") }
            let snapshot = try receiver.publish(date: date, message: String(decoding: RemoteSink.bytes(hex: words[2]), as: UTF8.self),
                                                sourcePath: String(decoding: RemoteSink.bytes(hex: words[3]), as: UTF8.self),
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
