import EmuPOSIX
import EmuCore
import EmuRecords

public struct ReplicateOptions: Sendable {
    /// Only these snapshots (full IDs), when given; else every one the first sink holds.
    public var only: Set<String>? = nil
    public var dryRun = false
    /// Apply the receiving sink's retention policy: copy only what it keeps, then expire.
    public var prune = false
    public var lockWait: Double = 0
    /// The identity of the source whose history moves, when the first sink
    /// names none (a sink of emu 0.2.5): the source the command runs in.
    public var fallbackIdentity: String? = nil

    public init() {}
}

/// Hears a replicate as it goes: the CLI prints, tests count.
public protocol ReplicateObserver: PushObserver {
    /// The snapshots to copy, oldest first (all of them, before the first is copied).
    func planned(_ snapshots: [Snapshot])
    func replicating(_ snapshot: Snapshot, number: Int)
    func replicated(_ snapshot: Snapshot, counts: ReplicaCounts)
}

public struct ReplicateResult: Sendable {
    /// Snapshots the first sink holds that the second lacked, oldest first:
    /// copied, or with a dry run, those that would be.
    public var copied: [Snapshot] = []
    public var counts: [ReplicaCounts] = []
    /// Wanted, and held by the second sink already (an ID is its content).
    public var alreadyHeld = 0
    /// Wanted, and left out: the second sink holds another snapshot of the
    /// same second (one `emu push` to both sinks), and one date names one snapshot.
    public var sameSecond: [Snapshot] = []
    /// Lacked, and not copied: the receiving sink's policy would expire them (`--prune`).
    public var leftToPolicy: [Snapshot] = []
    public var expired: [Snapshot] = []
    /// A dry run's count of the files whose bytes would be read and sent,
    /// and their bytes: at most, as the receiving sink's content index may hold some.
    public var filesToSend = 0
    public var bytesToSend: Int64 = 0
}

/// `emu replicate FROM TO`: copies every snapshot `source` holds and
/// `target` lacks, oldest first, each as a push of its records (see
/// `SnapshotCopy`), under the target's exclusive lock and the source's
/// shared one. Nothing of `source` changes; a copy killed at any moment
/// leaves `target` as a killed push does, and the next run takes what
/// arrived whole.
public func replicate(from source: any SinkStore, to target: RemoteSink, options: ReplicateOptions,
                      observer: ReplicateObserver) throws -> ReplicateResult {
    if options.prune && target.mode == .appendOnly {
        throw EmuError.usage("\(target.location) is append-only here: --prune would delete", fix: "replicate without --prune; prune on the server")
    }
    try source.lock(.shared, wait: options.lockWait)
    defer { source.unlock() }
    try target.lock(options.dryRun ? .shared : .exclusive, wait: options.lockWait)
    defer { target.unlock() }
    if !options.dryRun { try target.recover() }
    let identity = try historyOwner(source, fallback: options.fallbackIdentity)
    if options.dryRun { try SinkOwner.requirePushing(identity, into: try target.owner(), at: target.location) }
    let policy = options.prune ? try target.retentionPolicy() : nil
    let offered = try source.snapshots()
    var result = try plan(offered, into: try target.snapshots(), options: options, policy: policy)
    observer.planned(result.copied)
    if options.dryRun {
        (result.filesToSend, result.bytesToSend) = try changedFiles(in: result.copied, of: source, after: try target.snapshots().last, in: target)
        return result
    }
    for (number, snapshot) in result.copied.enumerated() {
        observer.replicating(snapshot, number: number + 1)
        let copy = try SnapshotCopy(snapshot, tree: try replicaTree(of: snapshot, in: source), records: try records(of: snapshot, in: source),
                                    into: target, observer: observer)
        let newest = try target.snapshots().last
        _ = try copy.run(after: newest, known: try knownRecords(of: newest, in: source, among: offered), identity: identity)
        result.counts.append(copy.counts)
        observer.replicated(snapshot, counts: copy.counts)
    }
    if let policy {
        result.expired = try applyRetention(policy, to: target, protecting: nil, dryRun: false, warn: observer.warned) { observer.expired($0, $1) }
    }
    return result
}

