import CEmuShims
import Glibc
import SystemPackage

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
        func open(_ flags: Int32) -> Result<Int32, FileSystemError> {
            systemCall("open lock", directory.childPath(name), directory.origin) {
                name.withCString { emu_openat(directory.fd, $0, flags | EMU_O_NOFOLLOW | EMU_O_CLOEXEC, 0o644) }
            }
        }
        var opened = mode == .shared ? open(O_RDONLY) : open(O_RDWR | O_CREAT)
        if mode == .shared, case .failure(let error) = opened, error.isMissing { opened = open(O_RDWR | O_CREAT) }
        if mode == .shared, case .failure(let error) = opened, error.isReadOnlyFileSystem { return FileLock(nil, mode: mode) }
        return try take(try opened.get(), mode: mode, wait: wait, path: directory.childPath(name), origin: directory.origin)
    }

    /// Takes the lock of a directory that exists (its own open, so that the
    /// lock is this object's alone): nothing is created, so it needs no
    /// write access and works on a read-only filesystem.
    public static func acquire(directory name: FileName, in parent: DirectoryHandle, mode: Mode, wait: Double) throws -> FileLock? {
        let fd = try systemCall("open lock", parent.childPath(name), parent.origin) {
            name.withCString { emu_openat(parent.fd, $0, O_RDONLY | EMU_O_DIRECTORY | EMU_O_NOFOLLOW | EMU_O_CLOEXEC, 0) }
        }.get()
        return try take(fd, mode: mode, wait: wait, path: parent.childPath(name), origin: parent.origin)
    }

    /// flock(2) on `fd`, which it owns, retried until `wait` seconds pass.
    static func take(_ fd: Int32, mode: Mode, wait: Double, path: [UInt8], origin: Origin) throws -> FileLock? {
        let descriptor = FileDescriptor(rawValue: fd)
        let operation = (mode == .shared ? LOCK_SH : LOCK_EX) | LOCK_NB
        let deadline = monotonicSeconds() + wait
        while true {
            switch systemCall("lock", path, origin, { flock(fd, operation) }) {
            case .success:
                return FileLock(descriptor, mode: mode)
            case .failure(let error) where error.errno == .wouldBlock && monotonicSeconds() < deadline:
                usleep(50_000)
            case .failure(let error):
                _ = Glibc.close(fd)
                if error.errno == .wouldBlock { return nil }
                throw error
            }
        }
    }

    init(_ descriptor: FileDescriptor?, mode: Mode) {
        self.descriptor = descriptor
        self.mode = mode
    }
    deinit { if let descriptor { _ = Glibc.close(descriptor.rawValue) } }
}

/// Seconds on the monotonic clock, for timeouts and phase timings.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
