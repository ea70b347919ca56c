import CEmuShims
import Glibc
import SystemPackage

extension FileDescriptor {
    /// fstat(2).
    public func status(path: [UInt8]) throws -> FileStatus {
        var st = Glibc.stat()
        _ = try valueOrErrno { fstat(rawValue, &st) }.get("stat", path)
        return FileStatus(st)
    }

    /// fchown(2).
    public func setOwner(_ owner: UInt32, _ group: UInt32, path: [UInt8]) throws {
        _ = try valueOrErrno { fchown(rawValue, owner, group) }.get("change owner of", path)
    }

    /// fchmod(2).
    public func setPermissions(_ permissions: UInt32, path: [UInt8]) throws {
        _ = try valueOrErrno { fchmod(rawValue, mode_t(permissions)) }.get("change mode of", path)
    }

    /// futimens(2) of the mtime; the atime is left alone.
    public func setModified(_ time: FileTime, path: [UInt8]) throws {
        var times = [timespec(tv_sec: 0, tv_nsec: EMU_UTIME_OMIT), time.timespec]
        _ = try valueOrErrno { futimens(rawValue, &times) }.get("set time of", path)
    }

    /// fsync(2).
    public func sync(path: [UInt8]) throws {
        _ = try valueOrErrno { fsync(rawValue) }.get("sync", path)
    }

    /// syncfs(2): every dirty page of the filesystem that holds this file.
    public func syncFileSystem(path: [UInt8]) throws {
        _ = try valueOrErrno { emu_syncfs(rawValue) }.get("sync filesystem of", path)
    }

    /// ftruncate(2).
    public func truncate(to size: Int64, path: [UInt8]) throws {
        _ = try valueOrErrno { ftruncate(rawValue, off_t(size)) }.get("truncate", path)
    }

    /// close(2), never retried: after EINTR the descriptor is already gone.
    public func closeIgnoringErrors() {
        _ = Glibc.close(rawValue)
    }

    /// Writes all of `bytes`, looping on short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil, path: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let rest = bytes.count - done
            let n = try valueOrErrno {
                if let offset { Glibc.pwrite(rawValue, bytes.baseAddress! + done, rest, off_t(offset) + off_t(done)) }
                else { Glibc.write(rawValue, bytes.baseAddress! + done, rest) }
            }.get("write", path)
            done += n
        }
    }

    /// Reads until `buffer` is full or the end of the file; returns the count.
    /// A short read is not the end: only a 0 return is.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil, path: [UInt8]) throws -> Int {
        var done = 0
        while done < buffer.count {
            let rest = buffer.count - done
            let n = try valueOrErrno {
                if let offset { Glibc.pread(rawValue, buffer.baseAddress! + done, rest, off_t(offset) + off_t(done)) }
                else { Glibc.read(rawValue, buffer.baseAddress! + done, rest) }
            }.get("read", path)
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes a whole small file's bytes; for metadata files.
    public func writeAll(_ bytes: [UInt8], path: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in try writeAll(buffer, path: path) }
    }

    /// Reads the rest of the file; for metadata files, which are small.
    public func readToEnd(path: [UInt8]) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { buffer in
                try readFully(into: buffer, path: path)
            }
            result += chunk[..<n]
            if n < chunk.count { return result }
        }
    }
}

/// An flock(2) lock: the kernel drops it when the process dies, so a crashed
/// or killed emu never leaves a sink locked.
public final class FileLock {
    public enum Mode: Sendable { case shared, exclusive }

    /// nil for a shared lock on a read-only filesystem, where no writer can be.
    let descriptor: FileDescriptor?
    public let mode: Mode

    /// Opens (creating) the lock file and takes the lock, waiting up to
    /// `wait` seconds. Returns nil when another process still holds it. A
    /// shared lock opens the file read-only, and on a read-only filesystem
    /// (a backup disk mounted to restore from) needs none: nothing can
    /// change the sink there.
    public static func acquire(in directory: DirectoryHandle, name: FileName, mode: Mode, wait: Double) throws -> FileLock? {
        func open(_ flags: Int32) -> Result<Int32, Errno> {
            valueOrErrno { name.withCString { emu_openat(directory.fd, $0, flags | EMU_O_NOFOLLOW | EMU_O_CLOEXEC, 0o644) } }
        }
        var opened = mode == .shared ? open(O_RDONLY) : open(O_RDWR | O_CREAT)
        if mode == .shared, case .failure(.noSuchFileOrDirectory) = opened { opened = open(O_RDWR | O_CREAT) }
        if mode == .shared, case .failure(.readOnlyFileSystem) = opened { return FileLock(nil, mode: mode) }
        let fd = try opened.get("open lock", directory.childPath(name))
        let descriptor = FileDescriptor(rawValue: fd)
        let operation = (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB
        let deadline = monotonicSeconds() + wait
        while true {
            switch valueOrErrno({ flock(fd, operation) }) {
            case .success:
                return FileLock(descriptor, mode: mode)
            case .failure(.wouldBlock) where monotonicSeconds() < deadline:
                usleep(50_000)
            case .failure(.wouldBlock):
                descriptor.closeIgnoringErrors()
                return nil
            case .failure(let error):
                descriptor.closeIgnoringErrors()
                throw FileSystemError("lock", directory.childPath(name), error)
            }
        }
    }

    init(_ descriptor: FileDescriptor?, mode: Mode) {
        self.descriptor = descriptor
        self.mode = mode
    }
    deinit { descriptor?.closeIgnoringErrors() }
}

/// Seconds on the monotonic clock, for timeouts and phase timings.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
