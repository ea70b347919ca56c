import CEmuShims
import Glibc
import SystemPackage

/// One entry as getdents64(2) returns it.
public struct DirectoryEntry: Sendable {
    public var name: FileName
    public var inode: UInt64
}

/// An open directory through which its entries are reached by name, never by
/// a path from the root: nothing is resolved twice, and no symlink is
/// followed on the way (every open uses O_NOFOLLOW).
///
/// Errors name `path`, the directory's path for messages only, and
/// `origin`, the tree it belongs to, which what it opens inherits.
public final class DirectoryHandle {
    public let descriptor: FileDescriptor
    public let path: [UInt8]
    public let origin: Origin
    /// A second listing must rewind first; the first needs no syscall for it.
    private var hasBeenRead = false

    public init(adopting descriptor: FileDescriptor, path: [UInt8], origin: Origin = .unspecified) {
        self.descriptor = descriptor
        self.path = path
        self.origin = origin
    }

    deinit { _ = Glibc.close(descriptor.rawValue) }

    var fd: Int32 { descriptor.rawValue }

    /// The directory itself as an open file (fstat, fsync, its attributes).
    public var file: OpenFile { OpenFile(descriptor, path: path, origin: origin) }

    /// Runs a call on the entry `name` here, its failure naming that entry.
    @inline(__always)
    func call<I: FixedWidthInteger>(_ operation: String, _ name: FileName, _ body: () -> I) -> Result<I, FileSystemError> {
        systemCall(operation, childPath(name), origin, body)
    }

    /// Opens an absolute or working-directory-relative directory path,
    /// following symlinks in it (a user-given path), not past it.
    public static func open(_ path: String, origin: Origin = .unspecified) throws -> DirectoryHandle {
        let bytes = path.fileSystemBytes
        let fd = try systemCall("open directory", bytes, origin) {
            bytes.withCString { emu_openat(AT_FDCWD, $0, O_RDONLY | EMU_O_DIRECTORY | EMU_O_CLOEXEC, 0) }
        }.get()
        return DirectoryHandle(adopting: FileDescriptor(rawValue: fd), path: bytes, origin: origin)
    }

    public func childPath(_ name: FileName) -> [UInt8] {
        path.isEmpty ? name.bytes : path + [0x2F] + name.bytes
    }

