import EmuPOSIX
import Glibc
import SystemPackage
import EmuRecords

public struct PushOptions: Sendable {
    public var message = ""
    /// `--exclude` rules for this run, after the source's own.
    public var excludes: [String] = []
    /// `--files-from`: only these paths (and the directories above them).
    public var onlyPaths: [RelativePath]? = nil
    /// `--exclude-caches`: leave out directories tagged with `CACHEDIR.TAG`.
    public var excludeCaches = false
    public var oneFileSystem = false
    public var checksum = false
    /// The date to record instead of now (imports, tests).
    public var date: Timestamp? = nil
    /// `push --force`: `date` may be after this machine's clock (a local sink only).
    public var allowsFutureDate = false
    public var dryRun = false
    public var lockWait: Double = 0
    /// Apply the sink's retention policy after the push.
    public var rotate = true
    /// An import: walk this directory (another tool's backup) instead of the
    /// source, without the source's excludes, and adopt its files (see
    /// `StagingWriter.adopt`).
    public var importing: String? = nil
    /// `emu watch`: the directories whose entries may have changed since the
    /// newest snapshot; the others are taken from its records (see
    /// `QuietDirectories`). nil walks everything, as does a newest snapshot
    /// that is incomplete.
    public var changedDirectories: Set<RelativePath>? = nil
    /// `--skip-if-unchanged`: make no snapshot when the source is as the newest one holds it.
    public var skipIfUnchanged = false
    /// `emu watch`: the names of files with several are kept for the next
    /// push of this process (see `QuietDirectories.remember`).
    public var remembersLinkedNames = false

    public init() {}

    /// What the walk leaves out: the source's excludes and this run's; nothing of a backup being imported.
    package func filter(for source: Source) throws -> SourceFilter {
        guard importing == nil else { return SourceFilter() }
        return try SourceFilter(source: source, extraExcludes: excludes, onlyPaths: onlyPaths, excludeCaches: excludeCaches)
    }

    /// The directory walked: the source, or the backup being imported.
    package func walkedRoot(of source: Source) throws -> DirectoryHandle {
        try DirectoryHandle.open(importing ?? source.path, origin: .source)
    }
}

public struct PushResult: Sendable {
    /// The new snapshot; nil after a dry run.
    public var snapshot: Snapshot?
    public var counts: Snapshot.Counts
    /// Seconds spent walking and copying, and publishing.
    public var walkSeconds: Double
    public var publishSeconds: Double
    /// Snapshots the retention policy removed after the push, or to make room.
    public var expired: [Snapshot] = []
    /// `--skip-if-unchanged` made no snapshot: the newest one holds the source as it is.
    public var unchangedSince: Snapshot? = nil

    package init(snapshot: Snapshot?, counts: Snapshot.Counts, walkSeconds: Double, publishSeconds: Double) {
        (self.snapshot, self.counts, self.walkSeconds, self.publishSeconds) = (snapshot, counts, walkSeconds, publishSeconds)
    }

    /// A push that made no snapshot: every file is as `newest` holds it, and nothing was copied.
    package init(unchangedSince newest: Snapshot, walkSeconds: Double) {
        var counts = newest.counts
        (counts.filesCopied, counts.bytesCopied, counts.filesLinked) = (0, 0, newest.counts.files)
        self.init(snapshot: nil, counts: counts, walkSeconds: walkSeconds, publishSeconds: 0)
        unchangedSince = newest
    }
}

/// Makes a new snapshot of `source` in `sink`: lock the sink and finish
/// what an interrupted command left, then archive into a `StagedSnapshot`
/// (linking from the newest snapshot and from a killed push's leftovers),
/// make it durable and publish it; then apply the retention policy. A
/// failure before publication leaves the sink as it was.
public func push(_ source: Source, to sink: Sink, options: PushOptions, observer: PushObserver) throws -> PushResult {
    let sinkPath = resolvedPath(sink.path) ?? sink.path
    if isPath(source.path, within: sinkPath) {
        throw EmuError.usage("the source \(source.path) lies inside its sink '\(sink.name)' at \(sinkPath)",
                             fix: "put the sink outside the source, or back up another directory")
    }
    let filter = try options.filter(for: source)
    try sink.lock(options.dryRun ? .shared : .exclusive, wait: options.lockWait)
    defer { sink.unlock() }
    if !options.dryRun { try sink.recover() }
    if options.dryRun {
        try SinkOwner.requirePushing(try source.identity(), into: try sink.owner(), at: sink.path)
    } else {
        try sink.claim(for: try source.identity())
    }
    let policy = try sink.retentionPolicy()
    var expired: [Snapshot] = []
    while true {
        do {
            var result = try pushLocked(source, to: sink, filter: filter, options: options, observer: observer)
            if let snapshot = result.snapshot, options.rotate {
                result.expired = expired + (try rotateAfterPush(policy, sink, protecting: snapshot.id, observer: observer))
            }
            return result
        } catch let error as FileSystemError where error.isOutOfSpace && policy.minFreePercent != nil && !options.dryRun {
            // Rotation may free room first, the oldest first, when the push can fit at all.
            let needed = try bytesToCopy(source, to: sink, filter: filter, options: options)
            let removed = try sink.freeSpace(percent: 0, bytes: needed, policy: policy, among: try sink.snapshots(), protecting: nil,
                                             warn: observer.warned) { observer.expired($0, $1) }
            guard !removed.isEmpty else { throw error }
            try sink.finishDeleting()
            expired += removed
        }
    }
}

