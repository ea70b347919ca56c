import EmuPOSIX
import EmuRecords

/// What the check pass found that stops a checkout, changing nothing: a
/// named path the snapshot does not hold, or data that no snapshot holds.
/// A file whose content a snapshot holds (at any path) is not lost: it is
/// named with where it is, and when every one is held the checkout goes on.
package func refuseWhatTheCheckFound(_ check: CheckPass, snapshot: Snapshot, sink: any SinkStore, snapshots: [Snapshot],
                                     paths: [RelativePath], observer: CheckoutObserver) throws {
    if let missing = paths.first(where: { !check.walk.matchedScopes.contains($0) }) {
        throw EmuError.notInSnapshot(missing, snapshot: snapshot, sink: sink.name)
    }
    guard check.conflictCount > 0 else { return }
    let held = check.walk.targetRoot.map { heldCopies(of: check.conflicts, in: $0, sink: sink, snapshots: snapshots) } ?? [:]
    let unlisted = check.conflictCount - check.conflicts.count
    if unlisted == 0 && held.count == check.conflicts.count {
        for path in check.conflicts { observer.noted(path, "overwritten; its content is in \(held[path]!)") }
        return
    }
    let lost = check.conflictCount - held.count
    var names = check.conflicts.map { "  " + $0.description + (held[$0].map { "  (not lost: its content is in \($0))" } ?? "") }.joined(separator: "\n")
    if unlisted > 0 { names += "\n  ... and \(unlisted) more" }
    throw EmuError.failed("checkout would overwrite or remove \(plural(check.conflictCount, "path")) that differ from the newest snapshot, "
                          + "\(lost) of them held by no snapshot and lost:\n\(names)",
                          fix: "push first to keep them (`emu push`), or pass --force to discard them")
}

/// Where a snapshot of `sink` holds the content of each regular file among
/// `paths` in `target` (the newest snapshot that does, and the path there):
/// read on a refusal only, each manifest at most once, until all are found.
func heldCopies(of paths: [RelativePath], in target: DirectoryHandle, sink: any SinkStore, snapshots: [Snapshot]) -> [RelativePath: String] {
    var wanted: [ContentHash: [RelativePath]] = [:]
    for path in paths {
        guard let name = path.lastName, let directory = try? target.openDirectory(path: path.parent),
              (try? directory.status(name))?.kind == .regular,
              let (hash, _) = try? hashFile(name, in: directory, copier: DataCopier()) else { continue }
        wanted[hash, default: []].append(path)
    }
    var found: [RelativePath: String] = [:]
    for snapshot in snapshots.reversed() where !wanted.isEmpty {
        guard let reader = try? sink.openRecords(snapshot) else { continue }
        while !wanted.isEmpty, let record = (try? reader.next()) ?? nil {
            guard record.kind == .regular, let content = record.content, let paths = wanted.removeValue(forKey: content) else { continue }
            for path in paths { found[path] = "snapshot \(snapshot.name) (\(snapshot.shortID)) as \(record.path)" }
        }
    }
    return found
}

extension EmuError {
    /// A path the snapshot does not hold: where its versions are is one `log` away.
    public static func notInSnapshot(_ path: RelativePath, snapshot: Snapshot, sink: String) -> EmuError {
        .usage("\(path.quotedForMessage) is not in snapshot \(snapshot.name) (\(snapshot.shortID))",
               fix: "`emu log \(shellQuoted(sink)) -- \(shellQuoted(path.description))` lists the snapshots where it changed (one that deleted it names the one that holds its last version); `emu show \(shellQuoted(sink + ":" + snapshot.shortID + ":"))` lists this snapshot")
    }
}

/// Why a checkout into a non-empty `--to DIR` needs to be told: what
/// `--force` would overwrite, and what `--delete` would remove besides.
package func refusal(into target: DirectoryHandle, path: String, snapshot: RecordReader, scopes: [RelativePath]) throws -> EmuError {
    let plan = PlanCollector()
    let walk = CheckoutWalk(snapshot: snapshot, scopes: scopes, targetRoot: target, leavesAlone: { _, _ in false }, observer: plan,
                            reportsPlans: true)
    try CheckPass(walk, guardRecords: nil).run()
    func listing(_ paths: [RelativePath], _ count: Int) -> String {
        var text = paths.map { "\n  " + $0.description }.joined()
        if count > paths.count { text += "\n  ... and \(count - paths.count) more" }
        return text
    }
    var message = "\(path) is not empty"
    message += plan.count(.overwrite) == 0
        ? "; --force would overwrite nothing there"
        : "; --force would overwrite \(plural(plan.count(.overwrite), "path")) that differ from the snapshot:" + listing(plan.examples[.overwrite] ?? [], plan.count(.overwrite))
    if plan.count(.remove) > 0 {
        message += "\n--force --delete would also remove \(plural(plan.count(.remove), "path")) the snapshot does not hold:"
            + listing(plan.examples[.remove] ?? [], plan.count(.remove))
    }
    return EmuError.failed(message, fix: "choose an empty or missing directory, or pass --force (and --delete to mirror the snapshot)")
}

/// Counts a check pass's planned changes, with the first few paths of each.
package final class PlanCollector: CheckoutObserver {
    package var counts: [CheckoutAction: Int] = [:]
    package var examples: [CheckoutAction: [RelativePath]] = [:]

    package func count(_ action: CheckoutAction) -> Int { counts[action] ?? 0 }

    package func planned(_ path: RelativePath, _ action: CheckoutAction) {
        counts[action, default: 0] += 1
        if examples[action, default: []].count < 10 { examples[action, default: []].append(path) }
    }

    package func noted(_ path: RelativePath, _ message: String) {}
    package func progressed(files: Int, bytes: Int64) {}
}
