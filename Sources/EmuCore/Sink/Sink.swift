import EmuPOSIX
import Glibc
import SystemPackage
import EmuRecords

/// A directory that holds the snapshots of one source, laid out as
/// `SinkLayout` says. A snapshot exists when its record (`nodes/ID`) does:
/// publishing renames the record into place last, deleting renames it away first.
public final class Sink {
    public let name: String
    public let path: String
    package let root: DirectoryHandle
    package let metadata: DirectoryHandle
    package var lock: FileLock?
    /// Held while snapshots are deleted (see `excludeReaders`), with the wait the command allows.
    package var readersLock: FileLock?
    package var lockWait = 0.0
    /// False for a sink served to a read-only key: nothing is written to it,
    /// not even a cache (a missing directory stays missing, a computed value
    /// stays out of the record).
    package let writable: Bool
    /// For a sink served below a root: the only shared index it may use
    /// (the root's); its own `.emu/shared-index` naming another is refused.
    package var permittedSharedIndex: String? = nil

    /// Opens a sink; a missing directory or one without `.emu/` (an unmounted
    /// disk, say) is offline: `nil`. `writable: false` opens it to read only.
    public static func open(_ registration: SinkRegistration, writable: Bool = true) throws -> Sink? {
        guard isDirectory(registration.path + "/.emu") else { return nil }
        let root = try DirectoryHandle.open(registration.path, origin: .sink)
        let metadata = try root.openDirectory(SinkLayout.metadata)
        if writable { try makeRequiredDirectories(in: metadata) }
        return Sink(name: registration.name, path: registration.path, root: root, metadata: metadata, writable: writable)
    }

    /// The directories every sink has, made where missing (a sink emu 0.2.5 made lacks some).
    package static func makeRequiredDirectories(in metadata: DirectoryHandle) throws {
        for directory in SinkLayout.required where (try? metadata.status(directory))?.kind != .directory {
            try metadata.makeDirectory(directory, permissions: 0o755)
        }
    }

    /// Like `open`, but an offline sink is an error that says so.
    public static func openOnline(_ registration: SinkRegistration) throws -> Sink {
        guard let sink = try open(registration) else {
            throw EmuError.failed("the sink '\(registration.name)' at \(registration.path) is offline",
                                  fix: "mount it, or check the path with `emu sink`")
        }
        return sink
    }

    package init(name: String, path: String, root: DirectoryHandle, metadata: DirectoryHandle, writable: Bool = true) {
        self.name = name
        self.path = path
        self.root = root
        self.metadata = metadata
        self.writable = writable
    }

    /// A sink this machine opens itself: nothing but the filesystem limits it.
    public var mode: ServeMode { .full }

    // MARK: Locking

    /// Takes the sink lock, waiting up to `wait` seconds; exit status 5 when
    /// it stays taken. Exclusive, to change the sink: `.emu/lock`, which one
    /// writer holds. Shared, to read trees: the lock of `.emu/nodes`, which
    /// only a deletion takes exclusively (see `excludeReaders`), so a diff,
    /// show, verify or checkout runs while a push adds a snapshot (which
    /// changes nothing a reader reads), and writes nothing, not even a file to lock.
    public func lock(_ mode: FileLock.Mode, wait: Double) throws {
        let lock = mode == .exclusive ? try FileLock.acquire(in: metadata, name: SinkLayout.lock, mode: .exclusive, wait: wait)
                                      : try FileLock.acquire(directory: SinkLayout.nodes, in: metadata, mode: .shared, wait: wait)
        guard let lock else {
            throw EmuError(.locked, "the sink '\(name)' at \(path) is locked by another running emu",
                           fix: "wait for it to finish, or pass --lock-wait SECONDS")
        }
        self.lock = lock
        lockWait = wait
    }

    public func unlock() {
        lock = nil
        readersLock = nil
    }

    /// Before a snapshot is deleted (the writer's lock held): no command
    /// may be reading a tree, which would vanish under it. Held until `unlock`.
    package func excludeReaders() throws {
        guard readersLock == nil else { return }
        guard let taken = try FileLock.acquire(directory: SinkLayout.nodes, in: metadata, mode: .exclusive, wait: lockWait) else {
            throw EmuError(.locked, "the sink '\(name)' at \(path) is being read by another running emu (diff, show, verify, checkout), so no snapshot can be deleted now",
                           fix: "wait for it to finish, or pass --lock-wait SECONDS")
        }
        readersLock = taken
    }

