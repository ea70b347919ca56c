import EmuPOSIX
import EmuRecords

/// How a path differs between two states.
public enum ChangeKind: String, Sendable, CaseIterable {
    case added = "A"
    case deleted = "D"
    /// Content changed (bytes, a symlink's target, a device's number).
    case modified = "M"
    /// The type changed (a file became a directory, say).
    case typeChanged = "T"
    /// Metadata only: mode, owner, group, mtime, xattrs or ACLs.
    case metadata = "P"
    /// The same content at another path.
    case renamed = "R"
}

public struct Change: Sendable {
    public var kind: ChangeKind
    /// The path in the new state (for a deletion, the path that went).
    public var path: RelativePath
    /// For a rename, where the content was.
    public var oldPath: RelativePath?
    public var old: ManifestRecord?
    public var new: ManifestRecord?
}

public struct DiffSummary: Sendable {
    public var counts: [ChangeKind: Int] = [:]
    /// Bytes of content the new state has that the old did not: added and
    /// modified files, not counting content the old state held at any path.
    public var bytesAdded: Int64 = 0
    /// Bytes of content the old state had that the new does not.
    public var bytesRemoved: Int64 = 0
    public var unreadable: [(RelativePath, String)] = []

    public var isEmpty: Bool { counts.values.allSatisfy { $0 == 0 } }
}

/// One side of a diff: a snapshot's manifest, or a live tree (the source, or
/// a snapshot that has no manifest). It can be read more than once.
public final class DiffSide {
    package enum Backing {
        /// Opened without the records of the chunks given.
        case manifest((Set<ContentHash>) throws -> RecordReader)
        case tree(DirectoryHandle, SourceFilter?)
    }

    package let backing: Backing
    /// Whether records hold the source's own ctime and inode (manifests and
    /// the source itself), so that equal ones prove an entry untouched.
    package let recordsSourceIdentity: Bool
    package var scanner: TreeScanner? = nil
    package var reader: RecordReader? = nil
    /// The chunks a local snapshot's manifest lists (see `ChunkedManifest`).
    package var chunks: Set<ContentHash>? = nil
    /// Where a file's hash and xattrs digest are read when its records do
    /// not hold them: a server's snapshot scanned from its tree (emu 0.2.5).
    package var readsMissing: (content: (RelativePath) throws -> ContentHash, attributes: (RelativePath) throws -> ContentHash?)? = nil
    /// Chunks the other side lists too: the same records on both sides, left unread.
    package var skipping: Set<ContentHash> = []

    package init(_ backing: Backing, recordsSourceIdentity: Bool) {
        self.backing = backing
        self.recordsSourceIdentity = recordsSourceIdentity
    }

    /// The live source, filtered as push filters it.
    public static func source(_ source: Source) throws -> DiffSide {
        DiffSide(.tree(try DirectoryHandle.open(source.path), try SourceFilter(source: source)), recordsSourceIdentity: true)
    }

    /// A snapshot, as its sink offers it (see `SinkStore.diffSide`).
    public static func snapshot(_ snapshot: Snapshot, in sink: any SinkStore) throws -> DiffSide {
        try sink.diffSide(of: snapshot)
    }

    /// Two snapshots leave out the chunks both list: a chunk is named by
    /// the hash of its text, so both hold the same records there, in any sink.
    package static func skipShared(_ old: DiffSide, _ new: DiffSide) {
        guard let a = old.chunks, let b = new.chunks else { return }
        let shared = a.intersection(b)
        old.skipping = shared
        new.skipping = shared
    }

    /// Starts reading from the beginning.
    package func restart() throws {
        switch backing {
        // The last reader goes first: a remote sink's stream must end before the next begins.
        case .manifest(let open): reader = nil; reader = try open(skipping); scanner = nil
        case .tree(let root, let filter): scanner = TreeScanner(root: root, filter: filter); reader = nil
        }
    }

    package func next() throws -> ManifestRecord? {
        if let reader { return try reader.next() }
        return try scanner?.next()
    }

    package func contentHash(_ record: ManifestRecord) throws -> ContentHash? {
        if let content = record.content { return content }
        if let readsMissing { return try readsMissing.content(record.path) }
        return try scanner?.contentHash(of: record.path)
    }

    package func attributes(_ record: ManifestRecord) throws -> ContentHash? {
        if let readsMissing { return try readsMissing.attributes(record.path) }
        if reader != nil { return record.attributes }
        return try scanner?.attributesDigestOf(record.path, kind: record.kind)
    }

