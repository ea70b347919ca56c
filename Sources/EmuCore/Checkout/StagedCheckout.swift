import CEmuShims
import EmuPOSIX
import Glibc
import EmuRecords

/// A checkout into an empty directory builds its tree in a staging
/// directory there (`DIR/.emu-checkout.PID`), every entry under its final
/// name, then moves the top-level entries into DIR. When the tree is whole
/// the staging directory is renamed to `.emu-checkout.whole.ID`, naming the
/// snapshot, and it goes only once DIR is finished (its own metadata set).
/// So a checkout killed while moving is finished by the next one: DIR then
/// holds that snapshot's tree, whole, and a checkout of the same snapshot
/// takes it as its own work instead of refusing a directory that is not empty.
package struct StagedCheckout {
    package let destination: DirectoryHandle
    package let name: FileName
    /// The staging directory itself, where the tree is built.
    package let directory: DirectoryHandle
    package let snapshotID: String

    package static let wholePrefix = CheckoutWalk.temporaryPrefix + Array("whole.".utf8)

    package var wholeName: FileName { FileName(Self.wholePrefix + Array(snapshotID.utf8)) }

    /// Makes the staging directory in `destination`, named for this process.
    package static func begin(in destination: DirectoryHandle, snapshotID: String) throws -> StagedCheckout {
        let name = FileName(CheckoutWalk.temporaryPrefix + Array("\(getpid())".utf8))
        try destination.makeDirectory(name, permissions: 0o700)
        return StagedCheckout(destination: destination, name: name, directory: try destination.openDirectory(name), snapshotID: snapshotID)
    }

    /// Says the staged tree is whole, then moves it into place.
    package func place() throws {
        try destination.rename(name, to: destination, as: wholeName)
        CrashPoint.reach("checkout.before-place")
        try Self.moveAll(from: directory, to: destination)
    }

    /// Removes the emptied staging directory: the checkout is done.
    package func finish() throws {
        try destination.remove(wholeName, isDirectory: true)
    }

    /// Removes what a failed checkout staged, under either of its names.
    package func discard() {
        try? destination.removeTree(name)
        try? destination.removeTree(wholeName)
    }

    package static func moveAll(from staging: DirectoryHandle, to destination: DirectoryHandle) throws {
        var moved = 0
        for entry in try staging.entries() {
            try move(entry.name, from: staging, to: destination)
            moved += 1
            if moved == 1 { CrashPoint.reach("checkout.placing") }
        }
    }

    /// The snapshot whose whole tree a killed checkout's staging directory
    /// `name` holds (or held: it may be empty); nil when it was not whole.
    package static func wholeTree(_ name: FileName) -> String? {
        guard name.bytes.starts(with: wholePrefix),
              let id = String(validating: name.bytes.dropFirst(wholePrefix.count), as: UTF8.self), Snapshot.isID(id) else { return nil }
        return id
    }

    /// Finishes moving a killed checkout's whole tree into place.
    package static func finish(_ name: FileName, in destination: DirectoryHandle) throws {
        try moveAll(from: try destination.openDirectory(name), to: destination)
        try destination.remove(name, isDirectory: true)
    }

    /// Moves a staged entry into place, never over one that appeared in
    /// the target meanwhile.
    package static func move(_ name: FileName, from staging: DirectoryHandle, to destination: DirectoryHandle) throws {
        do {
            try staging.rename(name, to: destination, as: name, flags: EMU_RENAME_NOREPLACE)
        } catch let error as FileSystemError where error.isInvalidArgument {
            // A filesystem without RENAME_NOREPLACE: look first.
            if (try? destination.status(name)) != nil { throw FileSystemError("rename", destination.childPath(name), .fileExists) }
            try staging.rename(name, to: destination, as: name)
        }
    }

    /// Deals with what a killed checkout left in `--to DIR`: a staging directory
    /// whose tree was not whole is dropped; a whole one is moved into place when
    /// this checkout restores the same snapshot or `--force` says to, and
    /// returns its snapshot's ID; otherwise the checkout is refused, saying how
    /// to finish it.
    package static func recover(_ name: FileName, in target: DirectoryHandle, path: String, for snapshot: Snapshot,
                        options: CheckoutOptions) throws -> String? {
        guard let id = wholeTree(name), (try? target.status(name))?.kind == .directory else {
            if !options.dryRun { try target.removeTree(name) }
            return nil
        }
        guard id == snapshot.id || options.force else {
            throw EmuError.failed("\(path) holds a checkout of snapshot \(Snapshot.shortForm(id)) that was killed while moving into place",
                                  fix: "finish it with `emu checkout \(Snapshot.shortForm(id)) --to \(path)`, or pass --force to overwrite it")
        }
        if !options.dryRun { try finish(name, in: target) }
        return id
    }
}
