import CEmuShims
import EmuPOSIX
import Glibc
import SystemPackage

/// Makes a target tree equal to a snapshot, walking the target and the
/// snapshot's manifest together in path order.
///
/// It runs twice: `check` changes nothing, and lists the target entries it
/// would overwrite or remove that differ from the sink's newest snapshot
/// (`guardRecords`) — data no snapshot holds; `apply` then does the work.
/// Every entry is written under a temporary name and renamed into place.
/// Into a directory that was empty only `apply` runs, into a staging
/// directory made there: entries take their final names at once, a
/// `FileFiller` makes some directories' files on the second core, and the
/// whole tree moves into place at the end (a kill leaves only the staging
/// directory).
final class Restorer {
    enum Mode { case check, apply }

    enum Scope { case inside, ancestor, outside }

    let mode: Mode
    var snapshot: ManifestCursor
    var guardRecords: ManifestCursor?
    let scopes: [RelativePath]
    /// Target entries checkout neither removes nor reports: the source's
    /// `.emu/`, its sink, its excluded paths.
    let leavesAlone: (RelativePath, FileStatus) -> Bool
    unowned let observer: CheckoutObserver
    /// Whether `observer` hears each planned change (a dry run's check, an apply).
    let reportsPlans: Bool
    let copier = DataCopier()

    var conflicts: [RelativePath] = []
    var conflictCount = 0
    var matchedScopes: Set<RelativePath> = []
    var filesWritten = 0
    var bytesWritten: Int64 = 0
    var mended = 0
    var removed = 0
    var temporaryCounter = 0
    let processID = getpid()
    /// Nil only for a dry run into a directory that does not exist yet.
    let targetRoot: DirectoryHandle?
    /// When `targetRoot` is a staging directory made just now: the directory
    /// its entries move into at the end, and the staging directory's name there.
    let staged: StagedCheckout?
    /// Whether new entries take this process's owner and group (the target
    /// root has no setgid bit or default ACL to hand down): then a chown is
    /// needed only for entries owned by others.
    let createsAsSelf: Bool
    /// Restores the files of some of a staged tree's directories on the second core.
    let filler: FileFiller?
    /// Whether the files of the directory being walked go to `filler`.
    var fillerFills = false
    /// Whether a record without an attributes digest means "no xattrs": a
    /// manifest's does; a scanned tree's (emu 0.2.5) records have no digests.
    let recordsKnowAttributes: Bool

    /// Names a checkout makes for a while; a target entry named so is a
    /// killed checkout's leftover, removed without asking.
    static let temporaryPrefix = Array(".emu-checkout.".utf8)

    init(mode: Mode, snapshot: RecordReader, guardRecords: ManifestCursor?, scopes: [RelativePath], targetRoot: DirectoryHandle?,
         staged: StagedCheckout? = nil, leavesAlone: @escaping (RelativePath, FileStatus) -> Bool,
         observer: CheckoutObserver, reportsPlans: Bool) {
        filler = mode == .apply && staged != nil ? FileFiller() : nil
        self.staged = mode == .apply ? staged : nil
        recordsKnowAttributes = !(snapshot is TreeScanner)
        createsAsSelf = targetRoot.map(EntryMetadata.Created.handsDownNothing) ?? false
        self.mode = mode
        self.snapshot = ManifestCursor(snapshot)
        self.guardRecords = guardRecords
        self.scopes = scopes
        self.targetRoot = targetRoot
        self.leavesAlone = leavesAlone
        self.observer = observer
        self.reportsPlans = reportsPlans
    }

    func plan(_ path: RelativePath, _ action: CheckoutAction) {
        if reportsPlans { observer.planned(path, action) }
    }

    func scope(of path: RelativePath) -> Scope {
        if scopes.isEmpty { return .inside }
        if scopes.contains(where: { path.isWithin($0) }) { return .inside }
        if scopes.contains(where: { $0.isWithin(path) }) { return .ancestor }
        return .outside
    }

    func damaged(_ why: String) -> EmuError {
        .failed("the snapshot's manifest is damaged: \(why)", fix: "run `emu verify` on this snapshot, or check out another")
    }

