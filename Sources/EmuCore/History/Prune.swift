import EmuPOSIX
import EmuRecords

/// Deletes snapshots from a sink: each disappears in one rename, and HEAD
/// moves to the newest that remains. Returns what was (or would be) deleted.
public func prune(_ doomed: [Snapshot], in sink: any SinkStore, dryRun: Bool, lockWait: Double, each: (Snapshot) -> Void) throws {
    try sink.lock(dryRun ? .shared : .exclusive, wait: lockWait)
    defer { sink.unlock() }
    if !dryRun { try sink.recover() }
    let existing = Set(try sink.snapshots().map(\.id))
    for snapshot in doomed where existing.contains(snapshot.id) {
        if !dryRun { try sink.delete(snapshot) }
        each(snapshot)
    }
    if !dryRun { try sink.finishDeleting() }
}
