import EmuPOSIX
import Glibc
import SystemPackage

/// Small metadata files (configs, records, HEAD): read whole, and written
/// durably: a temporary file, synced, renamed over the old one, and the
/// directory synced, so a crash leaves the old file or the new, never half.
package enum MetadataFile {
    /// The text of `name` in `directory`, or nil when it does not exist.
    package static func read(in directory: DirectoryHandle, _ name: String) throws -> String? {
        let fd: OpenFile
        do {
            fd = try directory.openForReading(FileName(name))
        } catch let error as FileSystemError where error.isMissing {
            return nil
        }
        defer { fd.close() }
        return String(fileSystemBytes: try fd.readToEnd())
    }

    /// Replaces `name` in `directory` with `text`, durably.
    package static func write(in directory: DirectoryHandle, _ name: String, _ text: String, permissions: UInt32 = 0o644) throws {
        let temporary = FileName(".\(name).tmp")
        try? directory.remove(temporary)
        let fd = try directory.createFile(temporary, permissions: permissions)
        do {
            defer { fd.close() }
            try fd.writeAll(text.fileSystemBytes)
            try fd.sync()
        }
        try directory.rename(temporary, to: directory, as: FileName(name))
        try directory.sync()
    }

    /// Replaces a symlink durably: made under a temporary name, renamed over.
    package static func replaceSymlink(in directory: DirectoryHandle, _ name: String, target: String) throws {
        let temporary = FileName(".\(name).tmp")
        try? directory.remove(temporary)
        try directory.makeSymlink(temporary, target: target.fileSystemBytes)
        try directory.rename(temporary, to: directory, as: FileName(name))
    }
}