    // MARK: Snapshots

    /// Every snapshot, oldest first (by date, then ID).
    public func snapshots() throws -> [Snapshot] {
        let nodes = try metadata.openDirectory(SinkLayout.nodes)
        var result: [Snapshot] = []
        for entry in try nodes.entries() {
            guard let id = String(validating: entry.name.bytes, as: UTF8.self), Snapshot.isID(id),
                  let text = try MetadataFile.read(in: nodes, id)
            else { continue }
            do {
                result.append(try Snapshot(id: id, node: try INIDocument(parsing: text)))
            } catch let error as EmuError {
                throw EmuError.failed("the record of snapshot \(id) in sink '\(name)' is damaged: \(error.message)",
                                      fix: "rebuild it from the snapshot's tree with `emu clean --repair \(name)`")
            }
        }
        return result.sorted { ($0.date, $0.id) < ($1.date, $1.id) }
    }

    public func openTree(_ snapshot: Snapshot) throws -> DirectoryHandle {
        try metadata.openDirectory(path: SinkLayout.tree(snapshot.id))
    }

    /// Whether the snapshot has a manifest (snapshots made by emu 0.2.5 do not).
    public func hasManifest(_ snapshot: Snapshot) -> Bool {
        (try? metadata.status(path: SinkLayout.manifest(snapshot.id)))?.kind == .regular
    }

    /// The snapshot's records: its manifest, or its tree scanned when it has
    /// none (emu 0.2.5), records then without hashes.
    public func openRecords(_ snapshot: Snapshot) throws -> RecordReader {
        if hasManifest(snapshot) { return PrefetchingReader(try openManifest(snapshot)) }
        return TreeScanner(root: try openTree(snapshot), filter: nil)
    }

    public func openManifest(_ snapshot: Snapshot) throws -> ManifestReader {
        try openManifest(in: try metadata.openDirectory(SinkLayout.manifests), name: FileName(snapshot.id))
    }

    /// The id in HEAD, nil when the sink has no snapshot.
    public func headID() throws -> String? {
        let text = (try MetadataFile.read(in: metadata, SinkLayout.head) ?? "").trimmingWhitespace()
        return text.isEmpty ? nil : text
    }

    /// Free and total bytes of the sink's filesystem.
    public func space() -> (free: Int64, total: Int64)? {
        try? root.fileSystemSpace()
    }

    public var identity: (device: UInt64, inode: UInt64)? {
        guard let status = try? root.status() else { return nil }
        return (status.device, status.inode)
    }

    /// Fails when the sink's path no longer leads to the directory this
    /// command opened: the disk was unmounted (lazily), or the sink moved or
    /// was replaced. A push checks before it publishes, so that a snapshot
    /// never appears where the user no longer looks, nor behind their back.
    package func checkStillAtPath() throws {
        guard let identity, let now = statusFollowingLinks(path), now.device == identity.device, now.inode == identity.inode else {
            throw EmuError.failed("the sink '\(name)' at \(path) went away during the command (unmounted, moved or replaced); nothing was published",
                                  fix: "mount or move it back, and run the command again")
        }
    }

    /// Writes a verification result into a snapshot's record (a shared lock
    /// suffices: the record is replaced whole, by rename). A sink this user
    /// may only read (a read-only mount, another user's disk) keeps no
    /// result: verify reports it all the same; false says it was not kept.
    @discardableResult
    public func recordVerification(of snapshot: Snapshot, clean: Bool, problems: Int) throws -> Bool {
        do {
            try updateRecord(of: snapshot) { node in
                node["Tree", "Status"] = clean ? "CLEAN" : "DIRTY"
                node["Tree", "Last-Verified"] = Timestamp.now().legacyText
                node["Tree", "problems"] = String(problems)
            }
            return true
        } catch let error as FileSystemError where error.isReadOnlyFileSystem || [.permissionDenied, .notPermitted].contains(error.errno) {
            return false
        }
    }

    // MARK: Changing the sink (exclusive lock held)

