import EmuPOSIX
import Glibc

public struct CheckoutOptions: Sendable {
    /// Paths in the snapshot to restore; all of it when empty.
    public var paths: [RelativePath] = []
    /// `--to DIR`: restore there instead of the source.
    public var destination: String? = nil
    public var force = false
    /// `--delete`: into `--to DIR`, also remove what the snapshot does not hold.
    public var deletes = false
    public var dryRun = false
    public var lockWait: Double = 0

    public init() {}
}

public struct CheckoutResult: Sendable {
    public var filesWritten: Int
    public var bytesWritten: Int64
    /// Entries whose content was right and whose metadata was set in place.
    public var mended: Int
    public var removed: Int
    public var target: String
}

/// Restores `snapshot` into the source (or `--to DIR`, or only some paths).
/// A check pass runs first and refuses, changing nothing, when the restore
/// would overwrite or remove data that differs from the sink's newest
/// snapshot; `force` skips that check.
public func checkout(_ snapshot: Snapshot, from sink: Sink, source: Source, options: CheckoutOptions, observer: CheckoutObserver) throws -> CheckoutResult {
    try sink.lock(.shared, wait: options.lockWait)
    defer { sink.unlock() }
    let snapshots = try sink.snapshots()
    guard snapshots.contains(where: { $0.id == snapshot.id }) else {
        throw EmuError.failed("snapshot \(snapshot.shortID) was removed while checkout started", fix: "choose another snapshot")
    }

    let targetPath: String
    let targetRoot: DirectoryHandle?
    var leavesAlone: (RelativePath, FileStatus) -> Bool = { _, _ in false }
    var sourceLock: FileLock? = nil
    var guarded = !options.force
    var targetIsEmpty = false
    if let destination = options.destination {
        (targetPath, targetRoot, targetIsEmpty) = try prepareDestination(destination, for: snapshot, from: sink, options: options)
        // Into DIR, entries the snapshot does not hold stay unless --delete asks.
        leavesAlone = { [deletes = options.deletes] _, _ in !deletes }
        guarded = false
    } else {
        targetPath = source.path
        sourceLock = try source.lock(.exclusive, wait: options.lockWait)
        targetRoot = try DirectoryHandle.open(source.path)
        let filter = try SourceFilter(source: source)
        leavesAlone = filter.leavesOut
    }
    // Held to the end: ARC could otherwise release the lock after its last use.
    defer { withExtendedLifetime(sourceLock) {} }

    func guardRecords() throws -> ManifestLookup? {
        guard guarded, let head = snapshots.last else { return nil }
        return ManifestLookup(try sink.openRecords(head))
    }

    // Into an empty directory, the whole snapshot: nothing to check, nothing to refuse.
    if !(targetIsEmpty && options.paths.isEmpty) || options.dryRun {
        let check = Restorer(mode: .check, snapshot: try sink.openRecords(snapshot), guardRecords: try guardRecords(), scopes: options.paths,
                             targetRoot: targetRoot, leavesAlone: leavesAlone, observer: observer, reportsPlans: options.dryRun)
        try check.run(tree: nil)
        if let missing = options.paths.first(where: { !check.matchedScopes.contains($0) }) {
            throw EmuError.usage("\(missing.quotedForMessage) is not in snapshot \(snapshot.name) (\(snapshot.shortID))",
                                 fix: "list the snapshot with `emu show \(sink.name):\(snapshot.shortID)`")
        }
        if check.conflictCount > 0 {
            var names = check.conflicts.map { "  " + $0.description }.joined(separator: "\n")
            if check.conflictCount > check.conflicts.count { names += "\n  ... and \(check.conflictCount - check.conflicts.count) more" }
            throw EmuError.failed("checkout would overwrite or remove \(plural(check.conflictCount, "path")) that differ from the newest snapshot and would be lost:\n\(names)",
                                  fix: "push first to keep them (`emu push`), or pass --force to discard them")
        }
        if options.dryRun {
            return CheckoutResult(filesWritten: 0, bytesWritten: 0, mended: check.mended, removed: check.removed, target: targetPath)
        }
    }
    // Into an empty directory the tree is built in a staging directory there,
    // every entry under its final name, and moved into place when whole.
    var staged: StagedCheckout? = nil
    var buildRoot = targetRoot
    if targetIsEmpty, let targetRoot {
        let name = FileName(Restorer.temporaryPrefix + Array("\(getpid())".utf8))
        try targetRoot.makeDirectory(name, permissions: 0o700)
        staged = StagedCheckout(destination: targetRoot, name: name, snapshotID: snapshot.id)
        buildRoot = try targetRoot.openDirectory(name)
    }
    let apply = Restorer(mode: .apply, snapshot: try sink.openRecords(snapshot), guardRecords: nil, scopes: options.paths,
                         targetRoot: buildRoot, staged: staged, leavesAlone: leavesAlone, observer: observer, reportsPlans: true)
    do {
        try apply.run(tree: try sink.openTree(snapshot))
    } catch {
        staged?.discard()
        throw error
    }
    try targetRoot?.descriptor.syncFileSystem(path: targetRoot?.path ?? [])
    return CheckoutResult(filesWritten: apply.filesWritten, bytesWritten: apply.bytesWritten, mended: apply.mended, removed: apply.removed,
                          target: targetPath)
}