    package var unreadable: [(RelativePath, Error)] { scanner?.unreadable ?? [] }
}

/// Compares two states path by path, as streams: memory holds one record of
/// each side and a bounded share of the added and deleted files for pairing
/// renames (see `Renames`). Changes come out sorted by path (a rename at its
/// new path). `renameBudget` bounds how many candidates for a rename are
/// held at once (tests make it small).
public func diff(from old: DiffSide, to new: DiffSide, within scopes: [RelativePath] = [],
                 renameBudget: Int = 16_384, emit: (Change) throws -> Void) throws -> DiffSummary {
    func inScope(_ path: RelativePath) -> Bool {
        !path.isRoot && (scopes.isEmpty || scopes.contains { path.isWithin($0) })
    }
    DiffSide.skipShared(old, new)
    var renames = try Renames.find(from: old, to: new, inScope: inScope, budget: renameBudget)

    var summary = DiffSummary()
    func report(_ change: Change) throws {
        summary.counts[change.kind, default: 0] += 1
        switch change.kind {
        case .added: summary.bytesAdded += change.new?.size ?? 0
        case .deleted: summary.bytesRemoved += change.old?.size ?? 0
        case .modified, .typeChanged:
            summary.bytesAdded += change.new?.kind == .regular ? change.new!.size : 0
            summary.bytesRemoved += change.old?.kind == .regular ? change.old!.size : 0
        case .metadata, .renamed: break
        }
        try emit(change)
    }
    try merge(old, new) { o, n in
        if let o { try renames.lookForHeldContent(o, on: old) }
        let path = (o ?? n)!.path
        guard inScope(path) else { return }
        switch (o, n) {
        case (let o?, nil):
            if try !renames.isRenamedAway(o.path) { try report(Change(kind: .deleted, path: o.path, old: o)) }
        case (nil, let n?):
            if let from = try renames.oldPath(of: n.path) {
                try report(Change(kind: .renamed, path: n.path, oldPath: from, new: n))
            } else {
                try report(Change(kind: .added, path: n.path, new: n))
            }
        case (let o?, let n?):
            if let kind = try compare(o, n, old: old, new: new) { try report(Change(kind: kind, path: n.path, old: o, new: n)) }
        case (nil, nil):
            break
        }
    }
    summary.bytesAdded -= renames.bytesHeld
    summary.unreadable = (old.unreadable + new.unreadable).map { ($0.0, "\($0.1)") }
    return summary
}

/// Reads both sides from the start, in step, calling `visit` once per path.
package func merge(_ old: DiffSide, _ new: DiffSide, visit: (ManifestRecord?, ManifestRecord?) throws -> Void) throws {
    try old.restart()
    try new.restart()
    try mergeInOrder(old.next, new.next, keyA: \.path, keyB: \.path, visit: visit)
}

/// How one path changed, or nil when it did not. Directory mtimes are left
/// out: they move whenever an entry is added or removed, which the entries'
/// own lines already say.
package func compare(_ o: ManifestRecord, _ n: ManifestRecord, old: DiffSide, new: DiffSide) throws -> ChangeKind? {
    guard o.kind == n.kind else { return .typeChanged }
    if old.recordsSourceIdentity && new.recordsSourceIdentity && o.kind != .directory
        && o.changed == n.changed && o.inode == n.inode && o.size == n.size && o.modified == n.modified {
        return nil  // an untouched inode: same content, same metadata
    }
    switch o.kind {
    case .regular:
        if o.size != n.size { return .modified }
        if try old.contentHash(o) != new.contentHash(n) { return .modified }
    case .symlink:
        if o.symlinkTarget != n.symlinkTarget { return .modified }
    case .characterDevice, .blockDevice:
        if o.device != n.device { return .modified }
    default:
        break
    }
    var metadataDiffers = o.owner != n.owner || o.group != n.group
    if o.kind != .symlink { metadataDiffers = metadataDiffers || o.permissions != n.permissions }
    if o.kind != .directory { metadataDiffers = metadataDiffers || o.modified != n.modified }
    if !metadataDiffers, o.changed != n.changed || !(old.recordsSourceIdentity && new.recordsSourceIdentity) {
        metadataDiffers = try old.attributes(o) != new.attributes(n)
    }
    return metadataDiffers ? .metadata : nil
}