/// What a push would copy (a dry run's count, without the content index's
/// savings): the room it needs, at most.
package func bytesToCopy(_ source: Source, to sink: Sink, filter: SourceFilter, options: PushOptions) throws -> Int64 {
    var options = options
    options.dryRun = true
    return try pushLocked(source, to: sink, filter: filter, options: options, observer: SilentPushObserver()).counts.bytesCopied
}

/// One attempt at a push, the sink locked and recovered: the planner walks
/// the source beside the newest snapshot's records and a killed push's, and
/// the staging writer carries its decisions out (a dry run's count instead).
package func pushLocked(_ source: Source, to sink: Sink, filter: SourceFilter, options: PushOptions, observer: PushObserver) throws -> PushResult {
    let snapshots = try sink.snapshots()
    let head = snapshots.last
    observer.began(after: head)
    let date = try uniqueDate(options.date, among: snapshots, allowingFuture: options.allowsFutureDate)
    let sourceRoot = try options.walkedRoot(of: source)
    if options.dryRun {
        return try countedPush(sourceRoot, filter: filter, oneFileSystem: options.oneFileSystem, checksum: options.checksum,
                               importing: options.importing != nil, newest: try head.map(sink.openRecords), observer: observer)
    }
    let newest = head.flatMap { head in (try? sink.openTree(head)).flatMap { tree in (try? sink.openRecords(head)).map { (tree, $0) } } }
    let leftovers = sink.resumeLeftovers()
    let started = monotonicSeconds()

    let staged = try sink.beginSnapshot()
    let settings = StagingWriter.Settings(checksum: options.checksum, adoptsFiles: options.importing != nil)
    let writer = StagingWriter(settings: settings, observer: observer, staged: staged, earlierTree: newest?.0, resumeTree: leftovers?.tree)
    do {
        let planner = PushPlanner(writer: writer, earlier: newest.map { ManifestCursor($0.1) }, resume: leftovers.map { ManifestCursor($0.records) })
        planner.checksum = options.checksum
        planner.keepsLinkedNames(for: options)
        if options.importing != nil { (planner.changeTest, planner.resumeTest) = (.quickCheck, .quickCheck) }
        try planner.plan(try scanner(of: sourceRoot, in: sink, head: head, filter: filter, options: options))
        let walked = monotonicSeconds()
        var origin = StagedSnapshot.Origin(date: date, message: options.message, sourcePath: source.path, sourceID: try source.identity())
        origin.skipsIfUnchanged = options.skipIfUnchanged
        let snapshot = try staged.finish(writer.outcome, from: origin, after: snapshots)
        planner.rememberLinkedNames(of: snapshot, in: sink.path)
        return PushResult(snapshot: snapshot, counts: writer.counts, walkSeconds: walked - started, publishSeconds: monotonicSeconds() - walked)
    } catch let unchanged as UnchangedSinceNewest {
        staged.abandon()
        return PushResult(unchangedSince: unchanged.newest, walkSeconds: monotonicSeconds() - started)
    } catch {
        // A failed push leaves no trace; a killed one leaves staging for the next to reuse.
        staged.abandon()
        throw error
    }
}

/// The walk of a push's source; `emu watch`'s takes the entries of
/// directories no event touched from the newest snapshot's records, when
/// that snapshot is complete (see `QuietDirectories`).
package func scanner(of root: DirectoryHandle, in sink: Sink, head: Snapshot?, filter: SourceFilter, options: PushOptions) throws -> TreeScanner {
    let scanner = TreeScanner(root: root, filter: filter, oneFileSystem: options.oneFileSystem)
    if let head { try scanner.takeQuietDirectories(of: options, head: head, in: sink.path, records: { try sink.openRecords(head) }) }
    return scanner
}

/// The date of the new snapshot: `requested`, which must be a plausible
/// date, not after this machine's clock (plus `Timestamp.futureSkew`)
/// unless `allowingFuture`, after `notBefore` when given, and not name an
/// existing snapshot; or now, waiting for the next second when this one
/// already names one.
package func uniqueDate(_ requested: Timestamp?, among snapshots: [Snapshot], allowingFuture: Bool = false,
                notBefore: Timestamp? = nil) throws -> Timestamp {
    let names = Set(snapshots.map(\.name))
    if let requested {
        guard requested.isPlausible else {
            throw EmuError.usage("\(requested) is not a date a snapshot can have", fix: "give a date between 1970 and 9999")
        }
        guard allowingFuture || requested.seconds <= Timestamp.now().seconds + Timestamp.futureSkew else {
            throw EmuError.usage("the date \(requested.displayText) is after this machine's clock (\(Timestamp.now().displayText))",
                                 fix: "check the date; a snapshot dated in the future needs --force, on the machine that keeps the sink")
        }
        if let notBefore, requested <= notBefore {
            throw EmuError.usage("the date \(requested.displayText) is not after the sink's newest complete snapshot (\(notBefore.displayText)), "
                                 + "and this key may only add newer ones", fix: "push without --date, or with an administrator's key")
        }
        guard !names.contains(requested.snapshotName) else {
            throw EmuError.usage("a snapshot named '\(requested.snapshotName)' already exists", fix: "choose another --date")
        }
        return requested
    }
    var now = Timestamp.now()
    while names.contains(now.snapshotName) {
        usleep(UInt32(1_000_000 - Int(now.nanoseconds) / 1000) + 1000)
        now = Timestamp.now()
    }
    return now
}
