import EmuPOSIX
import EmuRecords

/// What the commands ask of a sink, wherever it is: the snapshots it
/// holds, their records and files, their removal, and the lock and recovery
/// around every change. `Sink`, a directory this machine can open,
/// implements it, and so does `RemoteSink`, a sink on another machine
/// reached through `emu serve` over ssh. (`StagedSnapshot`, `ContentIndex` and `openTree` are the local halves the
/// server uses for a remote push.)
public protocol SinkStore: AnyObject {
    /// The name the source registered it under.
    var name: String { get }
    /// Where it is, for messages: a path here, or where on which machine.
    var location: String { get }

    /// Takes the sink's lock: shared to read, exclusive to change.
    func lock(_ mode: FileLock.Mode, wait: Double) throws
    /// Releases the lock; a remote sink's server does so when it reads the
    /// request, which is not waited for: `endSession` is.
    func unlock()
    /// Ends this command's use of the sink before the command ends: a
    /// remote sink's session closes, and its server's locks with it (a hook
    /// that runs next may take them). Nothing for a sink here.
    func endSession()
    /// Finishes what an interrupted command left (exclusive lock held).
    func recover() throws

    /// Every snapshot, oldest first.
    func snapshots() throws -> [Snapshot]
    /// The ID HEAD names, nil when the sink holds no snapshot.
    func headID() throws -> String?
    /// A snapshot's records in path order; several may be open at once.
    func openRecords(_ snapshot: Snapshot) throws -> RecordReader
    /// Writes the bytes of a regular file of `snapshot` to `output`.
    func copyFile(_ path: RelativePath, of snapshot: Snapshot, to output: OpenFile) throws
    /// Where a checkout reads a snapshot's files.
    func openSnapshotTree(_ snapshot: Snapshot) throws -> SnapshotTree
    /// The bytes only this snapshot holds, when known or cheap to learn.
    func uniqueBytes(of snapshot: Snapshot) throws -> Int64?
    func retentionPolicy() throws -> RetentionPolicy
    /// Its settings (`.emu/config`: retention and the like), and their change (exclusive lock held).
    func config() throws -> INIDocument
    func writeConfig(_ document: INIDocument) throws
    /// What this machine may do there: a local sink, everything; a remote
    /// one, what its server's forced command allows.
    var mode: ServeMode { get }
    /// The source it belongs to (see `SinkOwner`); nil before a push claims it.
    func owner() throws -> SinkOwner?
    /// Makes `identity` its owner, the earlier one adopted (exclusive lock held).
    func adopt(for identity: String) throws
    /// Free and total bytes where the sink lives.
    func space() -> (free: Int64, total: Int64)?

    /// Removes a snapshot so that it disappears at once and whole (exclusive lock held).
    func delete(_ snapshot: Snapshot) throws
    /// Deletes the oldest of `snapshots` until the filesystem has `percent`
    /// free and `bytes` more, when that can work (see `Sink.freeSpace`).
    func freeSpace(percent: Double, bytes needed: Int64, policy: RetentionPolicy, among snapshots: [Snapshot],
                   protecting protected: String?, warn: (String) -> Void, each: (Snapshot, [String]) -> Void) throws -> [Snapshot]
    /// After deletions: links, Latest and HEAD follow the remaining records.
    func finishDeleting() throws
    /// Saves `source` as a new snapshot (see `Push.swift`; over ssh, `RemotePush.swift`).
    func push(_ source: Source, options: PushOptions, observer: PushObserver) throws -> PushResult
    /// Removes what interrupted commands left, and with `repair` rebuilds
    /// damaged manifests and records (exclusive lock held; see `Sink.clean`).
    func clean(repair: Bool, dryRun: Bool, each: (CleanAction) -> Void) throws
    /// A snapshot as a diff reads it.
    func diffSide(of snapshot: Snapshot) throws -> DiffSide
    /// Writes a snapshot, or its part at and below `scope`, to `output` as a
    /// tar archive (see `exportTar`), read where the sink is.
    func export(_ snapshot: Snapshot, scope: RelativePath, to output: OpenFile) throws -> ExportCounts
    /// What checks its snapshots where they live; one for a whole verify run.
    func verifier(samplePercent: Double, observer: VerifyObserver) -> SinkVerifier
}

/// Checks a sink's snapshots against their records where the data is; one
/// for a whole run, so that a file many snapshots share is read once.
public protocol SinkVerifier {
    /// Reads `snapshot` (nil: the sink's HEAD and content index), telling
    /// the observer each finding under `shown`.
    func verify(_ snapshot: Snapshot?, reportingAs shown: Snapshot) throws -> Verification
}

extension Sink: SinkStore {
    public var location: String { path }
    public func endSession() {}

    public func openSnapshotTree(_ snapshot: Snapshot) throws -> SnapshotTree {
        SnapshotTree(LocalTreeDirectory(try openTree(snapshot)))
    }

    public func push(_ source: Source, options: PushOptions, observer: PushObserver) throws -> PushResult {
        try EmuCore.push(source, to: self, options: options, observer: observer)
    }

    /// Its records, their chunks listed so that two snapshots skip the ones
    /// both hold; for a snapshot without a manifest (emu 0.2.5), its tree,
    /// whose files are hashed when compared.
    public func diffSide(of snapshot: Snapshot) throws -> DiffSide {
        guard hasManifest(snapshot) else { return DiffSide(.tree(try openTree(snapshot), nil), recordsSourceIdentity: false) }
        let side = DiffSide(.manifest({ try self.openRecords(snapshot, skipping: $0) }), recordsSourceIdentity: true)
        side.chunks = listedChunks(of: snapshot)
        return side
    }

    public func export(_ snapshot: Snapshot, scope: RelativePath, to output: OpenFile) throws -> ExportCounts {
        try exportTar(snapshot, from: self, scope: scope) { try output.writeAll($0) }
    }

    public func verifier(samplePercent: Double, observer: VerifyObserver) -> SinkVerifier {
        LocalVerifier(sink: self, verifier: Verifier(samplePercent: samplePercent, observer: observer), observer: observer)
    }
}

/// A verify of a sink on this machine: one `Verifier`, whose memory of
/// hashed inodes spans the run.
package struct LocalVerifier: SinkVerifier {
    package let sink: Sink
    package let verifier: Verifier
    package let observer: VerifyObserver

    package func verify(_ snapshot: Snapshot?, reportingAs shown: Snapshot) throws -> Verification {
        let before = (verifier.filesRead, verifier.bytesRead)
        var result = Verification()
        if let snapshot {
            result.damages = try verifier.verify(snapshot, in: sink)
        } else {
            let report = { (damage: Damage) in
                result.damages.append(damage)
                observer.found(damage, in: shown)
            }
            if let damage = try verifier.verifyHead(of: sink) { report(damage) }
            result.unheld = try verifier.verifyIndex(of: sink, report: report).unheld
        }
        (result.filesRead, result.bytesRead) = (verifier.filesRead - before.0, verifier.bytesRead - before.1)
        return result
    }
}

/// A snapshot's tree as a checkout reads it (see `TreeDirectory`).
public struct SnapshotTree {
    package let root: TreeDirectory

    package init(_ root: TreeDirectory) { self.root = root }
}

/// What a key may do through `emu serve` (set by the forced command in
/// `authorized_keys`).
public enum ServeMode: String, Sendable {
    case full
    /// Add snapshots only: nothing that deletes (prune, squash, retention, clean).
    case appendOnly = "append-only"
    /// Read only: log, show, diff, checkout, status.
    case readOnly = "read-only"
}
