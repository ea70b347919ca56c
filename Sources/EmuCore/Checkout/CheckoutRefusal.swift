import EmuPOSIX
import EmuRecords

/// What the check pass found that stops a checkout, changing nothing: a
/// named path the snapshot does not hold, or data that no snapshot holds.
package func refuseWhatTheCheckFound(_ check: CheckPass, snapshot: Snapshot, sink: any SinkStore, paths: [RelativePath]) throws {
    if let missing = paths.first(where: { !check.walk.matchedScopes.contains($0) }) {
        throw EmuError.notInSnapshot(missing, snapshot: snapshot, sink: sink.name)
    }
    guard check.conflictCount > 0 else { return }
    var names = check.conflicts.map { "  " + $0.description }.joined(separator: "\n")
    if check.conflictCount > check.conflicts.count { names += "\n  ... and \(check.conflictCount - check.conflicts.count) more" }
    throw EmuError.failed("checkout would overwrite or remove \(plural(check.conflictCount, "path")) that differ from the newest snapshot and would be lost:\n\(names)",
                          fix: "push first to keep them (`emu push`), or pass --force to discard them")
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
