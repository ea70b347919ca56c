import Glibc
import SystemPackage

// Paths as users give them (command-line arguments, registered sink paths):
// made absolute, resolved, tested and created by name. Everything below a
// directory emu has opened goes through `DirectoryHandle` instead.

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
public func normalized(_ path: String) -> String {
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

/// Whether `path` names a directory (following symlinks, as a user's path does).
public func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return path.fileSystemBytes.withCString({ stat($0, &st) }) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

/// Whether anything, a dangling symlink included, is at `path`.
public func entryExists(_ path: String) -> Bool {
    var st = stat()
    return path.fileSystemBytes.withCString({ lstat($0, &st) }) == 0
}

/// The path without its last component; `/` for a top-level one.
public func parentPath(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
    return String(path[..<slash])
}

/// mkdir(2) of a user's path.
public func makeDirectory(_ path: String, permissions: UInt32 = 0o755) throws {
    let bytes = path.fileSystemBytes
    _ = try systemCall("create directory", bytes) { bytes.withCString { mkdir($0, mode_t(permissions)) } }.get()
}

/// mkdir -p: `path` and every missing directory above it.
public func makeDirectories(_ path: String, permissions: UInt32 = 0o755) throws {
    if isDirectory(path) { return }
    let parent = parentPath(path)
    if parent != path { try makeDirectories(parent, permissions: permissions) }
    do { try makeDirectory(path, permissions: permissions) } catch let error as FileSystemError where error.alreadyExists && isDirectory(path) {}
}

/// The bytes of a file the user names (`-`: standard input).
public func readUserFile(_ path: String) throws -> [UInt8] {
    if path == "-" { return try OpenFile.standardInput.readToEnd() }
    let absolute = absolutePath(path)
    let directory = try DirectoryHandle.open(parentPath(absolute))
    let name = FileName(String(absolute[absolute.index(after: absolute.lastIndex(of: "/")!)...]))
    let file = try directory.openForReading(name)
    defer { file.close() }
    return try file.readToEnd()
}

/// stat(2) of a user path, following symlinks (a mount point, a sink's path
/// as registered); nil when it leads nowhere.
public func statusFollowingLinks(_ path: String) -> FileStatus? {
    var st = stat()
    let bytes = path.fileSystemBytes
    guard (try? systemCall("stat", bytes) { bytes.withCString { stat($0, &st) } }.get()) != nil else { return nil }
    return FileStatus(st)
}

extension DirectoryHandle {
    /// Free (for this user) and total bytes of the filesystem that holds this directory.
    public func fileSystemSpace() throws -> (free: Int64, total: Int64) {
        var st = statvfs()
        _ = try systemCall("measure the filesystem of", path, origin) { fstatvfs(descriptor.rawValue, &st) }.get()
        return (Int64(st.f_bavail) * Int64(st.f_frsize), Int64(st.f_blocks) * Int64(st.f_frsize))
    }
}
