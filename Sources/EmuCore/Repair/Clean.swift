import EmuPOSIX
import Glibc
import SystemPackage
import EmuRecords

/// One thing `emu clean` removes or rebuilds.
public struct CleanAction: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case removeLeftover = "remove leftover"
        case removeOrphan = "remove orphan"
        case rebuildManifest = "rebuild manifest"
        case rebuildRecord = "rebuild record"
        case rebuildIndex = "add to the content index"
    }

    public var kind: Kind
    public var what: String

    package init(kind: Kind, what: String) { (self.kind, self.what) = (kind, what) }

    public var description: String { "\(kind.rawValue) \(what)" }
}

extension Sink {
    /// Cleans a sink (exclusive lock held): leftovers of killed commands
    /// (staging, resume, trash, emu 0.2.5 lock files), records without trees,
    /// trees and manifests without records, stale links. With `repair`,
    /// manifests that are missing or damaged are rebuilt from the trees, and
    /// so are the records of trees whose manifest is whole.
    public func clean(repair: Bool, dryRun: Bool, each: (CleanAction) -> Void) throws {
        func act(_ kind: CleanAction.Kind, _ what: String, _ work: () throws -> Void) throws {
            each(CleanAction(kind: kind, what: what))
            if !dryRun { try work() }
        }
        for leftover in [SinkLayout.staging, SinkLayout.resume, SinkLayout.legacyLock] where (try? metadata.status(leftover)) != nil {
            try act(.removeLeftover, ".emu/\(leftover)") { try metadata.removeTree(leftover) }
        }
        if let trash = try? metadata.openDirectory(SinkLayout.trash) {
            for entry in try trash.entries() {
                try act(.removeLeftover, ".emu/trash/\(entry.name)") { try trash.removeTree(entry.name) }
            }
        }
        let nodes = try metadata.openDirectory(SinkLayout.nodes)
        let trees = try metadata.openDirectory(SinkLayout.trees)
        let manifests = try metadata.openDirectory(SinkLayout.manifests)
        let damaged = try damagedRecords(in: nodes)
        if !damaged.isEmpty && !repair { _ = try snapshots() }  // throws, naming the record and `--repair`
        // A damaged record goes; its tree is then one without a record, rebuilt below.
        for node in damaged {
            if !dryRun { try nodes.remove(node) }
        }
        let recorded = Set(try nodes.entries().map(\.name)).subtracting(damaged)
        let treeNames = Set(try trees.entries().map(\.name))
        for tree in treeNames.sorted() where !recorded.contains(tree) {
            let what = ".emu/nodes/\(tree)" + (damaged.contains(tree) ? " (it was damaged)" : "")
            if repair, dryRun {
                each(CleanAction(kind: .rebuildRecord, what: what))
            } else if repair, let snapshot = try rebuiltRecordAndManifest(for: tree, each: each) {
                try act(.rebuildRecord, what) { try MetadataFile.write(in: nodes, tree.description, snapshot.node.text) }
            } else {
                try act(.removeOrphan, ".emu/trees/\(tree)") {
                    try trees.removeTree(tree)
                    try? manifests.remove(tree)
                }
            }
        }
        for node in recorded.sorted() where !treeNames.contains(node) {
            try act(.removeOrphan, ".emu/nodes/\(node) (its tree is gone)") { try nodes.remove(node) }
        }
        for manifest in try manifests.entries().map(\.name).sorted() where !treeNames.contains(manifest) {
            try act(.removeOrphan, ".emu/manifests/\(manifest)") { try manifests.remove(manifest) }
        }
        // A dry run left the damaged records in place: what follows would stumble on them.
        if dryRun && !damaged.isEmpty { return }
        if repair {
            for snapshot in try snapshots() {
                if !manifestIsWhole(snapshot) {
                    try act(.rebuildManifest, ".emu/manifests/\(snapshot.id)") { try rebuildManifest(for: snapshot) }
                }
                if snapshot.nameIsDamaged {
                    try act(.rebuildRecord, ".emu/nodes/\(snapshot.id) (its date link's name, from its date)") {
                        try updateRecord(of: snapshot) { $0["Snapshot", "name"] = snapshot.name }
                    }
                }
            }
        }
        try cleanStores(repair: repair, dryRun: dryRun, each: each, act: act)
        if !dryRun { try refreshLinks(try snapshots()) }
    }

