import CEmuShims
import EmuPOSIX
import Glibc

/// A checkout into an empty directory builds its tree in a staging
/// directory there (`DIR/.emu-checkout.PID`), every entry under its final
/// name, then moves the top-level entries into DIR. Before the first move a
/// marker in the staging directory names the snapshot, so that a checkout
/// killed while moving is finished by the next one: DIR then holds that
/// snapshot's tree, whole, and a checkout of the same snapshot takes it as
/// its own work instead of refusing a directory that is not empty.
struct StagedCheckout {
    let destination: DirectoryHandle
    let name: FileName
    let snapshotID: String

    static let marker = FileName(Restorer.temporaryPrefix + Array("whole".utf8))

    /// Marks the staged tree whole, then moves it into place.
    func place(_ staging: DirectoryHandle) throws {
        let marker = try staging.createFile(Self.marker, permissions: 0o600)
        defer { marker.closeIgnoringErrors() }
        try marker.writeAll(Array(snapshotID.utf8), path: staging.childPath(Self.marker))
        CrashPoint.reach("checkout.before-place")
        try Self.moveAll(from: staging, to: destination)
        try destination.remove(name, isDirectory: true)
    }

    /// Moves every entry but the marker, then removes the marker.
    static func moveAll(from staging: DirectoryHandle, to destination: DirectoryHandle) throws {
        var moved = 0
        for entry in try staging.entries() where entry.name != marker {
            try move(entry.name, from: staging, to: destination)
            moved += 1
            if moved == 1 { CrashPoint.reach("checkout.placing") }
        }
        try staging.remove(marker)
    }

    /// The snapshot whose whole tree a killed checkout's staging directory
    /// `name` holds while it was moving it into place; nil when the tree
    /// was not whole (or `name` is not such a directory).
    static func wholeTree(_ name: FileName, in destination: DirectoryHandle) -> String? {
        guard let staging = try? destination.openDirectory(name), let fd = try? staging.openForReading(marker) else { return nil }
        defer { fd.closeIgnoringErrors() }
        guard let bytes = try? fd.readToEnd(path: staging.childPath(marker)), let id = String(validating: bytes, as: UTF8.self),
              Snapshot.isID(id) else { return nil }
        return id
    }

    /// Finishes moving a killed checkout's whole tree into place.
    static func finish(_ name: FileName, in destination: DirectoryHandle) throws {
        try moveAll(from: try destination.openDirectory(name), to: destination)
        try destination.remove(name, isDirectory: true)
    }

    /// Moves a staged entry into place, never over one that appeared in
    /// the target meanwhile.
    static func move(_ name: FileName, from staging: DirectoryHandle, to destination: DirectoryHandle) throws {
        do {
            try staging.rename(name, to: destination, as: name, flags: EMU_RENAME_NOREPLACE)
        } catch let error as FileSystemError where error.errno == .invalidArgument {
            // A filesystem without RENAME_NOREPLACE: look first.
            if (try? destination.status(name)) != nil { throw FileSystemError("rename", destination.childPath(name), .fileExists) }
            try staging.rename(name, to: destination, as: name)
        }
    }
}