/// Which of `wanted` to copy, oldest first: those `held` lacks, and with a
/// policy only those it would keep among all.
package func plan(_ offered: [Snapshot], into held: [Snapshot], options: ReplicateOptions, policy: RetentionPolicy?) throws -> ReplicateResult {
    var result = ReplicateResult()
    let (heldIDs, heldNames) = (Set(held.map(\.id)), Set(held.map(\.name)))
    let wanted = offered.filter { options.only?.contains($0.id) ?? true }
    result.alreadyHeld = wanted.count { heldIDs.contains($0.id) }
    var lacking = wanted.filter { !heldIDs.contains($0.id) }.sorted { ($0.date, $0.id) < ($1.date, $1.id) }
    result.sameSecond = lacking.filter { heldNames.contains($0.date.snapshotName) }
    lacking = lacking.filter { !heldNames.contains($0.date.snapshotName) }
    if let policy {
        let kept = Set(policy.decide(held + lacking).filter(\.keep).map(\.snapshot.id))
        result.leftToPolicy = lacking.filter { !kept.contains($0.id) }
        lacking = lacking.filter { kept.contains($0.id) }
    }
    result.copied = lacking
    return result
}

/// The records of `snapshot` (the receiving sink's newest) as the sink
/// copied from holds them, when it is a local sink that holds that snapshot
/// with a manifest: the receiving sink's is the same, byte for byte (an ID
/// is its content), so it need not send them.
package func knownRecords(of snapshot: Snapshot?, in sink: any SinkStore, among offered: [Snapshot]) throws -> SnapshotCopy.KnownRecords? {
    guard let snapshot, let local = sink as? Sink, let held = offered.first(where: { $0.id == snapshot.id }), local.hasManifest(held) else {
        return nil
    }
    return (try local.recordsDigest(of: held), { try local.openRecords(held) })
}

/// The source whose history `sink` holds: its owner, else the one named.
package func historyOwner(_ sink: any SinkStore, fallback: String?) throws -> String {
    if let owner = try sink.owner() { return owner.identity }
    guard let fallback else {
        throw EmuError.usage("the sink at \(sink.location) names no source (emu 0.2.5 made it, and no push since)",
                             fix: "run `emu replicate` in the directory of the source it backs up")
    }
    return fallback
}

/// Where a snapshot's xattrs and bytes are read.
package func replicaTree(of snapshot: Snapshot, in sink: any SinkStore) throws -> ReplicaTree {
    if let remote = sink as? RemoteSink { return try RemoteReplicaTree(RemoteTree(remote, snapshot: snapshot)) }
    guard let local = sink as? Sink else { throw EmuError.failed("emu cannot read snapshots of \(sink.location)") }
    return LocalReplicaTree(try local.openTree(snapshot))
}

/// A snapshot's records, as often as asked: a server's spooled once.
package func records(of snapshot: Snapshot, in sink: any SinkStore) throws -> () throws -> RecordReader {
    guard let remote = sink as? RemoteSink else { return { try sink.openRecords(snapshot) } }
    let spooled = try remote.comparedRecords(of: snapshot, cache: nil)
    return { try spooled.reader() }
}

/// What copying `snapshots` (oldest first) after `newest` of `target` would
/// send at most: the files whose records differ from the snapshot before
/// each (the first: `newest`), and their bytes.
package func changedFiles(in snapshots: [Snapshot], of source: any SinkStore, after newest: Snapshot?,
                          in target: any SinkStore) throws -> (files: Int, bytes: Int64) {
    var files = 0, bytes: Int64 = 0
    var previous: (() throws -> RecordReader)? = newest.map { newest in { try target.openRecords(newest) } }
    for snapshot in snapshots {
        let current = try records(of: snapshot, in: source)
        let counts = try SnapshotCopy.count(snapshot, tree: try replicaTree(of: snapshot, in: source), records: current, after: try previous?())
        (files, bytes) = (files + counts.filesCopied, bytes + counts.bytesCopied)
        previous = current
    }
    return (files, bytes)
}
