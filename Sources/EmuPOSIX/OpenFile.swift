import CEmuShims
import Glibc
import SystemPackage

/// An open file with the path it was opened by and the tree it belongs to,
/// which every error it raises names. Like `FileDescriptor`, it is a value
/// that does not close itself: its owner calls `close()`.
///
/// Sendable by hand: the directory it keeps for its path is only read.
public struct OpenFile: @unchecked Sendable {
    public let descriptor: FileDescriptor
    public let origin: Origin
    /// Where its path comes from: given, or its directory's and name's, put
    /// together only when a message needs it (a file opened costs no path).
    private let place: Place

    private enum Place {
        case path([UInt8])
        case entry(DirectoryHandle, FileName)
    }

    public init(_ descriptor: FileDescriptor, path: [UInt8], origin: Origin = .unspecified) {
        self.descriptor = descriptor
        self.origin = origin
        place = .path(path)
    }

    init(_ descriptor: FileDescriptor, name: FileName, in directory: DirectoryHandle) {
        self.descriptor = descriptor
        origin = directory.origin
        place = .entry(directory, name)
    }

    /// The path, for messages only: calls go through the descriptor.
    public var path: [UInt8] {
        switch place {
        case .path(let path): path
        case .entry(let directory, let name): directory.childPath(name)
        }
    }

    var fd: Int32 { descriptor.rawValue }

    public static let standardInput = OpenFile(.standardInput, path: Array("standard input".utf8))
    public static let standardOutput = OpenFile(.standardOutput, path: Array("standard output".utf8))

    /// Runs a call on this file, its failure naming the file.
    @inline(__always)
    func call<I: FixedWidthInteger>(_ operation: String, retryOnInterrupt: Bool = true, _ body: () -> I) -> Result<I, FileSystemError> {
        systemCall(operation, self.path, origin, retryOnInterrupt: retryOnInterrupt, body)
    }

    /// A failure of `operation` on this file, for callers that interpret errno themselves.
    func failure(_ operation: String, _ errno: Errno) -> FileSystemError {
        FileSystemError(operation, path, errno, origin: origin)
    }

    /// fstat(2).
    public func status() throws -> FileStatus {
        var st = Glibc.stat()
        _ = try call("stat") { fstat(fd, &st) }.get()
        return FileStatus(st)
    }

    /// fchown(2).
    public func setOwner(_ owner: UInt32, _ group: UInt32) throws {
        _ = try call("change owner of") { fchown(fd, owner, group) }.get()
    }

    /// fchmod(2).
    public func setPermissions(_ permissions: UInt32) throws {
        _ = try call("change mode of") { fchmod(fd, mode_t(permissions)) }.get()
    }

    /// futimens(2) of the mtime; the atime is left alone.
    public func setModified(_ time: FileTime) throws {
        var times = [timespec(tv_sec: 0, tv_nsec: EMU_UTIME_OMIT), time.timespec]
        _ = try call("set time of") { futimens(fd, &times) }.get()
    }

    /// fsync(2).
    public func sync() throws {
        _ = try call("sync") { fsync(fd) }.get()
    }

    /// syncfs(2): every dirty page of the filesystem that holds this file.
    public func syncFileSystem() throws {
        _ = try call("sync filesystem of") { emu_syncfs(fd) }.get()
    }

    /// ftruncate(2).
    public func truncate(to size: Int64) throws {
        _ = try call("truncate") { ftruncate(fd, off_t(size)) }.get()
    }

    /// close(2), never retried: after EINTR the descriptor is already gone.
    public func close() {
        _ = Glibc.close(fd)
    }

    /// Writes all of `bytes`, looping on short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil) throws {
        var done = 0
        while done < bytes.count {
            let rest = bytes.count - done
            let n = try call("write") {
                if let offset { Glibc.pwrite(fd, bytes.baseAddress! + done, rest, off_t(offset) + off_t(done)) }
                else { Glibc.write(fd, bytes.baseAddress! + done, rest) }
            }.get()
            done += n
        }
    }

    /// Reads until `buffer` is full or the end of the file; returns the count.
    /// A short read is not the end: only a 0 return is.
    /// One read(2): what is there, up to the buffer's size, waiting only
    /// when nothing is (a pipe); 0 at its end.
    public func readSome(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try call("read") { Glibc.read(fd, buffer.baseAddress!, buffer.count) }.get()
    }

    /// Waits up to `milliseconds` for input (or the end of it, or an error
    /// the next read reports); false when none came in that time.
    public func waitForInput(milliseconds: Int) throws -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = try call("poll") { Glibc.poll(&poller, 1, Int32(clamping: milliseconds)) }.get()
        return ready > 0
    }

    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil) throws -> Int {
        var done = 0
        while done < buffer.count {
            let rest = buffer.count - done
            let n = try call("read") {
                if let offset { Glibc.pread(fd, buffer.baseAddress! + done, rest, off_t(offset) + off_t(done)) }
                else { Glibc.read(fd, buffer.baseAddress! + done, rest) }
            }.get()
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes a whole small file's bytes; for metadata files.
    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in try writeAll(buffer) }
    }

    /// Gives the pipe this is an end of a 1 MiB buffer, so that a peer's
    /// large writes do not wait for every 64 KiB read; nothing for a file
    /// or socket (see `emu_widen_pipe`).
    public func widenPipe() { _ = emu_widen_pipe(fd) }

    /// Reads the rest of the file; for metadata files, which are small.
    public func readToEnd() throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { buffer in try readFully(into: buffer) }
            result += chunk[..<n]
            if n < chunk.count { return result }
        }
    }
}
