import EmuPOSIX
import Glibc
import EmuCore
import EmuRecords

extension RemoteSink {
    /// Pushes `source` to this sink over the channel: the newest snapshot's
    /// records come first (the cached copy, else spooled from the server:
    /// the channel carries one stream at a time); then the source is walked
    /// and every entry sent, unchanged files as runs of places in those
    /// records, a new or changed one with its bytes unless the server holds
    /// them (see `PushReceiver`); the server publishes on `push-end`.
    public func push(_ source: Source, options: PushOptions, observer: PushObserver) throws -> PushResult {
        let filter = try options.filter(for: source)
        if options.dryRun { return try plan(source, filter: filter, options: options, observer: observer) }
        // An append-only key may not delete: retention runs on the server, from its own timer.
        let rotates = options.rotate && mode == .full
        let cache = RecordsCache.open(sinkLocation: location)
        defer { unlock() }
        let (snapshots, resumed, config, compared) = try start(.init(date: options.date, message: Array(options.message.utf8),
                                                                     sourcePath: source.path.fileSystemBytes, identity: try source.identity()),
                                                               wait: options.lockWait, readingConfig: rotates, cache: cache)
        observer.began(after: snapshots.last)
        let resume = resumed.isEmpty ? nil : ManifestCursor(try ManifestReader(file: resumed))
        let started = monotonicSeconds()
        let wire = PushBatches(self, observer: observer)
        wire.asksAboutContent = !indexHoldsNothing
        wire.prediction = cache.flatMap { try? ManifestWriter(file: $0.directory.createFile($0.predictionName)) }.map(PushPrediction.init)
        let planner = PushPlanner(writer: wire, earlier: try compared.map { ManifestCursor(try $0.reader()) }, resume: resume)
        planner.checksum = options.checksum
        if options.importing != nil { (planner.changeTest, planner.resumeTest) = (.quickCheck, .quickCheck) }
        planner.keepsLinkedNames(for: options)
        let snapshot: Snapshot
        var (walked, after, space) = (started, [Snapshot](), (free: Int64, total: Int64)?.none)
        do {
            let scanner = TreeScanner(root: try options.walkedRoot(of: source), filter: filter, oneFileSystem: options.oneFileSystem)
            if let compared, let head = snapshots.last {
                try scanner.takeQuietDirectories(of: options, head: head, in: location, records: { try compared.reader() })
            }
            try planner.plan(scanner)
            walked = monotonicSeconds()
            // The list and the free space after the push, for retention, asked with its end.
            var reply = ""
            try askTogether([(options.skipIfUnchanged ? .pushEndUnlessUnchanged : .pushEnd, { reply = try self.answer().text })]
                            + (rotates ? [(.snapshots, { after = try FrameStream(self).snapshots() }),
                                          (.space, { space = Self.space(in: try self.answer().text) })] : []))
            if let newest = try unchanged(reply, among: snapshots) {
                cache?.forget(cache!.predictionName)
                return PushResult(unchangedSince: newest, walkSeconds: walked - started)
            }
            snapshot = try published(reply)
            planner.rememberLinkedNames(of: snapshot, in: location)
        } catch {
            cache?.forget(cache!.predictionName)
            throw cutOff(error)
        }
        if let cache {
            if let digest = try? wire.prediction?.writer?.finish(sync: false) { cache.keep(cache.predictionName, digest: digest, as: snapshot) } else { cache.forget(cache.predictionName) }
        }
        var result = PushResult(snapshot: snapshot, counts: snapshot.counts, walkSeconds: walked - started, publishSeconds: monotonicSeconds() - walked)
        if let config {
            spaceAfterPush = space
            defer { spaceAfterPush = nil }
            let policy = try RetentionPolicy(config: try INIDocument(parsing: config), sink: name)
            result.expired = try rotateAfterPush(policy, self, among: after, protecting: snapshot.id, observer: observer)
        }
        return result
    }

