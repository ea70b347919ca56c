import EmuPOSIX
import EmuRecords

/// What a snapshot did to some paths: the changes at or below them against
/// the snapshot before it in the same sink (a file's history, `log -- PATH`).
public struct PathStep: Sendable {
    public var snapshot: Snapshot
    /// The snapshot it was compared with; nil for a sink's first.
    public var previous: Snapshot?
    /// Changes at or below the paths, sorted by path. A rename is here when
    /// either of its ends is: content that moved in, out, or within.
    public var changes: [Change]
    /// The first record at or below the paths in this snapshot, looked up
    /// only when nothing changed and it was asked for (`--all`).
    public var held: ManifestRecord?
}

/// Where each path of a scope stands, for a file's history: one snapshot
/// of a sink against the one before it.
public struct FileHistory {
    public let scopes: [RelativePath]
    /// At most this many changes are kept for one snapshot (a directory's
    /// history lists its files; memory must not follow the tree's size).
    public let changeLimit: Int

    public init(scopes: [RelativePath], changeLimit: Int = 10_000) {
        self.scopes = scopes
        self.changeLimit = changeLimit
    }

    public func covers(_ path: RelativePath) -> Bool { scopes.contains { path.isWithin($0) } }

    /// Compares `snapshot` with `previous` (nothing when nil): the whole
    /// manifests, so that a rename across the scope's edge is seen as one.
    /// `truncated` is set when more than `changeLimit` changes were found.
    public func step(_ snapshot: Snapshot, after previous: Snapshot?, in sink: any SinkStore,
                     holding: Bool = false) throws -> (step: PathStep, truncated: Int) {
        let old = try previous.map { try sink.diffSide(of: $0) } ?? DiffSide.nothing
        let new = try sink.diffSide(of: snapshot)
        var changes: [Change] = []
        var truncated = 0
        _ = try diff(from: old, to: new) { change in
            guard covers(change.path) || change.oldPath.map(covers) == true else { return }
            if changes.count < changeLimit { changes.append(change) } else { truncated += 1 }
        }
        var step = PathStep(snapshot: snapshot, previous: previous, changes: changes)
        if holding && changes.isEmpty { step.held = try firstRecord(in: snapshot, of: sink) }
        return (step, truncated)
    }

    /// The first record at or below the scopes, reading the manifest only
    /// as far as the scopes' places in it.
    public func firstRecord(in snapshot: Snapshot, of sink: any SinkStore) throws -> ManifestRecord? {
        let reader = try sink.openRecords(snapshot)
        while let record = try reader.next() {
            if covers(record.path) && !record.path.isRoot { return record }
            if scopes.allSatisfy({ $0 < record.path && !record.path.isWithin($0) }) { return nil }
        }
        return nil
    }
}

/// No records: the side a sink's first snapshot is compared with.
private final class NoRecords: RecordReader {
    func next() throws -> ManifestRecord? { nil }
}

extension DiffSide {
    /// An empty state: everything the other side holds was added.
    static var nothing: DiffSide {
        DiffSide(.manifest({ _ in NoRecords() }), recordsSourceIdentity: true)
    }
}