    /// Every entry but `.` and `..`, in the order the kernel gives them.
    /// Memory is the width of this one directory.
    public func entries() throws -> [DirectoryEntry] {
        if hasBeenRead { _ = try systemCall("rewind directory", path, origin) { lseek(fd, 0, SEEK_SET) }.get() }
        hasBeenRead = true
        var result: [DirectoryEntry] = []
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = try systemCall("read directory", path, origin) { emu_getdents64(fd, buffer, capacity) }.get()
            if count == 0 { break }
            var offset = 0
            while offset < count {
                var record = emu_dirent()
                guard emu_dirent_at(buffer + offset, count - offset, &record) == 0 else {
                    throw FileSystemError("read directory", path, .ioError, origin: origin)
                }
                offset += record.record_length
                let name = UnsafeRawBufferPointer(start: record.name, count: record.name_length)
                if name.count == 1 && name[0] == 0x2E { continue }
                if name.count == 2 && name[0] == 0x2E && name[1] == 0x2E { continue }
                result.append(DirectoryEntry(name: FileName(Array(name)), inode: record.ino))
            }
        }
        return result
    }

    /// lstat(2) of an entry: a symlink is described, not followed.
    public func status(_ name: FileName) throws -> FileStatus {
        var st = Glibc.stat()
        _ = try call("stat", name) { name.withCString { fstatat(fd, $0, &st, EMU_AT_SYMLINK_NOFOLLOW) } }.get()
        return FileStatus(st)
    }

    /// lstat(2) of a path below this directory, reached one component at a
    /// time: a symlink on the way is not followed, and `..` does not climb.
    public func status(path relative: RelativePath) throws -> FileStatus {
        let (parent, name) = try parentAndName(of: relative)
        return try parent.status(name)
    }

    /// fstat(2) of the directory itself.
    public func status() throws -> FileStatus {
        try file.status()
    }

    /// Opens a subdirectory without following a symlink in its place.
    public func openDirectory(_ name: FileName) throws -> DirectoryHandle {
        let flags = O_RDONLY | EMU_O_DIRECTORY | EMU_O_NOFOLLOW | EMU_O_CLOEXEC
        let child = try call("open directory", name) { name.withCString { emu_openat(fd, $0, flags, 0) } }.get()
        return DirectoryHandle(adopting: FileDescriptor(rawValue: child), path: childPath(name), origin: origin)
    }

    /// Opens a subdirectory given as a relative path, one component at a
    /// time, following no symlink; a path with `..`, `.` or an empty part
    /// is refused (EINVAL): paths read from a sink must stay below it.
    public func openDirectory(path relative: RelativePath) throws -> DirectoryHandle {
        guard relative.isSafe else { throw FileSystemError("open directory", path + [0x2F] + relative.bytes, .invalidArgument, origin: origin) }
        var handle = self
        for component in relative.components where !relative.isRoot {
            handle = try handle.openDirectory(component)
        }
        return handle
    }

    /// The directory that holds `relative`'s last name, opened as
    /// `openDirectory(path:)` does, and that name.
    public func parentAndName(of relative: RelativePath) throws -> (DirectoryHandle, FileName) {
        guard relative.isSafe, let name = relative.lastName else {
            throw FileSystemError("resolve", path + [0x2F] + relative.bytes, .invalidArgument, origin: origin)
        }
        return (try openDirectory(path: relative.parent), name)
    }

    /// Opens a regular file for reading without updating its atime where the
    /// kernel lets us (O_NOATIME needs ownership or CAP_FOWNER).
    public func openForReading(_ name: FileName) throws -> OpenFile {
        let flags = O_RDONLY | EMU_O_NOFOLLOW | EMU_O_CLOEXEC
        var result = call("open", name) { name.withCString { emu_openat(fd, $0, flags | EMU_O_NOATIME, 0) } }
        if case .failure(let error) = result, error.isNotPermitted {
            result = call("open", name) { name.withCString { emu_openat(fd, $0, flags, 0) } }
        }
        return opened(try result.get(), name)
    }

    func opened(_ descriptor: Int32, _ name: FileName) -> OpenFile {
        OpenFile(FileDescriptor(rawValue: descriptor), name: name, in: self)
    }

    /// Creates a new file that must not exist yet, private until its mode
    /// is set; open for writing, and for reading too when `readable`.
    public func createFile(_ name: FileName, permissions: UInt32 = 0o600, readable: Bool = false) throws -> OpenFile {
        let flags = (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | EMU_O_NOFOLLOW | EMU_O_CLOEXEC
        return opened(try call("create", name) { name.withCString { emu_openat(fd, $0, flags, mode_t(permissions)) } }.get(), name)
    }

    /// Opens a file for scratch data, read and write, that no one else can
    /// reach and that goes when it is closed or the process dies: one with no
    /// name (O_TMPFILE), else one unlinked as soon as it is made.
    public func createScratchFile() throws -> OpenFile {
        let flags = O_RDWR | EMU_O_TMPFILE | EMU_O_CLOEXEC
        switch systemCall("create a scratch file in", path, origin, { emu_openat(fd, ".", flags, 0o600) }) {
        case .success(let created): return OpenFile(FileDescriptor(rawValue: created), path: path, origin: origin)
        case .failure(let error) where [.notSupported, .isDirectory, .invalidArgument].contains(error.errno): break
        case .failure(let error): throw error
        }
        let name = FileName(".emu-scratch-\(getpid())-\(UInt32.random(in: .min ... .max))")
        let file = opened(try call("create", name) {
            name.withCString { emu_openat(fd, $0, O_RDWR | O_CREAT | O_EXCL | EMU_O_NOFOLLOW | EMU_O_CLOEXEC, 0o600) }
        }.get(), name)
        do { try remove(name) } catch { file.close(); throw error }
        return file
    }

    /// Opens an existing entry with O_PATH, for calls that need a descriptor
    /// of a symlink or device without opening it for I/O.
    public func openPath(_ name: FileName) throws -> OpenFile {
        let flags = EMU_O_PATH | EMU_O_NOFOLLOW | EMU_O_CLOEXEC
        return opened(try call("open", name) { name.withCString { emu_openat(fd, $0, flags, 0) } }.get(), name)
    }

    /// mkdirat(2).
    public func makeDirectory(_ name: FileName, permissions: UInt32 = 0o700) throws {
        _ = try call("make directory", name) { name.withCString { mkdirat(fd, $0, mode_t(permissions)) } }.get()
    }

    /// symlinkat(2): the target is stored as written, never resolved.
    public func makeSymlink(_ name: FileName, target: [UInt8]) throws {
        _ = try call("make symlink", name) { target.withCString { t in name.withCString { symlinkat(t, fd, $0) } } }.get()
    }

    /// readlinkat(2), growing the buffer until the whole target fits.
    public func readSymlink(_ name: FileName) throws -> [UInt8] {
        var capacity = 256
        while true {
            let target = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                let n = try call("read symlink", name) {
                    name.withCString { readlinkat(fd, $0, UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), capacity) }
                }.get()
                count = n
            }
            if target.count < capacity { return target }
            capacity *= 4
        }
    }

    /// mknodat(2) for FIFOs and devices.
    public func makeNode(_ name: FileName, kind: FileKind, permissions: UInt32, device: UInt64) throws {
        _ = try call("make node", name) { name.withCString { mknodat(fd, $0, kind.typeBits | mode_t(permissions), dev_t(device)) } }.get()
    }

    /// linkat(2) of `name` here to `newName` in `directory`, not following a symlink.
    public func link(_ name: FileName, to directory: DirectoryHandle, as newName: FileName) throws {
        _ = try directory.call("link", newName) {
            name.withCString { old in newName.withCString { linkat(fd, old, directory.fd, $0, 0) } }
        }.get()
    }

    /// linkat(2) of a path below this directory, its parent reached as
    /// `openDirectory(path:)` does (no symlink followed, no `..`).
    public func link(path: RelativePath, to directory: DirectoryHandle, as newName: FileName) throws {
        let (parent, name) = try parentAndName(of: path)
        try parent.link(name, to: directory, as: newName)
    }

    /// unlinkat(2) of a file or an empty directory.
    public func remove(_ name: FileName, isDirectory: Bool = false) throws {
        _ = try call("remove", name) { name.withCString { unlinkat(fd, $0, isDirectory ? EMU_AT_REMOVEDIR : 0) } }.get()
    }

    /// Removes an entry and, for a directory, everything below it, by fd.
    public func removeTree(_ name: FileName) throws {
        let status: FileStatus
        do { status = try self.status(name) } catch let error as FileSystemError where error.isMissing { return }
        if status.kind == .directory {
            let child = try openDirectory(name)
            // A read-only directory (a user's chmod 555) must become writable to be emptied.
            if status.permissions & 0o700 != 0o700 { try? child.file.setPermissions(0o700) }
            for entry in try child.entries() { try child.removeTree(entry.name) }
        }
        try remove(name, isDirectory: status.kind == .directory)
    }

    /// renameat2(2); `flags` takes EMU_RENAME_NOREPLACE or EMU_RENAME_EXCHANGE.
    public func rename(_ name: FileName, to directory: DirectoryHandle, as newName: FileName, flags: UInt32 = 0) throws {
        _ = try directory.call("rename", newName) {
            name.withCString { old in newName.withCString { emu_renameat2(fd, old, directory.fd, $0, flags) } }
        }.get()
    }

    /// fchownat(2) without following a symlink.
    public func setOwner(_ name: FileName, owner: UInt32, group: UInt32) throws {
        _ = try call("change owner of", name) { name.withCString { fchownat(fd, $0, owner, group, EMU_AT_SYMLINK_NOFOLLOW) } }.get()
    }

    /// fchmodat(2); never used on symlinks, whose mode Linux does not keep.
    public func setPermissions(_ name: FileName, _ permissions: UInt32) throws {
        _ = try call("change mode of", name) { name.withCString { fchmodat(fd, $0, mode_t(permissions), 0) } }.get()
    }

    /// utimensat(2) of the mtime without following a symlink; the atime is left alone.
    public func setModified(_ name: FileName, _ time: FileTime) throws {
        var times = [timespec(tv_sec: 0, tv_nsec: EMU_UTIME_OMIT), time.timespec]
        _ = try call("set time of", name) { name.withCString { utimensat(fd, $0, &times, EMU_AT_SYMLINK_NOFOLLOW) } }.get()
    }

    /// fsync(2) of the directory: makes its entries (creates, renames) durable.
    public func sync() throws {
        try file.sync()
    }

    /// A path through /proc that names `name` inside this directory, for the
    /// few library calls (ACLs, xattrs of symlinks) that take only paths.
    public func procPath(_ name: FileName?) -> [UInt8] {
        var proc = Array("/proc/self/fd/\(fd)".utf8)
        if let name { proc += [0x2F] + name.bytes }
        return proc
    }
}

