import EmuPOSIX
import EmuCore
import EmuRecords

/// A sink on another machine, reached through `emu serve` over ssh: the
/// `SinkStore` a command asks, answered by the local `Sink` on the server.
/// One request at a time; a stream (records) is read to its end before the
/// next request.
public final class RemoteSink: SinkStore {
    public let name: String
    package let address: RemoteAddress
    package let channel: SSHChannel
    /// What the server lets this key do.
    public let mode: ServeMode
    /// Seconds the server waits for this client before it ends the session; nil for as long as it lives.
    package let idleTimeout: Int?
    /// What the server says it made for a `creating` hello (`made DIR`, `created`), or would make for a
    /// `planning` one (`plan attach`, `plan create`, `would-make DIR`): the server's words, to be shown quoted.
    public let creation: [String]
    /// Whether the server said the sink's content index held nothing when
    /// it answered (a first push to a new sink): a push then sends new files
    /// without asking about them. A server that says so falsely costs only
    /// this client's bandwidth.
    package let indexHoldsNothing: Bool
    /// Replies the server owes for requests sent without waiting (see `unlock`).
    private var owedReplies = 0
    /// The free space a push measured with its end, for the retention that follows (see `freeSpace`).
    package var spaceAfterPush: (free: Int64, total: Int64)? = nil
    public var location: String { channel.servingThread == nil ? address.text : address.path }
    package var server: String { channel.servingThread == nil ? "the server \(address.host)" : "the sink at \(address.path)" }

    /// Connects and checks that both sides speak the same protocol.
    /// `helloTimeout`: seconds to wait for the server's hello (a host that
    /// never answers, or a ProxyCommand that hangs, must not hang every
    /// command that touches the sink).
    public convenience init(name: String, address: RemoteAddress, sshCommand: [String], remoteEmu: String, creating: Bool = false,
                            planning: Bool = false, helloTimeout: Int = 30) throws {
        let channel = try SSHChannel(address: address, sshCommand: sshCommand, remoteEmu: remoteEmu, sinkName: name,
                                     registering: creating || planning, connectTimeout: helloTimeout)
        try self.init(name: name, channel: channel,
                      creating: creating, planning: planning, helloTimeout: helloTimeout)
    }

    /// Says hello on `channel`, whatever carries it.
    package init(name: String, channel: SSHChannel, creating: Bool = false, planning: Bool = false, helloTimeout: Int = 30) throws {
        self.name = name
        address = channel.address
        self.channel = channel
        channel.registering = creating || planning
        let hello = "\(Wire.greeting) \(Wire.protocolVersion)\nemu \(emuVersion)\nsink \(address.path)\n" + (creating ? "create\n" : "")
            + (planning ? "plan\n" : "")
        let answer: Frame?
        do {
            try channel.writer.send(Frame(.hello, text: hello))
            try channel.writer.flush()
            channel.reader.idleTimeout = helloTimeout > 0 ? helloTimeout : nil
            answer = try channel.reader.next()
            channel.reader.idleTimeout = nil  // then the server may work as long as it needs (a verify)
        } catch {
            throw channel.reader.timedOut ? channel.abandon(sinkName: name, after: helloTimeout) : channel.silence(sinkName: name)
        }
        guard let answer else { throw channel.silence(sinkName: name) }
        let server = "the server \(address.host)"
        if answer.kind == .error { throw Wire.error(from: answer, server: server) }
        let lines = answer.text.split(separator: "\n").map(String.init)
        guard answer.kind == .hello, lines.first == "\(Wire.greeting) \(Wire.protocolVersion)" else {
            throw EmuError.failed("\(server) answered with something other than emu's hello: \(lines.first ?? "")",
                                  fix: "check that the remote command is emu serve (`emu config sink.\(name).remote-emu PATH` names it)")
        }
        mode = lines.first { $0.hasPrefix("mode ") }.flatMap { ServeMode(rawValue: String($0.dropFirst(5))) } ?? .full
        idleTimeout = lines.first { $0.hasPrefix("idle ") }.flatMap { Int($0.dropFirst(5)) }.flatMap { $0 > 0 ? $0 : nil }
        indexHoldsNothing = lines.contains("index empty")
        creation = lines.filter { line in ["made ", "created", "plan ", "would-make "].contains { line.hasPrefix($0) } }.prefix(64).map { $0 }
        // Whatever this machine computes between frames, the server hears from it four times a timeout.
        if let idleTimeout { channel.writer.keepAlive(every: Double(idleTimeout) / 4) }
    }

