import EmuPOSIX
import EmuCore
import EmuRecords

/// The entries a push over ssh has walked and not sent yet, in path order,
/// and the questions asked about their files (see `PushReceiver.answerQuery`).
/// A batch is asked about when it is full and sent when its answer is in;
/// up to `batchesInFlight` are asked about before the oldest is sent, so the
/// walk and the hashing go on while questions cross: a push over a link
/// with a long round trip pays it about once per `batchesInFlight` batches,
/// not once per file.
package final class PushBatches: PushWriter {
    package enum Item {
        case entry(PushEntry)
        /// A new or changed file: the server decides whether its bytes
        /// cross; a hashed one is asked about (an empty one is sent without asking).
        case file(PlannedFile)
    }

    package struct Batch {
        package var items: [Item] = []
        package var questions: [ManifestRecord] = []
    }

    package static let questionsPerBatch = 64
    package static let batchesInFlight = 8
    package static let itemsPerBatch = 4096

    package let sink: RemoteSink
    package var channel: SSHChannel { sink.channel }
    package unowned let observer: PushObserver
    package let copier = DataCopier()
    package var current = Batch()
    /// Asked about, answer not read yet: at most `batchesInFlight` once `add` returns.
    package var waiting: [Batch] = []
    /// The records the server will write, for the records cache.
    package var prediction: PushPrediction? = nil
    package var files = 0
    package var bytes: Int64 = 0
    /// Files linked to the newest snapshot's copy or a cut push's.
    package var unchanged = 0
    /// Opens a new file's bytes where they are not the planned file's name
    /// in a local directory (`emu replicate` from a server).
    package var opensBytes: ((PlannedFile) throws -> OpenFile)? = nil
    /// The content of large files sent whole in this push, when the bytes
    /// read are sure to be the recorded ones (`emu replicate`: a snapshot
    /// does not change as it is read): a later file with the same content,
    /// asked about in the same round of questions, is then taken from the
    /// server's pending index instead of crossing again. Bounded: forgotten
    /// past `sentContentLimit`.
    package var sentContent: Set<ContentHash>? = nil
    package static let sentContentLimit = 1 << 16

    package init(_ sink: RemoteSink, observer: PushObserver) {
        self.sink = sink
        self.observer = observer
    }

    /// Unchanged files one after another in the newest snapshot's manifest,
    /// not sent yet: they cross as one `links FIRST COUNT` entry.
    package var unchangedRun: (first: Int, count: Int)? = nil

    /// Whether a new file is hashed and asked about before its bytes cross;
    /// not when the sink's index held nothing as the push began (see
    /// `sendReadOnce`). A snapshot's copy (`emu replicate`), whose records
    /// hold hashes, is always asked about.
    package var asksAboutContent = true

    package var readsNewFiles: Bool { asksAboutContent }

    package func add(_ entry: PushEntry, from source: SourceEntry) throws {
        if case .entry(let kind, let record, let attributes, let leads) = entry {
            if kind == .link || kind == .resume { unchanged += 1 }
            prediction?.add(kind, record, attributes: attributes, leads: leads)
            if record.kind == .regular { progressed(record) }
        }
        try add(.entry(entry))
    }

    package func add(_ file: PlannedFile, previous: ManifestRecord?) throws {
        // A file read once is predicted once read, when it is sent: at once, nothing being held without questions.
        if !readsOnce(file) { prediction?.add(.file, file.record, attributes: file.attributes, leads: file.leads) }
        progressed(file.record)
        try add(.file(file))
    }

    package func skip(_ path: RelativePath, because error: Error) throws {
        observer.skipped(path, because: error)
        try add(.entry(.skipped(path)))
    }

    package func note(_ path: RelativePath, _ message: String) throws { observer.noted(path, message) }

    package func progressed(_ record: ManifestRecord) {
        files += 1
        bytes += record.size
        observer.progressed(files: files, bytes: bytes)
    }

    /// Named by its place in the manifest both sides hold: the server has its record.
    package func addUnchanged(ordinal: Int, record: ManifestRecord, from source: SourceEntry) throws {
        unchanged += 1
        prediction?.add(.link, record, attributes: [], leads: false)
        progressed(record)
        if let run = unchangedRun, run.first + run.count == ordinal { return unchangedRun = (run.first, run.count + 1) }
        try endUnchangedRun()
        unchangedRun = (ordinal, 1)
    }

    package func endUnchangedRun() throws {
        guard let run = unchangedRun else { return }
        unchangedRun = nil
        try add(.entry(.unchanged(first: run.first, count: run.count)))
    }

    package func add(_ item: Item) throws {
        try endUnchangedRun()
        if waiting.isEmpty && current.items.isEmpty {
            switch item {
            case .entry(let entry): return try channel.writer.send(Frame(.data, entry.payload))
            case .file(let file) where !file.isHashed: return try send(file, answer: .nothing)
            case .file: break
            }
        }
        current.items.append(item)
        if case .file(let file) = item, file.isHashed { current.questions.append(file.record) }
        if current.questions.count >= Self.questionsPerBatch || current.items.count >= Self.itemsPerBatch { try close() }
    }

    /// Asks about the current batch and, when one was waiting, sends that.
    package func close() throws {
        guard !current.items.isEmpty else { return }
        if !current.questions.isEmpty {
            try channel.writer.send(Frame(.data, PushEntry.query(current.questions).payload))
            try channel.writer.flush()
        }
        waiting.append(current)
        current = Batch()
        while waiting.count > Self.batchesInFlight { try sendOldest() }
    }

    /// Sends everything still held.
    package func finish() throws {
        try endUnchangedRun()
        try close()
        while !waiting.isEmpty { try sendOldest() }
    }

    package func sendOldest() throws {
        let batch = waiting.removeFirst()
        var answers = try batch.questions.isEmpty ? [].makeIterator() : answer(count: batch.questions.count).makeIterator()
        for item in batch.items {
            switch item {
            case .entry(let entry): try channel.writer.send(Frame(.data, entry.payload))
            case .file(let file): try send(file, answer: file.isHashed ? answers.next().flatMap(ContentIndex.Holding.init) ?? .nothing : .nothing)
            }
        }
    }

    package func answer(count: Int) throws -> [UInt8] {
        let frame = try sink.nextFrame()
        if frame.kind == .error { throw Wire.error(from: frame, server: sink.server) }
        guard frame.kind == .data, frame.payload.count == count else {
            throw EmuError.failed("\(sink.server) answered \(frame.payload.count) of \(count) questions about files", fix: "push again")
        }
        return frame.payload
    }

    /// A file the server holds goes as a record; one it lacks with its bytes.
    package func send(_ file: PlannedFile, answer: ContentIndex.Holding) throws {
        if readsOnce(file) { return try sendReadOnce(file) }
        let isLarge = file.isHashed && file.record.size >= ContentIndex.smallestCopied
        let sentBefore = isLarge && answer == .nothing && file.record.content.map { sentContent?.contains($0) ?? false } ?? false
        let answer = sentBefore ? .inode : answer
        let kind: PushEntry.Kind = switch answer {
        case .inode: .indexed
        case .content: .copy
        case .nothing: .file
        }
        try channel.writer.send(Frame(.data, PushEntry.entry(kind, file.record, attributes: file.attributes, leads: file.leads).payload))
        guard answer == .nothing else { return }
        let input: OpenFile
        do { input = try opensBytes?(file) ?? file.directory.openForReading(file.name) } catch where isSourceError(error) {
            return try abandon(file.record.path, because: error)
        }
        defer { input.close() }
        guard try sendBytes(of: input, path: file.record.path) != nil else { return }
        observer.copied(file.record.path, reason: file.isNew ? .new : .content, bytes: file.record.size)
        if isLarge, let content = file.record.content, sentContent != nil {
            if sentContent!.count >= Self.sentContentLimit { sentContent!.removeAll() }
            sentContent!.insert(content)
        }
    }

    /// After a file's entry, its bytes, closed by `end`, each piece also
    /// given to `consume`; returns the length sent, or nil when the source
    /// failed to read (see `abandon`).
    package func sendBytes(of input: OpenFile, path: RelativePath, consume: (UnsafeRawBufferPointer) -> Void = { _ in }) throws -> Int64? {
        do {
            let length = try copier.copy(from: input, to: nil) { chunk in
                consume(chunk)
                // A failed write shows at the next frame or at the end: the channel is the sink's side.
                try? channel.writer.send(data: chunk)
            }
            try channel.writer.send(Frame(.end))
            return length
        } catch where isSourceError(error) {
            try abandon(path, because: error)
            return nil
        }
    }

    /// A file whose entry went and whose bytes could not be read: it ends
    /// where it stopped; the server keeps what arrived, under its own hash,
    /// and the snapshot is marked incomplete.
    package func abandon(_ path: RelativePath, because error: Error) throws {
        try channel.writer.send(Frame(.end))
        observer.skipped(path, because: error)
        try channel.writer.send(Frame(.data, PushEntry.skipped(path).payload))
    }
}
