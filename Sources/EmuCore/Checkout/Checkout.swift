import EmuPOSIX
import Glibc
import EmuRecords

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
public func checkout(_ snapshot: Snapshot, from sink: any SinkStore, source: Source, options: CheckoutOptions, observer: CheckoutObserver) throws -> CheckoutResult {
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

    func guardRecords() throws -> ManifestCursor? {
        guard guarded, let head = snapshots.last else { return nil }
        return ManifestCursor(try sink.openRecords(head))
    }

    // Into an empty directory, the whole snapshot: nothing to check, nothing to refuse.
    if !(targetIsEmpty && options.paths.isEmpty) || options.dryRun {
        let walk = CheckoutWalk(snapshot: try sink.openRecords(snapshot), scopes: options.paths, targetRoot: targetRoot,
                                leavesAlone: leavesAlone, observer: observer, reportsPlans: options.dryRun)
        let check = CheckPass(walk, guardRecords: try guardRecords())
        try check.run()
        try refuseWhatTheCheckFound(check, snapshot: snapshot, sink: sink, snapshots: snapshots, paths: options.paths, observer: observer)
        if options.dryRun {
            return CheckoutResult(filesWritten: 0, bytesWritten: 0, mended: walk.mended, removed: walk.removed, target: targetPath)
        }
    }
    let apply = try applyPass(snapshot, from: sink, into: targetRoot, isEmpty: targetIsEmpty, options: options,
                              leavesAlone: leavesAlone, observer: observer)
    // A checkout over files is synced before it returns: it replaced what was there. A restore into an empty
    // directory is not (no more than cp -a or rsync): it replaced nothing, and the snapshot it came from stays.
    if !targetIsEmpty { try targetRoot?.file.syncFileSystem() }
    return CheckoutResult(filesWritten: apply.filesWritten, bytesWritten: apply.bytesWritten, mended: apply.walk.mended,
                          removed: apply.walk.removed, target: targetPath)
}

/// The apply pass. Into an empty directory the tree is built in a staging
/// directory there, every entry under its final name, and moved into place
/// when whole; a failure removes what was staged.
package func applyPass(_ snapshot: Snapshot, from sink: any SinkStore, into targetRoot: DirectoryHandle?, isEmpty: Bool, options: CheckoutOptions,
               leavesAlone: @escaping (RelativePath, FileStatus) -> Bool, observer: CheckoutObserver) throws -> ApplyPass {
    let staged = isEmpty ? try targetRoot.map { try StagedCheckout.begin(in: $0, snapshotID: snapshot.id) } : nil
    let walk = CheckoutWalk(snapshot: try sink.openRecords(snapshot), scopes: options.paths, targetRoot: staged?.directory ?? targetRoot,
                            leavesAlone: leavesAlone, observer: observer, reportsPlans: true)
    let tree = try sink.openSnapshotTree(snapshot).root
    let apply = ApplyPass(walk, staged: staged, tree: tree)
    do {
        try apply.run(tree: tree)
    } catch {
        staged?.discard()
        throw error
    }
    return apply
}