    /// Sends a request and returns its one-frame reply.
    @discardableResult
    package func ask(_ request: Request) throws -> Frame {
        try channel.writer.send(request.frame)
        try channel.writer.flush()
        return try answer()
    }

    /// Sends requests together and reads their answers in order, each with
    /// its `read`: one round trip for all, where a slow link pays one for
    /// each. The server answers them one by one, each as if it came alone
    /// (a `recover` after a refused `lock` is refused too). Every answer is
    /// read even after one failed, so that the channel stays in step; the
    /// first failure is thrown.
    package func askTogether(_ requests: [(request: Request, read: () throws -> Void)]) throws {
        for (request, _) in requests { try channel.writer.send(request.frame) }
        try channel.writer.flush()
        var failure: Error? = nil
        for (_, read) in requests {
            do { try read() } catch {
                if failure == nil { failure = error }
                if channel.hasEnded { break }
            }
        }
        if let failure { throw failure }
    }

    /// The server's next answer; its error, thrown.
    package func answer() throws -> Frame {
        let frame = try nextFrame()
        if frame.kind == .error { throw Wire.error(from: frame, server: server) }
        return frame
    }

    /// The server's next frame, once the replies it owes for requests not
    /// waited for (an `unlock`) are read and dropped.
    package func nextFrame() throws -> Frame {
        while true {
            guard let frame = try channel.reader.next() else { throw channel.silence(sinkName: name) }
            guard owedReplies > 0 else { return frame }
            owedReplies -= 1
        }
    }

    /// Sends a request whose answer is a stream of `data` frames.
    package func stream(_ request: Request) throws -> FrameStream {
        try channel.writer.send(request.frame)
        try channel.writer.flush()
        return FrameStream(self)
    }

    public func lock(_ mode: FileLock.Mode, wait: Double) throws { try ask(.lock(exclusive: mode == .exclusive, wait: wait)) }

    /// Not waited for: the server answers every unlock, and the answer is
    /// dropped when the next is read. A session that ends next (most do)
    /// saves the round trip; its end releases the lock in any case.
    public func unlock() {
        guard (try? channel.writer.send(Request.unlock.frame)) != nil, (try? channel.writer.flush()) != nil else { return }
        owedReplies += 1
    }

    public func recover() throws { try ask(.recover) }
    public func endSession() { channel.close() }

    public func snapshots() throws -> [Snapshot] { try stream(.snapshots).snapshots() }

    public func headID() throws -> String? {
        let text = try ask(.head).text
        return text.isEmpty ? nil : text
    }

    /// Writes the bytes of a regular file of `snapshot` to `output`, as the server reads them.
    public func copyFile(_ path: RelativePath, of snapshot: Snapshot, to output: OpenFile) throws {
        let pieces = try stream(.file(snapshot: snapshot.id, path))
        while let piece = try pieces.nextPiece() { try output.writeAll(piece) }
    }

