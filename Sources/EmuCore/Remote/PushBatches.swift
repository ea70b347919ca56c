import EmuPOSIX

/// The entries a push over ssh has walked and not sent yet, in path order,
/// and the questions asked about their files (see `PushReceiver.answerQuery`).
/// A batch is asked about when it is full and sent when its answer is in;
/// up to `batchesInFlight` are asked about before the oldest is sent, so the
/// walk and the hashing go on while questions cross: a push over a link
/// with a long round trip pays it about once per `batchesInFlight` batches,
/// not once per file.
final class PushBatches: PushWriter {
    /// A new or changed file: the server decides whether its bytes cross.
    struct PendingFile {
        var record: ManifestRecord
        /// Reopened to send its bytes: a descriptor per waiting file would be too many.
        var directory: DirectoryHandle
        var name: FileName
        var attributes: [ExtendedAttribute]
        var leads: Bool
        var isNew: Bool
        /// Hashed and asked about (an empty file is sent without asking).
        var asks: Bool
    }

    enum Item {
        case entry(PushEntry)
        case file(PendingFile)
    }

    struct Batch {
        var items: [Item] = []
        var questions: [ManifestRecord] = []
    }

    static let questionsPerBatch = 64
    static let batchesInFlight = 8
    static let itemsPerBatch = 4096
    /// Empty files are sent without asking: there is nothing to find.
    static let smallestAsked: Int64 = 1

    let sink: RemoteSink
    var channel: SSHChannel { sink.channel }
    unowned let observer: PushObserver
    let copier = DataCopier()
    var current = Batch()
    /// Asked about, answer not read yet: at most `batchesInFlight` once `add` returns.
    var waiting: [Batch] = []

    init(_ sink: RemoteSink, observer: PushObserver) {
        self.sink = sink
        self.observer = observer
    }

    /// Unchanged files one after another in the newest snapshot's manifest,
    /// not sent yet: they cross as one `links FIRST COUNT` entry.
    var unchangedRun: (first: Int, count: Int)? = nil

    var readsNewFiles: Bool { true }

    func add(_ entry: PushEntry) throws { try add(.entry(entry)) }

    func add(_ file: PendingFile, previous: ManifestRecord?) throws { try add(.file(file)) }

    /// Named by its place in the manifest both sides hold: the server has its record.
    func addUnchanged(ordinal: Int, record: ManifestRecord) throws {
        if let run = unchangedRun, run.first + run.count == ordinal { return unchangedRun = (run.first, run.count + 1) }
        try endUnchangedRun()
        unchangedRun = (ordinal, 1)
    }

    func endUnchangedRun() throws {
        guard let run = unchangedRun else { return }
        unchangedRun = nil
        try add(.entry(.unchanged(first: run.first, count: run.count)))
    }

    func add(_ item: Item) throws {
        try endUnchangedRun()
        if waiting.isEmpty && current.items.isEmpty {
            switch item {
            case .entry(let entry): return try channel.writer.send(Frame(.data, entry.payload))
            case .file(let file) where !file.asks: return try send(file, answer: .nothing)
            case .file: break
            }
        }
        current.items.append(item)
        if case .file(let file) = item, file.asks { current.questions.append(file.record) }
        if current.questions.count >= Self.questionsPerBatch || current.items.count >= Self.itemsPerBatch { try close() }
    }

    /// Asks about the current batch and, when one was waiting, sends that.
    func close() throws {
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
    func finish() throws {
        try endUnchangedRun()
        try close()
        while !waiting.isEmpty { try sendOldest() }
    }

    func sendOldest() throws {
        let batch = waiting.removeFirst()
        var answers = try batch.questions.isEmpty ? [].makeIterator() : answer(count: batch.questions.count).makeIterator()
        for item in batch.items {
            switch item {
            case .entry(let entry): try channel.writer.send(Frame(.data, entry.payload))
            case .file(let file): try send(file, answer: file.asks ? answers.next().flatMap(ContentIndex.Holding.init) ?? .nothing : .nothing)
            }
        }
    }

    func answer(count: Int) throws -> [UInt8] {
        guard let frame = try channel.reader.next() else { throw channel.silence(sinkName: sink.name) }
        if frame.kind == .error { throw Wire.error(from: frame, server: sink.server) }
        guard frame.kind == .data, frame.payload.count == count else {
            throw EmuError.failed("\(sink.server) answered \(frame.payload.count) of \(count) questions about files", fix: "push again")
        }
        return frame.payload
    }

    /// A file the server holds goes as a record; one it lacks with its bytes.
    func send(_ file: PendingFile, answer: ContentIndex.Holding) throws {
        let kind: PushEntry.Kind = switch answer {
        case .inode: .indexed
        case .content: .copy
        case .nothing: .file
        }
        try channel.writer.send(Frame(.data, PushEntry.entry(kind, file.record, attributes: file.attributes, leads: file.leads).payload))
        guard answer == .nothing else { return }
        do {
            let input = try file.directory.openForReading(file.name)
            defer { input.close() }
            _ = try copier.copy(from: input, to: nil) { chunk in
                // A failed write shows at the next frame or at the end: the channel is the sink's side.
                try? channel.writer.send(Frame(.data, Array(chunk)))
            }
        } catch where isSourceError(error) {
            // The server keeps what arrived, under its own hash; the snapshot is marked incomplete.
            try channel.writer.send(Frame(.end))
            observer.skipped(file.record.path, because: error)
            return try channel.writer.send(Frame(.data, PushEntry.skipped(file.record.path).payload))
        }
        try channel.writer.send(Frame(.end))
        observer.copied(file.record.path, reason: file.isNew ? .new : .content, bytes: file.record.size)
    }
}
