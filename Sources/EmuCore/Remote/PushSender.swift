import EmuPOSIX
import Glibc

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
        try lock(.exclusive, wait: options.lockWait)
        defer { unlock() }
        try recover()
        let snapshots = try self.snapshots()
        let cache = RecordsCache.open(sinkLocation: location)
        // What a cut push left and the server holds whole: linked, not sent again.
        let resumed = try spoolRecords(.resumeRecords).bytes
        let resume = resumed.isEmpty ? nil : ManifestCursor(try ManifestReader(file: resumed))
        let compared = try begin(source, options: options, head: snapshots.last, cache: cache)
        let started = monotonicSeconds()
        let sender = PushSender(writer: PushBatches(self, observer: observer), earlier: try compared.map { ManifestCursor(try $0.reader()) },
                                resume: resume, observer: observer)
        sender.checksum = options.checksum
        if options.importing != nil { (sender.changeTest, sender.resumeTest) = (.quickCheck, .quickCheck) }
        sender.prediction = cache.flatMap { try? ManifestWriter(file: $0.directory.createFile($0.predictionName)) }
        let snapshot: Snapshot
        var walked = started
        do {
            let scanner = TreeScanner(root: try options.walkedRoot(of: source), filter: filter, oneFileSystem: options.oneFileSystem)
            if let changed = options.changedDirectories, let compared, snapshots.last?.status == .complete {
                scanner.quiet = (try QuietDirectories(changed: changed, newest: try compared.reader()), ManifestCursor(try compared.reader()))
            }
            try sender.send(scanner)
            walked = monotonicSeconds()
            snapshot = try published(try ask(.pushEnd).text)
        } catch {
            cache?.forget(cache!.predictionName)
            throw error
        }
        if let cache {
            if let digest = try? sender.prediction?.finish(sync: false) { cache.keep(cache.predictionName, digest: digest, as: snapshot) } else { cache.forget(cache.predictionName) }
        }
        var result = PushResult(snapshot: snapshot, counts: snapshot.counts, walkSeconds: walked - started, publishSeconds: monotonicSeconds() - walked)
        // An append-only key may not delete: retention runs on the server, from its own timer.
        if options.rotate && mode == .full {
            result.expired = try rotateAfterPush(try retentionPolicy(), self, protecting: snapshot.id, observer: observer)
        }
        return result
    }

    /// Starts the push on the server, naming the records the source is
    /// compared with, which it returns. The server refuses records other
    /// than its own (a cached copy of a manifest rebuilt there since): they
    /// are then read from it.
    func begin(_ source: Source, options: PushOptions, head: Snapshot?, cache: RecordsCache?) throws -> ComparedRecords? {
        var compared = try head.map { try comparedRecords(of: $0, cache: cache) }
        for attempt in 1...2 {
            let answer = try ask(.pushBegin(.init(date: options.date, message: Array(options.message.utf8), sourcePath: source.path.fileSystemBytes,
                                                  head: head?.id, digest: compared?.digest.description, identity: try source.identity())))
            guard answer.text == Wire.recordsDiffer, let head else { return compared }
            guard attempt == 1 else { break }
            cache?.forget(FileName(head.id))
            compared = try comparedRecords(of: head, cache: cache)
        }
        throw EmuError.failed("the records of snapshot \(head!.id.prefix(8)) changed on \(server) while they were read", fix: "push again")
    }

    /// The snapshot `push-end` answers with.
    func published(_ reply: String) throws -> Snapshot {
        guard let newline = reply.firstIndex(of: "\n") else { throw EmuError.failed("\(server) did not say what it published", fix: "run `emu log`") }
        return try Snapshot(id: String(reply[..<newline]), node: try INIDocument(parsing: String(reply[reply.index(after: newline)...])))
    }

    /// The records a push compares the source with, and their digest (the
    /// server checks it against its own): the cached copy, else the server's,
    /// cached as they arrive.
    func comparedRecords(of head: Snapshot, cache: RecordsCache?) throws -> ComparedRecords {
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
    func spoolRecords(_ request: Request, into file: OpenFile? = nil) throws -> (bytes: SpooledBytes, digest: ContentHash) {
        let file = try file ?? DirectoryHandle.open(scratchDirectory()).createScratchFile()
        let pieces = try stream(request)
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
final class ComparedRecords {
    let file: OpenFile
    let length: Int64
    let digest: ContentHash
    let origin: RecordOrigin

    init(_ file: OpenFile, length: Int64, digest: ContentHash, origin: RecordOrigin) {
        (self.file, self.length, self.digest, self.origin) = (file, length, digest, origin)
    }

    deinit { file.close() }

    func reader() throws -> ManifestReader {
        let reader = try ManifestReader(file: SpooledBytes(OpenFile(try file.descriptor.duplicate(), path: file.path), length: length))
        reader.origin = origin
        return reader
    }
}

/// A spooled manifest, read from its start.
final class SpooledBytes: ManifestBytes {
    let file: OpenFile
    let length: Int64
    var offset: Int64 = 0
    init(_ file: OpenFile, length: Int64) {
        self.file = file
        self.length = length
    }
    var isEmpty: Bool { length == 0 }
    var path: [UInt8] { file.path }
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try file.readFully(into: buffer, at: offset)
        offset += Int64(n)
        return n
    }
    func close() { file.close() }
}

/// Walks the source and decides each entry once (unchanged, another name
/// of an inode, a cut push's copy, new or changed content, a directory,
/// symlink or special), handing it to its `PushWriter`: the wire
/// (`PushBatches`, which asks the server about new content before the
/// bytes go) or a dry run's count (`PushCount`).
final class PushSender {
    let writer: PushWriter
    var earlier: ManifestCursor?
    var resume: ManifestCursor?
    unowned let observer: PushObserver
    let copier = DataCopier()
    /// --checksum: every file is hashed and asked about, none linked for its metadata alone.
    var checksum = false
    /// The manifest the server is expected to write, for the records cache (see `predict`).
    var prediction: ManifestWriter? = nil
    /// The expected records of first names of inodes with several, for the later names.
    var predictedLeaders: [RelativePath: ManifestRecord] = [:]
    /// The first name of each inode with several, for the later names.
    var leaders: [FileIdentity: RelativePath] = [:]
    var files = 0
    var bytes: Int64 = 0
    /// How a file is judged unchanged against the newest snapshot's records
    /// (as their origin says) and against a killed push's leftovers (records
    /// of this source's own statuses); an import judges both by the quick check.
    var changeTest: ChangeTest
    var resumeTest = ChangeTest.exact

    init(writer: PushWriter, earlier: ManifestCursor?, resume: ManifestCursor?, observer: PushObserver) {
        self.writer = writer
        self.earlier = earlier
        changeTest = earlier?.reader.origin.changeTest ?? .exact
        self.resume = resume
        self.observer = observer
    }

    func send(_ scanner: TreeScanner) throws {
        while let record = try scanner.next() {
            let directory = scanner.lastDirectory
            do {
                try send(record, in: directory, status: scanner.lastStatus, root: scanner.root)
            } catch let error where isSourceError(error) {
                try skip(record.path, because: error)
            }
        }
        for (path, error) in scanner.unreadable { try skip(path, because: error) }
        try writer.finish()
    }

    func send(_ record: ManifestRecord, in directory: DirectoryHandle?, status: FileStatus?, root: DirectoryHandle) throws {
        guard let directory, let name = record.path.lastName else {
            return try entry(.directory, record, attributes: try ExtendedAttributes.read(.file(root.file)))
        }
        switch record.kind {
        case .regular: try sendFile(record, name, in: directory, status: status)
        case .directory: try entry(.directory, record, attributes: try ExtendedAttributes.read(.entry(directory, name)))
        case .symlink: try entry(.symlink, record, attributes: try attributesByName(name, in: directory))
        case .fifo, .characterDevice, .blockDevice: try entry(.special, record, attributes: try attributesByName(name, in: directory))
        default: observer.noted(record.path, "\(record.kind == .socket ? "socket" : "unknown file type") skipped")
        }
    }

    func attributesByName(_ name: FileName, in directory: DirectoryHandle) throws -> [ExtendedAttribute] {
        do { return try ExtendedAttributes.read(.entry(directory, name)) } catch let error as FileSystemError where error.isUnsupported { return [] }
    }

    func sendFile(_ record: ManifestRecord, _ name: FileName, in directory: DirectoryHandle, status: FileStatus?) throws {
        let identity = status.flatMap { $0.linkCount > 1 ? FileIdentity($0) : nil }
        if let identity, let leader = leaders[identity] {
            var linked = record
            linked.hardlinkLeader = leader
            return try entry(.hardlink, linked, attributes: [])
        }
        if let identity { leaders[identity] = record.path }
        let leads = identity != nil
        files += 1
        bytes += record.size
        observer.progressed(files: files, bytes: bytes)
        // A damaged earlier manifest vouches for nothing past its damage: what follows is sent.
        let previous = (try? earlier?.record(at: record.path)) ?? nil
        if !checksum, let status, let previous, previous.kind == .regular, changeTest.isUnchanged(previous, comparedTo: status) {
            // Named by its place in the manifest both sides hold: the server has its record.
            if !leads, let ordinal = earlier?.taken {
                try predict(.link, previous, attributes: [], leads: false)
                return try writer.addUnchanged(ordinal: ordinal, record: previous)
            }
            var linked = previous
            linked.path = record.path
            linked.hardlinkLeader = nil
            return try entry(.link, linked, attributes: [], leads: leads)
        }
        if !checksum, let status, let left = (try? resume?.record(at: record.path)) ?? nil, resumeTest.isUnchanged(left, comparedTo: status) {
            var linked = left
            linked.path = record.path
            return try entry(.resume, linked, attributes: [], leads: leads)
        }
        var file = PushBatches.PendingFile(record: record, directory: directory, name: name, attributes: [], leads: leads,
                                           isNew: previous == nil, asks: false)
        guard writer.readsNewFiles else { return try writer.add(file, previous: previous) }
        let input = try directory.openForReading(name)
        defer { input.close() }
        file.attributes = try ExtendedAttributes.read(.file(input))
        if record.size >= PushBatches.smallestAsked {
            // Hashed first, so that the server can say it holds the content (a rename, a copy, a restore).
            var hasher = ContentHasher()
            file.record.size = try copier.copy(from: input, to: nil) { hasher.update($0) }
            file.record.content = hasher.finalize()
            file.record.attributes = attributesDigest(file.attributes)
            file.asks = true
        }
        try predict(.file, file.record, attributes: file.attributes, leads: leads)
        try writer.add(file, previous: previous)
    }

    /// `leads`: the first name of an inode with others, whose record the later names share.
    func entry(_ kind: PushEntry.Kind, _ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool = false) throws {
        try predict(kind, record, attributes: attributes, leads: leads)
        try writer.add(.entry(kind, record, attributes: attributes, leads: leads))
    }

    /// Writes the record the server makes of an entry sent with `tag` (see
    /// `PushReceiver.take`) to the prediction. A file that changes while it
    /// is sent, or a device the server may not make, makes the prediction
    /// wrong: its digest then fails the check and it is not kept.
    func predict(_ kind: PushEntry.Kind, _ record: ManifestRecord, attributes: [ExtendedAttribute], leads: Bool) throws {
        guard let prediction else { return }
        var written = record
        switch kind {
        case .link:
            written.hardlinkLeader = nil  // as the server does for a run's records
        case .resume:
            break
        case .hardlink:
            guard let leader = record.hardlinkLeader, let shared = predictedLeaders[leader] else { return }
            written = shared
            written.path = record.path
            written.hardlinkLeader = leader
        default:
            written.attributes = attributesDigest(attributes)
            // The server hashes every file it receives; an empty one is not asked about.
            if kind == .file && written.content == nil { written.content = ContentHasher().finalize() }
        }
        if leads { predictedLeaders[record.path] = written }
        do { try prediction.append(written) } catch {
            // The cache's disk is full or failing: the push goes on without a prediction.
            self.prediction = nil
        }
    }
}