    /// Finishes what an interrupted command left: deletions in trash are
    /// completed, a killed push's staging becomes the resume area, and links
    /// and HEAD are made to agree with the records. Without
    /// `finishingDeletions` (an append-only key, which never deletes) what
    /// a push needs is still done, but trash and the content index keep
    /// everything: what was moved aside waits there for a key that may delete.
    public func recover(finishingDeletions: Bool) throws {
        let trash = try metadataDirectory(SinkLayout.trash, create: true)
        let nodes = try metadata.openDirectory(SinkLayout.nodes)
        let trees = try metadata.openDirectory(SinkLayout.trees)
        let manifests = try metadata.openDirectory(SinkLayout.manifests)
        // A deletion whose record is already in trash: move the rest there too.
        for entry in try trash.entries() {
            let entryName = String(decoding: entry.name.bytes, as: UTF8.self)
            guard entryName.hasSuffix(".node"), Snapshot.isID(String(entryName.dropLast(5))) else { continue }
            let id = FileName(String(entryName.dropLast(5)))
            try moveIfPresent(id, from: trees, to: trash, as: FileName("\(id).tree"))
            try moveIfPresent(id, from: manifests, to: trash, as: FileName("\(id).manifest"))
        }
        // A tree without a record is a push killed between its renames.
        let recorded = Set(try nodes.entries().map(\.name))
        var orphanTrees: [FileName] = []
        for entry in try trees.entries() where !recorded.contains(entry.name) { orphanTrees.append(entry.name) }
        if let orphan = orphanTrees.first, (try? metadata.status(path: RelativePath("staging/tree")))?.kind != .directory {
            if !hasMetadataDirectory(SinkLayout.staging) { try metadata.makeDirectory(SinkLayout.staging, permissions: 0o700) }
            let staging = try metadata.openDirectory(SinkLayout.staging)
            try trees.rename(orphan, to: staging, as: FileName("tree"))
            try moveIfPresent(orphan, from: manifests, to: staging, as: FileName("manifest"))
            orphanTrees.removeFirst()
        }
        for orphan in orphanTrees {
            try trees.rename(orphan, to: trash, as: FileName("\(orphan).tree"))
            try moveIfPresent(orphan, from: manifests, to: trash, as: FileName("\(orphan).manifest"))
        }
        // A killed push's staging: keep it for the next push to link from.
        if hasMetadataDirectory(SinkLayout.staging) {
            if hasMetadataDirectory(SinkLayout.resume) {
                try metadata.rename(SinkLayout.resume, to: trash, as: FileName("resume.\(getpid()).\(Timestamp.now().seconds)"))
            }
            try metadata.rename(SinkLayout.staging, to: metadata, as: SinkLayout.resume)
        }
        if finishingDeletions {
            let interrupted = try !trash.entries().isEmpty || hasMetadataDirectory(SinkLayout.resume)
            for entry in try trash.entries() { try trash.removeTree(entry.name) }
            // An interrupted deletion did not drop its index entries: sweep them.
            if interrupted { try ContentIndex.open(in: self).sweep() }
        }
        try refreshLinks(try snapshots())
    }

    /// Recovery that finishes deletions: what every command but an append-only key's runs.
    public func recover() throws { try recover(finishingDeletions: true) }

    package func moveIfPresent(_ name: FileName, from: DirectoryHandle, to: DirectoryHandle, as newName: FileName) throws {
        do { try from.rename(name, to: to, as: newName) } catch let error as FileSystemError where error.isMissing {}
    }

    /// Opens a directory below the sink root, optionally making it.
    /// Whether `.emu/NAME` is a directory, asked through the open sink.
    package func hasMetadataDirectory(_ name: FileName) -> Bool {
        (try? metadata.status(name))?.kind == .directory
    }

    package func metadataDirectory(_ name: FileName, create: Bool) throws -> DirectoryHandle {
        do { return try metadata.openDirectory(name) } catch let error as FileSystemError where create && error.isMissing {
            try metadata.makeDirectory(name, permissions: 0o700)
            return try metadata.openDirectory(name)
        }
    }

