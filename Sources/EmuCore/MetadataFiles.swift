import EmuPOSIX
import Glibc
import SystemPackage

/// Small metadata files (configs, records, HEAD): read whole, and written
/// durably: a temporary file, synced, renamed over the old one, and the
/// directory synced, so a crash leaves the old file or the new, never half.
enum MetadataFile {
    /// The text of `name` in `directory`, or nil when it does not exist.
    static func read(in directory: DirectoryHandle, _ name: String) throws -> String? {
        let fd: FileDescriptor
        do {
            fd = try directory.openForReading(FileName(name))
        } catch let error as FileSystemError where error.errno == .noSuchFileOrDirectory {
            return nil
        }
        defer { fd.closeIgnoringErrors() }
        return String(fileSystemBytes: try fd.readToEnd(path: directory.childPath(FileName(name))))
    }

    /// Replaces `name` in `directory` with `text`, durably.
    static func write(in directory: DirectoryHandle, _ name: String, _ text: String, permissions: UInt32 = 0o644) throws {
        let temporary = FileName(".\(name).tmp")
        try? directory.remove(temporary)
        let fd = try directory.createFile(temporary, permissions: permissions)
        do {
            defer { fd.closeIgnoringErrors() }
            try fd.writeAll(text.fileSystemBytes, path: directory.childPath(temporary))
            try fd.sync(path: directory.childPath(temporary))
        }
        try directory.rename(temporary, to: directory, as: FileName(name))
        try directory.sync()
    }

    /// Replaces a symlink durably: made under a temporary name, renamed over.
    static func replaceSymlink(in directory: DirectoryHandle, _ name: String, target: String) throws {
        let temporary = FileName(".\(name).tmp")
        try? directory.remove(temporary)
        try directory.makeSymlink(temporary, target: target.fileSystemBytes)
        try directory.rename(temporary, to: directory, as: FileName(name))
    }
}

/// The bytes of a file the user names (`-`: standard input).
public func readUserFile(_ path: String) throws -> [UInt8] {
    if path == "-" { return try FileDescriptor.standardInput.readToEnd(path: Array("standard input".utf8)) }
    let absolute = absolutePath(path)
    let directory = try DirectoryHandle.open(parentPath(absolute))
    let name = FileName(String(absolute[absolute.index(after: absolute.lastIndex(of: "/")!)...]))
    let file = try directory.openForReading(name)
    defer { file.closeIgnoringErrors() }
    return try file.readToEnd(path: absolute.fileSystemBytes)
}

/// The absolute, symlink-free form of a user's path; nil when it does not exist.
public func resolvedPath(_ path: String) -> String? {
    guard let resolved = path.fileSystemBytes.withCString({ realpath($0, nil) }) else { return nil }
    defer { free(resolved) }
    return String(fileSystemBytes: UnsafeBufferPointer(start: UnsafeRawPointer(resolved).assumingMemoryBound(to: UInt8.self), count: strlen(resolved)))
}

/// `path` made absolute against the working directory, without resolving symlinks.
public func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return normalized(path) }
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return path }
    let cwd = String(fileSystemBytes: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
    return normalized(cwd + "/" + path)
}

/// Removes `.` components, doubled and trailing slashes; `..` is resolved textually.
func normalized(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        if part == "." { continue }
        if part == ".." { _ = parts.popLast(); continue }
        parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
}

/// Whether `inner` is `outer` or lies below it (both absolute, normalized).
public func isPath(_ inner: String, within outer: String) -> Bool {
    inner == outer || outer == "/" || inner.hasPrefix(outer + "/")
}

/// Named places where a test may ask emu to die with SIGKILL (the
/// environment variable EMU_CRASH_AT), to prove that a kill at that moment
/// loses nothing. Without the variable this costs one comparison.
public enum CrashPoint {
    static let requested: String? = getenv("EMU_CRASH_AT").map { String(cString: $0) }

    /// Kills the process at `name` when asked to; `beforeDying` first
    /// finishes what the crash is meant to come after.
    public static func reach(_ name: String, beforeDying: () -> Void = {}) {
        guard let requested, requested == name else { return }
        beforeDying()
        kill(getpid(), SIGKILL)
    }
}