    /// The content index's and the chunk store's entries nothing refers to
    /// go; with `repair`, the index gets what the trees hold and it lacks.
    package func cleanStores(repair: Bool, dryRun: Bool, each: (CleanAction) -> Void,
                     act: (CleanAction.Kind, String, () throws -> Void) throws -> Void) throws {
        let index = try ContentIndex.open(in: self)
        let orphans = try index.sweep(dryRun: true)
        if orphans > 0 {
            try act(.removeOrphan, "\(orphans) content index entr\(orphans == 1 ? "y" : "ies") no snapshot holds") { try index.sweep() }
        }
        let chunks = try sweepChunks(dryRun: true)
        if chunks > 0 {
            try act(.removeOrphan, "\(chunks) manifest chunk\(chunks == 1 ? "" : "s") no manifest lists") { try sweepChunks() }
        }
        if repair && !dryRun {
            let added = try rebuildIndex(index)
            if added > 0 { each(CleanAction(kind: .rebuildIndex, what: plural(added, "file"))) }
        }
    }

    /// The records in `nodes` that do not parse.
    package func damagedRecords(in nodes: DirectoryHandle) throws -> Set<FileName> {
        var damaged: Set<FileName> = []
        for entry in try nodes.entries() {
            guard let id = String(validating: entry.name.bytes, as: UTF8.self), Snapshot.isID(id),
                  let text = try MetadataFile.read(in: nodes, id) else { continue }
            do { _ = try Snapshot(id: id, node: try INIDocument(parsing: text)) } catch { damaged.insert(entry.name) }
        }
        return damaged
    }

    /// A record for a tree that has none; its manifest is rebuilt from the
    /// tree first when it is not whole (a tree is never dropped by repair).
    package func rebuiltRecordAndManifest(for tree: FileName, each: (CleanAction) -> Void) throws -> Snapshot? {
        guard let id = String(validating: tree.bytes, as: UTF8.self), Snapshot.isID(id) else { return nil }
        if let snapshot = try? rebuiltRecord(for: tree) { return snapshot }
        each(CleanAction(kind: .rebuildManifest, what: ".emu/manifests/\(id)"))
        try rebuildManifest(for: Snapshot(id: id, parent: nil, date: .now()))
        return try rebuiltRecord(for: tree)
    }

    /// Gives every file of every snapshot an index entry (when its content
    /// and metadata have none), so that later pushes can link to it.
    package func rebuildIndex(_ index: ContentIndex) throws -> Int {
        var added = 0
        let copier = DataCopier()  // one buffer for every file hashed
        for snapshot in try snapshots() where hasManifest(snapshot) {
            let tree = DirectoryCursor(root: try openTree(snapshot))
            let reader = try openManifest(snapshot)
            while let record = try reader.next() {
                guard record.kind == .regular, record.hardlinkLeader == nil, record.content != nil else { continue }
                let (directory, name) = try tree.parentAndName(of: record.path)
                if try index.ensure(record, name: name, in: directory, copier: copier) { added += 1 }
            }
        }
        return added
    }

    /// Whether a snapshot's manifest reads to its end line without damage.
    package func manifestIsWhole(_ snapshot: Snapshot) -> Bool {
        guard let reader = try? openManifest(snapshot) else { return false }
        do {
            while try reader.next() != nil {}
            return reader.isComplete
        } catch {
            return false
        }
    }

