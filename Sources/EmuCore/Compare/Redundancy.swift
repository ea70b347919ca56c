import EmuPOSIX
import EmuRecords

/// A file of the newest snapshot on any sink, and the sinks that hold it.
public struct FileCopies: Sendable {
    public let record: ManifestRecord
    /// The sinks whose newest snapshot holds the same content at the same path.
    public let sinks: [String]
}

/// One sink's newest snapshot, for `countCopies`.
public struct NewestSnapshot {
    public let sink: String
    public let store: any SinkStore
    public let snapshot: Snapshot

    public init(sink: String, store: any SinkStore, snapshot: Snapshot) {
        self.sink = sink
        self.store = store
        self.snapshot = snapshot
    }
}

/// How many sinks hold the newest version of each file: the newest
/// snapshot among `newest` (one per sink) is read, and every other sink's
/// newest manifest in step with it, all streamed. A file counts as held by
/// a sink whose newest snapshot has the same content at its path. `each`
/// hears of every regular file.
public func countCopies(_ newest: [NewestSnapshot], each: (FileCopies) throws -> Void) throws {
    guard let reference = newest.max(by: { ($0.snapshot.date, $0.sink) < ($1.snapshot.date, $1.sink) }) else { return }
    let others = newest.filter { $0.sink != reference.sink }
    var cursors = try others.map { ManifestCursor(try $0.store.openRecords($0.snapshot)) }
    let records = try reference.store.openRecords(reference.snapshot)
    while let record = try records.next() {
        guard record.kind == .regular else { continue }
        var sinks = [reference.sink]
        for i in cursors.indices {
            if let other = try cursors[i].record(at: record.path), other.kind == .regular, other.content == record.content {
                sinks.append(others[i].sink)
            }
        }
        try each(FileCopies(record: record, sinks: sinks))
    }
}