    /// Restores the whole target; `tree` is the snapshot's tree (apply only).
    func run(tree: DirectoryHandle?) throws {
        guard let rootRecord = try snapshot.take(), rootRecord.path.isRoot, rootRecord.kind == .directory else {
            throw damaged("it does not start with the root directory")
        }
        try restoreChildren(of: targetRoot, isEmpty: staged != nil, tree: tree, path: .root, inScope: scopes.isEmpty,
                            fillerFills: filler != nil)
        try filler?.finish()
        guard mode == .apply, let tree, var root = targetRoot else { return }
        if let staged {
            try staged.place(root)
            root = staged.destination
        }
        if scopes.isEmpty { try finishedDirectory(rootRecord, target: root, tree: tree).apply() }
        try staged?.finish()
    }

    // MARK: The walk

    /// `isEmpty`: the target directory is known to be empty (made just now),
    /// and is not listed. `fillerFills`: its files go to the filler.
    func restoreChildren(of target: DirectoryHandle?, isEmpty: Bool, tree: DirectoryHandle?, path: RelativePath, inScope: Bool,
                         fillerFills: Bool = false) throws {
        let outer = self.fillerFills
        self.fillerFills = fillerFills
        defer { self.fillerFills = outer }
        var targetEntries: [(name: FileName, status: FileStatus)] = []
        if let target, !isEmpty {
            for entry in try target.entries().sorted(by: { $0.name < $1.name }) {
                guard let status = try? target.status(entry.name) else { continue }
                targetEntries.append((entry.name, status))
            }
        }
        var t = 0
        while true {
            var record: ManifestRecord? = nil
            if let next = try snapshot.peek(), next.path.isWithin(path), next.path != path {
                guard next.path.parent == path else { throw damaged("\(next.path) comes without its directory") }
                record = next
            }
            let existing = t < targetEntries.count ? targetEntries[t] : nil
            if record == nil && existing == nil { break }
            let name: FileName
            if let record, let existing {
                name = min(record.path.lastName!, existing.name)
            } else {
                name = record?.path.lastName ?? existing!.name
            }
            let incoming = record?.path.lastName == name ? try snapshot.take() : nil
            let current = existing?.name == name ? existing : nil
            if current != nil { t += 1 }
            try restoreEntry(name, record: incoming, current: current?.status, target: target, tree: tree,
                             path: path.appending(name), inScope: inScope)
        }
    }

    func restoreEntry(_ name: FileName, record: ManifestRecord?, current: FileStatus?, target: DirectoryHandle?, tree: DirectoryHandle?,
                      path: RelativePath, inScope: Bool) throws {
        let scope = inScope ? .inside : self.scope(of: path)
        if record != nil, scope != .outside { matchedScopes.formUnion(scopes.filter { path.isWithin($0) }) }
        switch scope {
        case .outside:
            if let record { try snapshot.skip(within: record.path) }
            return
        case .ancestor:
            guard let record, record.kind == .directory else {
                if let record { try snapshot.skip(within: record.path) }
                return
            }
            try restoreDirectory(name, record: record, current: current, target: target, tree: tree, path: path, inScope: false)
        case .inside:
            guard let record else {
                if let current, !leavesAlone(path, current) {
                    try removeEntry(name, status: current, in: target!, path: path)
                }
                return
            }
            if record.kind == .directory {
                try restoreDirectory(name, record: record, current: current, target: target, tree: tree, path: path, inScope: true)
            } else if let current, case let state = try restoredState(record, current, in: target!, name: name), state != .differs {
                if state == .metadataDiffers { try mendMetadata(name, record: record, in: target!, tree: tree, path: path) }
            } else {
                if let current { try checkReplaced(current, in: target!, name: name, path: path) }
                try writeEntry(name, record: record, replacing: current, in: target, tree: tree, path: path)
            }
        }
    }