    /// The tar archive the server writes of the snapshot, as it arrives, and what it holds.
    public func export(_ snapshot: Snapshot, scope: RelativePath, to output: OpenFile) throws -> ExportCounts {
        let pieces = try stream(.export(snapshot: snapshot.id, scope))
        do {
            while let piece = try pieces.nextPiece() { try output.writeAll(piece) }
        } catch let error as FileSystemError {
            pieces.close()  // the local write failed: the channel stays ready
            throw error
        }
        let words = try answer().text.split(separator: " ").compactMap { Int64($0) }
        guard words.count == 2, words[0] >= 0, words[1] >= 0 else {
            throw EmuError.failed("\(server) did not say what the archive holds", fix: "check the archive with `tar -tvf`")
        }
        return ExportCounts(entries: Int(words[0]), bytes: words[1])
    }

    /// Its records as the server sends them. A scanned tree's (emu 0.2.5)
    /// hold the tree's ctimes and inodes and no digests: files are then
    /// hashed on the server's stream when compared, as a local tree's are.
    public func diffSide(of snapshot: Snapshot) throws -> DiffSide {
        let side = DiffSide(.manifest({ _ in try self.openRecords(snapshot) }), recordsSourceIdentity: snapshot.recordOrigin == .manifest)
        if snapshot.recordOrigin == .scannedTree {
            side.readsMissing = (content: { try self.contentHash(of: $0, in: snapshot) }, attributes: { path in
                let tree = RemoteTree(self, snapshot: snapshot)
                try tree.ask(path, content: false)
                try self.channel.writer.flush()
                return attributesDigest(try tree.receive(into: nil))
            })
        }
        return side
    }

    package func contentHash(of path: RelativePath, in snapshot: Snapshot) throws -> ContentHash {
        let pieces = try stream(.file(snapshot: snapshot.id, path))
        var hasher = ContentHasher()
        while let piece = try pieces.nextPiece() { hasher.update(piece) }
        return hasher.finalize()
    }

    /// Received whole first, so that the channel is free for other
    /// requests while they are read (a checkout reads two manifests at once
    /// and asks for files as it goes).
    public func openRecords(_ snapshot: Snapshot) throws -> RecordReader {
        let bytes = try RecordsCache.open(sinkLocation: location)?.records(of: snapshot)?.0 ?? spoolRecords(.records(snapshot: snapshot.id)).bytes
        let reader = try ManifestReader(file: bytes)
        reader.origin = snapshot.recordOrigin
        return reader
    }

    public func openSnapshotTree(_ snapshot: Snapshot) throws -> SnapshotTree {
        SnapshotTree(RemoteTreeDirectory(tree: RemoteTree(self, snapshot: snapshot), path: .root))
    }

    public func uniqueBytes(of snapshot: Snapshot) throws -> Int64? {
        if let known = snapshot.uniqueBytes { return known }
        return Int64(try ask(.uniqueBytes(snapshot: snapshot.id)).text)
    }

    public func retentionPolicy() throws -> RetentionPolicy {
        try RetentionPolicy(config: try config(), sink: name)
    }

    public func config() throws -> INIDocument { try INIDocument(parsing: try ask(.config).text) }

    /// Sets the sink's settings on the server, which checks every key (a full key only: retention decides what is deleted).
    public func writeConfig(_ document: INIDocument) throws { try ask(.writeConfig(text: Array(document.text.utf8))) }

    public func owner() throws -> SinkOwner? { try ownerNamed(try ask(.owner).text) }

    /// The owner the answer to `owner` names; nil for none.
    package func ownerNamed(_ text: String) throws -> SinkOwner? {
        guard !text.isEmpty else { return nil }
        guard let owner = SinkOwner(text: text) else {
            throw EmuError.failed("\(server) names the sink's owner as no source identity", fix: "run `emu verify` on the server")
        }
        return owner
    }

    public func adopt(for identity: String) throws { try ask(.adopt(identity: identity)) }

    public func space() -> (free: Int64, total: Int64)? { try? Self.space(in: ask(.space).text) }

