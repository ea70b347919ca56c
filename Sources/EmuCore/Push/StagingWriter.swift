import EmuPOSIX
import Glibc
import EmuRecords

/// The one writer of a snapshot: makes each entry a push decided in a
/// `StagedSnapshot`'s tree, in path order, for a local push (fed by the
/// `PushPlanner`, with the source beside it) and on a server (fed by the
/// `PushReceiver`, with no source: a new file's bytes come over the wire).
/// An unchanged file becomes one more name of the newest snapshot's inode
/// (or of a killed push's copy), linked on the second core; a new or
/// changed one from the source is created here and copied in the kernel,
/// then hashed by the `PushFinisher` on the second core, which also sets
/// metadata, asks the content index, writes the records and finishes each
/// directory once its entries are made.
package final class StagingWriter: PushWriter {
    package struct Settings {
        /// --checksum: a changed file whose bytes and xattrs are the newest snapshot's is linked.
        package var checksum = false
        /// An import: a new file is the backup's own inode, linked into the
        /// staging tree and read once for its hash, not copied (see `adopt`).
        package var adoptsFiles = false

        package init(checksum: Bool = false, adoptsFiles: Bool = false) { (self.checksum, self.adoptsFiles) = (checksum, adoptsFiles) }
    }

    /// A staged directory whose entries come next in path order.
    package struct OpenDirectory {
        package let path: RelativePath
        package let target: DirectoryHandle
        package let finished: FinishedDirectory
        /// The newest snapshot's directory at this path, and the killed push's.
        package let earlier: EarlierDirectory?
        package let resume: EarlierDirectory?
    }

    package let settings: Settings
    package let staging: DirectoryHandle
    package let earlierTree: DirectoryHandle?
    package let resumeTree: DirectoryHandle?
    /// The root and the directories down to the last entry's parent.
    package var open: [OpenDirectory] = []
    package let copier = DataCopier()
    /// Fills files, finishes directories and writes records on the second core.
    package let finisher: PushFinisher
    /// For each first name of an inode with several, the record of the inode
    /// its later names link to (another, once one reaches the link limit).
    package var leaders: [RelativePath: ManifestRecord] = [:]
    /// This side's counts (directories, symlinks, specials, links made here);
    /// the finisher's are added when the walk ends.
    package var counts = Snapshot.Counts()
    /// Allocated bytes of the inodes no snapshot held before: copied files,
    /// and files taken over from a killed push's leftovers.
    package var bytesOwned: Int64 = 0
    /// Whether a file was linked to an inode found through the index (which
    /// may belong to any snapshot, whose unique bytes then change).
    package var reusedFromIndex = false
    /// Whether the sink shares extents (see `reflinkedCopy`); nil until tried.
    package var sharesExtents: Bool? = nil
    /// Whether entries made in the staging tree take this process's owner
    /// and group (not a setgid staging root's group): then a chown is
    /// needed only for entries owned by others.
    package let createsAsSelf: Bool

    package init(settings: Settings, observer: PushObserver, staged: StagedSnapshot, earlierTree: DirectoryHandle?, resumeTree: DirectoryHandle?) {
        self.settings = settings
        staging = staged.tree
        self.earlierTree = earlierTree
        self.resumeTree = resumeTree
        // Directories are made without setgid or ACLs (those come last), so only the root's matter.
        createsAsSelf = EntryMetadata.Created.handsDownNothing(staging)
        finisher = PushFinisher(PushFinisher.State(writer: staged.manifest, index: staged.index, observer: observer, createsAsSelf: createsAsSelf))
    }

    package var readsNewFiles: Bool { false }

    package func add(_ entry: PushEntry, from source: SourceEntry) throws { try make(entry, from: source) }

    /// Makes an entry; `source` is where the source holds it, nil on a server.
    package func make(_ entry: PushEntry, from source: SourceEntry?) throws {
        guard case .entry(let kind, var record, let attributes, let leads) = entry else { return }
        if kind.recordsWhatWasSent { record.attributes = attributesDigest(attributes) }
        if record.path.isRoot { return try begin(kind, record, attributes: attributes, from: source) }
        let parent = try directory(for: record.path)
        let name = source?.name ?? record.path.lastName!
        do {
            switch kind {
            case .directory: try makeDirectory(name, record, attributes: attributes, in: parent, from: source)
            case .symlink: try makeSymlink(name, record, attributes: attributes, in: parent)
            case .special: try makeSpecial(name, record, attributes: attributes, in: parent)
            case .link, .resume: try linkEarlier(record, in: parent, from: source, isResume: kind == .resume, leads: leads)
            case .hardlink: try linkLeader(of: record, in: parent, from: source)
            case .file, .indexed, .copy: preconditionFailure("new content comes as a PlannedFile, or the receiver's bytes")
            }
        } catch let error where isSourceError(error) && kind != .directory {
            try? parent.target.remove(name)  // a half-made entry goes; the planner reports the skip
            throw error
        }
    }

    package func addUnchanged(ordinal: Int, record: ManifestRecord, from source: SourceEntry) throws {
        try linkEarlier(record, in: try directory(for: record.path), from: source, isResume: false, leads: false)
    }

    package func add(_ file: PlannedFile, previous: ManifestRecord?) throws {
        let parent = try directory(for: file.record.path)
        do {
            if settings.checksum, let previous, let read = try file.holdsSame(as: previous, copier: copier),
               let holder = parent.earlier?.handle(), try link(file.name, from: holder, into: parent.target) {
                return try linked(read, leads: file.leads)
            }
            if settings.adoptsFiles, try adopt(file, into: parent.target) { return }
            try copy(file, into: parent, previous: previous)
        } catch let error where isSourceError(error) {
            try? parent.target.remove(file.name)
            throw error
        }
    }

    package func skip(_ path: RelativePath, because error: Error) throws { try finisher.submit(.skipped(path, error)) }

    package func note(_ path: RelativePath, _ message: String) throws { try finisher.submit(.noted(path, message)) }

    package func finish() throws {
        while let done = open.popLast() { try finisher.submit(.directory(done.path, done.finished)) }
        try finisher.finish()
        let finished = finisher.state
        counts += finished.counts
        bytesOwned += finished.bytesOwned
        reusedFromIndex = reusedFromIndex || finished.reusedFromIndex
    }

    /// What the snapshot's publication needs to know, once `finish` returned.
    package var outcome: StagedSnapshot.Outcome {
        StagedSnapshot.Outcome(counts: counts, bytesOwned: bytesOwned, reusedFromIndex: reusedFromIndex, resumed: resumeTree != nil)
    }

    // MARK: Directories

    package func begin(_ kind: PushEntry.Kind, _ record: ManifestRecord, attributes: [ExtendedAttribute], from source: SourceEntry?) throws {
        guard open.isEmpty, kind == .directory else { throw EmuError.failed("the push named its root twice, or as no directory", fix: "push again") }
        counts.directories += 1
        try finisher.submit(.record(record, isFile: false))
        let finished = FinishedDirectory(target: staging, source: source.map { LocalTreeDirectory($0.directory) },
                                         metadata: EntryMetadata(record, attributes: attributes))
        open = [OpenDirectory(path: .root, target: staging, finished: finished, earlier: earlierTree.map(EarlierDirectory.init(root:)),
                              resume: resumeTree.map(EarlierDirectory.init(root:)))]
    }

    /// The staged directory that holds `path`, finishing those the walk has
    /// left (each entry made in one moved its mtime: its metadata comes last).
    package func directory(for path: RelativePath) throws -> OpenDirectory {
        while let top = open.last, !path.isChild(of: top.path) {
            open.removeLast()
            try finisher.submit(.directory(top.path, top.finished))
        }
        // The planner hands entries over in path order, each parent first; a client over ssh may not.
        guard let parent = open.last else { throw EmuError.failed("the push named \(path) before its directory", fix: "push again") }
        return parent
    }

    package func makeDirectory(_ name: FileName, _ record: ManifestRecord, attributes: [ExtendedAttribute], in parent: OpenDirectory,
                       from source: SourceEntry?) throws {
        counts.directories += 1
        try finisher.submit(.record(record, isFile: false))
        let permissions = EntryMetadata.Created.initialPermissions(for: record.permissions, isDirectory: true)
        try parent.target.makeDirectory(name, permissions: permissions)
        let target = try parent.target.openDirectory(name)
        // ACLs are copied from the source directory; one that cannot be opened, or a client's, gives them as raw xattrs.
        let aclSource = source.flatMap { $0.opened ?? (try? $0.directory.openDirectory(name)) }
        let finished = FinishedDirectory(target: target, source: aclSource.map(LocalTreeDirectory.init),
                                         metadata: EntryMetadata(record, attributes: attributes),
                                         created: .made(with: permissions, handsDownNothing: createsAsSelf))
        open.append(OpenDirectory(path: record.path, target: target, finished: finished,
                                  earlier: parent.earlier.map { EarlierDirectory(parent: $0, name: name) },
                                  resume: parent.resume.map { EarlierDirectory(parent: $0, name: name) }))
    }

    // MARK: Links

    /// An unchanged file: one more name of the earlier inode, linked on the
    /// second core, or here for a file with other names (later names must
    /// find its inode in place); copied where that inode is gone, at the link
    /// limit, or (a killed push's copy) not whole.
    package func linkEarlier(_ record: ManifestRecord, in parent: OpenDirectory, from source: SourceEntry?, isResume: Bool, leads: Bool) throws {
        let name = source?.name ?? record.path.lastName!
        let holder = isResume ? parent.resume?.handle() : parent.earlier?.handle()
        guard leads else {
            let candidates = holder.map { [($0, record, isResume)] } ?? []
            return try finisher.submit(.link(.init(name: name, path: record.path, target: parent.target, candidates: candidates,
                                                   source: source.map { ($0.directory, $0.status) })))
        }
        if let holder, !isResume || resumedCopyIsIntact(name, in: holder, record: record, copier: copier),
           try link(name, from: holder, into: parent.target) {
            if isResume { bytesOwned += record.size }
            return try linked(record, leads: true)
        }
        try copy(try planned(record, from: source, leads: true), into: parent, previous: isResume ? nil : record)
    }

    /// Another name of a file made in this push: one more link to its inode;
    /// at the sink's link limit, or when the first name was left out
    /// (unreadable), a copy whose inode takes the later names.
    package func linkLeader(of record: ManifestRecord, in parent: OpenDirectory, from source: SourceEntry?) throws {
        let firstName = record.hardlinkLeader!
        if var shared = leaders[firstName] {
            do {
                try staging.link(path: shared.path, to: parent.target, as: record.path.lastName!)
                shared.hardlinkLeader = shared.path
                shared.path = record.path
                return try finisher.submit(.record(shared, isFile: true))
            } catch let error as FileSystemError where error.isAtLinkLimit {}
        }
        if let copied = try copy(try planned(record, from: source, leads: true), into: parent, previous: nil) { leaders[firstName] = copied }
    }

    /// Links `name` from an earlier tree's directory; false when it is gone
    /// there or has reached the link limit (then it is copied).
    package func link(_ name: FileName, from holder: DirectoryHandle, into target: DirectoryHandle) throws -> Bool {
        do {
            try holder.link(name, to: target, as: name)
            return true
        } catch let error as FileSystemError where error.isAtLinkLimit || error.isMissing {
            return false
        }
    }

    /// A file linked here: its record; `leads` for the first name of an
    /// inode with others, whose record the later names share.
    package func linked(_ record: ManifestRecord, leads: Bool) throws {
        counts.filesLinked += 1
        try recorded(record, leads: leads)
    }

    /// A file made (linked here, or filled from bytes a server received): its record, in path order.
    package func recorded(_ record: ManifestRecord, leads: Bool) throws {
        try finisher.submit(.record(record, isFile: true))
        if leads { leaders[record.path] = record }
    }

    /// A file to copy where no link can be made; a server has no source to
    /// copy from: the push fails there, and nothing is published.
    package func planned(_ record: ManifestRecord, from source: SourceEntry?, leads: Bool) throws -> PlannedFile {
        guard let source else { throw Self.cannotLink(record.path) }
        var record = record
        record.hardlinkLeader = nil
        return PlannedFile(record: record, directory: source.directory, name: source.name!, status: source.status, attributes: [],
                           leads: leads, isNew: false, isHashed: false)
    }
}

extension StagingWriter {
    package static func cannotLink(_ path: RelativePath) -> EmuError {
        EmuError.failed("the sink holds no copy of \(path) that can take another name (gone, at the link limit, or not whole); nothing was published",
                        fix: "push again; if it fails the same way, run `emu verify` on the sink")
    }
}
