import EmuPOSIX
import Glibc
import SystemPackage

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
    public var dryRun = false
    public var lockWait: Double = 0
    /// Apply the sink's retention policy after the push.
    public var rotate = true

    public init() {}
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
}

/// Makes a new snapshot of `source` in `sink`:
/// 1. lock the sink, finish what an interrupted command left;
/// 2. archive into `.emu/staging/` (tree and manifest), linking from the
///    newest snapshot and from a killed push's leftovers;
/// 3. syncfs: every byte on disk;
/// 4. publish by renames — tree, manifest, then the record, which makes the
///    snapshot exist — then the date link, HEAD and Latest.
/// A failure before step 4 removes the staging tree and leaves the sink as it was.
public func push(_ source: Source, to sink: Sink, options: PushOptions, observer: PushObserver) throws -> PushResult {
    let sinkPath = resolvedPath(sink.path) ?? sink.path
    if isPath(source.path, within: sinkPath) {
        throw EmuError.usage("the source \(source.path) lies inside its sink '\(sink.name)' at \(sinkPath)",
                             fix: "put the sink outside the source, or back up another directory")
    }
    var settings = Archiver.Settings()
    settings.filter = try SourceFilter(source: source, extraExcludes: options.excludes, onlyPaths: options.onlyPaths,
                                       excludeCaches: options.excludeCaches)
    settings.oneFileSystem = options.oneFileSystem
    settings.checksum = options.checksum

    try sink.lock(options.dryRun ? .shared : .exclusive, wait: options.lockWait)
    defer { sink.unlock() }
    if !options.dryRun { try sink.recover() }
    let policy = try sink.retentionPolicy()
    var expired: [Snapshot] = []
    while true {
        do {
            var result = try pushLocked(source, to: sink, settings: settings, options: options, observer: observer)
            if let snapshot = result.snapshot, options.rotate {
                result.expired = expired + (try applyRetention(policy, to: sink, protecting: snapshot.id, dryRun: false,
                                                               warn: observer.warned) { observer.expired($0, $1) })
            }
            return result
        } catch let error as FileSystemError where error.isOutOfSpace && policy.minFreePercent != nil && !options.dryRun {
            // Rotation may free room first, the oldest first, when the push can fit at all.
            let needed = try bytesToCopy(source, to: sink, settings: settings)
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
func bytesToCopy(_ source: Source, to sink: Sink, settings: Archiver.Settings) throws -> Int64 {
    var options = PushOptions()
    options.dryRun = true
    return try pushLocked(source, to: sink, settings: settings, options: options, observer: SilentPushObserver()).counts.bytesCopied
}

/// What a push may link to: what a killed push copied (its resume area),
/// and the newest snapshot.
func earlierTrees(in sink: Sink, head: Snapshot?, resumes: Bool) -> [Archiver.Base] {
    var bases: [Archiver.Base] = []
    if resumes, let resume = try? sink.metadata.openDirectory(SinkLayout.resume),
       let tree = try? resume.openDirectory(FileName("tree")),
       let reader = try? ManifestReader(in: resume, name: FileName("manifest"), allowsTruncation: true) {
        bases.append(Archiver.Base(tree: tree, reader: reader, isResume: true))
    }
    if let head, let tree = try? sink.openTree(head), let reader = try? sink.openRecords(head) {
        bases.append(Archiver.Base(tree: tree, reader: reader))
    }
    return bases
}

/// One attempt at a push, the sink locked and recovered.
func pushLocked(_ source: Source, to sink: Sink, settings: Archiver.Settings, options: PushOptions, observer: PushObserver) throws -> PushResult {
    let snapshots = try sink.snapshots()
    let head = snapshots.last
    let date = try uniqueDate(options.date, among: snapshots)

    let sourceRoot = try DirectoryHandle.open(source.path, origin: .source)
    let bases = earlierTrees(in: sink, head: head, resumes: !options.dryRun)

    let started = monotonicSeconds()
    if options.dryRun {
        let archiver = Archiver(settings: settings, observer: observer, staging: nil, writer: nil, bases: bases)
        try archiver.archive(sourceRoot)
        return PushResult(snapshot: nil, counts: archiver.counts, walkSeconds: monotonicSeconds() - started, publishSeconds: 0)
    }

    let staging = try makeStaging(in: sink)
    do {
        let tree = try staging.openDirectory(FileName("tree"))
        let writer = try ManifestWriter(file: try staging.createFile(FileName("manifest"), permissions: 0o644))
        let index = try ContentIndex.open(in: sink, staging: staging)
        let archiver = Archiver(settings: settings, observer: observer, staging: tree, writer: writer, bases: bases, index: index)
        try archiver.archive(sourceRoot)
        let manifestDigest = try writer.finish()
        let walked = monotonicSeconds()

        CrashPoint.reach("push.before-sync")
        try sink.root.file.syncFileSystem()
        // Only now do the new copies' index entries name bytes on disk.
        try index.commitPending()
        CrashPoint.reach("push.after-index")

        var snapshot = Snapshot(id: Snapshot.makeID(date: date, manifest: manifestDigest, parent: head?.id), parent: head?.id, date: date)
        snapshot.counts = archiver.counts
        // Nothing links to the new inodes yet: they are the new snapshot's alone.
        snapshot.uniqueBytes = archiver.bytesOwned
        snapshot.status = archiver.counts.skipped > 0 ? .incomplete : .complete
        snapshot.message = options.message
        snapshot.source = source.path
        snapshot.sinkName = sink.name
        snapshot.sinkPath = sink.path
        try MetadataFile.write(in: staging, "node", snapshot.node.text)
        try sink.checkStillAtPath()
        try publish(snapshot, from: staging, in: sink, after: snapshots)
        // Linked through the index: any snapshot may now share what was its alone.
        if archiver.reusedFromIndex { try sink.forgetUniqueBytes(of: snapshots) }
        // A killed push's leftovers are gone: drop index entries only they held.
        if bases.contains(where: \.isResume) { try ContentIndex.open(in: sink).sweep() }
        return PushResult(snapshot: snapshot, counts: archiver.counts, walkSeconds: walked - started, publishSeconds: monotonicSeconds() - walked)
    } catch {
        // A failed push leaves no trace; a killed one leaves staging for the next to reuse.
        try? sink.metadata.removeTree(SinkLayout.staging)
        throw error
    }
}

/// The date of the new snapshot: `requested`, which must not name an
/// existing snapshot, or now, waiting for the next second when this one
/// already names one.
func uniqueDate(_ requested: Timestamp?, among snapshots: [Snapshot]) throws -> Timestamp {
    let names = Set(snapshots.map(\.name))
    if let requested {
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

/// A fresh `.emu/staging/` with an empty `tree/`.
func makeStaging(in sink: Sink) throws -> DirectoryHandle {
    try? sink.metadata.removeTree(SinkLayout.staging)
    try sink.metadata.makeDirectory(SinkLayout.staging, permissions: 0o700)
    let staging = try sink.metadata.openDirectory(SinkLayout.staging)
    try staging.makeDirectory(FileName("tree"), permissions: 0o700)
    return staging
}

/// Renames the staged snapshot into place, the record last, then points the
/// date link, HEAD and Latest at it, and drops what a killed push left.
func publish(_ snapshot: Snapshot, from staging: DirectoryHandle, in sink: Sink, after earlier: [Snapshot]) throws {
    let id = FileName(snapshot.id)
    let trees = try sink.metadata.openDirectory(SinkLayout.trees)
    let manifests = try sink.metadata.openDirectory(SinkLayout.manifests)
    let nodes = try sink.metadata.openDirectory(SinkLayout.nodes)
    try staging.rename(FileName("tree"), to: trees, as: id)
    CrashPoint.reach("push.after-tree")
    try staging.rename(FileName("manifest"), to: manifests, as: id)
    CrashPoint.reach("push.after-manifest")
    try trees.sync()
    try manifests.sync()
    try staging.rename(FileName("node"), to: nodes, as: id)
    try nodes.sync()
    CrashPoint.reach("push.after-record")
    try sink.metadata.removeTree(SinkLayout.staging)
    try? sink.metadata.removeTree(SinkLayout.resume)
    try sink.refreshLinks((earlier + [snapshot]).sorted { ($0.date, $0.id) < ($1.date, $1.id) })
    if let parent = earlier.first(where: { $0.id == snapshot.parent }) { try sink.forgetUniqueBytes(of: [parent]) }
}