/// Reaches the entries of a tree in path order through the directories
/// last opened, the current one and its ancestors: one open per directory
/// met, not one per entry nor one per component, and every path resolved
/// as `openDirectory(path:)` does (no symlink followed, no `..`).
public final class DirectoryCursor {
    public let root: DirectoryHandle
    /// The last parent reached and its ancestors below the root, outermost first.
    private var chain: [(path: RelativePath, handle: DirectoryHandle)] = []

    public init(root: DirectoryHandle) { self.root = root }

    /// The directory holding `path`, and its last name.
    public func parentAndName(of path: RelativePath) throws -> (DirectoryHandle, FileName) {
        guard path.isSafe, let name = path.lastName else {
            throw FileSystemError("resolve", root.path + [0x2F] + path.bytes, .invalidArgument, origin: root.origin)
        }
        let parent = path.parent
        if parent.isRoot { return (root, name) }
        // Most paths asked for in a row share their directory.
        if let last = chain.last, last.path == parent { return (last.handle, name) }
        while let last = chain.last, !parent.isWithin(last.path) { chain.removeLast() }
        var (reached, handle) = chain.last ?? (.root, root)
        let below = parent.isRoot ? [] : parent.components.dropFirst(reached.isRoot ? 0 : reached.components.count)
        for component in below {
            handle = try handle.openDirectory(component)
            reached = reached.appending(component)
            chain.append((reached, handle))
        }
        return (handle, name)
    }

    /// lstat(2) of `path`.
    public func status(_ path: RelativePath) throws -> FileStatus {
        let (directory, name) = try parentAndName(of: path)
        return try directory.status(name)
    }
}