/// Makes `--to DIR` when it is missing, deals with what a killed checkout
/// left there, and refuses a DIR that holds anything else unless `force`.
/// Returns its absolute path, its handle (nil in a dry run into a missing
/// DIR) and whether it is empty.
func prepareDestination(_ destination: String, for snapshot: Snapshot, from sink: Sink,
                        options: CheckoutOptions) throws -> (String, DirectoryHandle?, Bool) {
    let targetPath = absolutePath(destination)
    if !isDirectory(targetPath) && !options.dryRun {
        guard targetPath.fileSystemBytes.withCString({ mkdir($0, 0o755) }) == 0 else {
            throw EmuError.failed("cannot create \(targetPath.quotedForDisplay): \(String(cString: strerror(errno)))",
                                  fix: "create its parent directory first")
        }
    }
    let targetRoot = isDirectory(targetPath) ? try DirectoryHandle.open(targetPath) : nil
    // What a killed checkout left: a staging directory, finished when its tree was whole, else dropped.
    var finished: String? = nil
    for entry in try targetRoot?.entries() ?? [] where entry.name.bytes.starts(with: Restorer.temporaryPrefix) {
        finished = try recoverStaging(entry.name, in: targetRoot!, path: targetPath, for: snapshot, options: options) ?? finished
    }
    let isEmpty = try targetRoot?.entries().allSatisfy { $0.name.bytes.starts(with: Restorer.temporaryPrefix) } ?? true
    // DIR holds this snapshot's tree, placed by the checkout that was killed: mended like any other.
    let ownWork = finished == snapshot.id
    if !options.force && !isEmpty && !ownWork, let targetRoot {
        throw try refusal(into: targetRoot, path: targetPath, snapshot: try sink.openRecords(snapshot), scopes: options.paths)
    }
    return (targetPath, targetRoot, isEmpty)
}

/// Why a checkout into a non-empty `--to DIR` needs to be told: what
/// `--force` would overwrite, and what `--delete` would remove besides.
func refusal(into target: DirectoryHandle, path: String, snapshot: RecordReader, scopes: [RelativePath]) throws -> EmuError {
    let plan = PlanCollector()
    let check = Restorer(mode: .check, snapshot: snapshot, guardRecords: nil, scopes: scopes, targetRoot: target,
                         leavesAlone: { _, _ in false }, observer: plan, reportsPlans: true)
    try check.run(tree: nil)
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
final class PlanCollector: CheckoutObserver {
    var counts: [CheckoutAction: Int] = [:]
    var examples: [CheckoutAction: [RelativePath]] = [:]

    func count(_ action: CheckoutAction) -> Int { counts[action] ?? 0 }

    func planned(_ path: RelativePath, _ action: CheckoutAction) {
        counts[action, default: 0] += 1
        if examples[action, default: []].count < 10 { examples[action, default: []].append(path) }
    }

    func noted(_ path: RelativePath, _ message: String) {}
    func progressed(files: Int, bytes: Int64) {}
}

/// Deals with what a killed checkout left in `--to DIR`: a staging directory
/// whose tree was not whole is dropped; a whole one is moved into place when
/// this checkout restores the same snapshot or `--force` says to, and
/// returns its snapshot's ID; otherwise the checkout is refused, saying how
/// to finish it.
func recoverStaging(_ name: FileName, in target: DirectoryHandle, path: String, for snapshot: Snapshot,
                    options: CheckoutOptions) throws -> String? {
    guard let id = StagedCheckout.wholeTree(name), (try? target.status(name))?.kind == .directory else {
        if !options.dryRun { try target.removeTree(name) }
        return nil
    }
    guard id == snapshot.id || options.force else {
        throw EmuError.failed("\(path) holds a checkout of snapshot \(id.prefix(8)) that was killed while moving into place",
                              fix: "finish it with `emu checkout \(id.prefix(8)) --to \(path)`, or pass --force to overwrite it")
    }
    if !options.dryRun { try StagedCheckout.finish(name, in: target) }
    return id
}