    /// Takes the exclusive lock, finishes what an interrupted command left
    /// and begins the push, in one round trip with what the push then
    /// needs: the snapshots, the records a cut push left whole (linked, not
    /// sent again) and, with `readingConfig`, the settings retention
    /// follows. The push begins on the newest snapshot this client knows
    /// (the one its cache keeps; none when the server says the sink is
    /// empty); when the server's newest is another, it refuses, and the
    /// push begins on that one in another round trip (`begin`).
    package func start(_ request: Request.PushBegin, wait: Double, readingConfig: Bool, cache: RecordsCache?) throws
        -> (snapshots: [Snapshot], resumed: SpooledBytes, config: String?, compared: ComparedRecords?) {
        let scratch = try DirectoryHandle.open(scratchDirectory()).createScratchFile()
        let guess = cache?.kept() ?? (indexHoldsNothing ? KeptRecords(id: nil, records: nil, digest: nil) : nil)
        var guessed = request
        (guessed.head, guessed.digest) = (guess?.id, guess?.digest?.description)
        var snapshots: [Snapshot] = [], resumed: SpooledBytes? = nil, config: String? = nil, begun: String? = nil
        do {
            try askTogether([(.lock(exclusive: true, wait: wait), { _ = try self.answer() }),
                             (.recover, { _ = try self.answer() }),
                             (.snapshots, { snapshots = try FrameStream(self).snapshots() }),
                             (.resumeRecords, { resumed = try self.spool(FrameStream(self), into: scratch).bytes })]
                            + (readingConfig ? [(.config, { config = try self.answer().text })] : [])
                            + (guess != nil ? [(.pushBegin(guessed), { begun = try self.answer().text })] : []))
            if let begun, begun != Wire.recordsDiffer, begun != "" || guess?.areNewest(of: snapshots) != true {
                throw EmuError.failed("\(server)'s answer to a push begun on snapshot \(Snapshot.shortForm(guessed.head ?? "-")) contradicts "
                                      + "its list of snapshots", fix: "run `emu verify` on the server")
            }
        } catch {
            guess?.records?.close()
            // A push the server began and this client will not send: cut, as a broken connection cuts it.
            if begun == "" { channel.close() }
            throw error
        }
        let resumedBytes = resumed ?? SpooledBytes(scratch, length: 0)
        guard begun == "", let guess else {
            guess?.records?.close()
            return (snapshots, resumedBytes, config, try begin(request, head: snapshots.last, cache: cache))
        }
        return (snapshots, resumedBytes, config, guess.compared(origin: snapshots.last?.recordOrigin ?? .manifest))
    }

    /// Starts the push on the server, naming the records the source is
    /// compared with, which it returns. The server refuses records other
    /// than its own (a cached copy of a manifest rebuilt there since): they
    /// are then read from it.
    package func begin(_ request: Request.PushBegin, head: Snapshot?, cache: RecordsCache?) throws -> ComparedRecords? {
        var compared = try head.map { try comparedRecords(of: $0, cache: cache) }
        for attempt in 1...2 {
            var request = request
            (request.head, request.digest) = (head?.id, compared?.digest.description)
            guard try ask(.pushBegin(request)).text == Wire.recordsDiffer else { return compared }
            guard let head, attempt == 1 else { break }
            cache?.forget(FileName(head.id))
            compared = try comparedRecords(of: head, cache: cache)
        }
        throw EmuError.failed("\(server) refused the records of snapshot \(Snapshot.shortForm(head?.id ?? "-")), its newest, twice",
                              fix: "push again; if it fails again, run `emu verify` on the server")
    }

    /// A push whose connection broke once it began, said as what it is:
    /// the server keeps what arrived whole (`keepForResume`) for the next push.
    func cutOff(_ error: Error) -> Error {
        let onChannel = (error as? FileSystemError).map { $0.path == SSHChannel.pathName } ?? false
        guard onChannel || (error as? EmuError)?.brokeTheChannel == true || channel.hasEnded else { return error }
        let cause = (error as? EmuError)?.message ?? (error as? FileSystemError).map { "\($0.operation): \($0.errno)" } ?? "\(error)"
        var cut = EmuError.failed("the connection to \(address.host) was cut during the push (\(cause)); the server keeps what arrived whole, "
                                  + "and the next push sends only the rest", fix: "push again once `\(address.sshCommandLine)` works")
        cut.interruptedPush = true
        return cut
    }

    /// The newest snapshot, when `push-end unless-unchanged` made none; nil when it made one.
    func unchanged(_ reply: String, among snapshots: [Snapshot]) throws -> Snapshot? {
        guard reply.hasPrefix(Wire.unchanged + " ") else { return nil }
        guard let newest = snapshots.last, reply == "\(Wire.unchanged) \(newest.id)" else {
            throw EmuError.failed("\(server) answered a push with `\(reply.prefix(60))`, which names no snapshot it listed", fix: "run `emu log` and push again")
        }
        return newest
    }

    /// The snapshot `push-end` answers with.
    package func published(_ reply: String) throws -> Snapshot {
        guard let newline = reply.firstIndex(of: "\n") else { throw EmuError.failed("\(server) did not say what it published", fix: "run `emu log`") }
        return try Snapshot(id: String(reply[..<newline]), node: try INIDocument(parsing: String(reply[reply.index(after: newline)...])))
    }

