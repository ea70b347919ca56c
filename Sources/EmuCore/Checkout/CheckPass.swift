import EmuPOSIX
import EmuRecords

/// The checkout's first pass: changes nothing, and finds the target entries
/// the apply pass would overwrite or remove that differ from the sink's
/// newest snapshot (`guardRecords`) — data that no snapshot holds. The walk
/// counts what it would write, mend and remove, for a dry run's report.
package final class CheckPass: CheckoutVisitor {
    package let walk: CheckoutWalk
    /// The newest snapshot's records; nil when nothing is guarded (`--force`, `--to DIR`).
    package var guardRecords: ManifestCursor?
    package var conflicts: [RelativePath] = []
    package var conflictCount = 0

    package init(_ walk: CheckoutWalk, guardRecords: ManifestCursor?) {
        self.walk = walk
        self.guardRecords = guardRecords
    }

    package func run() throws {
        _ = try walk.run(self, tree: nil, isEmpty: false)
    }

    /// A target entry about to be overwritten must match the guard's record
    /// (so a snapshot holds it); a directory's entries are checked one by one.
    package func willReplace(_ status: FileStatus, in directory: DirectoryHandle, name: FileName, path: RelativePath) throws {
        guard guardRecords != nil else { return }
        if name.bytes.starts(with: CheckoutWalk.temporaryPrefix) { return }
        if status.kind == .directory {
            let child = try directory.openDirectory(name)
            for entry in try child.entries().sorted(by: { $0.name < $1.name }) {
                guard let childStatus = try? child.status(entry.name) else { continue }
                try willReplace(childStatus, in: child, name: entry.name, path: path.appending(entry.name))
            }
            return
        }
        // A damaged newest manifest vouches for nothing past its damage: checkout refuses rather than overwrite.
        if let saved = (try? guardRecords!.record(at: path)) ?? nil, try walk.matches(saved, status, in: directory, name: name) { return }
        conflictCount += 1
        if conflicts.count < 20 { conflicts.append(path) }
    }

    package func remove(_ name: FileName, in target: DirectoryHandle, path: RelativePath) throws {}

    package func write(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle?, tree: TreeDirectory?,
               path: RelativePath) throws {}

    package func mend(_ name: FileName, record: ManifestRecord, in target: DirectoryHandle, tree: TreeDirectory?, path: RelativePath) throws {}

    package func makeDirectory(_ name: FileName, record: ManifestRecord, replacing current: FileStatus?, in target: DirectoryHandle,
                       path: RelativePath) throws -> (DirectoryHandle, EntryMetadata.Created?)? { nil }

    package func enterDirectory() -> Bool { false }

    package func leaveDirectory(_ entered: Bool, record: ManifestRecord, target: DirectoryHandle?, tree: TreeDirectory?,
                        created: EntryMetadata.Created?, existed: Bool, inScope: Bool) throws {}
}
