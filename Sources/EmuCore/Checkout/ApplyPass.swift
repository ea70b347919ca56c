import EmuPOSIX
import Glibc
import EmuRecords

/// The checkout's second pass: carries out the walk's decisions. Every
/// entry is written under a temporary name and renamed into place. Into a
/// directory that was empty, the tree is built in a `StagedCheckout` there:
/// entries take their final names at once, a `FileFiller` makes some
/// directories' files on the second core, and the whole tree moves into
/// place at the end (a kill leaves only the staging directory). From a
/// server's tree every read is asked ahead and the filler takes every file
/// and directory, receiving the answers in the order they were asked.
package final class ApplyPass: CheckoutVisitor {
    package let walk: CheckoutWalk
    /// When the walk's target root is a staging directory made just now.
    package let staged: StagedCheckout?
    /// Restores the files of some of a staged tree's directories on the second core.
    package let filler: FileFiller?
    /// Whether the files of the directory being walked go to `filler`.
    package var fillerFills = false
    /// Whether new entries take this process's owner and group (the target
    /// root has no setgid bit or default ACL to hand down): then a chown is
    /// needed only for entries owned by others.
    package let createsAsSelf: Bool
    package var filesWritten = 0
    package var bytesWritten: Int64 = 0
    package var temporaryCounter = 0
    package let processID = getpid()

    /// The snapshot's tree is a server's: reads are asked ahead, answered on the filler thread.
    package let readsAhead: Bool

    package init(_ walk: CheckoutWalk, staged: StagedCheckout?, tree: TreeDirectory) {
        self.walk = walk
        self.staged = staged
        readsAhead = tree.asksAhead
        filler = staged != nil || readsAhead ? FileFiller(stepsPerBatch: readsAhead ? 128 : 16, beforeHandoff: tree.sendQuestions) : nil
        createsAsSelf = walk.targetRoot.map(EntryMetadata.Created.handsDownNothing) ?? false
    }

    /// Restores the snapshot from `tree`, then places a staged tree and sets the root's metadata.
    package func run(tree: TreeDirectory) throws {
        fillerFills = filler != nil
        let rootRecord = try walk.run(self, tree: tree, isEmpty: staged != nil)
        try filler?.finish()
        guard var root = walk.targetRoot else { return }
        if let staged {
            try staged.place()
            root = staged.destination
        }
        // The emptied staging directory goes first: removing it would move the root's mtime off the snapshot's.
        try staged?.finish()
        if walk.scopes.isEmpty { try finish(finishedDirectory(rootRecord, target: root, tree: tree), onFiller: false) }
    }

    package func willReplace(_ status: FileStatus, in target: DirectoryHandle, name: FileName, path: RelativePath) throws {}

    package func remove(_ name: FileName, in target: DirectoryHandle, path: RelativePath) throws {
        try target.removeTree(name)
    }

    package func makeDirectory(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle,
                       path: RelativePath) throws -> (DirectoryHandle, EntryMetadata.Created?)? {
        if current != nil { try target.remove(name) }
        let permissions = EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: true)
        try target.makeDirectory(name, permissions: permissions)
        return (try target.openDirectory(name), .made(with: permissions, handsDownNothing: createsAsSelf))
    }

    /// The filler makes a directory's files unless it is behind; then the walk does.
    package func enterDirectory() -> Bool {
        let outer = fillerFills
        fillerFills = filler.map { readsAhead || !$0.isBehind } ?? false
        return outer
    }

    package func leaveDirectory(_ outer: Bool, record: ManifestRecord, target: DirectoryHandle?, tree: TreeDirectory?,
                        created: EntryMetadata.Created?, existed: Bool, inScope: Bool) throws {
        let fillerFilledThis = fillerFills
        fillerFills = outer
        guard inScope, let target, let tree else { return }
        try finish(finishedDirectory(record, target: target, tree: tree, created: created, existed: existed), onFiller: fillerFilledThis)
    }

    /// Sets a directory's metadata after its entries: on the filler thread
    /// when it made them, else now (the root, once the filler is done: its
    /// question goes out first, or a server's answer is waited for forever).
    package func finish(_ directory: FinishedDirectory, onFiller: Bool) throws {
        if directory.readsAttributes { try directory.source?.askAhead(nil) }
        if let filler, onFiller { return try filler.add(.directory(directory)) }
        try directory.source?.sendQuestions()
        try directory.apply()
    }

    /// Runs `body` with an entry's xattrs: at once from a local tree; from a
    /// server's on the filler thread, once the answer to what is asked now arrives.
    package func withAttributes(of name: FileName, in tree: TreeDirectory, _ body: @escaping ([ExtendedAttribute]) throws -> Void) throws {
        guard readsAhead, let filler else { return try body(try tree.attributes(name)) }
        try tree.askAhead(name)
        try filler.add(.task { try body(try tree.attributes(name)) })
    }

    package func temporaryName() -> FileName {
        temporaryCounter += 1
        return FileName(CheckoutWalk.temporaryPrefix + Array("\(processID).\(temporaryCounter)".utf8))
    }

    package func write(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle?, tree: TreeDirectory?,
               path: RelativePath) throws {
        guard let target, let tree else { return }
        if let current, current.kind == .directory { try target.removeTree(name) }
        // A staged tree shows nothing until it moves: its entries take their names at once.
        let temporary = staged != nil ? name : temporaryName()
        do {
            guard try make(temporary, as: name, record: record, in: target, tree: tree, path: path) else { return }
            try place(temporary, as: name, in: target, isLink: record.hardlinkLeader != nil)
        } catch {
            try? target.remove(temporary)
            throw error
        }
    }

    package func place(_ temporary: FileName, as name: FileName, in target: DirectoryHandle, isLink: Bool = false) throws {
        guard temporary != name else { return }
        try target.rename(temporary, to: target, as: name)
        // rename(2) between two names of one inode succeeds and does nothing.
        if isLink { try? target.remove(temporary) }
    }

    /// Makes the entry under `temporary`; false when it is left out (a
    /// device only root can make) or the work that places it is queued.
    package func make(_ temporary: FileName, as name: FileName, record: ManifestRecord, in target: DirectoryHandle, tree: TreeDirectory,
              path: RelativePath) throws -> Bool {
        switch record.kind {
        case .regular:
            filesWritten += 1
            bytesWritten += record.size
            walk.observer.progressed(files: filesWritten, bytes: bytesWritten)
            if let leader = record.hardlinkLeader, walk.scope(of: leader) == .inside {
                let link = { [self] in
                    try walk.targetRoot!.link(path: leader, to: target, as: temporary)
                    try place(temporary, as: name, in: target, isLink: true)
                }
                // The filler takes steps in order: when it makes these files, the first name is made by then.
                if let filler, fillerFills { try filler.add(.task(link)) } else { try filler?.drain(); try link() }
                return false
            } else {
                try copyFile(name, record: record, from: tree, to: target, as: temporary, finalName: name)
                return false
            }
        case .symlink:
            try target.makeSymlink(temporary, target: record.symlinkTarget ?? [])
            try EntryMetadata(record, attributes: []).apply(to: .entry(target, temporary, .symlink), aclSource: nil)
        case .fifo, .characterDevice, .blockDevice:
            do {
                try target.makeNode(temporary, kind: record.kind, permissions: 0o600, device: record.device?.raw ?? 0)
            } catch let error as FileSystemError where error.isNotPermitted {
                walk.observer.noted(path, "device not restored (only root can make device files)")
                return false
            }
            try withAttributes(of: name, in: tree) { [self] attributes in
                try EntryMetadata(record, attributes: attributes).apply(to: .entry(target, temporary, record.kind), aclSource: nil)
                try place(temporary, as: name, in: target)
            }
            return false
        default:
            throw walk.damaged("\(path) has a type that cannot be restored")
        }
        return true
    }

    /// Restores a file under `temporary` and renames it to `finalName` when
    /// whole (in a staged tree it is made under its final name at once); the
    /// filler does it when it makes this directory's files.
    package func copyFile(_ name: FileName, record: ManifestRecord, from tree: TreeDirectory, to target: DirectoryHandle, as temporary: FileName,
                  finalName: FileName) throws {
        let job = FileFiller.FileJob(
            tree: tree, name: name, target: target, outputName: temporary, finalName: temporary == name ? nil : finalName,
            metadata: EntryMetadata(record, attributes: []),
            readsAttributes: record.attributes != nil || !walk.recordsKnowAttributes,
            permissions: EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: false),
            handsDownNothing: createsAsSelf, isEmpty: record.size == 0)
        if let filler, fillerFills {
            try tree.askAhead(name, content: true)
            return try filler.add(.file(job))
        }
        try FileFiller.restore(job, copier: walk.copier)
    }

    /// Gives an entry whose content is right the snapshot's mode, owner,
    /// xattrs, ACLs and mtime, in place: its bytes are not written again.
    package func mend(_ name: FileName, record: ManifestRecord, in target: DirectoryHandle, tree: TreeDirectory?, path: RelativePath) throws {
        guard let tree else { return }
        try withAttributes(of: name, in: tree) { attributes in
            let metadata = EntryMetadata(record, attributes: attributes)
            guard record.kind == .regular else {
                return try metadata.apply(to: .entry(target, name, record.kind), aclSource: nil, mendsExisting: true)
            }
            let output = try target.openForReading(name)
            defer { output.close() }
            try tree.withACLSource(of: name) { try metadata.apply(to: .open(output), aclSource: $0, mendsExisting: true) }
        }
    }

    package func finishedDirectory(_ record: ManifestRecord, target: DirectoryHandle, tree: TreeDirectory,
                           created: EntryMetadata.Created? = nil, existed: Bool = true) -> FinishedDirectory {
        FinishedDirectory(target: target, source: tree, metadata: EntryMetadata(record, attributes: []),
                          readsAttributes: record.attributes != nil || !walk.recordsKnowAttributes, created: created,
                          mendsExisting: existed && staged == nil)
    }
}