    /// Makes every record's date link, removes date links to missing trees,
    /// and points HEAD and Latest at the newest snapshot.
    package func refreshLinks(_ snapshots: [Snapshot]) throws {
        let ids = Set(snapshots.map(\.id))
        let named = Dictionary(snapshots.map { ($0.name, $0.id) }, uniquingKeysWith: { a, b in max(a, b) })
        for entry in try root.entries() {
            guard let entryName = String(validating: entry.name.bytes, as: UTF8.self),
                  Timestamp.isSnapshotName(entryName) || entryName == SinkLayout.latest
            else { continue }
            guard (try? root.status(entry.name).kind) == .symlink,
                  let target = try? root.readSymlink(entry.name) else { continue }
            let targetText = String(decoding: target, as: UTF8.self)
            let id = SinkLayout.id(ofLinkTarget: targetText)
            if entryName != SinkLayout.latest, let id, !ids.contains(id) || named[entryName] != id {
                try root.remove(entry.name)
            }
        }
        for snapshot in snapshots where named[snapshot.name] == snapshot.id {
            let link = FileName(snapshot.name)
            if (try? root.readSymlink(link)) != Array(SinkLayout.linkTarget(snapshot.id).utf8) {
                try MetadataFile.replaceSymlink(in: root, snapshot.name, target: SinkLayout.linkTarget(snapshot.id))
            }
        }
        let newest = snapshots.last
        // emu 0.2.5's name for Latest, kept up to date where it exists.
        let legacyLatest = FileName("Most Recent Backup")
        if let newest, (try? root.status(legacyLatest))?.kind == .symlink,
           (try? root.readSymlink(legacyLatest)) != Array(newest.name.utf8) {
            try MetadataFile.replaceSymlink(in: root, "Most Recent Backup", target: newest.name)
        }
        if try headID() != newest?.id { try MetadataFile.write(in: metadata, SinkLayout.head, newest.map { $0.id + "\n" } ?? "") }
        if let newest {
            if (try? root.readSymlink(FileName(SinkLayout.latest))) != Array(newest.name.utf8) {
                try MetadataFile.replaceSymlink(in: root, SinkLayout.latest, target: newest.name)
            }
        } else {
            try? root.remove(FileName(SinkLayout.latest))
        }
        try root.sync()
    }

    /// Deletes a snapshot so that it disappears at once and whole: its
    /// record is renamed into trash (the snapshot is gone), then its tree and
    /// manifest follow, then trash is emptied. A kill at any point is
    /// finished by the next `recover()`.
    public func delete(_ snapshot: Snapshot) throws {
        try excludeReaders()
        let trash = try metadataDirectory(SinkLayout.trash, create: true)
        let nodes = try metadata.openDirectory(SinkLayout.nodes)
        let id = FileName(snapshot.id)
        // Files this snapshot shared may now be another's alone; through the
        // content index any snapshot can share with any other.
        try forgetUniqueBytes(of: try snapshots().filter { $0.id != snapshot.id })
        try nodes.rename(id, to: trash, as: FileName("\(snapshot.id).node"))
        try trash.sync()
        try nodes.sync()
        CrashPoint.reach("prune.after-record")
        try moveIfPresent(id, from: try metadata.openDirectory(SinkLayout.trees), to: trash, as: FileName("\(snapshot.id).tree"))
        try moveIfPresent(id, from: try metadata.openDirectory(SinkLayout.manifests), to: trash, as: FileName("\(snapshot.id).manifest"))
        if (try? root.readSymlink(FileName(snapshot.name))) == Array(SinkLayout.linkTarget(snapshot.id).utf8) {
            try root.remove(FileName(snapshot.name))
        }
        // The tree goes first, so that its inodes' link counts fall; then the
        // index entries that only it held.
        try trash.removeTree(FileName("\(snapshot.id).tree"))
        let index = try ContentIndex.open(in: self)
        do {
            let manifest = try openManifest(in: trash, name: FileName("\(snapshot.id).manifest"), allowsTruncation: true)
            _ = try index.forget(recordsOf: manifest)
        } catch is EmuError {
            // A damaged manifest cannot say which entries were this snapshot's: sweep them all.
            try index.sweep()
        } catch let error as FileSystemError where error.isMissing {
            try index.sweep()
        }
        for entry in try trash.entries() { try trash.removeTree(entry.name) }
    }

    /// After deletions: links, Latest and HEAD follow the remaining
    /// records, and manifest chunks no manifest lists any more go.
    public func finishDeleting() throws {
        try refreshLinks(try snapshots())
        try sweepChunks()
    }
}