    func restoreDirectory(_ name: FileName, record: ManifestRecord, current: FileStatus?, target: DirectoryHandle?, tree: DirectoryHandle?,
                          path: RelativePath, inScope: Bool) throws {
        var existing = current
        if let current, current.kind != .directory {
            try checkReplaced(current, in: target!, name: name, path: path)
            if mode == .apply { try target!.remove(name) }
            existing = nil
        }
        let childTree = try tree.map { try $0.openDirectory(name) }
        var childTarget: DirectoryHandle? = nil
        var created: EntryMetadata.Created? = nil
        if let target {
            if existing == nil {
                plan(path, .write)
                let permissions = EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: true)
                if mode == .apply { try target.makeDirectory(name, permissions: permissions) }
                created = .made(with: permissions, handsDownNothing: createsAsSelf)
            }
            if mode == .apply || existing != nil { childTarget = try target.openDirectory(name) }
        }
        // The filler makes this directory's files unless it is behind; then the walk does.
        let fillerFills = filler.map { !$0.isBehind } ?? false
        try restoreChildren(of: childTarget, isEmpty: existing == nil && mode == .apply, tree: childTree, path: path, inScope: inScope,
                            fillerFills: fillerFills)
        if mode == .apply, inScope, let childTarget, let childTree {
            let directory = finishedDirectory(record, target: childTarget, tree: childTree, created: created, existed: existing != nil)
            if let filler, fillerFills { try filler.add(.directory(directory)) } else { try directory.apply() }
        }
    }

    // MARK: Changing the target

    func removeEntry(_ name: FileName, status: FileStatus, in target: DirectoryHandle, path: RelativePath) throws {
        try checkReplaced(status, in: target, name: name, path: path)
        plan(path, .remove)
        removed += 1
        if mode == .apply { try target.removeTree(name) }
    }

    func temporaryName() -> FileName {
        temporaryCounter += 1
        return FileName(Self.temporaryPrefix + Array("\(processID).\(temporaryCounter)".utf8))
    }

    func writeEntry(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle?, tree: DirectoryHandle?,
                    path: RelativePath) throws {
        plan(path, current == nil ? .write : .overwrite)
        guard mode == .apply, let target, let tree else { return }
        if let current, current.kind == .directory { try target.removeTree(name) }
        // A staged tree shows nothing until it moves: its entries take their names at once.
        let temporary = staged != nil ? name : temporaryName()
        do {
            switch record.kind {
            case .regular:
                filesWritten += 1
                bytesWritten += record.size
                observer.progressed(files: filesWritten, bytes: bytesWritten)
                if let leader = record.hardlinkLeader, scope(of: leader) == .inside {
                    try filler?.drain()  // the first name may be the filler's to make
                    try targetRoot!.link(path: leader, to: target, as: temporary)
                } else {
                    try copyFile(name, record: record, from: tree, to: target, as: temporary)
                }
            case .symlink:
                try target.makeSymlink(temporary, target: record.symlinkTarget ?? [])
                try EntryMetadata(record, attributes: []).apply(to: .entry(target, temporary, .symlink), aclSource: nil)
            case .fifo, .characterDevice, .blockDevice:
                do {
                    try target.makeNode(temporary, kind: record.kind, permissions: 0o600, device: record.device?.raw ?? 0)
                } catch let error as FileSystemError where error.isNotPermitted {
                    observer.noted(path, "device not restored (only root can make device files)")
                    return
                }
                let attributes = (try? ExtendedAttributes.read(.entry(tree, name))) ?? []
                try EntryMetadata(record, attributes: attributes).apply(to: .entry(target, temporary, record.kind), aclSource: nil)
            default:
                throw damaged("\(path) has a type that cannot be restored")
            }
            if temporary != name {
                try target.rename(temporary, to: target, as: name)
                // rename(2) between two names of one inode succeeds and does nothing.
                if record.hardlinkLeader != nil { try? target.remove(temporary) }
            }
        } catch {
            try? target.remove(temporary)
            throw error
        }
    }

    /// Restores a file under `temporary` (its final name in a staged tree),
    /// for the caller to rename; the filler does it when it makes this
    /// directory's files.
    func copyFile(_ name: FileName, record: ManifestRecord, from tree: DirectoryHandle, to target: DirectoryHandle, as temporary: FileName) throws {
        let job = FileFiller.FileJob(
            tree: tree, name: name, target: target, outputName: temporary, metadata: EntryMetadata(record, attributes: []),
            readsAttributes: record.attributes != nil || !recordsKnowAttributes,
            permissions: EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: false),
            handsDownNothing: createsAsSelf, isEmpty: record.size == 0)
        if let filler, fillerFills { return try filler.add(.file(job)) }
        try FileFiller.restore(job, copier: copier)
    }

    func finishedDirectory(_ record: ManifestRecord, target: DirectoryHandle, tree: DirectoryHandle,
                           created: EntryMetadata.Created? = nil, existed: Bool = true) -> FinishedDirectory {
        FinishedDirectory(target: target, source: tree, metadata: EntryMetadata(record, attributes: []),
                          readsAttributes: record.attributes != nil || !recordsKnowAttributes, created: created,
                          mendsExisting: existed && staged == nil)
    }
}