    /// The records a push compares the source with, and their digest (the
    /// server checks it against its own): the cached copy, else the server's,
    /// cached as they arrive.
    package func comparedRecords(of head: Snapshot, cache: RecordsCache?) throws -> ComparedRecords {
        let (bytes, digest) = try fetchedRecords(of: head, cache: cache)
        return ComparedRecords(bytes.file, length: bytes.length, digest: digest, origin: head.recordOrigin)
    }

    private func fetchedRecords(of head: Snapshot, cache: RecordsCache?) throws -> (bytes: SpooledBytes, digest: ContentHash) {
        if let cached = cache?.records(of: head) { return cached }
        if let cache, let file = try? cache.directory.createFile(cache.downloadName, readable: true) {
            do {
                let (bytes, digest) = try spoolRecords(.records(snapshot: head.id), into: file)
                cache.keep(cache.downloadName, digest: digest, as: head)
                return (bytes, digest)
            } catch let error as FileSystemError where error.origin != .source {
                // The cache's disk is full or failing: a cache is not worth a push.
                cache.forget(cache.downloadName)
            }
        }
        return try spoolRecords(.records(snapshot: head.id))
    }

    /// Records a request streams, received whole into `file` (by default a
    /// scratch file that goes when closed), and their digest.
    package func spoolRecords(_ request: Request, into file: OpenFile? = nil) throws -> (bytes: SpooledBytes, digest: ContentHash) {
        let file = try file ?? DirectoryHandle.open(scratchDirectory()).createScratchFile()
        return try spool(try stream(request), into: file)
    }

    /// The rest of a stream of records, received whole into `file`, and their digest.
    package func spool(_ pieces: FrameStream, into file: OpenFile) throws -> (bytes: SpooledBytes, digest: ContentHash) {
        var length: Int64 = 0
        var hasher = ContentHasher()
        var failure: Error? = nil
        // A local write that fails ends the spool, not the stream: the channel stays ready for the next request.
        while failure == nil, let piece = try pieces.nextPiece() {
            do { try piece.withUnsafeBytes { try file.writeAll($0, at: length) } } catch { failure = error }
            hasher.update(piece)
            length += Int64(piece.count)
        }
        if let failure {
            pieces.close()
            throw failure
        }
        return (SpooledBytes(file, length: length), hasher.finalize())
    }
}

/// The records a push compares the source with, spooled whole, and their
/// digest: read as often as needed, each reader from the start through a
/// descriptor of its own (a watch's push reads them three times in step).
package final class ComparedRecords {
    package let file: OpenFile
    package let length: Int64
    package let digest: ContentHash
    package let origin: RecordOrigin

    package init(_ file: OpenFile, length: Int64, digest: ContentHash, origin: RecordOrigin) {
        (self.file, self.length, self.digest, self.origin) = (file, length, digest, origin)
    }

    deinit { file.close() }

    package func reader() throws -> ManifestReader {
        let reader = try ManifestReader(file: SpooledBytes(OpenFile(try file.descriptor.duplicate(), path: file.path), length: length))
        reader.origin = origin
        return reader
    }
}

/// A spooled manifest, read from its start.
package final class SpooledBytes: ManifestBytes {
    package let file: OpenFile
    package let length: Int64
    package var offset: Int64 = 0
    package init(_ file: OpenFile, length: Int64) {
        self.file = file
        self.length = length
    }
    package var isEmpty: Bool { length == 0 }
    package var path: [UInt8] { file.path }
    package func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try file.readFully(into: buffer, at: offset)
        offset += Int64(n)
        return n
    }
    package func close() { file.close() }
}

extension RemoteSink {
    package func plan(_ source: Source, filter: SourceFilter, options: PushOptions, observer: PushObserver) throws -> PushResult {
        defer { unlock() }
        var owner: String? = nil, snapshots: [Snapshot] = []
        try askTogether([(.lock(exclusive: false, wait: options.lockWait), { _ = try self.answer() }),
                         (.owner, { owner = try self.answer().text }),
                         (.snapshots, { snapshots = try FrameStream(self).snapshots() })])
        try SinkOwner.requirePushing(try source.identity(), into: try ownerNamed(owner ?? ""), at: location)
        observer.began(after: snapshots.last)
        return try countedPush(try options.walkedRoot(of: source), filter: filter, oneFileSystem: options.oneFileSystem, checksum: options.checksum,
                               importing: options.importing != nil, newest: try snapshots.last.map(openRecords), observer: observer)
    }
}
