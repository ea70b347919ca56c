import EmuPOSIX
import Glibc
import EmuRecords

/// What a checkout pass does with each decision the walk makes. The walk
/// decides (write, overwrite, mend, remove, or leave an entry that is
/// already restored); the check pass refuses what would lose data and
/// changes nothing; the apply pass carries the decisions out.
package protocol CheckoutVisitor: AnyObject {
    /// A target entry about to be overwritten or removed (a directory: with everything in it).
    func willReplace(_ status: FileStatus, in target: DirectoryHandle, name: FileName, path: RelativePath) throws
    func remove(_ name: FileName, in target: DirectoryHandle, path: RelativePath) throws
    /// Makes the entry the record describes, in place of `current` (not a directory).
    func write(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle?, tree: TreeDirectory?,
               path: RelativePath) throws
    /// Gives an entry whose content is right the record's metadata.
    func mend(_ name: FileName, record: ManifestRecord, in target: DirectoryHandle, tree: TreeDirectory?, path: RelativePath) throws
    /// Makes a directory where there is none (`replacing` a non-directory);
    /// returns it, or nil when the pass makes nothing.
    func makeDirectory(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle,
                       path: RelativePath) throws -> (DirectoryHandle, EntryMetadata.Created?)?
    /// Before a directory's entries; returns the state to give `leaveDirectory`.
    func enterDirectory() -> Bool
    /// After a directory's entries: its metadata, which each entry made moved.
    func leaveDirectory(_ entered: Bool, record: ManifestRecord, target: DirectoryHandle?, tree: TreeDirectory?,
                        created: EntryMetadata.Created?, existed: Bool, inScope: Bool) throws
}