    /// Writes a manifest made from the tree itself: every file hashed again;
    /// owners, modes and mtimes as the tree has them. The source's ctimes and
    /// inodes are unknown, so the next push reads every file once.
    package func rebuildManifest(for snapshot: Snapshot) throws {
        let manifests = try metadata.openDirectory(SinkLayout.manifests)
        let temporary = FileName(".\(snapshot.id).tmp")
        try? manifests.remove(temporary)
        let writer = try makeManifest(in: manifests, name: temporary)
        let scanner = TreeScanner(root: try openTree(snapshot), filter: nil)
        var firstNames: [UInt64: RelativePath] = [:]
        while var record = try scanner.next() {
            let directory = scanner.lastDirectory ?? scanner.root
            let inode = record.inode
            record.changed = FileTime(seconds: 0, nanoseconds: 0)
            record.inode = 0
            if record.kind == .regular {
                let name = record.path.lastName!
                record.content = try scanner.contentHash(name, in: directory)
                if let status = try? directory.status(name), status.linkCount > 1 {
                    if let first = firstNames[inode] { record.hardlinkLeader = first } else { firstNames[inode] = record.path }
                }
            }
            record.attributes = try scanner.attributesDigest(record.path.lastName, in: directory, kind: record.kind)
            try writer.append(record)
        }
        _ = try writer.finish()
        try manifests.rename(temporary, to: manifests, as: FileName(snapshot.id))
        try manifests.sync()
    }

    /// A record for a tree that has none, from its whole manifest: the
    /// record the killed push had staged when it is there, else one dated
    /// by the date link, the date an emu ID begins with, or the tree's
    /// mtime, and never named like an existing snapshot.
    package func rebuiltRecord(for tree: FileName) throws -> Snapshot? {
        guard let id = String(validating: tree.bytes, as: UTF8.self), Snapshot.isID(id) else { return nil }
        let reader = try openManifest(in: try metadata.openDirectory(SinkLayout.manifests), name: tree)
        var counts = Snapshot.Counts()
        while let record = try reader.next() {
            switch record.kind {
            case .regular: counts.files += 1; counts.bytes += record.size
            case .directory: counts.directories += 1
            case .symlink: counts.symlinks += 1
            default: counts.specials += 1
            }
        }
        guard reader.isComplete else { return nil }
        if let staged = try? metadata.openDirectory(SinkLayout.staging), let text = try? MetadataFile.read(in: staged, "node"),
           let document = try? INIDocument(parsing: text), let snapshot = try? Snapshot(id: id, node: document),
           id.hasPrefix(Snapshot.datePrefix(snapshot.date)) {
            return snapshot
        }
        guard var date = rebuiltDate(of: id) else { return nil }
        let existing = try snapshots()
        while existing.contains(where: { $0.name == date.snapshotName }) { date = Timestamp(seconds: date.seconds + 1, nanoseconds: 0) }
        var snapshot = Snapshot(id: id, parent: existing.last { ($0.date, $0.id) < (date, id) }?.id, date: date)
        snapshot.counts = counts
        snapshot.pushedBy = nil
        snapshot.message = "record rebuilt by emu clean --repair"
        return snapshot
    }

    /// When a tree without a record was made, as well as it can be told.
    package func rebuiltDate(of id: String) -> Timestamp? {
        for entry in (try? root.entries()) ?? [] {
            if let name = String(validating: entry.name.bytes, as: UTF8.self), Timestamp.isSnapshotName(name),
               (try? root.readSymlink(entry.name)) == Array(SinkLayout.linkTarget(id).utf8), let date = Timestamp.parse(name) {
                return date
            }
        }
        // emu's IDs begin with the snapshot's date in seconds (see Snapshot.makeID).
        if id.utf8.count == 40, let seconds = Int64(id.prefix(8), radix: 16) { return Timestamp(seconds: seconds, nanoseconds: 0) }
        guard let status = try? metadata.status(path: SinkLayout.tree(id)) else { return nil }
        return Timestamp(seconds: status.modified.seconds, nanoseconds: status.modified.nanoseconds)
    }
}