    /// The free and total bytes an answer to `space` says; nil when the server could not measure.
    package static func space(in text: String) -> (free: Int64, total: Int64)? {
        let numbers = text.split(separator: " ").compactMap { Int64($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    public func delete(_ snapshot: Snapshot) throws { try ask(.delete(snapshot: snapshot.id)) }
    public func finishDeleting() throws { try ask(.finishDeleting) }

    /// Runs on the server; each action comes back as `KIND<TAB>WHAT`.
    public func clean(repair: Bool, dryRun: Bool, each: (CleanAction) -> Void) throws {
        let pieces = try stream(.clean(repair: repair, dryRun: dryRun))
        while let piece = try pieces.nextPiece() {
            let fields = String(decoding: piece, as: UTF8.self).split(separator: "\t", maxSplits: 1).map(String.init)
            if fields.count == 2, let kind = CleanAction.Kind(rawValue: fields[0]) { each(CleanAction(kind: kind, what: fields[1])) }
        }
    }

    /// Runs on the server, where the disk's free space can be measured;
    /// only what it removed, and its warnings, come back.
    public func freeSpace(percent: Double, bytes needed: Int64, policy: RetentionPolicy, among snapshots: [Snapshot],
                          protecting protected: String?, warn: (String) -> Void, each: (Snapshot, [String]) -> Void) throws -> [Snapshot] {
        // Measured as the push ended: room then is room now (retention only frees), and asking the server costs a round trip.
        if let space = spaceAfterPush, RetentionPolicy.roomWanted(percent: percent, needed: needed, space: space) <= 0 { return [] }
        let pieces = try stream(.freeSpace(percent: percent, needed: needed, minKeep: policy.minKeep, protecting: protected,
                                           among: snapshots.map(\.id)))
        var removed: [Snapshot] = []
        while let piece = try pieces.nextPiece() {
            let fields = String(decoding: piece, as: UTF8.self).split(separator: "\t", maxSplits: 2).map(String.init)
            if fields.first == "warn", fields.count == 2 { warn(fields[1]) }
            if fields.first == "removed", fields.count == 3, let snapshot = snapshots.first(where: { $0.id == fields[1] }) {
                removed.append(snapshot)
                each(snapshot, [fields[2]])
            }
        }
        return removed
    }
}

/// The `data` frames of one answer, read in order until `end`: a manifest's
/// bytes for `ManifestReader`, or records one by one.
package final class FrameStream: ManifestBytes {
    package let sink: RemoteSink
    package var piece: [UInt8] = []
    package var position = 0
    package var ended = false

    package init(_ sink: RemoteSink) { self.sink = sink }

    package var path: [UInt8] { Array("\(sink.server)'s stream".utf8) }

    /// The next `data` frame's payload; nil after `end`.
    package func nextPiece() throws -> [UInt8]? {
        guard !ended else { return nil }
        let frame = try sink.nextFrame()
        switch frame.kind {
        case .data: return frame.payload
        case .end: ended = true; return nil
        case .error: ended = true; throw Wire.error(from: frame, server: sink.server)
        default: throw EmuError.failed("\(sink.server) sent a \(frame.kind) frame inside a stream", fix: "run the command again")
        }
    }

    package func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            if position == piece.count {
                guard let next = try nextPiece() else { break }
                piece = next
                position = 0
                continue
            }
            let n = min(buffer.count - done, piece.count - position)
            piece.withUnsafeBytes { buffer.baseAddress!.advanced(by: done).copyMemory(from: $0.baseAddress! + position, byteCount: n) }
            position += n
            done += n
        }
        return done
    }

    /// The answer to `snapshots`: each listed snapshot, oldest first.
    package func snapshots() throws -> [Snapshot] {
        var result: [Snapshot] = []
        while let piece = try nextPiece() {
            if let snapshot = try Wire.snapshot(listed: String(decoding: piece, as: UTF8.self)) { result.append(snapshot) }
        }
        return result
    }

    /// Reads the rest of the stream, so that the channel is ready for the next request.
    package func close() {
        while (try? nextPiece()) ?? nil != nil {}
    }
}