/// Walks the target and the snapshot's records together, in path order, as
/// restic's restorer walks a tree, and decides for each entry what the
/// checkout does; `CheckPass` and `ApplyPass` are its two visitors.
package final class CheckoutWalk {
    package enum Scope { case inside, ancestor, outside }

    package var snapshot: ManifestCursor
    package let scopes: [RelativePath]
    /// Target entries checkout neither removes nor reports: the source's
    /// `.emu/`, its sink, its excluded paths.
    package let leavesAlone: (RelativePath, FileStatus) -> Bool
    /// Nil only for a dry run into a directory that does not exist yet.
    package let targetRoot: DirectoryHandle?
    package unowned let observer: CheckoutObserver
    /// Whether `observer` hears each planned change (a dry run's check, an apply).
    package let reportsPlans: Bool
    /// Whether a record without an attributes digest means "no xattrs": a
    /// manifest's does; a scanned tree's (emu 0.2.5) records have no digests.
    package let recordsKnowAttributes: Bool
    package let copier = DataCopier()
    unowned(unsafe) var visitor: CheckoutVisitor! = nil

    package var matchedScopes: Set<RelativePath> = []
    package var mended = 0
    package var removed = 0

    /// Names a checkout makes for a while; a target entry named so is a
    /// killed checkout's leftover, removed without asking.
    package static let temporaryPrefix = Array(".emu-checkout.".utf8)

    package init(snapshot: RecordReader, scopes: [RelativePath], targetRoot: DirectoryHandle?,
         leavesAlone: @escaping (RelativePath, FileStatus) -> Bool, observer: CheckoutObserver, reportsPlans: Bool) {
        self.snapshot = ManifestCursor(snapshot)
        recordsKnowAttributes = snapshot.origin.knowsAttributes
        self.scopes = scopes
        self.targetRoot = targetRoot
        self.leavesAlone = leavesAlone
        self.observer = observer
        self.reportsPlans = reportsPlans
    }

    package func plan(_ path: RelativePath, _ action: CheckoutAction) {
        if reportsPlans { observer.planned(path, action) }
    }

    package func scope(of path: RelativePath) -> Scope {
        if scopes.isEmpty { return .inside }
        if scopes.contains(where: { path.isWithin($0) }) { return .inside }
        if scopes.contains(where: { $0.isWithin(path) }) { return .ancestor }
        return .outside
    }

    package func damaged(_ why: String) -> EmuError {
        .failed("the snapshot's manifest is damaged: \(why)", fix: "run `emu verify` on this snapshot, or check out another")
    }

    /// Walks the whole target with `visitor`; `tree` is the snapshot's tree
    /// (nil for the check pass), `isEmpty` says the target root is known
    /// empty. Returns the root's record.
    package func run(_ visitor: CheckoutVisitor, tree: TreeDirectory?, isEmpty: Bool) throws -> ManifestRecord {
        self.visitor = visitor
        defer { self.visitor = nil }
        guard let rootRecord = try snapshot.take(), rootRecord.path.isRoot, rootRecord.kind == .directory else {
            throw damaged("it does not start with the root directory")
        }
        try walkChildren(of: targetRoot, isEmpty: isEmpty, tree: tree, path: .root, inScope: scopes.isEmpty)
        return rootRecord
    }

    // MARK: The walk

    /// `isEmpty`: the target directory is known to be empty (made just now), and is not listed.
    package func walkChildren(of target: DirectoryHandle?, isEmpty: Bool, tree: TreeDirectory?, path: RelativePath, inScope: Bool) throws {
        var targetEntries: [(name: FileName, status: FileStatus)] = []
        if let target, !isEmpty {
            for entry in try target.entries().sorted(by: { $0.name < $1.name }) {
                guard let status = try? target.status(entry.name) else { continue }
                targetEntries.append((entry.name, status))
            }
        }
        func nextRecord() throws -> ManifestRecord? {
            guard let next = try snapshot.peek(), next.path.isWithin(path), next.path != path else { return nil }
            guard next.path.parent == path else { throw damaged("\(next.path) comes without its directory") }
            return try snapshot.take()
        }
        var entries = targetEntries.makeIterator()
        try mergeInOrder(nextRecord, { entries.next() }, keyA: { $0.path.lastName! }, keyB: \.name) { record, current in
            let name = record?.path.lastName ?? current!.name
            try visitEntry(name, record: record, current: current?.status, target: target, tree: tree,
                           path: path.appending(name), inScope: inScope)
        }
    }

    /// Decides what happens to one entry, and has the visitor do it.
    package func visitEntry(_ name: FileName, record: ManifestRecord?, current: FileStatus?, target: DirectoryHandle?, tree: TreeDirectory?,
                    path: RelativePath, inScope: Bool) throws {
        let scope = inScope ? .inside : self.scope(of: path)
        if record != nil, scope != .outside { matchedScopes.formUnion(scopes.filter { path.isWithin($0) }) }
        guard scope != .outside, let record, scope == .inside || record.kind == .directory else {
            // Outside the paths asked for, or a file beside them: neither restored nor removed.
            if let record { try snapshot.skip(within: record.path) }
            if scope == .inside, let current, !leavesAlone(path, current) {
                try visitor.willReplace(current, in: target!, name: name, path: path)
                plan(path, .remove)
                removed += 1
                try visitor.remove(name, in: target!, path: path)
            }
            return
        }
        if record.kind == .directory {
            return try visitDirectory(name, record: record, current: current, target: target, tree: tree, path: path, inScope: scope == .inside)
        }
        if let current, case let state = try restoredState(record, current, in: target!, name: name), state != .differs {
            guard state == .metadataDiffers else { return }
            plan(path, .mend)
            mended += 1
            return try visitor.mend(name, record: record, in: target!, tree: tree, path: path)
        }
        if let current { try visitor.willReplace(current, in: target!, name: name, path: path) }
        plan(path, current == nil ? .write : .overwrite)
        try visitor.write(name, record: record, replacing: current, in: target, tree: tree, path: path)
    }

    package func visitDirectory(_ name: FileName, record: ManifestRecord, current: FileStatus?, target: DirectoryHandle?, tree: TreeDirectory?,
                        path: RelativePath, inScope: Bool) throws {
        let existed = current?.kind == .directory
        if let current, !existed { try visitor.willReplace(current, in: target!, name: name, path: path) }
        let childTree = try tree.map { try $0.child(name) }
        var childTarget: DirectoryHandle? = nil
        var created: EntryMetadata.Created? = nil
        if let target {
            if existed {
                childTarget = try target.openDirectory(name)
            } else {
                plan(path, .write)
                (childTarget, created) = try visitor.makeDirectory(name, record: record, replacing: current, in: target, path: path)
                    ?? (nil, nil)
            }
        }
        let entered = visitor.enterDirectory()
        try walkChildren(of: childTarget, isEmpty: !existed, tree: childTree, path: path, inScope: inScope)
        try visitor.leaveDirectory(entered, record: record, target: childTarget, tree: childTree, created: created, existed: existed,
                                   inScope: inScope)
    }
}
